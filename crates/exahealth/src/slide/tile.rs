//! `exahealth slide tile`: patch plans (and optionally patch files) for
//! many slides in parallel, resumably.

use crate::progress;
use anyhow::{bail, Context, Result};
use clap::{ArgGroup, Args, ValueEnum};
use exahealth_data::plan::{
    annotation_file_for, plan_or_resume, PatchFormat, PlanParams, Resolution, TileJob,
    TileProgress, TissueSettings,
};
use indicatif::{MultiProgress, ProgressBar};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Plan patches over the tissue of whole-slide images, and optionally write them.
///
/// For each SLIDE, finds tissue on a low-resolution level (never level 0
/// unless the slide is small), lays a grid of --size pixel patches every
/// --stride pixels at the target resolution, keeps patches with at least
/// --min-tissue tissue, and labels them from --annotations. Writes
/// OUT/<slide stem>/plan.json (parameters and slide identity),
/// OUT/<slide stem>/patches.csv (x,y,level,width,height,tissue_fraction,label;
/// x, y in level-0 pixels, width x height the region to read at `level`),
/// tissue.png (the mask over the thumbnail), tissue_mask.png and
/// tissue.geojson (tissue outlines in level-0 pixels). With
/// --format png or jpeg, also the patches, as OUT/<stem>/patches/<x>_<y>.png.
///
/// Resumable: a slide whose plan exists with the same parameters and the
/// same file is skipped, and patch files already written are kept.
/// See docs/patch-plans.md for the file format.
///
/// On a cluster, N processes (a Slurm array, `srun -n N`, or --shard I/N
/// by hand) each take their part of the slides, split by file size; their
/// folders together are what one process writes (docs/scale.md).
///
/// Example: exahealth slide tile slides/*.svs --mpp 0.5 --size 256 --out patches/
#[derive(Args)]
#[command(group(ArgGroup::new("resolution").required(true)
    .args(["mpp", "magnification", "level", "downsample"])))]
pub struct TileArgs {
    /// Slides to plan (any format `slide info` reads; a DICOM WSI folder counts as one).
    #[arg(required = true)]
    pub slides: Vec<PathBuf>,
    /// Target resolution in microns per pixel (0.5 is about 20x). Needs the
    /// slide's mpp; otherwise use --level or --downsample.
    #[arg(long)]
    pub mpp: Option<f64>,
    /// Target objective magnification (e.g. 20); needs the slide's objective power.
    #[arg(long)]
    pub magnification: Option<f64>,
    /// Target resolution: a pyramid level's own (0 = full resolution).
    #[arg(long)]
    pub level: Option<usize>,
    /// Target resolution: a downsample from level 0 (1 = full resolution).
    #[arg(long)]
    pub downsample: Option<f64>,
    /// Patch side at the target resolution, pixels.
    #[arg(long, default_value_t = 256)]
    pub size: u32,
    /// Step between patches at the target resolution, pixels [default: --size, no overlap].
    #[arg(long)]
    pub stride: Option<u32>,
    /// Keep patches whose tissue fraction is at least this (0 to 1; 0 keeps every position).
    #[arg(long, default_value_t = 0.5)]
    pub min_tissue: f64,
    /// Annotations (ASAP .xml or GeoJSON) to label patches: a file (one
    /// slide) or a folder holding <slide stem>.geojson, .json or .xml per slide.
    #[arg(long)]
    pub annotations: Option<PathBuf>,
    /// A patch takes an annotation class when the class covers at least this
    /// share of it; else it is labelled "background".
    #[arg(long, default_value_t = 0.5)]
    pub label_fraction: f64,
    /// Output folder; one subfolder per slide.
    #[arg(long)]
    pub out: PathBuf,
    /// What to write: coordinates only, or also the patches as images.
    #[arg(long, value_enum, default_value_t = TileFormat::Coords)]
    pub format: TileFormat,
    /// JPEG quality (1-100) for --format jpeg.
    #[arg(long, default_value_t = 90)]
    pub quality: u8,
    /// Longest side, pixels, of the level the tissue mask is computed on.
    #[arg(long, default_value_t = 2048)]
    pub mask_size: u32,
    /// Tissue pieces smaller than this many level-0 pixels are ignored
    /// (default: a 512 x 512 patch, CLAM's reference area).
    #[arg(long, default_value_t = 262_144.0)]
    pub min_piece_area: f64,
    /// Holes in tissue smaller than this many level-0 pixels are filled.
    #[arg(long, default_value_t = 65_536.0)]
    pub min_hole_area: f64,
    /// Fixed saturation threshold (0-255) for tissue instead of Otsu's.
    #[arg(long)]
    pub tissue_threshold: Option<u8>,
    /// Threads [default: all cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Print a JSON summary (for scripts) instead of text.
    #[arg(long)]
    pub json: bool,
    #[arg(long, value_name = "I/N", help = crate::shard::HELP)]
    pub shard: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TileFormat {
    /// plan.json and patches.csv only.
    Coords,
    Png,
    Jpeg,
}

/// One slide's outcome, as `--json` prints it.
#[derive(Serialize, Default)]
pub struct SlideSummary {
    pub slide: String,
    pub out: String,
    /// "planned", "resumed" (plan already current) or "failed".
    pub status: String,
    pub patches: u64,
    pub candidates: u64,
    pub per_label: BTreeMap<String, u64>,
    pub tissue_fraction: f64,
    pub tissue_area_mm2: Option<f64>,
    pub level: usize,
    pub read_size: u32,
    pub target_mpp: Option<f64>,
    pub patches_written: u64,
    pub patches_skipped: u64,
    pub seconds: f64,
    pub error: Option<String>,
}

/// The output subfolder name of a slide (also used by `predict --slides`).
pub(crate) use exahealth_data::plan::slide_stem as stem;

fn resolution(a: &TileArgs) -> Result<Resolution> {
    Ok(match (a.mpp, a.magnification, a.level, a.downsample) {
        (Some(m), None, None, None) => Resolution::Mpp(m),
        (None, Some(m), None, None) => Resolution::Magnification(m),
        (None, None, Some(l), None) => Resolution::Level(l),
        (None, None, None, Some(d)) => Resolution::Downsample(d),
        _ => bail!("give exactly one of --mpp, --magnification, --level, --downsample"),
    })
}

pub fn run(a: TileArgs) -> Result<()> {
    let res = resolution(&a)?;
    let mut base = PlanParams::new(res, a.size);
    base.stride = a.stride.unwrap_or(a.size);
    base.min_tissue = a.min_tissue;
    base.mask_max_size = a.mask_size;
    base.tissue = TissueSettings {
        threshold: a.tissue_threshold,
        min_tissue_area: a.min_piece_area,
        min_hole_area: a.min_hole_area,
        ..TissueSettings::default()
    };
    if let Some(ann) = &a.annotations {
        if !ann.is_dir() && a.slides.len() > 1 {
            bail!(
                "--annotations {} is one file but {} slides were given; \
                 pass a folder with one <slide stem>.geojson/.xml per slide",
                ann.display(),
                a.slides.len()
            );
        }
        if !ann.exists() {
            bail!("--annotations {} does not exist", ann.display());
        }
    }
    let mut seen: HashMap<String, &Path> = HashMap::new();
    for s in &a.slides {
        if let Some(prev) = seen.insert(stem(s), s) {
            bail!(
                "{} and {} would both write to {}; rename one or tile them separately",
                prev.display(),
                s.display(),
                a.out.join(stem(s)).display()
            );
        }
    }
    // Every shard checks the whole list above, so all agree on the names.
    let shard = crate::shard::detect(a.shard.as_deref())?;
    let slides = crate::shard::select(
        a.slides.clone(),
        shard,
        |p| crate::shard::bytes_of(p),
        "slides",
    );
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create output folder {}", a.out.display()))?;
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .context("cannot start worker threads")?;

    let multi = MultiProgress::new();
    let slides_bar = multi.add(progress::bar(slides.len() as u64, "slides"));
    let patches_bar = if a.format == TileFormat::Coords {
        ProgressBar::hidden()
    } else {
        multi.add(progress::bar(0, "patches"))
    };
    let summaries: Vec<SlideSummary> = pool.install(|| {
        slides
            .par_iter()
            .map(|path| {
                let start = Instant::now();
                let mut s = match tile_one(&a, &base, path, &patches_bar) {
                    Ok(s) => s,
                    Err(e) => SlideSummary {
                        slide: path.display().to_string(),
                        out: a.out.join(stem(path)).display().to_string(),
                        status: "failed".into(),
                        error: Some(format!("{e:#}")),
                        ..SlideSummary::default()
                    },
                };
                s.seconds = start.elapsed().as_secs_f64();
                slides_bar.inc(1);
                s
            })
            .collect()
    });
    slides_bar.finish_and_clear();
    patches_bar.finish_and_clear();

    if a.json {
        println!("{}", serde_json::to_string_pretty(&summaries)?);
    } else {
        for s in &summaries {
            print_summary(s);
        }
    }
    let failed = summaries.iter().filter(|s| s.status == "failed").count();
    if failed > 0 {
        bail!(
            "{failed} of {} slides failed (see above); fix them and run the same command again: \
             finished slides are skipped",
            summaries.len()
        );
    }
    Ok(())
}

fn tile_one(
    a: &TileArgs,
    base: &PlanParams,
    path: &Path,
    patches_bar: &ProgressBar,
) -> Result<SlideSummary> {
    let out = a.out.join(stem(path));
    let ann_file = a
        .annotations
        .as_deref()
        .and_then(|ann| annotation_file_for(ann, path));
    let job = TileJob {
        slide: path,
        out: &out,
        params: base,
        annotations: ann_file.as_deref(),
        label_fraction: a.label_fraction,
        patches: match a.format {
            TileFormat::Coords => None,
            TileFormat::Png => Some(PatchFormat::Png),
            TileFormat::Jpeg => Some(PatchFormat::Jpeg { quality: a.quality }),
        },
    };
    let done = plan_or_resume(&job, &|p| match p {
        TileProgress::PatchesQueued(n) => patches_bar.inc_length(n),
        TileProgress::PatchDone => patches_bar.inc(1),
        _ => {}
    })?;
    let plan = &done.plan;
    let written = done.written.unwrap_or_default();
    Ok(SlideSummary {
        slide: path.display().to_string(),
        out: out.display().to_string(),
        status: done.status.as_str().into(),
        patches: plan.summary.patches,
        candidates: plan.summary.candidates,
        per_label: plan.summary.per_label.clone(),
        tissue_fraction: plan.mask.tissue_fraction,
        tissue_area_mm2: plan.mask.tissue_area_mm2,
        level: plan.target.level,
        read_size: plan.target.read_size,
        target_mpp: plan.target.mpp,
        patches_written: written.written,
        patches_skipped: written.skipped,
        ..SlideSummary::default()
    })
}

fn print_summary(s: &SlideSummary) {
    if let Some(e) = &s.error {
        println!("{}: FAILED: {e}", s.slide);
        return;
    }
    let area = s
        .tissue_area_mm2
        .map_or_else(String::new, |a| format!(", {a:.2} mm²"));
    let labels: Vec<String> = s
        .per_label
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let labels = if labels.is_empty() {
        String::new()
    } else {
        format!(" [{}]", labels.join(", "))
    };
    let files = if s.patches_written + s.patches_skipped > 0 {
        format!(
            ", {} files written, {} kept",
            s.patches_written, s.patches_skipped
        )
    } else {
        String::new()
    };
    println!(
        "{}: {} {} of {} patches{labels} (tissue {:.1}%{area}; read level {} at {} px){files} in {:.2} s -> {}",
        s.slide,
        s.status,
        s.patches,
        s.candidates,
        s.tissue_fraction * 100.0,
        s.level,
        s.read_size,
        s.seconds,
        s.out
    );
}
