//! Read throughput: every aligned tile-sized region of a level, through the
//! public `read_region`, on a fixed number of threads.

use crate::error::{Result, SlideError};
use crate::Slide;
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// One [`bench_level`] run: what was read, how fast, and at what memory
/// cost; serialised as the benchmark's JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct BenchResult {
    /// Level read.
    pub level: usize,
    /// Side of each square region, in level pixels.
    pub tile: u32,
    /// Threads reading at once.
    pub threads: usize,
    /// Regions read.
    pub tiles: u64,
    /// Wall-clock time of all the reads.
    pub seconds: f64,
    /// Regions read per second.
    pub tiles_per_s: f64,
    /// Millions of region pixels delivered per second.
    pub megapixels_per_s: f64,
    /// Peak resident memory of the process so far (Linux), in MiB.
    pub peak_rss_mib: Option<f64>,
    /// The tile cache's byte budget, in MiB, for comparison with the above.
    pub cache_budget_mib: f64,
}

/// The process's peak resident set size, from /proc (Linux only).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The regions a bench reads: (x, y) in level-0 pixels, row-major.
pub fn bench_regions(slide: &Slide, level: usize, tile: u32) -> Result<Vec<(i64, i64)>> {
    let dims = slide.level_dimensions();
    let &(w, h) = dims.get(level).ok_or_else(|| {
        SlideError::InvalidArgument(format!(
            "level {level} does not exist ({} levels)",
            dims.len()
        ))
    })?;
    let ds = slide.level_downsamples()[level];
    let t = u64::from(tile.max(1));
    let count = exahealth_base::budget::bytes_for(
        format!("the {tile}-pixel regions of a {w}x{h} level"),
        &[w.div_ceil(t), h.div_ceil(t)],
        std::mem::size_of::<(i64, i64)>() as u64,
    )
    .map_err(|e| SlideError::budget(slide.path(), e))?
        / std::mem::size_of::<(i64, i64)>();
    let mut v = Vec::with_capacity(count);
    for row in 0..h.div_ceil(t) {
        for col in 0..w.div_ceil(t) {
            v.push((
                ((col * t) as f64 * ds) as i64,
                ((row * t) as f64 * ds) as i64,
            ));
        }
    }
    Ok(v)
}

/// Reads every region once on `threads` threads (`progress` is called per region).
pub fn bench_level(
    slide: &Slide,
    level: usize,
    tile: u32,
    threads: usize,
    progress: &(dyn Fn() + Sync),
) -> Result<BenchResult> {
    let regions = bench_regions(slide, level, tile)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(|e| SlideError::InvalidArgument(format!("thread pool: {e}")))?;
    let start = Instant::now();
    pool.install(|| {
        regions.par_iter().try_for_each(|&(x, y)| {
            let img = slide.read_region(x, y, level, tile, tile)?;
            std::hint::black_box(&img);
            progress();
            Ok::<_, SlideError>(())
        })
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let tiles = regions.len() as u64;
    Ok(BenchResult {
        level,
        tile,
        threads: threads.max(1),
        tiles,
        seconds,
        tiles_per_s: tiles as f64 / seconds.max(1e-9),
        megapixels_per_s: tiles as f64 * f64::from(tile) * f64::from(tile)
            / 1e6
            / seconds.max(1e-9),
        peak_rss_mib: peak_rss_mib(),
        cache_budget_mib: slide.cache().capacity_bytes() as f64 / (1024.0 * 1024.0),
    })
}
