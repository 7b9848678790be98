//! Hamamatsu NDPI: each pyramid page is one large JPEG with restart markers.
//!
//! A page is never decoded whole. Its restart intervals are independently
//! decodable runs of MCUs; a tile is a stack of intervals, turned into a
//! small stand-alone JPEG (the page's tables, a patched frame header and the
//! intervals' entropy data) and decoded alone. Like OpenSlide, the smallest
//! page also yields levels at 1/2, 1/4 and 1/8 of its size.

use super::tiff_props::{tiff_mpp, tiff_properties};
use crate::codec::{decode_jpeg, rgba_bytes, MAX_TILE_PIXELS};
use crate::error::{Result, SlideError};
use crate::image::RgbaImage;
use crate::parts::{AssociatedSource, Level, Parts, TileSource};
use crate::source::{read_range, ReadAt};
use crate::tiff::{tags, Ifd, TiffAssociated, TiffFile, TiffTiles};
use exahealth_base::budget;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

fn malformed(path: &Path, reason: impl Into<String>) -> SlideError {
    SlideError::Malformed {
        path: path.to_path_buf(),
        format: "NDPI",
        reason: reason.into(),
    }
}

/// What the JPEG header of a page says, and where its entropy data starts.
#[derive(Debug, Clone)]
pub(crate) struct JpegLayout {
    /// Marker segments before SOF, between SOF and SOS, as (marker, bytes).
    segments: Vec<(u8, Vec<u8>)>,
    /// The SOF segment's payload (after the length).
    sof: Vec<u8>,
    sof_marker: u8,
    /// The SOS segment's payload.
    sos: Vec<u8>,
    pub width: u32,
    pub height: u32,
    pub mcu_w: u32,
    pub mcu_h: u32,
    pub restart_interval: u32,
    /// Offset of the first entropy-coded byte from the start of the stream.
    pub scan_start: usize,
}

/// Parses a JPEG header up to its first scan. `head` may be a prefix of the
/// stream; it must contain the whole header.
pub(crate) fn parse_jpeg_header(head: &[u8]) -> std::result::Result<JpegLayout, String> {
    if head.len() < 4 || head[0] != 0xFF || head[1] != 0xD8 {
        return Err("page does not start with a JPEG SOI marker".into());
    }
    let mut pos = 2usize;
    let mut segments = Vec::new();
    let mut sof = None;
    let mut restart_interval = 0u32;
    loop {
        // Skip fill bytes before a marker.
        while head.get(pos) == Some(&0xFF) && head.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (head.get(pos), head.get(pos + 1)) else {
            return Err(format!("expected a JPEG marker at byte {pos}"));
        };
        let len_bytes = head
            .get(pos + 2..pos + 4)
            .ok_or("JPEG header is truncated")?;
        let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
        if len < 2 {
            return Err(format!("JPEG segment {marker:#x} has length {len}"));
        }
        let body = head
            .get(pos + 4..pos + 2 + len)
            .ok_or("JPEG header is truncated")?
            .to_vec();
        pos += 2 + len;
        match marker {
            0xC0 | 0xC1 => {
                if body.len() < 6 {
                    return Err("short SOF segment".into());
                }
                sof = Some((marker, body));
            }
            0xC2..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => {
                return Err(format!(
                    "JPEG frame type {marker:#x} (only baseline is tiled)"
                ));
            }
            0xDD => {
                if body.len() < 2 {
                    return Err("short DRI segment".into());
                }
                restart_interval = u32::from(u16::from_be_bytes([body[0], body[1]]));
                segments.push((marker, body));
            }
            0xDA => {
                let (sof_marker, sof) = sof.ok_or("scan before frame header")?;
                let height = u32::from(u16::from_be_bytes([sof[1], sof[2]]));
                let width = u32::from(u16::from_be_bytes([sof[3], sof[4]]));
                let ncomp = usize::from(sof[5]);
                if ncomp == 0 || sof.len() < 6 + 3 * ncomp {
                    return Err("SOF segment lists no components".into());
                }
                let (mut hmax, mut vmax) = (1u32, 1u32);
                for c in 0..ncomp {
                    let s = sof[6 + 3 * c + 1];
                    hmax = hmax.max(u32::from(s >> 4).max(1));
                    vmax = vmax.max(u32::from(s & 15).max(1));
                }
                return Ok(JpegLayout {
                    segments,
                    sof,
                    sof_marker,
                    sos: body,
                    width,
                    height,
                    mcu_w: 8 * hmax,
                    mcu_h: 8 * vmax,
                    restart_interval,
                    scan_start: pos,
                });
            }
            0xD9 => return Err("image ends before its first scan".into()),
            _ => segments.push((marker, body)),
        }
    }
}

impl JpegLayout {
    /// A complete JPEG holding `intervals` (entropy data, each without its
    /// trailing RST marker) as an image of `width` x `height` pixels.
    fn build(&self, width: u32, height: u32, intervals: &[&[u8]]) -> Vec<u8> {
        let total: usize = intervals.iter().map(|i| i.len() + 2).sum();
        let mut out = Vec::with_capacity(total + 1024);
        out.extend_from_slice(&[0xFF, 0xD8]);
        let push = |out: &mut Vec<u8>, marker: u8, body: &[u8]| {
            out.extend_from_slice(&[0xFF, marker]);
            out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
            out.extend_from_slice(body);
        };
        for (m, b) in &self.segments {
            push(&mut out, *m, b);
        }
        let mut sof = self.sof.clone();
        sof[1..3].copy_from_slice(&(height as u16).to_be_bytes());
        sof[3..5].copy_from_slice(&(width as u16).to_be_bytes());
        push(&mut out, self.sof_marker, &sof);
        push(&mut out, 0xDA, &self.sos);
        for (i, data) in intervals.iter().enumerate() {
            out.extend_from_slice(data);
            if i + 1 < intervals.len() {
                // Restart markers must count 0..7 from the start of the scan.
                out.extend_from_slice(&[0xFF, 0xD0 + (i % 8) as u8]);
            }
        }
        out.extend_from_slice(&[0xFF, 0xD9]);
        out
    }
}

/// One NDPI page read through its restart intervals.
struct NdpiPage {
    src: Arc<dyn ReadAt>,
    path: PathBuf,
    strip_offset: u64,
    strip_len: u64,
    layout: JpegLayout,
    /// Restart intervals per MCU row and MCU rows per interval.
    intervals_per_row: u32,
    rows_per_interval: u32,
    /// MCU rows stacked into one tile.
    rows_per_tile: u32,
    /// Start of each interval's entropy data, relative to the strip.
    starts_hint: Option<Vec<u64>>,
    starts: OnceLock<std::result::Result<Vec<u64>, String>>,
}

impl NdpiPage {
    fn new(src: Arc<dyn ReadAt>, path: &Path, ifd: &Ifd) -> Result<Self> {
        let off = ifd
            .u64(tags::STRIP_OFFSETS)
            .ok_or_else(|| malformed(path, "page without strip offset"))?;
        let len = ifd
            .u64(tags::STRIP_BYTE_COUNTS)
            .ok_or_else(|| malformed(path, "page without strip length"))?;
        let head_len = len.min(1 << 16);
        let head = read_range(&*src, off, head_len, path)?;
        let layout = parse_jpeg_header(&head).map_err(|r| malformed(path, r))?;
        let (w, h) = (layout.width, layout.height);
        if w == 0 || h == 0 {
            return Err(malformed(
                path,
                "JPEG page has zero size (sizes over 65535 are not supported)",
            ));
        }
        let mcus_x = w.div_ceil(layout.mcu_w);
        let ri = layout.restart_interval;
        let (intervals_per_row, rows_per_interval) = if ri == 0 {
            (1, h.div_ceil(layout.mcu_h))
        } else if mcus_x % ri == 0 {
            (mcus_x / ri, 1)
        } else if ri % mcus_x == 0 {
            (1, ri / mcus_x)
        } else {
            return Err(SlideError::Unsupported {
                path: path.to_path_buf(),
                what: format!("NDPI restart interval of {ri} MCUs in rows of {mcus_x} MCUs"),
            });
        };
        let tile_w = u64::from(w.min(ri.max(1) * layout.mcu_w));
        if ri == 0 && u64::from(w) * u64::from(h) > MAX_TILE_PIXELS {
            return Err(SlideError::Unsupported {
                path: path.to_path_buf(),
                what: format!(
                    "NDPI page of {w}x{h} without restart markers (too large to decode at once)"
                ),
            });
        }
        // Stack intervals until a tile holds about 256k pixels.
        let interval_px = tile_w * u64::from(rows_per_interval * layout.mcu_h);
        let stack = (262_144 / interval_px.max(1)).max(1) as u32;
        let rows_per_tile = if ri == 0 {
            rows_per_interval
        } else {
            rows_per_interval * stack
        };
        let hint = ifd.u64s(tags::NDPI_MCU_STARTS).map(<[u64]>::to_vec);
        let page = Self {
            src,
            path: path.to_path_buf(),
            strip_offset: off,
            strip_len: len,
            layout,
            intervals_per_row,
            rows_per_interval,
            rows_per_tile,
            starts_hint: hint,
            starts: OnceLock::new(),
        };
        // A restart interval of many MCU rows makes one tile of all of them.
        let (tw, th) = page.tile_px();
        if u64::from(tw) * u64::from(th) > MAX_TILE_PIXELS {
            return Err(SlideError::Unsupported {
                path: path.to_path_buf(),
                what: format!("NDPI tiles of {tw}x{th} pixels (too large to decode at once)"),
            });
        }
        Ok(page)
    }

    fn interval_count(&self) -> u64 {
        let mcu_rows = u64::from(self.layout.height.div_ceil(self.layout.mcu_h));
        mcu_rows.div_ceil(u64::from(self.rows_per_interval)) * u64::from(self.intervals_per_row)
    }

    /// Where each restart interval starts: from the McuStarts tag when it is
    /// consistent, else by scanning the entropy data once.
    fn starts(&self) -> std::result::Result<&[u64], String> {
        self.starts
            .get_or_init(|| {
                let n = self.interval_count();
                if self.layout.restart_interval == 0 {
                    return Ok(vec![self.layout.scan_start as u64]);
                }
                if let Some(h) = &self.starts_hint {
                    if h.len() as u64 == n
                        && h.first() == Some(&(self.layout.scan_start as u64))
                        && h.windows(2).all(|w| w[0] < w[1])
                        && h.last().is_some_and(|&l| l < self.strip_len)
                    {
                        return Ok(h.clone());
                    }
                }
                self.scan_restart_markers(n).map_err(|e| e.to_string())
            })
            .as_ref()
            .map(Vec::as_slice)
            .map_err(Clone::clone)
    }

    /// Finds the first `n` restart intervals by reading the entropy data in
    /// chunks: a page can be gigabytes, and only the index is kept.
    fn scan_restart_markers(&self, n: u64) -> Result<Vec<u64>> {
        const CHUNK: u64 = 4 << 20;
        let capacity = budget::bytes_for("the restart interval index of an NDPI page", &[n], 8)
            .map_err(|e| SlideError::budget(&self.path, e))?
            / 8;
        let mut starts = Vec::with_capacity(capacity);
        starts.push(self.layout.scan_start as u64);
        let mut pos = self.layout.scan_start as u64;
        let mut after_ff = false;
        while pos < self.strip_len && (starts.len() as u64) < n {
            let len = CHUNK.min(self.strip_len - pos);
            let chunk = read_range(&*self.src, self.strip_offset + pos, len, &self.path)?;
            for (i, &b) in chunk.iter().enumerate() {
                if after_ff && (0xD0..=0xD7).contains(&b) {
                    starts.push(pos + i as u64 + 1);
                    after_ff = false;
                } else {
                    after_ff = b == 0xFF;
                }
            }
            pos += len;
        }
        if (starts.len() as u64) < n {
            return Err(malformed(
                &self.path,
                format!("found {} restart intervals, expected {n}", starts.len()),
            ));
        }
        starts.truncate(capacity);
        Ok(starts)
    }

    fn tile_px(&self) -> (u32, u32) {
        let w = if self.layout.restart_interval == 0 {
            self.layout.width
        } else {
            (self.layout.restart_interval / self.rows_per_interval * self.layout.mcu_w)
                .min(self.layout.width)
        };
        (w, self.rows_per_tile * self.layout.mcu_h)
    }
}

impl TileSource for NdpiPage {
    fn tile_size(&self) -> (u32, u32) {
        self.tile_px()
    }

    fn dimensions(&self) -> (u64, u64) {
        (u64::from(self.layout.width), u64::from(self.layout.height))
    }

    fn read_tile(&self, col: u64, row: u64) -> Result<Option<RgbaImage>> {
        let what = || format!("NDPI tile ({col}, {row})");
        let decode_err = |reason: String| SlideError::Decode {
            path: self.path.clone(),
            what: what(),
            reason,
        };
        let page = (self.layout.width, self.layout.height);
        if self.layout.restart_interval == 0 {
            let whole = read_range(&*self.src, self.strip_offset, self.strip_len, &self.path)?;
            return decode_jpeg(&whole, None, false, page)
                .map(Some)
                .map_err(|e| e.into_slide(&self.path, what()));
        }
        let starts = self.starts().map_err(decode_err)?;
        let (tw, _) = self.tile_px();
        let first_mcu_row = row * u64::from(self.rows_per_tile);
        let mcu_rows = u64::from(self.layout.height.div_ceil(self.layout.mcu_h));
        let last_mcu_row = (first_mcu_row + u64::from(self.rows_per_tile)).min(mcu_rows);
        if first_mcu_row >= last_mcu_row || col >= u64::from(self.intervals_per_row) {
            return Ok(None);
        }
        let rpi = u64::from(self.rows_per_interval);
        let ipr = u64::from(self.intervals_per_row);
        let band: Vec<usize> = (first_mcu_row / rpi..last_mcu_row.div_ceil(rpi))
            .map(|r| (r * ipr + col) as usize)
            .collect();
        let (Some(&a), Some(&b)) = (band.first(), band.last()) else {
            return Ok(None);
        };
        // One read covers the band's intervals (and, for tiles narrower than
        // a row, the other columns' intervals between them).
        let start = *starts
            .get(a)
            .ok_or_else(|| decode_err("interval out of range".into()))?;
        let end = starts.get(b + 1).copied().unwrap_or(self.strip_len);
        if end <= start || end > self.strip_len {
            return Err(decode_err(format!(
                "restart interval bounds {start}..{end} are invalid"
            )));
        }
        let span = read_range(
            &*self.src,
            self.strip_offset + start,
            end - start,
            &self.path,
        )?;
        let mut pieces = Vec::with_capacity(band.len());
        for &i in &band {
            let s = (starts[i] - start) as usize;
            let e = starts
                .get(i + 1)
                .map_or(span.len(), |&n| (n - start) as usize)
                .min(span.len());
            let mut piece = &span[s.min(e)..e];
            // Drop the marker that ends this interval (RSTn or EOI).
            if piece.len() >= 2
                && piece[piece.len() - 2] == 0xFF
                && matches!(piece[piece.len() - 1], 0xD0..=0xD7 | 0xD9)
            {
                piece = &piece[..piece.len() - 2];
            }
            pieces.push(piece);
        }
        let x0 = col as u32 * tw;
        let width = tw.min(self.layout.width.saturating_sub(x0)).max(1);
        let height = ((last_mcu_row - first_mcu_row) as u32 * self.layout.mcu_h)
            .min(self.layout.height - first_mcu_row as u32 * self.layout.mcu_h);
        let jpeg = self.layout.build(width, height, &pieces);
        decode_jpeg(&jpeg, None, false, (width, height))
            .map(Some)
            .map_err(|e| e.into_slide(&self.path, what()))
    }
}

/// A level made by halving another source `times` times (OpenSlide's extra
/// NDPI levels, which it decodes with libjpeg's DCT scaling).
struct Reduced {
    inner: Arc<dyn TileSource>,
    factor: u32,
    path: PathBuf,
}

impl TileSource for Reduced {
    fn tile_size(&self) -> (u32, u32) {
        let (w, h) = self.inner.tile_size();
        (w.max(1), h.max(1))
    }

    fn dimensions(&self) -> (u64, u64) {
        let (w, h) = self.inner.dimensions();
        let f = u64::from(self.factor);
        (w.div_ceil(f), h.div_ceil(f))
    }

    fn read_tile(&self, col: u64, row: u64) -> Result<Option<RgbaImage>> {
        let (tw, th) = self.tile_size();
        let f = u64::from(self.factor);
        let (iw, ih) = self.inner.dimensions();
        let (itw, ith) = self.inner.tile_size();
        let x0 = col * u64::from(tw) * f;
        let y0 = row * u64::from(th) * f;
        let x1 = ((col + 1) * u64::from(tw) * f).min(iw);
        let y1 = ((row + 1) * u64::from(th) * f).min(ih);
        if x0 >= x1 || y0 >= y1 {
            return Ok(None);
        }
        // factor^2 tiles of the page below make one tile here.
        rgba_bytes("the source of a reduced NDPI tile", x1 - x0, y1 - y0)
            .map_err(|e| SlideError::budget(&self.path, e))?;
        let mut region = RgbaImage::transparent((x1 - x0) as u32, (y1 - y0) as u32);
        for r in y0 / u64::from(ith)..=(y1 - 1) / u64::from(ith) {
            for c in x0 / u64::from(itw)..=(x1 - 1) / u64::from(itw) {
                if let Some(t) = self.inner.read_tile(c, r)? {
                    region.blit(
                        &t,
                        (c * u64::from(itw)) as i64 - x0 as i64,
                        (r * u64::from(ith)) as i64 - y0 as i64,
                    );
                }
            }
        }
        let mut img = region;
        let mut f = self.factor;
        while f > 1 {
            img = img.half();
            f /= 2;
        }
        Ok(Some(img))
    }
}

/// The float value of an NDPI tag stored as FLOAT or as an integer.
fn ndpi_f64(ifd: &Ifd, tag: u16) -> Option<f64> {
    ifd.f64(tag)
}

pub(crate) fn open(src: Arc<dyn ReadAt>, path: &Path, tiff: &TiffFile) -> Result<Parts> {
    let first = &tiff.ifds[0];
    let mut properties = tiff_properties(first);
    let mut pages: Vec<&Ifd> = Vec::new();
    let mut associated: BTreeMap<String, Box<dyn AssociatedSource>> = BTreeMap::new();
    let mut lens = None;
    for ifd in &tiff.ifds {
        let source_lens = ndpi_f64(ifd, tags::NDPI_SOURCE_LENS).unwrap_or(0.0);
        let focal = ndpi_f64(ifd, tags::NDPI_FOCAL_PLANE).unwrap_or(0.0);
        if source_lens > 0.0 {
            if focal == 0.0 {
                lens.get_or_insert(source_lens);
                pages.push(ifd);
            }
        } else if source_lens == -1.0 {
            associated.insert(
                "macro".into(),
                Box::new(TiffAssociated {
                    src: src.clone(),
                    path: path.to_path_buf(),
                    ifd: ifd.clone(),
                }),
            );
        }
    }
    if pages.is_empty() {
        return Err(malformed(path, "no pyramid pages (SourceLens > 0)"));
    }
    pages.sort_by_key(|d| std::cmp::Reverse(d.width()));
    let mut sources: Vec<Arc<dyn TileSource>> = Vec::new();
    for ifd in &pages {
        let compression = ifd.u64(tags::COMPRESSION).unwrap_or(1);
        let s: Arc<dyn TileSource> =
            if compression == u64::from(crate::tiff::tags::compression::JPEG) && !ifd.is_tiled() {
                Arc::new(NdpiPage::new(src.clone(), path, ifd)?)
            } else {
                Arc::new(TiffTiles::new(src.clone(), path, ifd)?)
            };
        sources.push(s);
    }
    // OpenSlide's extra levels: each page at 1/2, 1/4, 1/8, where no page
    // already has that width.
    let mut all: Vec<(u64, Arc<dyn TileSource>)> = sources
        .iter()
        .map(|s| (s.dimensions().0, s.clone()))
        .collect();
    // Prefer reducing the smallest page: it is the cheapest to decode.
    for s in sources.iter().rev() {
        for factor in [2u32, 4, 8] {
            let r = Reduced {
                inner: s.clone(),
                factor,
                path: path.to_path_buf(),
            };
            let w = r.dimensions().0;
            if !all.iter().any(|(aw, _)| *aw == w) {
                all.push((w, Arc::new(r)));
            }
        }
    }
    all.sort_by_key(|(w, _)| std::cmp::Reverse(*w));
    let levels = all
        .into_iter()
        .map(|(_, s)| Level::new(Box::new(ArcSource(s))))
        .collect();
    if let Some(l) = lens {
        properties.insert("hamamatsu.SourceLens".into(), crate::parts::format_float(l));
    }
    let mpp = tiff_mpp(pages[0]);
    Ok(Parts {
        vendor: "hamamatsu",
        levels,
        properties,
        associated,
        mpp,
        objective_power: lens,
        channels: Vec::new(),
    })
}

struct ArcSource(Arc<dyn TileSource>);

impl TileSource for ArcSource {
    fn tile_size(&self) -> (u32, u32) {
        self.0.tile_size()
    }
    fn dimensions(&self) -> (u64, u64) {
        self.0.dimensions()
    }
    fn read_tile(&self, col: u64, row: u64) -> Result<Option<RgbaImage>> {
        self.0.read_tile(col, row)
    }
}
