//! Loader throughput: the parallel [`Loader`] against a sequential
//! `read_region` loop over the same patches, in the same run.
//!
//! Each measurement opens the slide afresh (empty tile cache) and reads the
//! same patches in the same shuffled order; the file is read once
//! beforehand so the OS cache is warm for all. CPU utilisation is process
//! CPU time / wall time (2.0 = two cores busy), from a clock the caller
//! passes in (this crate has no FFI; `getrusage` is one).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use exahealth_slide::{OpenOptions, Slide};
use serde::Serialize;

use crate::loader::{
    ecvl_transform, rgba_to_rgb_f32, sample_rng, Loader, LoaderConfig, LoaderError, PatchRecord,
    Sample, SampleSource, SlidePatchSource, Target, Transform,
};

/// The augmentation measured with [`LoaderBenchConfig::augment`], in ECVL's
/// configuration syntax (images are floats in 0..1).
pub const AUGMENTATION: &str = "\
SequentialAugmentationContainer
    AugMirror p=0.5
    AugFlip p=0.5
    AugRotate angle=[-180,180]
    AugBrightness beta=[-0.05,0.05]
    AugGammaContrast gamma=[0.9,1.1]
end
";

/// What [`bench_loader`] measures.
#[derive(Debug, Clone)]
pub struct LoaderBenchConfig {
    /// The slide to read patches from.
    pub slide: PathBuf,
    /// Patch side in pixels (output size; grid regions are this size at `level`).
    pub size: u32,
    /// Patches per batch.
    pub batch: usize,
    /// Loader worker threads (`None`: the number of cores).
    pub workers: Option<usize>,
    /// Batches in flight (`None`: 2 x workers).
    pub prefetch: Option<usize>,
    /// Batches to time per measurement (epochs repeat, reshuffled, when the
    /// slide has fewer patches).
    pub batches: usize,
    /// Pyramid level to read the grid from (ignored with `plan`).
    pub level: usize,
    /// Read patches from a patch plan's `patches.csv` instead of a grid of
    /// `size` x `size` patches over the level (stride `size`, only patches
    /// fully inside the slide).
    pub plan: Option<PathBuf>,
    /// Also measure with [`AUGMENTATION`], in both the loader and the
    /// sequential loop.
    pub augment: bool,
    /// Tile cache per slide in MiB.
    pub cache_mb: u64,
    /// Shuffle seed.
    pub seed: u64,
}

/// One timed run.
#[derive(Serialize, Debug, Clone)]
pub struct Measurement {
    /// `"sequential"` or `"loader"`.
    pub mode: &'static str,
    /// Whether [`AUGMENTATION`] ran on every patch.
    pub augment: bool,
    /// Batches timed.
    pub batches: usize,
    /// Patches timed.
    pub patches: usize,
    /// Wall-clock time of the run.
    pub seconds: f64,
    /// Batches delivered per second.
    pub batches_per_s: f64,
    /// Patches delivered per second.
    pub patches_per_s: f64,
    /// Process CPU seconds / wall seconds.
    pub cpu_utilisation: f64,
    /// Process CPU milliseconds per patch (less sensitive than wall time
    /// to other programs on the machine).
    pub cpu_ms_per_patch: f64,
    /// Patches/s over the sequential loop's with the same augmentation.
    pub speedup: Option<f64>,
}

/// What [`bench_loader`] found.
#[derive(Serialize, Debug, Clone)]
pub struct LoaderBenchReport {
    /// The slide read, as given.
    pub slide: String,
    /// Patch side in pixels.
    pub size: u32,
    /// Patches per batch.
    pub batch: usize,
    /// Loader worker threads used.
    pub workers: usize,
    /// Batches in flight used.
    pub prefetch: usize,
    /// Where the patches came from: the plan's path or a grid description.
    pub patch_source: String,
    /// Patches the source holds (an epoch).
    pub patches_available: usize,
    /// Cores the machine offers this process.
    pub cores: usize,
    /// The augmentation pipeline measured, if any ([`AUGMENTATION`]).
    pub augmentation: Option<&'static str>,
    /// Sequential then loader, without then (with `augment`) with
    /// augmentation.
    pub results: Vec<Measurement>,
}

/// Progress of [`bench_loader`], for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoaderBenchProgress {
    /// A measurement starts (`"sequential"`, `"seq+aug"`, `"loader"`,
    /// `"loader+aug"`) and will read this many patches.
    Start {
        /// Which measurement.
        what: &'static str,
        /// Patches it will read.
        patches: u64,
    },
    /// This many more patches were read.
    Patches(u64),
    /// The measurement ended.
    Finish,
}

/// Times the sequential loop and the loader on the same patches (and, with
/// `augment`, both again with augmentation). `cpu_seconds` returns the
/// process's CPU time (user + system) so far, or NaN where unknown.
pub fn bench_loader(
    config: &LoaderBenchConfig,
    cpu_seconds: &dyn Fn() -> f64,
    progress: &(dyn Fn(LoaderBenchProgress) + Sync),
) -> Result<LoaderBenchReport, LoaderError> {
    let a = config;
    if a.size == 0 || a.batch == 0 || a.batches == 0 {
        return Err(LoaderError::Config(
            "--size, --batch and --batches must be at least 1".into(),
        ));
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = a.workers.unwrap_or(cores).max(1);
    let prefetch = a.prefetch.unwrap_or(2 * workers).max(1);
    // Warm the OS page cache so the first measurement pays no disk reads.
    std::fs::read(&a.slide).map_err(|source| LoaderError::Io {
        path: a.slide.clone(),
        source,
    })?;
    let (records, patch_source) = patch_records(a)?;
    if records.is_empty() {
        return Err(LoaderError::Config(format!(
            "no {}x{} patch fits in the slide at level {}; use a smaller --size or level",
            a.size, a.size, a.level
        )));
    }
    let available = records.len();
    let loader_config = LoaderConfig {
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
        let loader = Loader::new(src, loader_config.clone())?;
        if loader.is_empty() {
            return Err(LoaderError::Config(format!(
                "{available} patches make no full batch of {}",
                a.batch
            )));
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
            .map_err(|e| LoaderError::Transform(format!("built-in augmentation pipeline: {e}")))?;
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
        let seq = sequential(a, &records, &order, t, cpu_seconds, progress)?;
        let mut par = loader_run(a, &records, &loader_config, t, cpu_seconds, progress)?;
        par.speedup = Some(par.patches_per_s / seq.patches_per_s);
        results.push(seq);
        results.push(par);
    }
    Ok(LoaderBenchReport {
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
    })
}

fn open(a: &LoaderBenchConfig) -> Result<Arc<Slide>, LoaderError> {
    let options = OpenOptions {
        cache_bytes: Some(a.cache_mb << 20),
        ..OpenOptions::default()
    };
    let slide = Slide::open_with(&a.slide, options).map_err(|source| LoaderError::SlideOpen {
        path: a.slide.clone(),
        source,
    })?;
    Ok(Arc::new(slide))
}

fn patch_records(a: &LoaderBenchConfig) -> Result<(Vec<PatchRecord>, String), LoaderError> {
    if let Some(plan) = &a.plan {
        let r = crate::loader::read_patches_csv(plan)?;
        return Ok((r, plan.display().to_string()));
    }
    let slide = open(a)?;
    let dims = slide.level_dimensions();
    let downs = slide.level_downsamples();
    let (Some(&(w, h)), Some(&ds)) = (dims.get(a.level), downs.get(a.level)) else {
        return Err(LoaderError::Config(format!(
            "level {} does not exist (the slide has {} levels)",
            a.level,
            dims.len()
        )));
    };
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

fn source(
    a: &LoaderBenchConfig,
    records: &[PatchRecord],
) -> Result<Arc<SlidePatchSource>, LoaderError> {
    let mut src = SlidePatchSource::new(a.size, Vec::new())?;
    src.add_slide(open(a)?, records.to_vec(), &a.slide)?;
    Ok(Arc::new(src))
}

/// The reference: one thread calls read_region (and the augmentation) for
/// each patch in turn. read_region itself may decode a region's tiles in
/// parallel; that is the library as a user would call it.
fn sequential(
    a: &LoaderBenchConfig,
    records: &[PatchRecord],
    order: &[(u64, usize)],
    t: Option<&Transform>,
    cpu_seconds: &dyn Fn() -> f64,
    progress: &(dyn Fn(LoaderBenchProgress) + Sync),
) -> Result<Measurement, LoaderError> {
    let slide = open(a)?;
    // Only for plan rows whose region is not the patch size (resized).
    let mut resizing = SlidePatchSource::new(a.size, Vec::new())?;
    resizing.add_slide(slide.clone(), records.to_vec(), &a.slide)?;
    progress(LoaderBenchProgress::Start {
        what: if t.is_some() { "seq+aug" } else { "sequential" },
        patches: order.len() as u64,
    });
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut checksum = 0f64;
    for &(epoch, i) in order {
        let Some(r) = records.get(i) else {
            continue;
        };
        let mut sample = if (r.width, r.height) == (a.size, a.size) {
            let region = slide
                .read_region(r.x, r.y, r.level, r.width, r.height)
                .map_err(|source| LoaderError::Slide {
                    path: a.slide.clone(),
                    x: r.x,
                    y: r.y,
                    level: r.level,
                    source,
                })?;
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
            t(&mut sample, &mut rng).map_err(|e| LoaderError::Transform(e.to_string()))?;
        }
        checksum += f64::from(sample.image.first().copied().unwrap_or(0.0));
        progress(LoaderBenchProgress::Patches(1));
    }
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    progress(LoaderBenchProgress::Finish);
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
    a: &LoaderBenchConfig,
    records: &[PatchRecord],
    config: &LoaderConfig,
    t: Option<&Transform>,
    cpu_seconds: &dyn Fn() -> f64,
    progress: &(dyn Fn(LoaderBenchProgress) + Sync),
) -> Result<Measurement, LoaderError> {
    let mut loader = Loader::new(source(a, records)?, config.clone())?;
    if let Some(t) = t {
        loader = loader.with_transform(t.clone());
    }
    progress(LoaderBenchProgress::Start {
        what: if t.is_some() { "loader+aug" } else { "loader" },
        patches: (a.batches * a.batch) as u64,
    });
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let (mut batches, mut patches, mut epoch) = (0, 0, 0);
    let mut checksum = 0f64;
    'outer: loop {
        for b in loader.epoch(epoch) {
            let b = b?;
            checksum += f64::from(b.images.first().copied().unwrap_or(0.0));
            batches += 1;
            patches += b.len();
            progress(LoaderBenchProgress::Patches(b.len() as u64));
            // As a training loop would once the batch is on the device.
            loader.recycle(b);
            if batches == a.batches {
                break 'outer;
            }
        }
        epoch += 1;
    }
    let (seconds, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    progress(LoaderBenchProgress::Finish);
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

#[cfg(test)]
mod tests {
    use super::*;
    use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};

    fn config(slide: PathBuf) -> LoaderBenchConfig {
        LoaderBenchConfig {
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
        }
    }

    #[test]
    fn grid_and_report_on_a_synthetic_slide() {
        let dir = tempfile::tempdir().unwrap();
        let slide = dir.path().join("s.tiff");
        write_synthetic_slide(&slide, &SynthOptions::new(600, 300)).unwrap();
        let a = config(slide);
        let (records, _) = patch_records(&a).unwrap();
        // 600 x 300 holds 4 x 2 whole 128-pixel patches.
        assert_eq!(records.len(), 8);
        assert_eq!((records[5].x, records[5].y), (128, 128));
        let ticks = std::sync::atomic::AtomicU64::new(0);
        let r = bench_loader(&a, &|| 0.0, &|p| {
            if let LoaderBenchProgress::Patches(n) = p {
                ticks.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
            }
        })
        .unwrap();
        assert_eq!(r.patches_available, 8);
        assert_eq!(ticks.into_inner(), 4 * 20);
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
        let mut small = config(a.slide.clone());
        small.size = 1000;
        let e = bench_loader(&small, &|| 0.0, &|_| {})
            .unwrap_err()
            .to_string();
        assert!(e.contains("smaller --size"), "{e}");
    }
}
