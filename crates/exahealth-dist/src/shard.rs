//! Which part of a job this process does.

use std::fmt;

use crate::DistError;

/// Where a process learnt its shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ShardSource {
    /// No flag and no Slurm variable: the only process.
    Single,
    /// `--shard I/N`.
    Flag,
    /// A Slurm array job: one task per shard.
    SlurmArray,
    /// An MPI launcher's ranks (`mpirun -np N`): OpenMPI's
    /// `OMPI_COMM_WORLD_RANK`/`SIZE` or MPICH's `PMI_RANK`/`PMI_SIZE`.
    MpiLauncher,
    /// A Slurm job step: one task per shard (`srun -n N`; `SLURM_PROCID` of
    /// `SLURM_STEP_NUM_TASKS`).
    SlurmStep,
}

/// Shard `index` of `count` (0-based).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This process's shard, `0..count`.
    pub index: usize,
    /// How many shards the work is split into.
    pub count: usize,
    /// Where the numbers came from.
    pub source: ShardSource,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// The whole job in one process.
    pub const SINGLE: Shard = Shard {
        index: 0,
        count: 1,
        source: ShardSource::Single,
    };

    /// Whether this is the only shard.
    pub fn is_single(&self) -> bool {
        self.count == 1
    }

    /// `I/N` as a user types it (`--shard 2/8`).
    pub fn parse(text: &str) -> Result<Shard, DistError> {
        let bad = || DistError::BadShard {
            text: text.to_string(),
        };
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard {
            index,
            count,
            source: ShardSource::Flag,
        })
    }

    /// The shard of this process: `flag` (`I/N`) if given, else a Slurm
    /// array task, else an MPI launcher's rank (`mpirun`, also under
    /// Slurm), else a Slurm step task, else the only shard. `env`
    /// reads a variable (`|name| std::env::var(name).ok()` in a program;
    /// a map in tests).
    pub fn detect(
        flag: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Shard, DistError> {
        if let Some(text) = flag {
            return Shard::parse(text);
        }
        if let (Some(id), Some(count)) = (env("SLURM_ARRAY_TASK_ID"), env("SLURM_ARRAY_TASK_COUNT"))
        {
            let id = number("SLURM_ARRAY_TASK_ID", &id)?;
            let count = number("SLURM_ARRAY_TASK_COUNT", &count)?;
            // Arrays may start anywhere (`--array=1-8`); tasks are counted
            // from the first. A stepped array (`1-15:2`) is not a shard
            // layout: its task ids would leave holes.
            let min = match env("SLURM_ARRAY_TASK_MIN") {
                Some(min) => number("SLURM_ARRAY_TASK_MIN", &min)?,
                None => 0,
            };
            if let Some(step) = env("SLURM_ARRAY_TASK_STEP") {
                if number("SLURM_ARRAY_TASK_STEP", &step)? != 1 {
                    return Err(DistError::BadEnvironment {
                        variable: "SLURM_ARRAY_TASK_STEP",
                        value: step,
                        problem: "shards need consecutive array task ids (--array=0-N, no step)",
                    });
                }
            }
            let index = id
                .checked_sub(min)
                .ok_or_else(|| DistError::BadEnvironment {
                    variable: "SLURM_ARRAY_TASK_ID",
                    value: id.to_string(),
                    problem: "below SLURM_ARRAY_TASK_MIN",
                })?;
            return in_range(index, count, "SLURM_ARRAY_TASK_ID", ShardSource::SlurmArray);
        }
        for (rank, size) in [
            ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),
            ("PMI_RANK", "PMI_SIZE"),
        ] {
            if let (Some(id), Some(count)) = (env(rank), env(size)) {
                let index = number(rank, &id)?;
                let count = number(size, &count)?;
                return in_range(index, count, rank, ShardSource::MpiLauncher);
            }
        }
        // SLURM_STEP_NUM_TASKS, not SLURM_NTASKS: a batch script run
        // outside `srun` has SLURM_PROCID=0 and SLURM_NTASKS of the whole
        // allocation, and would otherwise do one part of the work alone.
        if let (Some(id), Some(count)) = (env("SLURM_PROCID"), env("SLURM_STEP_NUM_TASKS")) {
            let index = number("SLURM_PROCID", &id)?;
            let count = number("SLURM_STEP_NUM_TASKS", &count)?;
            return in_range(index, count, "SLURM_PROCID", ShardSource::SlurmStep);
        }
        Ok(Shard::SINGLE)
    }
}

fn number(variable: &'static str, value: &str) -> Result<usize, DistError> {
    value.trim().parse().map_err(|_| DistError::BadEnvironment {
        variable,
        value: value.to_string(),
        problem: "not a whole number",
    })
}

fn in_range(
    index: usize,
    count: usize,
    variable: &'static str,
    source: ShardSource,
) -> Result<Shard, DistError> {
    if count == 0 || index >= count {
        return Err(DistError::BadEnvironment {
            variable,
            value: index.to_string(),
            problem: "not below the job's task count",
        });
    }
    Ok(Shard {
        index,
        count,
        source,
    })
}
