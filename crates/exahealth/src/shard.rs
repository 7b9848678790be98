//! `--shard I/N`, Slurm and MPI launchers: which of a command's slides this
//! process does (the split is by size, `exahealth_dist::balance`, the same
//! in every process, so the shards of one job never overlap and need not
//! talk), and the world data-parallel training runs in.

use std::path::Path;

use anyhow::{Context, Result};
use exahealth_dist::{balance, Shard, ShardSource, SingleProcess, World};

/// The help of every `--shard` flag.
pub const HELP: &str = "Do shard I of N (0-based) of the slides, split by file size; \
    default: the place of a Slurm array task (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT), \
    of an MPI rank (mpirun: OMPI_COMM_WORLD_RANK or PMI_RANK) or of a Slurm step task \
    (SLURM_PROCID of SLURM_STEP_NUM_TASKS), else all";

/// This process's shard: `flag`, else Slurm's variables, else the only one.
pub fn detect(flag: Option<&str>) -> Result<Shard> {
    Shard::detect(flag, &|name| std::env::var(name).ok())
        .context("cannot tell this process's shard")
}

/// The items of `shard`, weighed by `weight`, in their order; says on
/// stderr which part it takes when the job is split.
pub fn select<T>(items: Vec<T>, shard: Shard, weight: impl Fn(&T) -> u64, what: &str) -> Vec<T> {
    if shard.is_single() {
        return items;
    }
    let weights: Vec<u64> = items.iter().map(&weight).collect();
    let shard_of = balance::assign(&weights, shard.count);
    let total = items.len();
    let all: u64 = weights.iter().sum();
    let bytes: u64 = weights
        .iter()
        .zip(&shard_of)
        .filter(|&(_, &s)| s == shard.index)
        .map(|(w, _)| w)
        .sum();
    let chosen: Vec<T> = items
        .into_iter()
        .zip(shard_of)
        .filter_map(|(item, s)| (s == shard.index).then_some(item))
        .collect();
    eprintln!(
        "shard {shard}: {} of {total} {what} ({:.1} of {:.1} MB)",
        chosen.len(),
        bytes as f64 / 1e6,
        all as f64 / 1e6
    );
    chosen
}

/// Bytes on disk of a slide: its file, or every file of a DICOM folder.
pub fn bytes_of(path: &Path) -> u64 {
    if path.is_dir() {
        std::fs::read_dir(path)
            .map(|entries| {
                entries
                    .flatten()
                    .filter_map(|e| e.metadata().ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0)
    } else {
        std::fs::metadata(path).map_or(0, |m| m.len())
    }
}

/// The job this process belongs to: MPI's world when an MPI launcher
/// (`mpirun`, `srun`) started more than one process, else this process.
pub fn world() -> Result<Box<dyn World>> {
    // An array task's number says which slides it takes, not that it
    // shares a model with others: only a launcher's ranks train together
    // (also when `srun -n N` runs inside an array task).
    let place = Shard::detect(None, &|name| {
        if name.starts_with("SLURM_ARRAY_") {
            None
        } else {
            std::env::var(name).ok()
        }
    })?;
    let launched = matches!(
        place.source,
        ShardSource::MpiLauncher | ShardSource::SlurmStep
    );
    if !launched || place.count == 1 {
        return Ok(Box::new(SingleProcess));
    }
    #[cfg(feature = "mpi")]
    {
        let world = exahealth_dist::MpiWorld::init().context("MPI was already started")?;
        Ok(Box::new(world))
    }
    #[cfg(not(feature = "mpi"))]
    anyhow::bail!(
        "started as rank {} of {} by an MPI launcher, but this exahealth was built without MPI: \
         build it with `cargo build --release -p exahealth --features mpi` (docs/scale.md)",
        place.index,
        place.count
    )
}

/// Runs one rank's part of a multi-rank job (`world.size() > 1`) on this
/// thread, MPI's: the worker count goes to rayon's global pool instead of
/// a scoped one. A rank that fails ends the job with its message, since
/// the others would wait for it in their next collective. `None` on ranks
/// other than 0, which print nothing.
pub fn on_rank<T>(
    world: &dyn World,
    threads: usize,
    work: impl FnOnce(&dyn World) -> Result<T>,
) -> Option<T> {
    if threads > 0 {
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global();
    }
    match work(world) {
        Ok(value) => world.is_root().then_some(value),
        Err(e) => world.abort(1, &format!("{e:#}")),
    }
}
