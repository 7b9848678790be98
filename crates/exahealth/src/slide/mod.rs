//! `exahealth slide ...`: thin wrappers over exahealth-slide.

pub(crate) mod tile;

use crate::progress;
use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use exahealth_slide::bench::{bench_level, BenchResult};
use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};
use exahealth_slide::writer::TileCompression;
use exahealth_slide::{OpenOptions, Slide};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SlideCommand {
    /// Print levels, resolution, associated images and properties.
    ///
    /// Works on Aperio SVS, generic/pyramidal TIFF and BigTIFF, NDPI,
    /// Philips/OME TIFF, QPTIFF and DICOM WSI (a folder or any file of it).
    Info {
        path: PathBuf,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// Read a region, like OpenSlide's read_region, and save it as PNG.
    ///
    /// X and Y are level-0 pixels (the top-left corner); WIDTH and HEIGHT
    /// are pixels of the chosen level. Outside the slide reads as transparent.
    Region {
        path: PathBuf,
        #[arg(long, default_value_t = 0)]
        level: usize,
        #[arg(long, allow_negative_numbers = true)]
        x: i64,
        #[arg(long, allow_negative_numbers = true)]
        y: i64,
        #[arg(long)]
        width: u32,
        #[arg(long)]
        height: u32,
        /// Output PNG file.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// Save a thumbnail whose longer side is at most --max-size pixels.
    Thumbnail {
        path: PathBuf,
        #[arg(long, default_value_t = 1024)]
        max_size: u32,
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        open: OpenArgs,
    },
    /// Save an associated image (label, macro, thumbnail) as PNG.
    Associated {
        path: PathBuf,
        /// Name as listed by `slide info` (e.g. label, macro, thumbnail).
        name: String,
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Write a synthetic tissue-like pyramidal TIFF.
    ///
    /// Large sizes repeat a few encoded tiles, so even 100000 x 100000 is a
    /// few megabytes on disk while reading like a real slide.
    Synth {
        output: PathBuf,
        #[arg(long, default_value_t = 8192)]
        width: u64,
        #[arg(long, default_value_t = 8192)]
        height: u64,
        #[arg(long, default_value_t = 256)]
        tile: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, value_enum, default_value_t = Codec::Jpeg)]
        compression: Codec,
        /// JPEG quality (1-100).
        #[arg(long, default_value_t = 90)]
        quality: u8,
    },
    /// Time reading every aligned tile-sized region of a level.
    ///
    /// Reads go through the public read_region path on --threads threads,
    /// with a cold cache; prints tiles, seconds, tiles/s and megapixels/s.
    Bench(BenchArgs),
    Tile(tile::TileArgs),
}

#[derive(Args)]
pub struct BenchArgs {
    pub path: PathBuf,
    #[arg(long, default_value_t = 0)]
    pub level: usize,
    /// Region size in pixels.
    #[arg(long, default_value_t = 256)]
    pub tile: u32,
    /// Threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Tile cache budget in MiB; memory stays near this whatever the slide's size.
    #[arg(long, default_value_t = 64)]
    pub cache_mib: u64,
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Default)]
pub struct OpenArgs {
    /// For multichannel fluorescence slides: the channel to read (0-based).
    #[arg(long)]
    channel: Option<usize>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Codec {
    Jpeg,
    Deflate,
}

pub fn open(path: &Path, o: &OpenArgs) -> Result<Slide> {
    Slide::open_with(
        path,
        OpenOptions {
            channel: o.channel,
            ..OpenOptions::default()
        },
    )
    .map_err(anyhow::Error::from)
}

/// What `slide info --json` prints.
#[derive(Serialize)]
pub struct SlideInfo {
    pub path: String,
    pub vendor: String,
    pub level_count: usize,
    pub level_dimensions: Vec<[u64; 2]>,
    pub level_downsamples: Vec<f64>,
    pub level_tile_sizes: Vec<[u32; 2]>,
    pub mpp_x: Option<f64>,
    pub mpp_y: Option<f64>,
    pub objective_power: Option<f64>,
    pub associated_images: Vec<String>,
    pub channels: Vec<String>,
    pub properties: BTreeMap<String, String>,
}

pub fn info(slide: &Slide) -> SlideInfo {
    SlideInfo {
        path: slide.path().display().to_string(),
        vendor: slide.vendor().to_string(),
        level_count: slide.level_count(),
        level_dimensions: slide
            .level_dimensions()
            .iter()
            .map(|&(w, h)| [w, h])
            .collect(),
        level_downsamples: slide.level_downsamples(),
        level_tile_sizes: (0..slide.level_count())
            .map(|l| slide.tile_size(l).map(|(w, h)| [w, h]).unwrap_or([0, 0]))
            .collect(),
        mpp_x: slide.mpp().map(|m| m.0),
        mpp_y: slide.mpp().map(|m| m.1),
        objective_power: slide.objective_power(),
        associated_images: slide
            .associated_image_names()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        channels: slide.channel_names().to_vec(),
        properties: slide.properties().clone(),
    }
}

pub fn print_info(i: &SlideInfo) {
    println!("{}", i.path);
    println!("  vendor            {}", i.vendor);
    let opt = |v: Option<f64>| v.map_or("unknown".to_string(), |v| format!("{v}"));
    println!("  microns/pixel     {} x {}", opt(i.mpp_x), opt(i.mpp_y));
    println!("  objective power   {}", opt(i.objective_power));
    println!("  levels            {}", i.level_count);
    for (l, ((d, ds), t)) in i
        .level_dimensions
        .iter()
        .zip(&i.level_downsamples)
        .zip(&i.level_tile_sizes)
        .enumerate()
    {
        println!(
            "    [{l}] {:>7} x {:<7} downsample {:<8.3} tiles {}x{}",
            d[0], d[1], ds, t[0], t[1]
        );
    }
    if !i.channels.is_empty() {
        println!("  channels          {}", i.channels.join(", "));
    }
    let assoc = if i.associated_images.is_empty() {
        "none".to_string()
    } else {
        i.associated_images.join(", ")
    };
    println!("  associated        {assoc}");
    println!(
        "  properties        {} (use --json to see them all)",
        i.properties.len()
    );
}

pub fn run_bench(slide: &Slide, a: &BenchArgs, show_progress: bool) -> Result<BenchResult> {
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let regions = exahealth_slide::bench::bench_regions(slide, a.level, a.tile)?;
    let pb = if show_progress {
        progress::bar(regions.len() as u64, "bench")
    } else {
        indicatif::ProgressBar::hidden()
    };
    let r = bench_level(slide, a.level, a.tile, threads, &|| pb.inc(1))?;
    pb.finish_and_clear();
    Ok(r)
}

pub fn print_bench(r: &BenchResult) {
    println!(
        "level {} tile {} threads {}: {} tiles in {:.3} s = {:.1} tiles/s, {:.1} megapixels/s",
        r.level, r.tile, r.threads, r.tiles, r.seconds, r.tiles_per_s, r.megapixels_per_s
    );
    if let Some(rss) = r.peak_rss_mib {
        println!(
            "peak memory {rss:.0} MiB (tile cache budget {:.0} MiB)",
            r.cache_budget_mib
        );
    }
}

pub fn run(cmd: SlideCommand) -> Result<()> {
    match cmd {
        SlideCommand::Info {
            path,
            json,
            open: o,
        } => {
            let slide = open(&path, &o)?;
            let i = info(&slide);
            if json {
                println!("{}", serde_json::to_string_pretty(&i)?);
            } else {
                print_info(&i);
            }
        }
        SlideCommand::Region {
            path,
            level,
            x,
            y,
            width,
            height,
            output,
            open: o,
        } => {
            if width == 0 || height == 0 {
                bail!("--width and --height must be at least 1");
            }
            let slide = open(&path, &o)?;
            let img = slide.read_region(x, y, level, width, height)?;
            img.save_png(&output)?;
            println!(
                "wrote {} ({width}x{height}, level {level})",
                output.display()
            );
        }
        SlideCommand::Thumbnail {
            path,
            max_size,
            output,
            open: o,
        } => {
            let slide = open(&path, &o)?;
            let img = slide.thumbnail(max_size)?;
            img.save_png(&output)?;
            println!("wrote {} ({}x{})", output.display(), img.width, img.height);
        }
        SlideCommand::Associated { path, name, output } => {
            let slide = open(&path, &OpenArgs::default())?;
            let img = slide.read_associated_image(&name)?;
            img.save_png(&output)?;
            println!("wrote {} ({}x{})", output.display(), img.width, img.height);
        }
        SlideCommand::Synth {
            output,
            width,
            height,
            tile,
            seed,
            compression,
            quality,
        } => {
            let mut o = SynthOptions::new(width, height);
            o.seed = seed;
            o.writer.tile_size = tile;
            o.writer.compression = match compression {
                Codec::Jpeg => TileCompression::Jpeg { quality },
                Codec::Deflate => TileCompression::Deflate,
            };
            let r = write_synthetic_slide(&output, &o)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!(
                "wrote {}: {}x{}, {} levels, {} tiles ({} distinct), {:.1} MB",
                output.display(),
                width,
                height,
                r.levels.len(),
                r.tiles,
                r.unique_tiles,
                r.bytes as f64 / 1e6
            );
        }
        SlideCommand::Tile(a) => tile::run(a)?,
        SlideCommand::Bench(a) => {
            let slide = Slide::open_with(
                &a.path,
                OpenOptions {
                    cache_bytes: Some(a.cache_mib << 20),
                    ..OpenOptions::default()
                },
            )?;
            let r = run_bench(&slide, &a, !a.json)?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                print_bench(&r);
            }
        }
    }
    Ok(())
}
