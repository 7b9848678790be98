//! `exahealth bench loader`: the parallel loader against a sequential
//! `read_region` loop over the same patches, in the same run.

use crate::progress;
use anyhow::Result;
use clap::Args;
use exahealth_data::bench::{
    bench_loader, LoaderBenchConfig, LoaderBenchProgress, LoaderBenchReport,
};
use indicatif::ProgressBar;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Args, Debug, Clone)]
#[command(
    after_help = "Patches: a grid of SIZE x SIZE patches over the level (stride SIZE, \
    only patches fully inside the slide), or the rows of --plan. Each measurement opens the \
    slide afresh (empty tile cache) and reads the same patches in the same shuffled order; \
    the file is read once beforehand so the OS cache is warm for all. CPU utilisation is \
    process CPU time / wall time (2.0 = two cores busy)."
)]
pub struct LoaderBenchArgs {
    /// The slide to read patches from (any format exahealth reads).
    pub slide: PathBuf,
    /// Patch side in pixels (output size; grid regions are this size at --level).
    #[arg(long, default_value_t = 256)]
    pub size: u32,
    /// Patches per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Loader worker threads (default: the number of cores).
    #[arg(long)]
    pub workers: Option<usize>,
    /// Batches in flight (default: 2 x workers).
    #[arg(long)]
    pub prefetch: Option<usize>,
    /// Batches to time per measurement (epochs repeat, reshuffled, when the
    /// slide has fewer patches).
    #[arg(long, default_value_t = 20)]
    pub batches: usize,
    /// Pyramid level to read the grid from (ignored with --plan).
    #[arg(long, default_value_t = 0)]
    pub level: usize,
    /// Read patches from a patch plan's patches.csv instead of a grid.
    #[arg(long)]
    pub plan: Option<PathBuf>,
    /// Also measure with augmentation (mirror, flip, rotation by any angle,
    /// brightness and gamma jitter; ECVL augmentations from exahealth-image)
    /// in both the loader and the sequential loop.
    #[arg(long)]
    pub augment: bool,
    /// Tile cache per slide in MiB (the library default is 64).
    #[arg(long, default_value_t = 64)]
    pub cache_mb: u64,
    /// Shuffle seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print JSON (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: LoaderBenchArgs) -> Result<()> {
    let config = LoaderBenchConfig {
        slide: a.slide,
        size: a.size,
        batch: a.batch,
        workers: a.workers,
        prefetch: a.prefetch,
        batches: a.batches,
        level: a.level,
        plan: a.plan,
        augment: a.augment,
        cache_mb: a.cache_mb,
        seed: a.seed,
    };
    let bar: Mutex<Option<ProgressBar>> = Mutex::new(None);
    let on_progress = |p: LoaderBenchProgress| {
        if a.json {
            return;
        }
        let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            LoaderBenchProgress::Start { what, patches } => {
                *bar = Some(progress::bar(patches, what));
            }
            LoaderBenchProgress::Patches(n) => {
                if let Some(b) = bar.as_ref() {
                    b.inc(n);
                }
            }
            LoaderBenchProgress::Finish => {
                if let Some(b) = bar.take() {
                    b.finish_and_clear();
                }
            }
            _ => {}
        }
    };
    let report = bench_loader(&config, &cpu_seconds, &on_progress)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn print_report(r: &LoaderBenchReport) {
    println!(
        "{}: {} patches available ({}); batch {}, {} workers, prefetch {}, {} cores",
        r.slide, r.patches_available, r.patch_source, r.batch, r.workers, r.prefetch, r.cores
    );
    println!(
        "  {:<11} {:<7} {:>8} {:>9} {:>10} {:>12} {:>6} {:>11} {:>8}",
        "mode",
        "augment",
        "batches",
        "seconds",
        "batches/s",
        "patches/s",
        "cpu",
        "cpu ms/patch",
        "speedup"
    );
    for m in &r.results {
        println!(
            "  {:<11} {:<7} {:>8} {:>9.3} {:>10.2} {:>12.1} {:>6.2} {:>11.3} {:>8}",
            m.mode,
            if m.augment { "yes" } else { "no" },
            m.batches,
            m.seconds,
            m.batches_per_s,
            m.patches_per_s,
            m.cpu_utilisation,
            m.cpu_ms_per_patch,
            m.speedup.map(|s| format!("{s:.2}x")).unwrap_or_default()
        );
    }
    println!("  (cpu = process CPU time / wall time; speedup = loader / sequential patches/s)");
}

/// CPU seconds (user + system) this process has used so far.
#[cfg(unix)]
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct we pass; zeroed is a valid
    // rusage.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to an rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return f64::NAN;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 * 1e-6;
    t(u.ru_utime) + t(u.ru_stime)
}

#[cfg(not(unix))]
fn cpu_seconds() -> f64 {
    f64::NAN
}
