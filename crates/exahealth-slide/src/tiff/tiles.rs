//! Tiles and strips of one TIFF directory, decoded on demand.

use super::parser::Ifd;
use super::tags::{self, photometric};
use crate::codec::{decode_tile, is_image_codec, rgba_bytes, TileFormat, MAX_TILE_PIXELS};
use crate::error::{Result, SlideError};
use crate::image::RgbaImage;
use crate::parts::{AssociatedSource, TileSource};
use crate::source::{read_range, ReadAt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The pixels of one TIFF directory, as a grid of tiles. Stripped images are
/// a grid one tile wide whose tiles are the strips.
pub(crate) struct TiffTiles {
    src: Arc<dyn ReadAt>,
    path: PathBuf,
    width: u64,
    height: u64,
    tile_w: u32,
    tile_h: u32,
    cols: u64,
    /// Strips, unlike tiles, end at the image edge.
    tiled: bool,
    offsets: Vec<u64>,
    byte_counts: Vec<u64>,
    format: TileFormat,
}

pub(crate) fn malformed(path: &Path, reason: impl Into<String>) -> SlideError {
    SlideError::Malformed {
        path: path.to_path_buf(),
        format: "TIFF",
        reason: reason.into(),
    }
}

impl TiffTiles {
    pub(crate) fn new(src: Arc<dyn ReadAt>, path: &Path, ifd: &Ifd) -> Result<Self> {
        let width = ifd.width();
        let height = ifd.height();
        if width == 0 || height == 0 {
            return Err(malformed(
                path,
                format!("directory at {} has no image size", ifd.offset),
            ));
        }
        let (tile_w, tile_h, offsets, byte_counts) = if ifd.is_tiled() {
            let tw = ifd.u64(tags::TILE_WIDTH).unwrap_or(0);
            let th = ifd.u64(tags::TILE_LENGTH).unwrap_or(0);
            (
                tw,
                th,
                ifd.u64s(tags::TILE_OFFSETS),
                ifd.u64s(tags::TILE_BYTE_COUNTS),
            )
        } else {
            let rps = ifd.u64(tags::ROWS_PER_STRIP).unwrap_or(height).min(height);
            (
                width,
                rps,
                ifd.u64s(tags::STRIP_OFFSETS),
                ifd.u64s(tags::STRIP_BYTE_COUNTS),
            )
        };
        if tile_w == 0
            || tile_h == 0
            || tile_w > u64::from(u32::MAX)
            || tile_h > u64::from(u32::MAX)
        {
            return Err(malformed(
                path,
                format!("tile size {tile_w}x{tile_h} is invalid"),
            ));
        }
        if tile_w * tile_h > MAX_TILE_PIXELS {
            return Err(SlideError::Unsupported {
                path: path.to_path_buf(),
                what: format!(
                    "tiles or strips of {tile_w}x{tile_h} pixels (too large to decode at once)"
                ),
            });
        }
        let cols = width.div_ceil(tile_w);
        let rows = height.div_ceil(tile_h);
        let expected = cols
            .checked_mul(rows)
            .ok_or_else(|| malformed(path, "tile count overflows"))?;
        let (Some(offsets), Some(byte_counts)) = (offsets, byte_counts) else {
            return Err(malformed(path, "tile or strip offsets are missing"));
        };
        if (offsets.len() as u64) < expected || (byte_counts.len() as u64) < expected {
            return Err(malformed(
                path,
                format!(
                    "{} tile offsets and {} byte counts for a grid of {expected} tiles",
                    offsets.len(),
                    byte_counts.len()
                ),
            ));
        }
        let format = tile_format(path, ifd)?;
        Ok(Self {
            src,
            path: path.to_path_buf(),
            width,
            height,
            tile_w: tile_w as u32,
            tile_h: tile_h as u32,
            cols,
            tiled: ifd.is_tiled(),
            offsets: offsets[..expected as usize].to_vec(),
            byte_counts: byte_counts[..expected as usize].to_vec(),
            format,
        })
    }

    /// Raw, still-compressed bytes of one tile (empty for an absent tile).
    pub(crate) fn raw_tile(&self, col: u64, row: u64) -> Result<Vec<u8>> {
        let i = row
            .checked_mul(self.cols)
            .and_then(|i| i.checked_add(col))
            .and_then(|i| usize::try_from(i).ok());
        let (Some(&off), Some(&len)) = (
            i.and_then(|i| self.offsets.get(i)),
            i.and_then(|i| self.byte_counts.get(i)),
        ) else {
            return Err(malformed(
                &self.path,
                format!("tile ({col}, {row}) is outside the grid"),
            ));
        };
        if len == 0 {
            return Ok(Vec::new());
        }
        // No codec here makes a tile much larger than its pixels; a byte
        // count that says otherwise would have every thread reading a copy
        // of most of the file.
        let most = max_coded_bytes(self.tile_w, self.tile_h);
        if len > most {
            return Err(malformed(
                &self.path,
                format!(
                    "tile ({col}, {row}) claims {len} bytes for {}x{} pixels",
                    self.tile_w, self.tile_h
                ),
            ));
        }
        read_range(&*self.src, off, len, &self.path)
    }
}

impl TileSource for TiffTiles {
    fn tile_size(&self) -> (u32, u32) {
        (self.tile_w, self.tile_h)
    }

    fn dimensions(&self) -> (u64, u64) {
        (self.width, self.height)
    }

    fn read_tile(&self, col: u64, row: u64) -> Result<Option<RgbaImage>> {
        let raw = self.raw_tile(col, row)?;
        if raw.is_empty() {
            return Ok(None);
        }
        // The last strip of a stripped image holds fewer rows of samples;
        // a JPEG strip keeps its full height and is cropped by the caller.
        let th = if !self.tiled && !is_image_codec(self.format.compression) {
            let remaining = self
                .height
                .saturating_sub(row.saturating_mul(u64::from(self.tile_h)));
            remaining.clamp(1, u64::from(self.tile_h)) as u32
        } else {
            self.tile_h
        };
        decode_tile(&self.format, &raw, self.tile_w, th)
            .map(Some)
            .map_err(|e| e.into_slide(&self.path, format!("tile ({col}, {row})")))
    }
}

/// Reads the sample layout of a directory and rejects what no codec handles.
pub(crate) fn tile_format(path: &Path, ifd: &Ifd) -> Result<TileFormat> {
    let c = ifd.u64(tags::COMPRESSION).unwrap_or(1) as u16;
    let spp = ifd.u64(tags::SAMPLES_PER_PIXEL).unwrap_or(1) as u16;
    let photometric = ifd
        .u64(tags::PHOTOMETRIC)
        .map(|p| p as u16)
        .unwrap_or(if spp >= 3 {
            photometric::RGB
        } else {
            photometric::MIN_IS_BLACK
        });
    let bits = ifd.u64(tags::BITS_PER_SAMPLE).unwrap_or(1) as u16;
    let planar = ifd.u64(tags::PLANAR_CONFIGURATION).unwrap_or(1);
    if planar != 1 && spp > 1 {
        return Err(SlideError::Unsupported {
            path: path.to_path_buf(),
            what: "planar (separate-plane) sample layout".into(),
        });
    }
    let format = TileFormat {
        compression: c,
        photometric,
        samples_per_pixel: spp,
        bits_per_sample: bits,
        predictor: ifd.u64(tags::PREDICTOR).unwrap_or(1) as u16,
        jpeg_tables: ifd
            .bytes(tags::JPEG_TABLES)
            .map(<[u8]>::to_vec)
            .or_else(|| {
                ifd.u64s(tags::JPEG_TABLES)
                    .map(|v| v.iter().map(|&b| b as u8).collect())
            }),
    };
    format
        .is_supported()
        .map_err(|what| SlideError::Unsupported {
            path: path.to_path_buf(),
            what,
        })?;
    Ok(format)
}

/// The most compressed bytes a tile of `w` x `h` pixels may take: twice
/// its RGBA size (incompressible data grows a little under every codec),
/// plus room for per-tile JPEG tables and colour profiles.
fn max_coded_bytes(w: u32, h: u32) -> u64 {
    (u64::from(w) * u64::from(h) * 8).saturating_add(16 << 20)
}

/// Decodes a whole (small) directory into one image.
pub(crate) fn ifd_image(src: &Arc<dyn ReadAt>, path: &Path, ifd: &Ifd) -> Result<RgbaImage> {
    let tiles = TiffTiles::new(src.clone(), path, ifd)?;
    let (w, h) = (tiles.width, tiles.height);
    if w.checked_mul(h).is_none_or(|n| n > MAX_TILE_PIXELS) {
        return Err(SlideError::Unsupported {
            path: path.to_path_buf(),
            what: format!("associated image of {w}x{h} pixels (too large)"),
        });
    }
    rgba_bytes("an associated image", w, h).map_err(|e| SlideError::budget(path, e))?;
    let mut out = RgbaImage::transparent(w as u32, h as u32);
    let rows = h.div_ceil(u64::from(tiles.tile_h));
    for r in 0..rows {
        for c in 0..tiles.cols {
            if let Some(t) = tiles.read_tile(c, r)? {
                out.blit(
                    &t,
                    (c * u64::from(tiles.tile_w)) as i64,
                    (r * u64::from(tiles.tile_h)) as i64,
                );
            }
        }
    }
    Ok(out)
}

/// A label, macro or thumbnail stored as its own directory.
pub(crate) struct TiffAssociated {
    pub src: Arc<dyn ReadAt>,
    pub path: PathBuf,
    pub ifd: Ifd,
}

impl AssociatedSource for TiffAssociated {
    fn dimensions(&self) -> (u32, u32) {
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        (clamp(self.ifd.width()), clamp(self.ifd.height()))
    }
    fn read(&self) -> Result<RgbaImage> {
        ifd_image(&self.src, &self.path, &self.ifd)
    }
}
