//! Pyramidal tiled TIFF writer (generic-TIFF layout that OpenSlide opens).
//!
//! Levels halve until the whole image fits in one tile. Tiles are produced by
//! a caller's function, encoded in parallel one tile row at a time (memory is
//! a row of tiles, never a level) and written in order. A function that
//! returns the same `Arc` for many tiles has it encoded and stored once: that
//! is how a 100,000 x 100,000 "virtual" slide fits in a few megabytes.

use crate::error::{Result, SlideError};
use crate::tiff::tags;
use exahealth_base::durable::DurableFile;
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

/// How the writer compresses each tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileCompression {
    /// Baseline JPEG, YCbCr 4:2:0 inside, quality 1..=100.
    Jpeg {
        /// 1 (smallest) to 100 (best).
        quality: u8,
    },
    /// Lossless zlib/deflate with horizontal differencing.
    Deflate,
}

/// How [`write_pyramid`] lays out and annotates the file.
#[derive(Debug, Clone)]
pub struct PyramidOptions {
    /// Side of the square tiles in pixels: a multiple of 16 up to 4096 (default 256).
    pub tile_size: u32,
    /// Tile coding (default JPEG quality 90).
    pub compression: TileCompression,
    /// Level-0 microns per pixel, stored as TIFF resolution (centimetres).
    pub mpp: Option<f64>,
    /// ImageDescription of level 0; an Aperio-style `|AppMag = 40|MPP = 0.25`
    /// text there is what readers take the magnification from.
    pub description: Option<String>,
    /// Force BigTIFF; by default it is used when classic 32-bit offsets could overflow.
    pub bigtiff: Option<bool>,
}

impl Default for PyramidOptions {
    fn default() -> Self {
        Self {
            tile_size: 256,
            compression: TileCompression::Jpeg { quality: 90 },
            mpp: None,
            description: None,
            bigtiff: None,
        }
    }
}

/// What the writer did, for reports and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Width and height of each level written, level 0 first.
    pub levels: Vec<(u64, u64)>,
    /// Tiles over all levels.
    pub tiles: u64,
    /// Tiles actually encoded and stored; the rest reuse one of these.
    pub unique_tiles: u64,
    /// Size of the file written.
    pub bytes: u64,
}

/// One tile's pixels: `tile_size * tile_size * 3` bytes of RGB, row-major.
pub type TilePixels = Arc<Vec<u8>>;

/// Level sizes for a pyramid: halve (rounding up) until one tile holds it.
pub fn pyramid_levels(width: u64, height: u64, tile: u32) -> Vec<(u64, u64)> {
    let mut v = vec![(width, height)];
    let (mut w, mut h) = (width, height);
    while w > u64::from(tile) || h > u64::from(tile) {
        w = w.div_ceil(2);
        h = h.div_ceil(2);
        v.push((w, h));
    }
    v
}

/// Writes a pyramidal TIFF to `path` durably (the workspace's one helper:
/// temporary file, fsync, rename, fsync of the folder). `tile(level, col, row)` returns the RGB pixels of one tile.
pub fn write_pyramid<F>(
    path: &Path,
    width: u64,
    height: u64,
    options: &PyramidOptions,
    tile: F,
) -> Result<WriteReport>
where
    F: Fn(usize, u64, u64) -> TilePixels + Sync,
{
    let err = |reason: String| SlideError::Write {
        path: path.to_path_buf(),
        reason,
    };
    let ts = options.tile_size;
    if ts == 0 || ts % 16 != 0 || ts > 4096 {
        return Err(SlideError::InvalidArgument(format!(
            "tile size {ts} must be a multiple of 16 between 16 and 4096"
        )));
    }
    if width == 0 || height == 0 || width > 1 << 31 || height > 1 << 31 {
        return Err(SlideError::InvalidArgument(format!(
            "image size {width}x{height} is invalid"
        )));
    }
    let levels = pyramid_levels(width, height, ts);
    let total_tiles: u64 = levels
        .iter()
        .map(|&(w, h)| w.div_ceil(u64::from(ts)) * h.div_ceil(u64::from(ts)))
        .sum();
    // Classic TIFF if even uncompressed pixels could not pass 4 GiB.
    let raw_bytes = total_tiles * u64::from(ts) * u64::from(ts) * 3;
    let big = options.bigtiff.unwrap_or(raw_bytes > 0xF000_0000);

    let result = (|| -> std::io::Result<WriteReport> {
        // Dropped on any error below, which removes the temporary.
        let file = DurableFile::create(path)?;
        let mut w = TiffOut {
            out: BufWriter::with_capacity(1 << 20, file),
            pos: 0,
            big,
            next_link_of_last_ifd: 0,
        };
        // Header; the first directory's offset is patched at the end.
        let first_link;
        if big {
            w.write(b"II")?;
            w.write(&43u16.to_le_bytes())?;
            w.write(&8u16.to_le_bytes())?;
            w.write(&0u16.to_le_bytes())?;
            first_link = w.pos;
            w.write(&0u64.to_le_bytes())?;
        } else {
            w.write(b"II")?;
            w.write(&42u16.to_le_bytes())?;
            first_link = w.pos;
            w.write(&0u32.to_le_bytes())?;
        }
        let mut link = first_link;
        let mut unique: HashMap<usize, (u64, u64, TilePixels)> = HashMap::new();
        let mut encoded_count = 0u64;
        for (li, &(lw, lh)) in levels.iter().enumerate() {
            let cols = lw.div_ceil(u64::from(ts));
            let rows = lh.div_ceil(u64::from(ts));
            let mut offsets = Vec::with_capacity((cols * rows) as usize);
            let mut counts = Vec::with_capacity((cols * rows) as usize);
            for row in 0..rows {
                let pixels: Vec<TilePixels> = (0..cols)
                    .into_par_iter()
                    .map(|c| tile(li, c, row))
                    .collect();
                // Encode each distinct buffer of this row once, in parallel.
                let mut todo: Vec<&TilePixels> = Vec::new();
                for p in &pixels {
                    let key = Arc::as_ptr(p) as usize;
                    if !unique.contains_key(&key) && !todo.iter().any(|t| Arc::ptr_eq(t, p)) {
                        todo.push(p);
                    }
                }
                let encoded: Vec<std::io::Result<Vec<u8>>> = todo
                    .par_iter()
                    .map(|p| encode_tile(p, ts, options.compression))
                    .collect();
                for (p, bytes) in todo.into_iter().zip(encoded) {
                    let bytes = bytes?;
                    encoded_count += 1;
                    let off = w.pos;
                    w.write(&bytes)?;
                    unique.insert(
                        Arc::as_ptr(p) as usize,
                        (off, bytes.len() as u64, p.clone()),
                    );
                }
                for p in &pixels {
                    let (off, len, _) = unique[&(Arc::as_ptr(p) as usize)];
                    offsets.push(off);
                    counts.push(len);
                }
                // Buffers used only in this row can go; those the caller
                // still holds (repeated tiles) stay, so memory is one row.
                unique.retain(|_, (_, _, p)| Arc::strong_count(p) > 1);
            }
            let ifd = w.write_ifd(li, lw, lh, ts, options, &offsets, &counts)?;
            w.patch(link, ifd)?;
            link = w.next_link_of_last_ifd;
        }
        let bytes = w.pos;
        let file = w.out.into_inner().map_err(|e| e.into_error())?;
        file.commit()?;
        Ok(WriteReport {
            levels: levels.clone(),
            tiles: total_tiles,
            unique_tiles: encoded_count,
            bytes,
        })
    })();
    let report = result.map_err(|e| err(e.to_string()))?;
    Ok(report)
}

fn encode_tile(rgb: &[u8], ts: u32, c: TileCompression) -> std::io::Result<Vec<u8>> {
    let expected = ts as usize * ts as usize * 3;
    if rgb.len() != expected {
        return Err(std::io::Error::other(format!(
            "tile buffer has {} bytes, expected {expected}",
            rgb.len()
        )));
    }
    match c {
        TileCompression::Jpeg { quality } => {
            let mut out = Vec::new();
            let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
            enc.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
            enc.encode(rgb, ts as u16, ts as u16, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            Ok(out)
        }
        TileCompression::Deflate => {
            let mut diff = rgb.to_vec();
            let row = ts as usize * 3;
            for r in diff.chunks_exact_mut(row) {
                for i in (3..row).rev() {
                    r[i] = r[i].wrapping_sub(r[i - 3]);
                }
            }
            let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
            enc.write_all(&diff)?;
            enc.finish()
        }
    }
}

struct TiffOut {
    out: BufWriter<DurableFile>,
    pos: u64,
    big: bool,
    /// Where the last directory's next-directory link was written.
    next_link_of_last_ifd: u64,
}

impl TiffOut {
    fn write(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.out.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn patch(&mut self, at: u64, value: u64) -> std::io::Result<()> {
        self.out.seek(SeekFrom::Start(at))?;
        if self.big {
            self.out.write_all(&value.to_le_bytes())?;
        } else {
            let v = u32::try_from(value)
                .map_err(|_| std::io::Error::other("offset exceeds classic TIFF"))?;
            self.out.write_all(&v.to_le_bytes())?;
        }
        self.out.seek(SeekFrom::Start(self.pos))?;
        Ok(())
    }

    fn align(&mut self) -> std::io::Result<()> {
        if self.pos % 2 == 1 {
            self.write(&[0])?;
        }
        Ok(())
    }

    /// Writes one directory with its out-of-line values; returns its offset.
    #[allow(clippy::too_many_arguments)]
    fn write_ifd(
        &mut self,
        level: usize,
        w: u64,
        h: u64,
        ts: u32,
        o: &PyramidOptions,
        offsets: &[u64],
        counts: &[u64],
    ) -> std::io::Result<u64> {
        // (tag, type, values as bytes, count)
        let mut entries: Vec<(u16, u16, Vec<u8>, u64)> = Vec::new();
        let off_type = if self.big { 16 } else { 4 };
        let longs = |v: &[u64], big: bool| -> std::io::Result<Vec<u8>> {
            let mut b = Vec::with_capacity(v.len() * 8);
            for &x in v {
                if big {
                    b.extend_from_slice(&x.to_le_bytes());
                } else {
                    let x = u32::try_from(x)
                        .map_err(|_| std::io::Error::other("offset exceeds classic TIFF"))?;
                    b.extend_from_slice(&x.to_le_bytes());
                }
            }
            Ok(b)
        };
        let short = |v: u16| v.to_le_bytes().to_vec();
        let long = |v: u32| v.to_le_bytes().to_vec();
        entries.push((tags::NEW_SUBFILE_TYPE, 4, long(u32::from(level > 0)), 1));
        entries.push((tags::IMAGE_WIDTH, 4, long(w as u32), 1));
        entries.push((tags::IMAGE_LENGTH, 4, long(h as u32), 1));
        entries.push((
            tags::BITS_PER_SAMPLE,
            3,
            [8u16, 8, 8].iter().flat_map(|v| v.to_le_bytes()).collect(),
            3,
        ));
        let (comp, pred) = match o.compression {
            TileCompression::Jpeg { .. } => (tags::compression::JPEG, 1),
            TileCompression::Deflate => (tags::compression::ADOBE_DEFLATE, 2),
        };
        entries.push((tags::COMPRESSION, 3, short(comp), 1));
        // JPEG tiles hold YCbCr (what the encoder writes); say so, because
        // OpenSlide and libtiff trust this tag over the JPEG's own markers.
        let jpeg = matches!(o.compression, TileCompression::Jpeg { .. });
        let photometric = if jpeg {
            tags::photometric::YCBCR
        } else {
            tags::photometric::RGB
        };
        entries.push((tags::PHOTOMETRIC, 3, short(photometric), 1));
        if jpeg {
            entries.push((
                tags::YCBCR_SUBSAMPLING,
                3,
                [2u16, 2].iter().flat_map(|v| v.to_le_bytes()).collect(),
                2,
            ));
        }
        if level == 0 {
            if let Some(d) = &o.description {
                let mut b = d.as_bytes().to_vec();
                b.push(0);
                let n = b.len() as u64;
                entries.push((tags::IMAGE_DESCRIPTION, 2, b, n));
            }
        }
        entries.push((tags::SAMPLES_PER_PIXEL, 3, short(3), 1));
        if let Some(mpp) = o.mpp.filter(|m| *m > 0.0) {
            // Pixels per centimetre as a rational with a fixed denominator.
            let ppcm = 10_000.0 / (mpp * (1u64 << level.min(62)) as f64);
            let mut r = Vec::new();
            r.extend_from_slice(&((ppcm * 1000.0).round() as u32).to_le_bytes());
            r.extend_from_slice(&1000u32.to_le_bytes());
            entries.push((tags::X_RESOLUTION, 5, r.clone(), 1));
            entries.push((tags::Y_RESOLUTION, 5, r, 1));
        }
        entries.push((tags::PLANAR_CONFIGURATION, 3, short(1), 1));
        if o.mpp.is_some() {
            entries.push((tags::RESOLUTION_UNIT, 3, short(3), 1));
        }
        entries.push((tags::SOFTWARE, 2, b"exahealth\0".to_vec(), 10));
        if pred == 2 {
            entries.push((tags::PREDICTOR, 3, short(2), 1));
        }
        entries.push((tags::TILE_WIDTH, 4, long(ts), 1));
        entries.push((tags::TILE_LENGTH, 4, long(ts), 1));
        entries.push((
            tags::TILE_OFFSETS,
            off_type,
            longs(offsets, self.big)?,
            offsets.len() as u64,
        ));
        entries.push((
            tags::TILE_BYTE_COUNTS,
            off_type,
            longs(counts, self.big)?,
            counts.len() as u64,
        ));
        entries.sort_by_key(|e| e.0);

        // Out-of-line values first, then the directory that points at them.
        let inline = if self.big { 8 } else { 4 };
        let mut placed = Vec::with_capacity(entries.len());
        for (_, _, bytes, _) in &entries {
            if bytes.len() > inline {
                self.align()?;
                placed.push(Some(self.pos));
                self.write(bytes)?;
            } else {
                placed.push(None);
            }
        }
        self.align()?;
        let ifd_at = self.pos;
        if self.big {
            self.write(&(entries.len() as u64).to_le_bytes())?;
        } else {
            self.write(&(entries.len() as u16).to_le_bytes())?;
        }
        for ((tag, typ, bytes, count), at) in entries.iter().zip(placed) {
            self.write(&tag.to_le_bytes())?;
            self.write(&typ.to_le_bytes())?;
            if self.big {
                self.write(&count.to_le_bytes())?;
            } else {
                self.write(&(*count as u32).to_le_bytes())?;
            }
            let mut field = vec![0u8; inline];
            match at {
                Some(off) if self.big => field.copy_from_slice(&off.to_le_bytes()),
                Some(off) => field.copy_from_slice(&(off as u32).to_le_bytes()),
                None => field[..bytes.len()].copy_from_slice(bytes),
            }
            self.write(&field)?;
        }
        self.next_link_of_last_ifd = self.pos;
        if self.big {
            self.write(&0u64.to_le_bytes())?;
        } else {
            self.write(&0u32.to_le_bytes())?;
        }
        Ok(ifd_at)
    }
}
