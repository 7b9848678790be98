//! Synthetic, tissue-like pyramidal slides for demos, tests and benchmarks.
//!
//! The slide is a light background with a few irregular tissue blobs whose
//! inside is eosin-pink texture with haematoxylin-purple nuclei. Small levels
//! are rendered pixel by pixel; levels with many tiles reuse a small palette
//! of rendered tiles, so a 100,000 x 100,000 slide is a few megabytes on disk
//! and still decodes as real JPEG tiles.

use crate::error::Result;
use crate::writer::{pyramid_levels, write_pyramid, PyramidOptions, TilePixels, WriteReport};
use std::path::Path;
use std::sync::Arc;

/// Levels with more tiles than this reuse a palette instead of rendering.
const RENDER_TILE_LIMIT: u64 = 2048;
const PALETTE_SIZE: u64 = 8;
const BACKGROUND: [u8; 3] = [242, 240, 244];

/// What [`write_synthetic_slide`] makes: size, tissue layout and how the
/// pyramid is written.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    /// Level-0 width in pixels.
    pub width: u64,
    /// Level-0 height in pixels.
    pub height: u64,
    /// Picks the tissue layout; the same seed gives the same slide.
    pub seed: u64,
    /// Tile size, compression and metadata of the written TIFF.
    pub writer: PyramidOptions,
}

impl SynthOptions {
    /// A `width` x `height` slide at 0.25 microns per pixel (a 40x scan),
    /// seed 1, JPEG tiles of 256 pixels.
    pub fn new(width: u64, height: u64) -> Self {
        let writer = PyramidOptions {
            mpp: Some(0.25),
            description: Some(format!(
                "exahealth synthetic slide {width}x{height}|AppMag = 40|MPP = 0.25"
            )),
            ..PyramidOptions::default()
        };
        Self {
            width,
            height,
            seed: 1,
            writer,
        }
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The tissue layout: blobs in normalised slide coordinates.
#[derive(Debug, Clone)]
pub struct Tissue {
    blobs: Vec<(f64, f64, f64, f64)>,
    seed: u64,
}

impl Tissue {
    /// Three to five blobs placed by `seed`.
    pub fn new(seed: u64) -> Self {
        let n = 3 + splitmix(seed) % 3;
        let blobs = (0..n)
            .map(|i| {
                let h = |k: u64| {
                    unit(splitmix(
                        seed ^ (i * 7919 + k).wrapping_mul(0x2545_F491_4F6C_DD1D),
                    ))
                };
                (
                    0.2 + 0.6 * h(1),
                    0.2 + 0.6 * h(2),
                    0.08 + 0.12 * h(3),
                    0.08 + 0.12 * h(4),
                )
            })
            .collect();
        Self { blobs, seed }
    }

    /// Whether the normalised point (`u`, `v`) lies in tissue.
    pub fn contains(&self, u: f64, v: f64) -> bool {
        let mut field = 0.0;
        for &(cx, cy, rx, ry) in &self.blobs {
            let dx = (u - cx) / rx;
            let dy = (v - cy) / ry;
            field += (-(dx * dx + dy * dy)).exp();
        }
        // A wobble on the boundary so edges are not perfect ellipses.
        let wobble = 0.08 * ((u * 23.0 + self.seed as f64).sin() * (v * 19.0).cos());
        field + wobble > 0.45
    }
}

/// Smooth value noise in [0, 1] on a lattice of `cell` pixels.
fn value_noise(x: f64, y: f64, cell: f64, seed: u64) -> f64 {
    let (gx, gy) = (x / cell, y / cell);
    let (ix, iy) = (gx.floor(), gy.floor());
    let (fx, fy) = (gx - ix, gy - iy);
    let corner = |dx: i64, dy: i64| {
        unit(splitmix(
            seed ^ ((ix as i64 + dx) as u64).wrapping_mul(0x9E37_79B9)
                ^ ((iy as i64 + dy) as u64).wrapping_mul(0x85EB_CA6B),
        ))
    };
    let sx = fx * fx * (3.0 - 2.0 * fx);
    let sy = fy * fy * (3.0 - 2.0 * fy);
    let top = corner(0, 0) * (1.0 - sx) + corner(1, 0) * sx;
    let bottom = corner(0, 1) * (1.0 - sx) + corner(1, 1) * sx;
    top * (1.0 - sy) + bottom * sy
}

/// Colour of tissue at level-0 pixel (`x`, `y`): stroma texture and nuclei.
fn tissue_colour(x: f64, y: f64, seed: u64) -> [u8; 3] {
    let t = 0.6 * value_noise(x, y, 40.0, seed) + 0.4 * value_noise(x, y, 9.0, seed ^ 1);
    let mut rgb = [205.0 + 35.0 * t, 120.0 + 60.0 * t, 170.0 + 45.0 * t];
    // Nuclei: one jittered dot per 28-pixel cell, most cells occupied.
    let (cx, cy) = ((x / 28.0).floor(), (y / 28.0).floor());
    let h = splitmix(
        seed ^ (cx as i64 as u64).wrapping_mul(0x1656_67B1)
            ^ (cy as i64 as u64).wrapping_mul(0x27D4_EB2F),
    );
    if h % 10 < 7 {
        let nx = (cx + 0.2 + 0.6 * unit(h)) * 28.0;
        let ny = (cy + 0.2 + 0.6 * unit(splitmix(h))) * 28.0;
        let r = 4.0 + 3.0 * unit(splitmix(h ^ 5));
        let d2 = (x - nx).powi(2) + (y - ny).powi(2);
        if d2 < r * r {
            rgb = [95.0 + 30.0 * t, 60.0 + 20.0 * t, 140.0 + 30.0 * t];
        }
    }
    rgb.map(|c| c.clamp(0.0, 255.0) as u8)
}

/// Writes a synthetic slide to `path`.
pub fn write_synthetic_slide(path: &Path, o: &SynthOptions) -> Result<WriteReport> {
    let ts = o.writer.tile_size;
    let levels = pyramid_levels(o.width, o.height, ts);
    let tissue = Tissue::new(o.seed);
    let (w0, h0) = (o.width as f64, o.height as f64);
    let background: TilePixels = Arc::new(BACKGROUND.repeat(ts as usize * ts as usize));
    // Per level: a palette of textured tiles if the level is too big to render.
    let palettes: Vec<Option<Vec<TilePixels>>> = levels
        .iter()
        .enumerate()
        .map(|(li, &(lw, lh))| {
            let tiles = lw.div_ceil(u64::from(ts)) * lh.div_ceil(u64::from(ts));
            (tiles > RENDER_TILE_LIMIT).then(|| {
                (0..PALETTE_SIZE)
                    .map(|k| {
                        let scale = (1u64 << li) as f64;
                        let (ox, oy) = (k as f64 * 977.0 * scale, k as f64 * 613.0 * scale);
                        let mut px = Vec::with_capacity(ts as usize * ts as usize * 3);
                        for y in 0..ts {
                            for x in 0..ts {
                                px.extend_from_slice(&tissue_colour(
                                    ox + f64::from(x) * scale,
                                    oy + f64::from(y) * scale,
                                    o.seed,
                                ));
                            }
                        }
                        Arc::new(px)
                    })
                    .collect()
            })
        })
        .collect();
    write_pyramid(path, o.width, o.height, &o.writer, |li, col, row| {
        let (lw, lh) = levels[li];
        let (sx, sy) = (w0 / lw as f64, h0 / lh as f64);
        let t = u64::from(ts);
        if let Some(palette) = &palettes[li] {
            // Tissue decided per tile, at the tile's centre.
            let u = (col * t) as f64 * sx / w0 + t as f64 * sx / w0 / 2.0;
            let v = (row * t) as f64 * sy / h0 + t as f64 * sy / h0 / 2.0;
            if tissue.contains(u, v) {
                let k = splitmix(o.seed ^ col.wrapping_mul(31) ^ row.wrapping_mul(1_000_003))
                    % PALETTE_SIZE;
                return palette[k as usize].clone();
            }
            return background.clone();
        }
        let mut px = Vec::with_capacity(t as usize * t as usize * 3);
        let mut any_tissue = false;
        for y in 0..t {
            for x in 0..t {
                let (lx, ly) = (col * t + x, row * t + y);
                let (gx, gy) = (lx as f64 * sx, ly as f64 * sy);
                if lx < lw && ly < lh && tissue.contains(gx / w0, gy / h0) {
                    any_tissue = true;
                    px.extend_from_slice(&tissue_colour(gx, gy, o.seed));
                } else {
                    px.extend_from_slice(&BACKGROUND);
                }
            }
        }
        if any_tissue {
            Arc::new(px)
        } else {
            background.clone()
        }
    })
}
