//! The `Slide`: OpenSlide's API over any supported format.

use crate::cache::{next_slide_id, TileCache, TileKey, DEFAULT_CACHE_BYTES};
use crate::codec::rgba_bytes;
use crate::error::{Result, SlideError};
use crate::image::RgbaImage;
use crate::parts::{format_float, AssociatedSource, Level, OpenOptions, Parts};
use exahealth_base::budget;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Largest region one `read_region` call may return (OpenSlide has no limit,
/// but a typo in a width should fail, not exhaust memory).
pub const MAX_REGION_PIXELS: u64 = 1 << 30;

/// Decoded tiles held at once while a region or a thumbnail is assembled:
/// tiles are decoded in parallel batches of about this many bytes and
/// dropped after each batch, so a row of many (or huge) tiles never sits in
/// memory whole.
const BATCH_BYTES: u64 = 64 << 20;

/// An open whole-slide image. `Send + Sync`: share it across threads with
/// `Arc` and read regions from all of them at once.
pub struct Slide {
    path: PathBuf,
    vendor: &'static str,
    levels: Vec<Level>,
    properties: BTreeMap<String, String>,
    associated: BTreeMap<String, Box<dyn AssociatedSource>>,
    cache: Arc<TileCache>,
    id: u64,
    channels: Vec<String>,
}

impl std::fmt::Debug for Slide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slide")
            .field("path", &self.path)
            .field("vendor", &self.vendor)
            .field("levels", &self.level_dimensions())
            .finish()
    }
}

impl Slide {
    /// Opens a slide, detecting its format from its content.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path, OpenOptions::default())
    }

    /// Opens a slide with a shared or resized tile cache, or a chosen
    /// fluorescence channel.
    pub fn open_with(path: impl AsRef<Path>, options: OpenOptions) -> Result<Self> {
        let path = path.as_ref();
        let parts = crate::formats::open_parts(path, &options)?;
        let cache = options
            .cache
            .unwrap_or_else(|| TileCache::new(options.cache_bytes.unwrap_or(DEFAULT_CACHE_BYTES)));
        Self::from_parts(path, parts, cache)
    }

    pub(crate) fn from_parts(path: &Path, parts: Parts, cache: Arc<TileCache>) -> Result<Self> {
        let Parts {
            vendor,
            mut levels,
            mut properties,
            associated,
            mpp,
            objective_power,
            channels,
        } = parts;
        if levels.is_empty() {
            return Err(SlideError::Malformed {
                path: path.to_path_buf(),
                format: vendor,
                reason: "no pyramid levels".into(),
            });
        }
        let (w0, h0) = (levels[0].width as f64, levels[0].height as f64);
        for (i, l) in levels.iter_mut().enumerate() {
            if l.width == 0 || l.height == 0 {
                return Err(SlideError::Malformed {
                    path: path.to_path_buf(),
                    format: vendor,
                    reason: format!("level {i} has zero size"),
                });
            }
            l.downsample = (w0 / l.width as f64 + h0 / l.height as f64) / 2.0;
        }
        properties.insert("openslide.vendor".into(), vendor.into());
        properties.insert("openslide.level-count".into(), levels.len().to_string());
        for (i, l) in levels.iter().enumerate() {
            let (tw, th) = l.tiles.tile_size();
            properties.insert(format!("openslide.level[{i}].width"), l.width.to_string());
            properties.insert(format!("openslide.level[{i}].height"), l.height.to_string());
            properties.insert(
                format!("openslide.level[{i}].downsample"),
                format_float(l.downsample),
            );
            properties.insert(format!("openslide.level[{i}].tile-width"), tw.to_string());
            properties.insert(format!("openslide.level[{i}].tile-height"), th.to_string());
        }
        if let Some((x, y)) = mpp {
            properties.insert("openslide.mpp-x".into(), format_float(x));
            properties.insert("openslide.mpp-y".into(), format_float(y));
        }
        if let Some(p) = objective_power {
            properties.insert("openslide.objective-power".into(), format_float(p));
        }
        for (name, a) in &associated {
            let (w, h) = a.dimensions();
            properties.insert(format!("openslide.associated.{name}.width"), w.to_string());
            properties.insert(format!("openslide.associated.{name}.height"), h.to_string());
        }
        if let Some(d) = properties.get("tiff.ImageDescription").cloned() {
            properties.entry("openslide.comment".into()).or_insert(d);
        }
        Ok(Self {
            path: path.to_path_buf(),
            vendor,
            levels,
            properties,
            associated,
            cache,
            id: next_slide_id(),
            channels,
        })
    }

    /// The path the slide was opened from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// OpenSlide's vendor name (`aperio`, `hamamatsu`, `generic-tiff`, `dicom`, ...).
    pub fn vendor(&self) -> &str {
        self.vendor
    }

    /// Number of pyramid levels, at least 1.
    pub fn level_count(&self) -> usize {
        self.levels.len()
    }

    /// Width and height of each level in pixels, level 0 (the largest) first.
    pub fn level_dimensions(&self) -> Vec<(u64, u64)> {
        self.levels.iter().map(|l| (l.width, l.height)).collect()
    }

    /// Each level's downsample from level 0 (1.0 for level 0), the mean of
    /// the horizontal and vertical ratios as in OpenSlide.
    pub fn level_downsamples(&self) -> Vec<f64> {
        self.levels.iter().map(|l| l.downsample).collect()
    }

    /// The level to read for a wanted downsample: the most detailed level
    /// that is not finer than needed (OpenSlide's rule).
    pub fn best_level_for_downsample(&self, downsample: f64) -> usize {
        // NaN and anything finer than level 0 read level 0.
        if downsample.is_nan() || downsample < self.levels[0].downsample {
            return 0;
        }
        for (i, l) in self.levels.iter().enumerate().skip(1) {
            if downsample < l.downsample {
                return i - 1;
            }
        }
        self.levels.len() - 1
    }

    /// All properties: the vendor's own keys and OpenSlide's `openslide.*`
    /// keys (levels, microns per pixel, objective power, associated images).
    pub fn properties(&self) -> &BTreeMap<String, String> {
        &self.properties
    }

    /// One property by key, e.g. `openslide.mpp-x` or `aperio.AppMag`.
    pub fn property(&self, key: &str) -> Option<&str> {
        self.properties.get(key).map(String::as_str)
    }

    /// Microns per pixel at level 0, if the file records it.
    pub fn mpp(&self) -> Option<(f64, f64)> {
        let x = self.property("openslide.mpp-x")?.parse().ok()?;
        let y = self.property("openslide.mpp-y")?.parse().ok()?;
        Some((x, y))
    }

    /// The scanner objective's magnification (20, 40...), if recorded.
    pub fn objective_power(&self) -> Option<f64> {
        self.property("openslide.objective-power")?.parse().ok()
    }

    /// Channel names of a multichannel (fluorescence) slide; empty for
    /// brightfield slides. Choose one with [`OpenOptions::channel`].
    pub fn channel_names(&self) -> &[String] {
        &self.channels
    }

    /// Names of the associated images (`label`, `macro`, `thumbnail`...), sorted.
    pub fn associated_image_names(&self) -> Vec<&str> {
        self.associated.keys().map(String::as_str).collect()
    }

    /// Width and height of an associated image, without decoding it.
    pub fn associated_image_dimensions(&self, name: &str) -> Option<(u32, u32)> {
        self.associated.get(name).map(|a| a.dimensions())
    }

    /// Decodes an associated image; an unknown name fails with
    /// [`SlideError::NoSuchAssociatedImage`] listing the names there are.
    pub fn read_associated_image(&self, name: &str) -> Result<RgbaImage> {
        match self.associated.get(name) {
            Some(a) => a.read(),
            None => Err(SlideError::NoSuchAssociatedImage {
                name: name.to_string(),
                available: if self.associated.is_empty() {
                    "none".into()
                } else {
                    self.associated_image_names().join(", ")
                },
            }),
        }
    }

    /// Tile size of a level, in that level's pixels.
    pub fn tile_size(&self, level: usize) -> Result<(u32, u32)> {
        Ok(self.level(level)?.tiles.tile_size())
    }

    /// Number of tile columns and rows of a level.
    pub fn tile_grid(&self, level: usize) -> Result<(u64, u64)> {
        let l = self.level(level)?;
        let (tw, th) = l.tiles.tile_size();
        Ok((
            l.width.div_ceil(u64::from(tw)),
            l.height.div_ceil(u64::from(th)),
        ))
    }

    /// The tile cache this slide reads through, to share or inspect.
    pub fn cache(&self) -> &Arc<TileCache> {
        &self.cache
    }

    fn level(&self, level: usize) -> Result<&Level> {
        self.levels.get(level).ok_or_else(|| {
            SlideError::InvalidArgument(format!(
                "level {level} does not exist (this slide has {} levels: 0..={})",
                self.levels.len(),
                self.levels.len() - 1
            ))
        })
    }

    /// One tile, cropped to the level's bounds; `None` for a missing tile.
    pub fn read_tile(&self, level: usize, col: u64, row: u64) -> Result<Option<Arc<RgbaImage>>> {
        let l = self.level(level)?;
        let (tw, th) = l.tiles.tile_size();
        let (cols, rows) = self.tile_grid(level)?;
        if col >= cols || row >= rows {
            return Err(SlideError::InvalidArgument(format!(
                "tile ({col}, {row}) is outside level {level}'s {cols}x{rows} grid"
            )));
        }
        let key = TileKey {
            slide: self.id,
            level: level as u32,
            col,
            row,
        };
        let missing = Arc::new(RgbaImage::transparent(0, 0));
        let tile = self.cache.get_or_load(key, || -> Result<Arc<RgbaImage>> {
            let Some(mut img) = l.tiles.read_tile(col, row)? else {
                return Ok(missing.clone());
            };
            // Edge tiles are padded in the file; what lies past the level's
            // edge is not image and must read as transparent.
            let vw = (l.width - col * u64::from(tw)).min(u64::from(tw)) as u32;
            let vh = (l.height - row * u64::from(th)).min(u64::from(th)) as u32;
            if img.width != vw || img.height != vh {
                let mut c = RgbaImage::transparent(vw, vh);
                c.blit(&img, 0, 0);
                img = c;
            }
            Ok(Arc::new(img))
        })?;
        Ok(if tile.width == 0 { None } else { Some(tile) })
    }

    /// Reads a `width` x `height` region of `level` whose top-left corner is
    /// (`x`, `y`) in level-0 pixels, exactly like OpenSlide's `read_region`:
    /// RGBA, transparent where the region leaves the slide. Where the level
    /// coordinate `x / downsample` is not a whole number, pixels are
    /// interpolated bilinearly at that position, as OpenSlide does.
    pub fn read_region(
        &self,
        x: i64,
        y: i64,
        level: usize,
        width: u32,
        height: u32,
    ) -> Result<RgbaImage> {
        let l = self.level(level)?;
        if u64::from(width) * u64::from(height) > MAX_REGION_PIXELS {
            return Err(SlideError::InvalidArgument(format!(
                "region {width}x{height} is larger than the {MAX_REGION_PIXELS}-pixel limit"
            )));
        }
        if width == 0 || height == 0 {
            return Ok(RgbaImage::transparent(width, height));
        }
        let fx = x as f64 / l.downsample;
        let fy = y as f64 / l.downsample;
        // Interpolation weights have 7 bits, as in pixman (cairo's backend,
        // which OpenSlide paints with): a position within 1/256 of a whole
        // pixel is that pixel.
        let quantise = |v: f64| (v * 128.0).round() / 128.0;
        let (qx, qy) = (quantise(fx), quantise(fy));
        if qx.fract() == 0.0 && qy.fract() == 0.0 {
            return self.read_level_pixels(level, qx as i64, qy as i64, width, height);
        }
        let (ix, iy) = (qx.floor() as i64, qy.floor() as i64);
        let src = self.read_level_pixels(level, ix, iy, width + 1, height + 1)?;
        Ok(bilinear(
            &src,
            qx - ix as f64,
            qy - iy as f64,
            width,
            height,
        ))
    }

    /// Whole-pixel read in the level's own coordinates.
    fn read_level_pixels(
        &self,
        level: usize,
        lx: i64,
        ly: i64,
        width: u32,
        height: u32,
    ) -> Result<RgbaImage> {
        let l = self.level(level)?;
        rgba_bytes("a region", width.into(), height.into())
            .map_err(|e| SlideError::budget(&self.path, e))?;
        let mut out = RgbaImage::transparent(width, height);
        let (tw, th) = l.tiles.tile_size();
        let batch = self.tiles_per_batch(level)?;
        let (tw, th) = (i64::from(tw), i64::from(th));
        let level_extent = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        let x0 = lx.max(0);
        let y0 = ly.max(0);
        let x1 = lx
            .saturating_add(i64::from(width))
            .min(level_extent(l.width));
        let y1 = ly
            .saturating_add(i64::from(height))
            .min(level_extent(l.height));
        if x0 >= x1 || y0 >= y1 {
            return Ok(out);
        }
        // The covered tiles, numbered row-major and visited in batches
        // without ever listing them all.
        let (c0, r0) = ((x0 / tw) as u64, (y0 / th) as u64);
        let ncols = ((x1 - 1) / tw) as u64 + 1 - c0;
        let nrows = ((y1 - 1) / th) as u64 + 1 - r0;
        let cells = ncols * nrows;
        let load = |i: u64| {
            let (c, r) = (c0 + i % ncols, r0 + i / ncols);
            self.read_tile(level, c, r).map(|t| (c, r, t))
        };
        let mut first = 0;
        while first < cells {
            let end = first.saturating_add(batch as u64).min(cells);
            let tiles: Vec<_> = if end - first > 1 {
                (first..end)
                    .into_par_iter()
                    .map(load)
                    .collect::<Result<_>>()?
            } else {
                (first..end).map(load).collect::<Result<_>>()?
            };
            first = end;
            for (c, r, tile) in tiles {
                if let Some(t) = tile {
                    out.blit(&t, c as i64 * tw - lx, r as i64 * th - ly);
                }
            }
        }
        Ok(out)
    }

    /// How many of `level`'s tiles one parallel batch decodes (at least 1).
    fn tiles_per_batch(&self, level: usize) -> Result<usize> {
        let (tw, th) = self.level(level)?.tiles.tile_size();
        let tile_bytes = (u64::from(tw) * u64::from(th) * 4).max(1);
        Ok((BATCH_BYTES / tile_bytes).clamp(1, 4096) as usize)
    }

    /// A thumbnail no larger than `max_size` on its longer side, read from
    /// the smallest level that is still at least that big.
    pub fn thumbnail(&self, max_size: u32) -> Result<RgbaImage> {
        let max_size = max_size.max(1);
        let (w0, h0) = (self.levels[0].width as f64, self.levels[0].height as f64);
        let scale = (f64::from(max_size) / w0.max(h0)).min(1.0);
        let tw = ((w0 * scale).round() as u32).max(1);
        let th = ((h0 * scale).round() as u32).max(1);
        let level = self.best_level_for_downsample(1.0 / scale);
        self.resample_level(level, tw, th)
    }

    /// Area-averages a whole level down to `out_w` x `out_h`, one batch of
    /// tiles at a time: memory is a batch plus the output, never the level,
    /// and nothing is sized by the level's dimensions.
    pub fn resample_level(&self, level: usize, out_w: u32, out_h: u32) -> Result<RgbaImage> {
        let l = self.level(level)?;
        let (lw, lh) = (u128::from(l.width), u128::from(l.height));
        let (cols, rows) = self.tile_grid(level)?;
        let (tw, th) = l.tiles.tile_size();
        let (ow, oh) = (out_w.max(1), out_h.max(1));
        // Sums per output pixel and channel (8 bytes each), and how many
        // samples fell in: the largest buffers here, sized by the output.
        budget::bytes_for(
            format!("the sums of a {ow}x{oh} resampled image"),
            &[ow.into(), oh.into(), 4],
            8,
        )
        .map_err(|e| SlideError::budget(&self.path, e))?;
        let (ow, oh) = (ow as usize, oh as usize);
        // Saturating: only a level of more than 2^56 pixels could reach the
        // limits, and it must not panic on the way.
        let mut acc = vec![0u64; ow * oh * 4];
        let mut count = vec![0u64; ow * oh];
        let batch = self.tiles_per_batch(level)? as u64;
        for row in 0..rows {
            let mut first = 0;
            while first < cols {
                let end = first.saturating_add(batch).min(cols);
                let tiles: Vec<_> = (first..end)
                    .into_par_iter()
                    .map(|col| self.read_tile(level, col, row).map(|t| (col, t)))
                    .collect::<Result<_>>()?;
                first = end;
                for (col, tile) in tiles {
                    let Some(t) = tile else { continue };
                    let bx = u128::from(col) * u128::from(tw);
                    // Output column of each of this tile's columns.
                    let map_x: Vec<usize> = (0..u128::from(t.width))
                        .map(|tx| ((bx + tx) * ow as u128 / lw) as usize)
                        .collect();
                    for ty in 0..t.height as usize {
                        let ly = u128::from(row) * u128::from(th) + ty as u128;
                        let oy = (ly * oh as u128 / lh) as usize;
                        let src = &t.data[(ty * t.width as usize) * 4..][..t.width as usize * 4];
                        for (px, &ox) in src.chunks_exact(4).zip(&map_x) {
                            let o = oy * ow + ox;
                            for c in 0..4 {
                                acc[o * 4 + c] = acc[o * 4 + c].saturating_add(u64::from(px[c]));
                            }
                            count[o] = count[o].saturating_add(1);
                        }
                    }
                }
            }
        }
        let mut out = RgbaImage::transparent(ow as u32, oh as u32);
        for (i, &n) in count.iter().enumerate() {
            for c in 0..4 {
                if let Some(mean) = acc[i * 4 + c].saturating_add(n / 2).checked_div(n) {
                    out.data[i * 4 + c] = mean as u8;
                }
            }
        }
        Ok(out)
    }
}

/// Samples `src` at (`i + dx`, `j + dy`) for each output pixel, blending in
/// premultiplied alpha so transparent pixels outside the slide fade the edge
/// instead of darkening it (cairo's bilinear filter, which OpenSlide uses).
fn bilinear(src: &RgbaImage, dx: f64, dy: f64, width: u32, height: u32) -> RgbaImage {
    let mut out = RgbaImage::transparent(width, height);
    let sw = src.width as usize;
    let w = [
        (1.0 - dx) * (1.0 - dy),
        dx * (1.0 - dy),
        (1.0 - dx) * dy,
        dx * dy,
    ];
    for j in 0..height as usize {
        for i in 0..width as usize {
            let idx = [
                (j * sw + i) * 4,
                (j * sw + i + 1) * 4,
                ((j + 1) * sw + i) * 4,
                ((j + 1) * sw + i + 1) * 4,
            ];
            // Premultiplied colour in 0..3, alpha in 3.
            let mut acc = [0.0f64; 4];
            for (k, &p) in idx.iter().enumerate() {
                let px = &src.data[p..p + 4];
                let a = f64::from(px[3]);
                for (sum, &v) in acc.iter_mut().zip(&px[..3]) {
                    *sum += w[k] * f64::from(v) * a / 255.0;
                }
                acc[3] += w[k] * a;
            }
            let o = (j * width as usize + i) * 4;
            let a = acc[3];
            if a > 0.0 {
                for (d, &v) in out.data[o..o + 3].iter_mut().zip(&acc[..3]) {
                    *d = (v * 255.0 / a).round().clamp(0.0, 255.0) as u8;
                }
                out.data[o + 3] = a.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}
