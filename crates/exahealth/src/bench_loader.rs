//! `exahealth bench loader`: the parallel loader against a sequential
//! `read_region` loop over the same patches, in the same run.

use crate::progress;
use anyhow::{bail, Context, Result};
use clap::Args;
use exahealth_data::loader::{
    ecvl_transform, rgba_to_rgb_f32, sample_rng, Loader, LoaderConfig, PatchRecord, Sample,
    SampleSource, SlidePatchSource, Target, Transform,
};
use exahealth_slide::{OpenOptions, Slide};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// The augmentation measured with `--augment`, in ECVL's configuration
/// syntax (images are floats in 0..1).
pub const AUGMENTATION: &str = "\
SequentialAugmentationContainer
    AugMirror p=0.5
    AugFlip p=0.5
    AugRotate angle=[-180,180]
    AugBrightness beta=[-0.05,0.05]
    AugGammaContrast gamma=[0.9,1.1]
end
";

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

#[derive(Serialize, Debug)]
struct Measurement {
    mode: &'static str,
    augment: bool,
    batches: usize,
    patches: usize,
    seconds: f64,
    batches_per_s: f64,
    patches_per_s: f64,
    /// Process CPU seconds / wall seconds.
    cpu_utilisation: f64,
    /// Process CPU milliseconds per patch (less sensitive than wall time
    /// to other programs on the machine).
    cpu_ms_per_patch: f64,
    /// Patches/s over the sequential loop's with the same augmentation.
    speedup: Option<f64>,
}

#[derive(Serialize, Debug)]
struct Report {
    slide: String,
    size: u32,
    batch: usize,
    workers: usize,
    prefetch: usize,
    patch_source: String,
    patches_available: usize,
    cores: usize,
    augmentation: Option<&'static str>,
    results: Vec<Measurement>,
}

pub fn run(a: LoaderBenchArgs) -> Result<()> {
    let report = measure(&a)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(())
}

fn measure(a: &LoaderBenchArgs) -> Result<Report> {
    if a.size == 0 || a.batch == 0 || a.batches == 0 {
        bail!("--size, --batch and --batches must be at least 1");
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = a.workers.unwrap_or(cores).max(1);
    let prefetch = a.prefetch.unwrap_or(2 * workers).max(1);
    // Warm the OS page cache so the first measurement pays no disk reads.
    std::fs::read(&a.slide).with_context(|| format!("cannot read {}", a.slide.display()))?;
    let (records, patch_source) = patch_records(a)?;
    if records.is_empty() {
        bail!(
            "no {}x{} patch fits in the slide at level {}; use a smaller --size or level",
            a.size,
            a.size,
            a.level
        );
    }
    let available = records.len();
    let config = LoaderConfig {
        batch_size: a.batch,
        workers,
        prefetch,
        shuffle: true,
        seed: a.seed,
        drop_last: true,
    };
    // The (epoch, patch) order, epoch after epoch, that every measurement
    // reads.
    let order = {
        let src = source(a, &records)?;
        let loader = Loader::new(src, config.clone())?;
        if loader.is_empty() {
            bail!("{available} patches make no full batch of {}", a.batch);
        }
        let needed = a.batches * a.batch;
        let mut order = Vec::with_capacity(needed);
        let per_epoch = loader.len() * a.batch;
        let mut epoch = 0;
        while order.len() < needed {
            order.extend(
                loader
                    .order(epoch)
                    .into_iter()
                    .take(per_epoch)
                    .map(|i| (epoch, i)),
            );
            epoch += 1;
        }
        order.truncate(needed);
        order
    };
    let augmentation = if a.augment {
        let aug = exahealth_image::augment::parse_config(AUGMENTATION)
            .context("built-in augmentation pipeline")?;
        Some(ecvl_transform(Arc::from(aug)))
    } else {
        None
    };
    let mut results = Vec::new();
    let modes: Vec<Option<&Transform>> = match &augmentation {
        Some(t) => vec![None, Some(t)],
        None => vec![None],
    };
    for t in modes {
        let seq = sequential(a, &records, &order, t)?;
        let mut par = loader_run(a, &records, &config, t)?;
        par.speedup = Some(par.patches_per_s / seq.patches_per_s);
        results.push(seq);
        results.push(par);
    }
    let report = Report {
        slide: a.slide.display().to_string(),
        size: a.size,
        batch: a.batch,
        workers,
        prefetch,
        patch_source,
        patches_available: available,
        cores,
        augmentation: a.augment.then_some(AUGMENTATION),
        results,
    };
    Ok(report)
}

fn open(a: &LoaderBenchArgs) -> Result<Arc<Slide>> {
    let options = OpenOptions {
        cache_bytes: Some(a.cache_mb << 20),
        ..OpenOptions::default()
    };
    let slide = Slide::open_with(&a.slide, options)
        .with_context(|| format!("cannot open slide {}", a.slide.display()))?;
    Ok(Arc::new(slide))
}

fn patch_records(a: &LoaderBenchArgs) -> Result<(Vec<PatchRecord>, String)> {
    if let Some(plan) = &a.plan {
        let r = exahealth_data::loader::read_patches_csv(plan)
            .with_context(|| format!("cannot read patch plan {}", plan.display()))?;
        return Ok((r, plan.display().to_string()));
    }
    let slide = open(a)?;
    let dims = slide.level_dimensions();
    let downs = slide.level_downsamples();
    let Some(&(w, h)) = dims.get(a.level) else {
        bail!(
            "level {} does not exist (the slide has {} levels)",
            a.level,
            dims.len()
        );
    };
    let ds = downs[a.level];
    let s = u64::from(a.size);
    let mut records = Vec::new();
    for row in 0..h / s {
        for col in 0..w / s {
            records.push(PatchRecord {
                x: ((col * s) as f64 * ds).round() as i64,
                y: ((row * s) as f64 * ds).round() as i64,
                level: a.level,
                width: a.size,
                height: a.size,
                tissue_fraction: 1.0,
                label: String::new(),
            });
        }
    }
    Ok((
        records,
        format!(
            "grid of {}x{} at level {} ({w}x{h})",
            a.size, a.size, a.level
        ),
    ))
}

fn source(a: &LoaderBenchArgs, records: &[PatchRecord]) -> Result<Arc<SlidePatchSource>> {
    let mut src = SlidePatchSource::new(a.size, Vec::new())?;
    src.add_slide(open(a)?, records.to_vec(), &a.slide)?;
    Ok(Arc::new(src))
}

/// The reference: one thread calls read_region (and the augmentation) for
/// each patch in turn. read_region itself may decode a region's tiles in
/// parallel; that is the library as a user would call it.
fn sequential(
    a: &LoaderBenchArgs,
    records: &[PatchRecord],
    order: &[(u64, usize)],
    t: Option<&Transform>,
) -> Result<Measurement> {
    let slide = open(a)?;
    // Only for plan rows whose region is not the patch size (resized).
    let mut resizing = SlidePatchSource::new(a.size, Vec::new())?;
    resizing.add_slide(slide.clone(), records.to_vec(), &a.slide)?;
    let pb = bar(
        a,
        order.len(),
        if t.is_some() { "seq+aug" } else { "sequential" },
    );
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut checksum = 0f64;
    for &(epoch, i) in order {
        let r = &records[i];
        let mut sample = if (r.width, r.height) == (a.size, a.size) {
            let region = slide
                .read_region(r.x, r.y, r.level, r.width, r.height)
                .with_context(|| format!("read_region at ({}, {}) level {}", r.x, r.y, r.level))?;
            Sample {
                index: i,
                image: rgba_to_rgb_f32(&region),
                target: Target::None,
            }
        } else {
            resizing.load(i)?
        };
        if let Some(t) = t {
            let mut rng = sample_rng(a.seed, epoch, i);
            t(&mut sample, &mut rng).map_err(|e| anyhow::anyhow!("augmentation: {e}"))?;
        }
        checksum += f64::from(sample.image[[0, 0, 0]]);
        pb.inc(1);
    }
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    pb.finish_and_clear();
    tracing::debug!(checksum, "sequential");
    Ok(measurement(
        "sequential",
        t.is_some(),
        order.len() / a.batch,
        order.len(),
        seconds,
        cpu,
    ))
}

fn loader_run(
    a: &LoaderBenchArgs,
    records: &[PatchRecord],
    config: &LoaderConfig,
    t: Option<&Transform>,
) -> Result<Measurement> {
    let mut loader = Loader::new(source(a, records)?, config.clone())?;
    if let Some(t) = t {
        loader = loader.with_transform(t.clone());
    }
    let pb = bar(
        a,
        a.batches * a.batch,
        if t.is_some() { "loader+aug" } else { "loader" },
    );
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let (mut batches, mut patches, mut epoch) = (0, 0, 0);
    let mut checksum = 0f64;
    'outer: loop {
        for b in loader.epoch(epoch) {
            let b = b?;
            checksum += f64::from(b.images[[0, 0, 0, 0]]);
            batches += 1;
            patches += b.len();
            pb.inc(b.len() as u64);
            // As a training loop would once the batch is on the device.
            loader.recycle(b);
            if batches == a.batches {
                break 'outer;
            }
        }
        epoch += 1;
    }
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    pb.finish_and_clear();
    tracing::debug!(checksum, "loader");
    Ok(measurement(
        "loader",
        t.is_some(),
        batches,
        patches,
        seconds,
        cpu,
    ))
}

fn measurement(
    mode: &'static str,
    augment: bool,
    batches: usize,
    patches: usize,
    seconds: f64,
    cpu: f64,
) -> Measurement {
    let seconds = seconds.max(1e-9);
    Measurement {
        mode,
        augment,
        batches,
        patches,
        seconds,
        batches_per_s: batches as f64 / seconds,
        patches_per_s: patches as f64 / seconds,
        cpu_utilisation: cpu / seconds,
        cpu_ms_per_patch: 1e3 * cpu / patches.max(1) as f64,
        speedup: None,
    }
}

fn bar(a: &LoaderBenchArgs, len: usize, what: &str) -> indicatif::ProgressBar {
    if a.json {
        indicatif::ProgressBar::hidden()
    } else {
        progress::bar(len as u64, what)
    }
}

fn print_report(r: &Report) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};

    fn args(slide: PathBuf) -> LoaderBenchArgs {
        LoaderBenchArgs {
            slide,
            size: 128,
            batch: 4,
            workers: Some(2),
            prefetch: None,
            batches: 5,
            level: 0,
            plan: None,
            augment: true,
            cache_mb: 8,
            seed: 1,
            json: true,
        }
    }

    #[test]
    fn grid_and_report_on_a_synthetic_slide() {
        let dir = tempfile::tempdir().unwrap();
        let slide = dir.path().join("s.tiff");
        write_synthetic_slide(&slide, &SynthOptions::new(600, 300)).unwrap();
        let a = args(slide);
        let (records, _) = patch_records(&a).unwrap();
        // 600 x 300 holds 4 x 2 whole 128-pixel patches.
        assert_eq!(records.len(), 8);
        assert_eq!((records[5].x, records[5].y), (128, 128));
        let r = measure(&a).unwrap();
        assert_eq!(r.patches_available, 8);
        let modes: Vec<(&str, bool)> = r.results.iter().map(|m| (m.mode, m.augment)).collect();
        assert_eq!(
            modes,
            [
                ("sequential", false),
                ("loader", false),
                ("sequential", true),
                ("loader", true)
            ]
        );
        for m in &r.results {
            // 5 batches of 4 over 2 epochs of 2 full batches each.
            assert_eq!((m.batches, m.patches), (5, 20), "{m:?}");
            assert_eq!(m.speedup.is_some(), m.mode == "loader");
        }
        let mut small = args(a.slide.clone());
        small.size = 1000;
        let e = measure(&small).unwrap_err().to_string();
        assert!(e.contains("smaller --size"), "{e}");
    }
}
