//! Whole-slide prediction through a patch plan: per-patch class
//! probabilities, a per-patch score table (CSV), a heatmap as a pyramidal
//! TIFF, a PNG overlay on the thumbnail and slide-level scores.
//!
//! Memory: patches stream through in batches; the heatmap is one byte per
//! `downsample x downsample` level-0 block (a 100,000-pixel-wide slide at the
//! default 32 is about 10 MB).

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use burn::tensor::Device;
use exahealth_data::loader::{PatchRecord, SlidePatchSource};
use exahealth_slide::writer::{write_pyramid, PyramidOptions, TileCompression, WriteReport};
use exahealth_slide::Slide;
use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::data::BatchSource;
use crate::error::{NnError, Result};
use crate::infer::{predict, Prediction};
use crate::models::Model;
use crate::sources::SampleBatches;

/// One patch and its class probabilities.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchScore {
    /// The plan's row.
    pub record: PatchRecord,
    /// Softmax probabilities, one per class.
    pub probabilities: Vec<f32>,
}

/// Slide-level summary of the patch scores for one class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SlideScore {
    /// The class scored.
    pub class: usize,
    /// Highest patch probability.
    pub max: f32,
    /// Mean patch probability.
    pub mean: f32,
    /// Fraction of patches whose arg-max is the class.
    pub positive_fraction: f32,
    /// Patches scored.
    pub patches: usize,
}

/// Scores every patch of `source` (one slide's plan) with `model`.
pub fn predict_patches<M: Model>(
    model: &M,
    source: &SampleBatches<SlidePatchSource>,
    batch_size: usize,
    device: &Device,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<Vec<PatchScore>> {
    let n = source.len();
    if n == 0 {
        return Err(NnError::EmptyData("the patch plan has no patch".into()));
    }
    let mut scores = Vec::with_capacity(n);
    let indices: Vec<usize> = (0..n).collect();
    for chunk in indices.chunks(batch_size.max(1)) {
        let batch = source.batch(chunk)?;
        let probs = match predict(model, &batch.inputs, chunk.len(), device)? {
            Prediction::Classes(p) => p,
            Prediction::Masks(_) => {
                return Err(NnError::Config(
                    "whole-slide scoring needs a classifier, not a segmentation model".into(),
                ))
            }
        };
        for (k, &i) in chunk.iter().enumerate() {
            let (_, record) = source
                .source()
                .patch(i)
                .ok_or_else(|| NnError::Data(format!("patch {i} vanished from the plan")))?;
            scores.push(PatchScore {
                record: record.clone(),
                probabilities: probs.row(k).to_vec(),
            });
        }
        on_progress(scores.len(), n);
    }
    Ok(scores)
}

/// Max, mean and positive fraction of class `class` over the patches.
pub fn slide_score(scores: &[PatchScore], class: usize) -> Result<SlideScore> {
    if scores.is_empty() {
        return Err(NnError::EmptyData("no patch scores".into()));
    }
    let mut max = f32::NEG_INFINITY;
    let mut sum = 0.0f64;
    let mut positive = 0usize;
    for s in scores {
        let p = *s.probabilities.get(class).ok_or_else(|| {
            NnError::Config(format!(
                "class {class} is out of range for a {}-class model",
                s.probabilities.len()
            ))
        })?;
        max = max.max(p);
        sum += f64::from(p);
        let top = crate::train::argmax(&s.probabilities);
        positive += usize::from(top == class);
    }
    Ok(SlideScore {
        class,
        max,
        mean: (sum / scores.len() as f64) as f32,
        positive_fraction: positive as f32 / scores.len() as f32,
        patches: scores.len(),
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The score table: the plan's columns, then `p_<class>` per class and the
/// arg-max class. Written atomically.
pub fn write_scores_csv(path: &Path, scores: &[PatchScore], classes: &[String]) -> Result<()> {
    let mut s = String::from("x,y,level,width,height,tissue_fraction,label");
    for c in classes {
        s.push_str(&format!(",p_{}", csv_field(c)));
    }
    s.push_str(",predicted\n");
    for p in scores {
        let r = &p.record;
        let _ = write!(
            s,
            "{},{},{},{},{},{},{}",
            r.x,
            r.y,
            r.level,
            r.width,
            r.height,
            r.tissue_fraction,
            csv_field(&r.label)
        );
        for v in &p.probabilities {
            let _ = write!(s, ",{v:.6}");
        }
        let top = crate::train::argmax(&p.probabilities);
        let name = classes
            .get(top)
            .map_or_else(|| top.to_string(), |c| csv_field(c));
        let _ = writeln!(s, ",{name}");
    }
    write_atomic(path, s.as_bytes())
}

/// Per-block scores of one class: `width x height` blocks of
/// `downsample x downsample` level-0 pixels; `None` where no patch fell.
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    /// Blocks across.
    pub width: u32,
    /// Blocks down.
    pub height: u32,
    /// Level-0 pixels per block side.
    pub downsample: u32,
    /// Row-major scores in 0..=1, 255 levels; 0 means "no patch".
    pub cells: Vec<u8>,
}

/// Paints each patch's probability of `class` over its level-0 footprint
/// (overlaps keep the maximum).
pub fn heatmap(
    slide: &Slide,
    scores: &[PatchScore],
    class: usize,
    downsample: u32,
) -> Result<Heatmap> {
    if downsample == 0 {
        return Err(NnError::Config("heatmap downsample must be >= 1".into()));
    }
    let dims = slide.level_dimensions();
    let downsamples = slide.level_downsamples();
    let (w0, h0) = dims
        .first()
        .copied()
        .ok_or_else(|| NnError::Data("the slide has no level".into()))?;
    let d = u64::from(downsample);
    let (width, height) = (w0.div_ceil(d), h0.div_ceil(d));
    // The level size comes from the slide's header: checked product, held
    // to the memory budget (and to 1 GiB, far above any useful heatmap).
    let cells_len = exahealth_base::budget::bytes_for(
        format!("a heatmap of {width}x{height}"),
        &[width, height],
        1,
    )
    .ok()
    .filter(|&n| n <= 1 << 30)
    .ok_or_else(|| {
        NnError::Config(format!(
            "a heatmap of {width}x{height} is too large for the memory budget: raise the downsample"
        ))
    })?;
    let mut cells = vec![0u8; cells_len];
    for s in scores {
        let r = &s.record;
        let p = s
            .probabilities
            .get(class)
            .copied()
            .unwrap_or(0.0)
            .clamp(0.0, 1.0);
        // 1..=255 so that 0 stays "no patch".
        let v = 1 + (p * 254.0).round() as u8;
        let ds = downsamples.get(r.level).copied().unwrap_or(1.0);
        let x0 = (r.x.max(0) as f64 / d as f64).floor() as u64;
        let y0 = (r.y.max(0) as f64 / d as f64).floor() as u64;
        let x1 = ((r.x as f64 + f64::from(r.width) * ds) / d as f64)
            .ceil()
            .max(0.0) as u64;
        let y1 = ((r.y as f64 + f64::from(r.height) * ds) / d as f64)
            .ceil()
            .max(0.0) as u64;
        for y in y0..y1.min(height) {
            for x in x0..x1.min(width) {
                let c = &mut cells[(y * width + x) as usize];
                *c = (*c).max(v);
            }
        }
    }
    Ok(Heatmap {
        width: width as u32,
        height: height as u32,
        downsample,
        cells,
    })
}

/// A blue-cyan-yellow-red ramp for a cell value (0: black, no patch).
pub fn colour(cell: u8) -> [u8; 3] {
    if cell == 0 {
        return [0, 0, 0];
    }
    let t = f32::from(cell - 1) / 254.0;
    let ramp = |a: [f32; 3], b: [f32; 3], u: f32| {
        [0, 1, 2].map(|i| ((a[i] + (b[i] - a[i]) * u) * 255.0).round() as u8)
    };
    let (blue, cyan, yellow, red) = (
        [0.0, 0.0, 1.0],
        [0.0, 1.0, 1.0],
        [1.0, 1.0, 0.0],
        [1.0, 0.0, 0.0],
    );
    if t < 1.0 / 3.0 {
        ramp(blue, cyan, t * 3.0)
    } else if t < 2.0 / 3.0 {
        ramp(cyan, yellow, t * 3.0 - 1.0)
    } else {
        ramp(yellow, red, t * 3.0 - 2.0)
    }
}

impl Heatmap {
    /// The score cell at block `(x, y)`.
    pub fn cell(&self, x: u32, y: u32) -> u8 {
        if x < self.width && y < self.height {
            self.cells[y as usize * self.width as usize + x as usize]
        } else {
            0
        }
    }

    /// Writes the coloured heatmap as a pyramidal TIFF (deflate, lossless),
    /// one pixel per block, with the level-0 resolution scaled by the
    /// downsample when the slide's microns per pixel are known.
    pub fn write_tiff(&self, path: &Path, slide_mpp: Option<f64>) -> Result<WriteReport> {
        let tile = 256u32;
        let options = PyramidOptions {
            tile_size: tile,
            compression: TileCompression::Deflate,
            mpp: slide_mpp.map(|m| m * f64::from(self.downsample)),
            description: Some(format!(
                "exahealth heatmap: 1 pixel = {0}x{0} level-0 pixels",
                self.downsample
            )),
            bigtiff: None,
        };
        let tile_fn = |level: usize, col: u64, row: u64| -> Arc<Vec<u8>> {
            let t = tile as u64;
            let mut px = vec![0u8; (t * t * 3) as usize];
            let scale = 1u64 << level.min(40);
            for y in 0..t {
                for x in 0..t {
                    let gx = (col * t + x) * scale;
                    let gy = (row * t + y) * scale;
                    if gx < u64::from(self.width) && gy < u64::from(self.height) {
                        let rgb = colour(self.cell(gx as u32, gy as u32));
                        let o = ((y * t + x) * 3) as usize;
                        px[o..o + 3].copy_from_slice(&rgb);
                    }
                }
            }
            Arc::new(px)
        };
        write_pyramid(
            path,
            u64::from(self.width),
            u64::from(self.height),
            &options,
            tile_fn,
        )
        .map_err(|e| NnError::Data(e.to_string()))
    }

    /// Writes the slide's thumbnail (longer side `max_size`) with the
    /// heatmap blended over it (half opacity where a patch was scored) as PNG.
    pub fn write_overlay_png(&self, path: &Path, slide: &Slide, max_size: u32) -> Result<()> {
        let thumb = slide
            .thumbnail(max_size)
            .map_err(|e| NnError::Data(e.to_string()))?;
        let (w0, h0) = slide
            .level_dimensions()
            .first()
            .copied()
            .ok_or_else(|| NnError::Data("the slide has no level".into()))?;
        let sx = w0 as f64 / f64::from(thumb.width.max(1)) / f64::from(self.downsample);
        let sy = h0 as f64 / f64::from(thumb.height.max(1)) / f64::from(self.downsample);
        let mut rgb = Vec::with_capacity(thumb.width as usize * thumb.height as usize * 3);
        for y in 0..thumb.height {
            for x in 0..thumb.width {
                let o = (y as usize * thumb.width as usize + x as usize) * 4;
                let base = &thumb.data[o..o + 3];
                let cell = self.cell((f64::from(x) * sx) as u32, (f64::from(y) * sy) as u32);
                if cell == 0 {
                    rgb.extend_from_slice(base);
                } else {
                    let c = colour(cell);
                    for i in 0..3 {
                        rgb.push(((u16::from(base[i]) + u16::from(c[i])) / 2) as u8);
                    }
                }
            }
        }
        let mut out = Vec::new();
        {
            let mut enc = png::Encoder::new(&mut out, thumb.width, thumb.height);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut w = enc.write_header().map_err(|e| NnError::record(path, e))?;
            w.write_image_data(&rgb)
                .map_err(|e| NnError::record(path, e))?;
            w.finish().map_err(|e| NnError::record(path, e))?;
        }
        write_atomic(path, &out)
    }
}
