//! Planning: target level, tissue mask, grid, tissue fractions, labels.

use std::collections::BTreeMap;

use exahealth_image::tissue::{detect_tissue, TissueMask, TissueParams, TissueThreshold};
use exahealth_slide::{RgbaImage, Slide};
use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;
use std::time::Instant;

use super::{
    MaskInfo, Patch, Plan, PlanError, PlanParams, PlanSummary, Resolution, SlideIdentity, Target,
    BACKGROUND, PLAN_VERSION, UNCLASSIFIED,
};
use crate::annotations::{rasterize, AnnotationSet};

/// Grid positions planned at most (a 100,000-pixel square slide at 16-pixel
/// patches is 39 million): bounds memory against absurd parameters.
const MAX_CANDIDATES: u64 = 100_000_000;

/// A plan and what it was made from (for quality-control images).
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan, with its patches.
    pub plan: Plan,
    /// The tissue mask and outlines the patches were kept by.
    pub tissue: TissueMask,
    /// The image the mask was computed on.
    pub thumbnail: RgbaImage,
}

fn check_params(p: &PlanParams) -> Result<(), PlanError> {
    let bad = |m: String| Err(PlanError::InvalidParams(m));
    if p.patch_size == 0 || p.stride == 0 {
        return bad("patch size and stride must be at least 1 pixel".into());
    }
    if p.patch_size > 16384 {
        return bad(format!("patch size {} is above 16384", p.patch_size));
    }
    if !(0.0..=1.0).contains(&p.min_tissue) {
        return bad(format!("min tissue {} is not in 0..1", p.min_tissue));
    }
    if p.mask_max_size < 16 {
        return bad(format!("mask size {} is below 16 pixels", p.mask_max_size));
    }
    if p.tissue.median_ksize % 2 == 0 {
        return bad(format!(
            "median kernel {} must be odd",
            p.tissue.median_ksize
        ));
    }
    if let Some(a) = &p.annotations {
        if !(a.min_fraction > 0.0 && a.min_fraction <= 1.0) {
            return bad(format!(
                "annotation fraction {} is not in (0, 1]",
                a.min_fraction
            ));
        }
    }
    let positive = |v: f64| v.is_finite() && v > 0.0;
    match p.resolution {
        Resolution::Mpp(v) | Resolution::Magnification(v) | Resolution::Downsample(v)
            if !positive(v) =>
        {
            bad(format!("resolution {v} must be a positive number"))
        }
        _ => Ok(()),
    }
}

/// Level-0 pixels per target pixel, and the target's mpp when known.
fn target_downsample(slide: &Slide, r: Resolution) -> Result<(f64, Option<f64>), PlanError> {
    let mpp0 = slide.mpp().map(|(x, y)| (x + y) / 2.0);
    let d = match r {
        Resolution::Mpp(m) => {
            let m0 = mpp0.ok_or_else(|| PlanError::NoMpp {
                path: slide.path().to_path_buf(),
            })?;
            m / m0
        }
        Resolution::Magnification(mag) => {
            let power = slide
                .objective_power()
                .filter(|p| p.is_finite() && *p > 0.0)
                .ok_or_else(|| PlanError::NoObjectivePower {
                    path: slide.path().to_path_buf(),
                })?;
            power / mag
        }
        Resolution::Level(l) => *slide.level_downsamples().get(l).ok_or_else(|| {
            PlanError::InvalidParams(format!(
                "level {l} does not exist (the slide has {})",
                slide.level_count()
            ))
        })?,
        Resolution::Downsample(d) => d,
    };
    if !(d.is_finite() && d > 0.0) {
        return Err(PlanError::InvalidParams(format!(
            "the target downsample {d} is not a positive number"
        )));
    }
    Ok((d, mpp0.map(|m| m * d)))
}

/// The image tissue is detected on: the most detailed level no longer than
/// `max` on its long side, read whole; else a thumbnail.
fn mask_source(slide: &Slide, max: u32) -> Result<(RgbaImage, Option<usize>), PlanError> {
    let dims = slide.level_dimensions();
    if let Some(level) = dims
        .iter()
        .position(|&(w, h)| w.max(h) <= u64::from(max) && w > 0 && h > 0)
    {
        let (w, h) = dims[level];
        return Ok((read_level(slide, level, w as u32, h as u32)?, Some(level)));
    }
    let (w0, h0) = dims[0];
    let long = w0.max(h0) as f64;
    let source = slide.best_level_for_downsample(long / f64::from(max));
    if source == 0 && long > 4.0 * f64::from(max) {
        // Bounded memory still (band by band), but slow on a large slide.
        tracing::warn!(
            slide = %slide.path().display(),
            "the slide has no level near {max} pixels; the tissue mask resamples level 0"
        );
    } else {
        tracing::debug!(source, "tissue mask from a resampled thumbnail");
    }
    Ok((slide.thumbnail(max)?, None))
}

/// A whole (small) level, one row of tiles at a time, decoded in parallel:
/// memory is the level plus one row of tiles.
fn read_level(slide: &Slide, level: usize, w: u32, h: u32) -> Result<RgbaImage, PlanError> {
    let (cols, rows) = slide.tile_grid(level)?;
    let (tw, th) = slide.tile_size(level)?;
    let mut out = RgbaImage::transparent(w, h);
    for row in 0..rows {
        let band: Vec<_> = (0..cols)
            .into_par_iter()
            .map(|col| slide.read_tile(level, col, row).map(|t| (col, t)))
            .collect::<Result<_, _>>()?;
        for (col, tile) in band {
            if let Some(t) = tile {
                let x = col as i64 * i64::from(tw);
                let y = row as i64 * i64::from(th);
                out.blit(&t, x, y);
            }
        }
    }
    Ok(out)
}

/// Sums over boxes of a mask in O(1) each.
struct Integral {
    w: usize,
    sums: Vec<u64>,
}

impl Integral {
    fn new(mask: &Array2<u8>) -> Self {
        let (h, w) = mask.dim();
        let mut sums = vec![0u64; (w + 1) * (h + 1)];
        for y in 0..h {
            let mut row = 0u64;
            for x in 0..w {
                row += u64::from(mask[(y, x)] != 0);
                sums[(y + 1) * (w + 1) + x + 1] = sums[y * (w + 1) + x + 1] + row;
            }
        }
        Self { w, sums }
    }

    /// Set pixels in columns x0..x1, rows y0..y1.
    fn sum(&self, x0: usize, y0: usize, x1: usize, y1: usize) -> u64 {
        let s = |x: usize, y: usize| self.sums[y * (self.w + 1) + x];
        s(x1, y1) + s(x0, y0) - s(x0, y1) - s(x1, y0)
    }
}

/// The mask pixels whose centres fall in [a, b) (mask coordinates), or the
/// pixel holding the middle when none does (a patch smaller than a pixel).
fn pixel_span(a: f64, b: f64, n: usize) -> (usize, usize) {
    let lo = ((a - 0.5).ceil().max(0.0) as usize).min(n);
    let hi = ((b - 0.5).ceil().max(0.0) as usize).min(n);
    if hi > lo {
        (lo, hi)
    } else {
        let mid = (((a + b) / 2.0).floor().max(0.0) as usize).min(n.saturating_sub(1));
        (mid, (mid + 1).min(n))
    }
}

/// Plans `slide`'s patches. `annotations` must be given when
/// `params.annotations` is set (the CLI reads the file named there).
pub fn plan_slide(
    slide: &Slide,
    params: &PlanParams,
    annotations: Option<&AnnotationSet>,
) -> Result<Planned, PlanError> {
    check_params(params)?;
    if params.annotations.is_some() != annotations.is_some() {
        return Err(PlanError::InvalidParams(
            "annotation parameters and annotations must be given together".into(),
        ));
    }
    let identity = SlideIdentity::of(slide)?;
    let (d, target_mpp) = target_downsample(slide, params.resolution)?;
    let level = slide.best_level_for_downsample(d);
    let level_ds = slide.level_downsamples()[level];
    let extent = f64::from(params.patch_size) * d;
    let step = f64::from(params.stride) * d;
    let read_size = ((extent / level_ds).round() as u32).max(1);
    let (w0, h0) = slide.level_dimensions()[0];
    let count = |len: u64| -> u64 {
        if (len as f64) < extent {
            0
        } else {
            ((len as f64 - extent) / step).floor() as u64 + 1
        }
    };
    let (nx, ny) = (count(w0), count(h0));
    let candidates = nx.saturating_mul(ny);
    if candidates > MAX_CANDIDATES {
        return Err(PlanError::InvalidParams(format!(
            "{candidates} grid positions exceed the limit of {MAX_CANDIDATES}; \
             use a larger patch size, stride or downsample"
        )));
    }

    let started = Instant::now();
    let (thumbnail, mask_level) = mask_source(slide, params.mask_max_size)?;
    let read_s = started.elapsed().as_secs_f64();
    let (mw, mh) = (thumbnail.width as usize, thumbnail.height as usize);
    let (dsx, dsy) = (w0 as f64 / mw as f64, h0 as f64 / mh as f64);
    let rgba = ArrayView3::from_shape((mh, mw, 4), &thumbnail.data)
        .map_err(|e| PlanError::InvalidParams(format!("thumbnail buffer: {e}")))?;
    let t = &params.tissue;
    let tissue_params = TissueParams {
        median_ksize: t.median_ksize.max(1),
        threshold: t
            .threshold
            .map_or(TissueThreshold::Otsu, TissueThreshold::Fixed),
        close_size: t.close_size,
        min_tissue_area: t.min_tissue_area / (dsx * dsy),
        min_hole_area: t.min_hole_area / (dsx * dsy),
        max_holes: t.max_holes,
        ..TissueParams::default()
    };
    let tissue = detect_tissue(rgba, &tissue_params)?;
    let tissue_s = started.elapsed().as_secs_f64() - read_s;
    let integral = Integral::new(&tissue.mask);

    // Labels: one raster at mask resolution, classes numbered 1.. in name order.
    let (classes, labels) = match annotations {
        Some(set) => {
            let mut names: Vec<String> = set
                .annotations
                .iter()
                .filter(|a| !a.geometry.regions().is_empty())
                .map(|a| a.class.clone().unwrap_or_else(|| UNCLASSIFIED.into()))
                .collect();
            names.sort();
            names.dedup();
            if names.len() > 254 {
                return Err(PlanError::InvalidParams(format!(
                    "{} annotation classes; at most 254 are supported",
                    names.len()
                )));
            }
            let index = |class: Option<&str>| {
                let c = class.unwrap_or(UNCLASSIFIED);
                names
                    .binary_search_by(|n| n.as_str().cmp(c))
                    .ok()
                    .map(|i| i as u8 + 1)
            };
            // The rasteriser takes one downsample; levels round their
            // sizes, so y may drift by under one mask pixel over the slide.
            let raster = rasterize(set, mw, mh, dsx, &index)?;
            (names, Some(raster))
        }
        None => (Vec::new(), None),
    };
    let min_label = params.annotations.as_ref().map_or(1.0, |a| a.min_fraction);

    let mut patches = Vec::new();
    let mut per_label: BTreeMap<String, u64> = BTreeMap::new();
    let mut counts = vec![0u64; classes.len() + 1];
    for j in 0..ny {
        let y = (j as f64 * step).round() as u64;
        let (y0, y1) = pixel_span(y as f64 / dsy, (y as f64 + extent) / dsy, mh);
        for i in 0..nx {
            let x = (i as f64 * step).round() as u64;
            let (x0, x1) = pixel_span(x as f64 / dsx, (x as f64 + extent) / dsx, mw);
            let area = ((x1 - x0) * (y1 - y0)) as u64;
            let fraction = integral.sum(x0, y0, x1, y1) as f64 / area as f64;
            if fraction < params.min_tissue {
                continue;
            }
            let label = match &labels {
                None => String::new(),
                Some(raster) => {
                    counts.iter_mut().for_each(|c| *c = 0);
                    for yy in y0..y1 {
                        for &v in &raster[yy * mw + x0..yy * mw + x1] {
                            counts[v as usize] += 1;
                        }
                    }
                    let best = (1..counts.len()).max_by_key(|&k| (counts[k], usize::MAX - k));
                    match best {
                        Some(k) if counts[k] as f64 >= min_label * area as f64 => {
                            classes[k - 1].clone()
                        }
                        _ => BACKGROUND.to_string(),
                    }
                }
            };
            *per_label.entry(label.clone()).or_default() += 1;
            patches.push(Patch {
                x,
                y,
                level,
                width: read_size,
                height: read_size,
                tissue_fraction: fraction,
                label,
            });
        }
    }

    let tissue_px = tissue.tissue_pixels() as f64 * dsx * dsy;
    let mask = MaskInfo {
        width: mw as u32,
        height: mh as u32,
        level: mask_level,
        downsample: [dsx, dsy],
        threshold: tissue.threshold,
        tissue_fraction: tissue.tissue_fraction(),
        tissue_area_px: tissue_px,
        tissue_area_mm2: identity.mpp.map(|[mx, my]| tissue_px * mx * my / 1e6),
        components: tissue.polygons.len(),
    };
    let plan = Plan {
        version: PLAN_VERSION,
        created_by: format!("exahealth-data {}", env!("CARGO_PKG_VERSION")),
        params: params.clone(),
        slide: identity,
        target: Target {
            downsample: d,
            mpp: target_mpp,
            level,
            level_downsample: level_ds,
            read_size,
            patch_size_level0: extent,
            stride_level0: step,
        },
        mask,
        classes,
        summary: PlanSummary {
            candidates,
            patches: patches.len() as u64,
            per_label,
        },
        patches,
    };
    tracing::debug!(
        slide = %plan.slide.path,
        patches = plan.summary.patches,
        candidates,
        read_s,
        tissue_s,
        total_s = started.elapsed().as_secs_f64(),
        "planned"
    );
    Ok(Planned {
        plan,
        tissue,
        thumbnail,
    })
}
