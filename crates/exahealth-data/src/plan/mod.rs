//! Patch plans: which patches of a slide to read, computed once and reused.
//!
//! [`plan_slide`] takes a slide, a target resolution ([`Resolution`]:
//! microns per pixel, magnification, level or downsample), a patch size and
//! stride at that resolution, and finds tissue on a low-resolution level
//! (the most detailed level no larger than [`PlanParams::mask_max_size`] on
//! its long side; level 0 is never read unless it is that small). Patches on
//! the stride grid whose tissue fraction reaches [`PlanParams::min_tissue`]
//! are kept, labelled from optional annotations (the class covering the
//! largest share of the patch if that share reaches
//! [`AnnotationParams::min_fraction`], else `background`).
//!
//! Each patch gives its top-left corner in level-0 pixels, the level to
//! read (OpenSlide's `best_level_for_downsample`) and the width and height
//! to read there; resizing that region to the patch size gives the target
//! resolution.
//!
//! [`Plan::save`] writes `plan.json` (parameters, slide identity, target,
//! mask, summary) and `patches.csv` (`x,y,level,width,height,tissue_fraction,label`)
//! atomically, `patches.csv` first so that a `plan.json` always has its
//! patches; [`Plan::load`] reads them back with typed errors. The format is
//! documented in `docs/patch-plans.md`. [`write_patches`] writes the
//! patches as PNG or JPEG files; [`write_qc`] the tissue mask, an overlay
//! and the tissue outlines (GeoJSON, level-0 pixels) for quality control.
//!
//! [`plan_or_resume`] does all of that for one slide and an output folder,
//! resumably: a plan still current for the parameters and the slide's
//! content is reused, and patch files already written are kept.

mod compute;
mod error;
mod extract;
mod identity;
mod orchestrate;
mod qc;
mod store;

pub use compute::{plan_slide, Planned};
pub use error::PlanError;
pub use extract::{patch_file_name, write_patches, PatchFormat, WriteReport, PATCH_STAMP_FILE};
pub use identity::{file_identity, SlideIdentity};
pub use orchestrate::{
    annotation_file_for, plan_or_resume, slide_stem, TileJob, TileOutcome, TileProgress, TileStatus,
};
pub use qc::{write_qc, MASK_FILE, OVERLAY_FILE, TISSUE_GEOJSON};
pub use store::{PATCHES_FILE, PATCHES_HEADER, PLAN_FILE};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The version of the plan format this build writes and reads.
pub const PLAN_VERSION: u32 = 1;

/// The label of patches no annotation class covers enough of.
pub const BACKGROUND: &str = "background";

/// The class name given to annotations that have none.
pub const UNCLASSIFIED: &str = "annotated";

/// The resolution patches are planned at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// Microns per pixel (needs the slide's mpp).
    Mpp(f64),
    /// Objective magnification, e.g. 20 (needs the slide's objective power).
    Magnification(f64),
    /// A pyramid level's own resolution.
    Level(usize),
    /// A downsample from level 0 (1 = level 0).
    Downsample(f64),
}

/// Tissue detection settings (see `exahealth_image::tissue`), with areas in
/// level-0 pixels so that they mean the same whatever the mask's level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TissueSettings {
    /// Median blur kernel on the saturation channel (odd).
    pub median_ksize: usize,
    /// Fixed saturation threshold (0-255); `None` for Otsu.
    pub threshold: Option<u8>,
    /// Side of the square closing element, in mask pixels.
    pub close_size: usize,
    /// Tissue components smaller than this (level-0 pixels) are dropped.
    pub min_tissue_area: f64,
    /// Holes smaller than this (level-0 pixels) are filled.
    pub min_hole_area: f64,
    /// Only this many of a component's largest holes are kept in its outline.
    pub max_holes: usize,
}

impl Default for TissueSettings {
    fn default() -> Self {
        Self {
            median_ksize: 7,
            threshold: None,
            close_size: 4,
            // A 512 x 512 level-0 patch, CLAM's reference area.
            min_tissue_area: 512.0 * 512.0,
            min_hole_area: 256.0 * 256.0,
            max_holes: 8,
        }
    }
}

/// Where patch labels come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnnotationParams {
    /// The annotation file (ASAP XML or GeoJSON).
    pub path: String,
    /// Its quick hash (see [`file_identity`]), so edits invalidate plans.
    pub quick_hash: String,
    /// A patch takes a class when that class covers at least this share of it.
    pub min_fraction: f64,
}

/// Everything that decides a plan's patches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanParams {
    /// The resolution patch sizes are given in.
    pub resolution: Resolution,
    /// Patch side at the target resolution, pixels.
    pub patch_size: u32,
    /// Step between patches at the target resolution, pixels.
    pub stride: u32,
    /// Keep patches whose tissue fraction is at least this (0..=1).
    pub min_tissue: f64,
    /// Longest side of the level the tissue mask is computed on.
    pub mask_max_size: u32,
    /// How tissue is told from background on the mask level.
    pub tissue: TissueSettings,
    /// Where patch labels come from; `None` leaves labels empty.
    pub annotations: Option<AnnotationParams>,
}

impl PlanParams {
    /// Patches of `patch_size` at `resolution`, no overlap, half tissue.
    pub fn new(resolution: Resolution, patch_size: u32) -> Self {
        Self {
            resolution,
            patch_size,
            stride: patch_size,
            min_tissue: 0.5,
            mask_max_size: 2048,
            tissue: TissueSettings::default(),
            annotations: None,
        }
    }
}

/// One patch: `patches.csv`'s row.
#[derive(Debug, Clone, PartialEq)]
pub struct Patch {
    /// Left edge, level-0 pixels.
    pub x: u64,
    /// Top edge, level-0 pixels.
    pub y: u64,
    /// The level to read.
    pub level: usize,
    /// Width of the region to read at `level`, pixels.
    pub width: u32,
    /// Height of the region to read at `level`, pixels.
    pub height: u32,
    /// Share of the patch that is tissue in the mask, 0..=1.
    pub tissue_fraction: f64,
    /// The annotation class, [`BACKGROUND`], or empty without annotations.
    pub label: String,
}

/// How the plan maps the target resolution onto the slide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// Level-0 pixels per target pixel.
    pub downsample: f64,
    /// Microns per target pixel, when the slide's mpp is known.
    pub mpp: Option<f64>,
    /// The level patches are read from: the most detailed one not finer
    /// than the target.
    pub level: usize,
    /// That level's downsample from level 0.
    pub level_downsample: f64,
    /// The region read at `level` for one patch, pixels (square).
    pub read_size: u32,
    /// Patch side in level-0 pixels.
    pub patch_size_level0: f64,
    /// Step between patches in level-0 pixels.
    pub stride_level0: f64,
}

/// The tissue mask a plan was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaskInfo {
    /// Mask width in pixels.
    pub width: u32,
    /// Mask height in pixels.
    pub height: u32,
    /// The level read for the mask; `None` when a thumbnail was resampled.
    pub level: Option<usize>,
    /// Level-0 pixels per mask pixel on each axis.
    pub downsample: [f64; 2],
    /// The saturation threshold used.
    pub threshold: u8,
    /// Share of the mask that is tissue.
    pub tissue_fraction: f64,
    /// Tissue area in level-0 pixels.
    pub tissue_area_px: f64,
    /// Tissue area in mm², when the mpp is known.
    pub tissue_area_mm2: Option<f64>,
    /// Tissue components (polygons) found.
    pub components: usize,
}

/// Counts that a summary prints without reading `patches.csv`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct PlanSummary {
    /// Grid positions inside the slide.
    pub candidates: u64,
    /// Patches kept (enough tissue).
    pub patches: u64,
    /// Patches per label.
    pub per_label: BTreeMap<String, u64>,
}

/// A patch plan: its parameters, the slide it was made for, and its patches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Format version, [`PLAN_VERSION`] when written by this build.
    pub version: u32,
    /// The program that wrote it (`exahealth-data <version>`).
    pub created_by: String,
    /// What the plan was asked for.
    pub params: PlanParams,
    /// The slide it was made for, to tell when it is stale.
    pub slide: SlideIdentity,
    /// How the target resolution maps onto the slide's levels.
    pub target: Target,
    /// The tissue mask the patches were kept by.
    pub mask: MaskInfo,
    /// Annotation classes found (sorted), without [`BACKGROUND`].
    pub classes: Vec<String>,
    /// Patch counts, for summaries without `patches.csv`.
    pub summary: PlanSummary,
    /// The rows of `patches.csv` (not part of `plan.json`).
    #[serde(skip)]
    pub patches: Vec<Patch>,
}
