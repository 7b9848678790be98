//! The contract between the format readers (`formats/*`) and [`Slide`]:
//! what a reader hands back after parsing a file. It lives below both, so
//! readers never import the `Slide` that calls them.
//!
//! [`Slide`]: crate::Slide

use crate::cache::TileCache;
use crate::error::Result;
use crate::image::RgbaImage;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One pyramid level's tiles, as a format reader provides them.
pub trait TileSource: Send + Sync {
    /// Size of a tile in this level's pixels.
    fn tile_size(&self) -> (u32, u32);
    /// Level size in pixels.
    fn dimensions(&self) -> (u64, u64);
    /// Decodes tile (`col`, `row`); `Ok(None)` means the tile is absent from
    /// the file (sparse slides) and reads as transparent.
    fn read_tile(&self, col: u64, row: u64) -> Result<Option<RgbaImage>>;
}

/// A non-pyramid image stored with the slide (label, macro, thumbnail).
pub trait AssociatedSource: Send + Sync {
    fn dimensions(&self) -> (u32, u32);
    fn read(&self) -> Result<RgbaImage>;
}

pub struct Level {
    pub(crate) width: u64,
    pub(crate) height: u64,
    pub(crate) downsample: f64,
    pub(crate) tiles: Box<dyn TileSource>,
}

impl Level {
    /// A level whose downsample is computed from level 0's size, as OpenSlide
    /// does: the mean of the horizontal and vertical ratios.
    pub(crate) fn new(tiles: Box<dyn TileSource>) -> Self {
        let (width, height) = tiles.dimensions();
        Self {
            width,
            height,
            downsample: 1.0,
            tiles,
        }
    }
}

/// Options for [`Slide::open_with`].
#[derive(Clone, Default)]
pub struct OpenOptions {
    /// Share one cache between slides; otherwise each gets its own.
    pub cache: Option<Arc<TileCache>>,
    /// Budget for a slide's own cache, in bytes (default 64 MiB).
    pub cache_bytes: Option<u64>,
    /// For multichannel fluorescence slides: which channel to read (as
    /// grayscale). Default: the first.
    pub channel: Option<usize>,
}

/// What a format reader hands back after parsing a file.
pub(crate) struct Parts {
    pub vendor: &'static str,
    pub levels: Vec<Level>,
    pub properties: BTreeMap<String, String>,
    pub associated: BTreeMap<String, Box<dyn AssociatedSource>>,
    pub mpp: Option<(f64, f64)>,
    pub objective_power: Option<f64>,
    /// Channel names of a multichannel slide; empty for brightfield.
    pub channels: Vec<String>,
}

/// Formats a float like OpenSlide's properties: shortest exact form.
pub(crate) fn format_float(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}
