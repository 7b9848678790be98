//! DICOM WSI (VL Whole Slide Microscopy Image Storage): a pyramid spread
//! over one file per level, found from a folder or any file of the series.

use super::dicom_parse::{parse_header, tag, Header, ParseError, TS_EXPLICIT_LE, TS_IMPLICIT_LE};
use crate::codec::{decode_j2k, decode_jpeg, rgba_bytes, CodecResult, MAX_TILE_PIXELS};
use crate::error::{Result, SlideError};
use crate::image::RgbaImage;
use crate::parts::{AssociatedSource, Level, Parts, TileSource};
use crate::source::{read_range, FileSource, MemSource, ReadAt};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const VL_WSI_SOP: &str = "1.2.840.10008.5.1.4.1.1.77.1.6";
/// Largest header (everything before Pixel Data) accepted.
const MAX_HEADER_BYTES: u64 = 256 << 20;
/// Largest tile grid accepted for a level (a 100k x 100k level of 16 px tiles).
const MAX_GRID_CELLS: u64 = 1 << 26;

fn malformed(path: &Path, reason: impl Into<String>) -> SlideError {
    SlideError::Malformed {
        path: path.to_path_buf(),
        format: "DICOM",
        reason: reason.into(),
    }
}

pub(crate) fn looks_like_dicom(path: &Path) -> bool {
    let mut head = [0u8; 132];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head[128..132] == b"DICM"
}

/// Where each frame's bytes lie in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameIndex {
    /// (offset, length) of each frame, in frame order.
    pub frames: Vec<(u64, u64)>,
    /// Whether frames are compressed (encapsulated) rather than native.
    pub encapsulated: bool,
}

/// Parses a whole DICOM file held in memory into its frame index (the fuzz
/// target for the header walk and the item table).
pub fn parse_frame_index(data: &[u8]) -> Result<FrameIndex> {
    let path = PathBuf::from("<memory>");
    let src = MemSource(data);
    let header = read_header(&src, &path)?;
    frame_index(&src, &path, &header)
}

/// Reads the header, asking for more of the file until the walk reaches
/// Pixel Data (headers are small, levels can be gigabytes).
fn read_header(src: &dyn ReadAt, path: &Path) -> Result<Header> {
    let mut want = src.len().min(1 << 20);
    loop {
        let buf = read_range(src, 0, want, path)?;
        match parse_header(&buf) {
            Ok(h) => return Ok(h),
            Err(ParseError::Truncated) if want < src.len() && want < MAX_HEADER_BYTES => {
                want = (want * 4).min(src.len()).min(MAX_HEADER_BYTES);
            }
            Err(ParseError::Truncated) if want >= src.len() => {
                return Err(malformed(path, "the file ends before its pixel data"));
            }
            Err(ParseError::Truncated) => {
                return Err(SlideError::Unsupported {
                    path: path.to_path_buf(),
                    what: format!("DICOM header larger than {MAX_HEADER_BYTES} bytes"),
                })
            }
            Err(ParseError::Unsupported(what)) => {
                return Err(SlideError::Unsupported {
                    path: path.to_path_buf(),
                    what,
                })
            }
            Err(ParseError::Malformed(m)) => return Err(malformed(path, m)),
        }
    }
}

fn number_of_frames(h: &Header) -> u64 {
    h.numbers(tag(0x0028, 0x0008))
        .first()
        .map_or(1, |&n| n.max(0.0) as u64)
}

fn frame_index(src: &dyn ReadAt, path: &Path, h: &Header) -> Result<FrameIndex> {
    let Some((start, len)) = h.pixel_data else {
        return Err(malformed(path, "no pixel data"));
    };
    let frames = number_of_frames(h);
    if frames == 0 || frames > super::dicom_parse::MAX_FRAMES as u64 {
        return Err(malformed(path, format!("{frames} frames")));
    }
    match len {
        Some(len) => {
            let rows = u64::from(h.u16(tag(0x0028, 0x0010)).unwrap_or(0));
            let cols = u64::from(h.u16(tag(0x0028, 0x0011)).unwrap_or(0));
            let spp = u64::from(h.u16(tag(0x0028, 0x0002)).unwrap_or(1));
            let bytes = u64::from(h.u16(tag(0x0028, 0x0100)).unwrap_or(8)).div_ceil(8);
            let frame = rows * cols * spp * bytes;
            if frame == 0
                || frame.checked_mul(frames).is_none_or(|t| t > len)
                || start + len > src.len()
            {
                return Err(malformed(
                    path,
                    format!("native pixel data of {len} bytes cannot hold {frames} frames of {frame} bytes"),
                ));
            }
            Ok(FrameIndex {
                frames: (0..frames).map(|i| (start + i * frame, frame)).collect(),
                encapsulated: false,
            })
        }
        None => {
            // Items: the basic offset table, then fragments, then a delimiter.
            let mut at = start;
            let mut fragments = Vec::new();
            let mut bot = Vec::new();
            let mut first = true;
            loop {
                let mut item = [0u8; 8];
                src.read_exact_at(at, &mut item)
                    .map_err(|_| malformed(path, "pixel data ends without a sequence delimiter"))?;
                let t = (u32::from(u16::from_le_bytes([item[0], item[1]])) << 16)
                    | u32::from(u16::from_le_bytes([item[2], item[3]]));
                let n = u64::from(u32::from_le_bytes([item[4], item[5], item[6], item[7]]));
                at += 8;
                if t == 0xFFFE_E0DD {
                    break;
                }
                if t != 0xFFFE_E000 {
                    return Err(malformed(
                        path,
                        format!("unexpected tag {t:08X} among pixel data items"),
                    ));
                }
                if at.checked_add(n).is_none_or(|e| e > src.len()) {
                    return Err(malformed(
                        path,
                        format!("pixel data item of {n} bytes runs past the end of the file"),
                    ));
                }
                if first {
                    if n > 0 && n <= frames * 4 {
                        let b = read_range(src, at, n, path)?;
                        bot = b
                            .chunks_exact(4)
                            .map(|c| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                            .collect();
                    }
                    first = false;
                } else {
                    if fragments.len() as u64 > frames * 64 {
                        return Err(malformed(path, "far more fragments than frames"));
                    }
                    fragments.push((at, n));
                }
                at += n;
            }
            let frames = frames as usize;
            if fragments.len() == frames {
                return Ok(FrameIndex {
                    frames: fragments,
                    encapsulated: true,
                });
            }
            // Several fragments per frame: group them by the offset table,
            // whose entries are offsets from the first fragment's item tag.
            if bot.len() == frames && fragments.len() > frames {
                if group_fragments(&fragments, &bot).is_none() {
                    return Err(malformed(path, "offset table points at no fragment"));
                }
                return Err(SlideError::Unsupported {
                    path: path.to_path_buf(),
                    what: format!(
                        "frames split over several fragments ({} fragments, {frames} frames)",
                        fragments.len()
                    ),
                });
            }
            Err(malformed(
                path,
                format!("{} fragments for {frames} frames", fragments.len()),
            ))
        }
    }
}

/// The (offset, length) span of each frame's fragments, where frame `i`
/// holds the fragments whose item tags lie at `bot[i]` up to `bot[i + 1]`
/// from the first fragment's item tag; `None` if a frame gets none.
///
/// Fragments are listed in file order, so their offsets increase and each
/// frame's first and last fragments are found by binary search: a table of
/// a hundred thousand entries over a million fragments is milliseconds, not
/// a scan of every fragment per entry.
fn group_fragments(fragments: &[(u64, u64)], bot: &[u64]) -> Option<Vec<(u64, u64)>> {
    let base = fragments.first()?.0.checked_sub(8)?;
    // Offset of a fragment's item tag from the first one's.
    let rel = |&(at, _): &(u64, u64)| at - 8 - base;
    let mut out = Vec::with_capacity(bot.len());
    for (i, &off) in bot.iter().enumerate() {
        let next = bot.get(i + 1).copied().unwrap_or(u64::MAX);
        let lo = fragments.partition_point(|f| rel(f) < off);
        let hi = fragments.partition_point(|f| rel(f) < next);
        if lo >= hi {
            return None;
        }
        let (f, l) = (fragments[lo], fragments[hi - 1]);
        // Stored contiguously; item headers between fragments are removed
        // when the frame is read.
        out.push((f.0, l.0 + l.1 - f.0));
    }
    Some(out)
}

/// What an instance is to the slide: `VOLUME`, `LABEL`, `OVERVIEW` or
/// `THUMBNAIL`, from the third value of Image Type (0008,0008). Files in
/// the wild omit Image Type or cut it short; one that still declares a
/// total pixel matrix (0048,0006/0007) is a pyramid level, read with a
/// warning, as OpenSlide and pydicom-based readers do.
fn kind_of(inst: &Instance) -> Option<&str> {
    if let Some(kind) = inst.image_type.get(2).filter(|t| !t.is_empty()) {
        return Some(kind.as_str());
    }
    let has_matrix = inst.header.u32(tag(0x0048, 0x0006)).is_some()
        && inst.header.u32(tag(0x0048, 0x0007)).is_some();
    has_matrix.then_some("VOLUME")
}

/// [`kind_of`], saying so when the kind was guessed.
fn kind_of_logged(inst: &Instance) -> Option<&str> {
    let kind = kind_of(inst);
    if kind.is_some() && inst.image_type.get(2).is_none_or(|t| t.is_empty()) {
        tracing::warn!(
            file = %inst.path.display(),
            "no VOLUME/LABEL value in Image Type (0008,0008): read as a pyramid level, \
             since it declares a total pixel matrix"
        );
    }
    kind
}

/// One DICOM file of the series, parsed.
struct Instance {
    path: PathBuf,
    src: Arc<dyn ReadAt>,
    header: Header,
    image_type: Vec<String>,
    total: (u64, u64),
    tile: (u32, u32),
}

fn open_instance(path: &Path) -> Result<Instance> {
    let src: Arc<dyn ReadAt> = Arc::new(FileSource::open(path)?);
    let header = read_header(&*src, path)?;
    let image_type: Vec<String> = header
        .string(tag(0x0008, 0x0008))
        .unwrap_or_default()
        .split('\\')
        .map(|s| s.trim().to_ascii_uppercase())
        .collect();
    let rows = header.u16(tag(0x0028, 0x0010)).unwrap_or(0);
    let cols = header.u16(tag(0x0028, 0x0011)).unwrap_or(0);
    let total_cols = header
        .u32(tag(0x0048, 0x0006))
        .map_or(u64::from(cols), u64::from);
    let total_rows = header
        .u32(tag(0x0048, 0x0007))
        .map_or(u64::from(rows), u64::from);
    Ok(Instance {
        path: path.to_path_buf(),
        src,
        header,
        image_type,
        total: (total_cols, total_rows),
        tile: (u32::from(cols), u32::from(rows)),
    })
}

/// How to turn one frame's bytes into pixels.
#[derive(Clone)]
struct FrameCodec {
    transfer_syntax: String,
    photometric: String,
    samples: u16,
    bits: u16,
    planar: u16,
}

impl FrameCodec {
    fn of(path: &Path, h: &Header) -> Result<Self> {
        let c = Self {
            transfer_syntax: h.transfer_syntax.clone(),
            photometric: h.string(tag(0x0028, 0x0004)).unwrap_or_default(),
            samples: h.u16(tag(0x0028, 0x0002)).unwrap_or(1),
            bits: h.u16(tag(0x0028, 0x0100)).unwrap_or(8),
            planar: h.u16(tag(0x0028, 0x0006)).unwrap_or(0),
        };
        let ts = c.transfer_syntax.as_str();
        let supported = matches!(
            ts,
            TS_IMPLICIT_LE
                | TS_EXPLICIT_LE
                | "1.2.840.10008.1.2.4.50"
                | "1.2.840.10008.1.2.4.51"
                | "1.2.840.10008.1.2.4.80"
                | "1.2.840.10008.1.2.4.81"
                | "1.2.840.10008.1.2.4.90"
                | "1.2.840.10008.1.2.4.91"
        );
        if !supported {
            return Err(SlideError::Unsupported {
                path: path.to_path_buf(),
                what: format!("DICOM transfer syntax {ts}"),
            });
        }
        if !matches!(c.samples, 1 | 3) || c.bits != 8 {
            return Err(SlideError::Unsupported {
                path: path.to_path_buf(),
                what: format!("{} samples of {} bits per pixel", c.samples, c.bits),
            });
        }
        Ok(c)
    }

    fn decode(&self, data: &[u8], w: u32, h: u32) -> CodecResult<RgbaImage> {
        if u64::from(w) * u64::from(h) > MAX_TILE_PIXELS {
            return Err(format!("frame of {w}x{h} pixels is too large").into());
        }
        rgba_bytes("a frame", w.into(), h.into())?;
        let ybr = self.photometric.starts_with("YBR");
        match self.transfer_syntax.as_str() {
            "1.2.840.10008.1.2.4.50" | "1.2.840.10008.1.2.4.51" => {
                // The JPEG's own markers decide, as in libjpeg: converters
                // often label YCbCr-coded frames "RGB" (OpenSlide then shows
                // them unconverted; we convert).
                decode_jpeg(data, None, crate::codec::jpeg_marks_rgb(data), (w, h))
            }
            "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => decode_j2k(data, false, (w, h)),
            "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => self.decode_jpegls(data, w, h),
            _ => samples_to_rgba(data, w, h, usize::from(self.samples), self.planar, ybr),
        }
    }

    /// A JPEG-LS frame must be exactly what the header declares: its size
    /// and component count are checked before decoding (so the decoder
    /// never sizes buffers from a frame that disagrees) and again after.
    fn decode_jpegls(&self, data: &[u8], w: u32, h: u32) -> CodecResult<RgbaImage> {
        let spp = self.samples;
        let mismatch = |fw: u32, fh: u32, comps: u16| -> CodecResult<RgbaImage> {
            Err(format!(
                "JPEG-LS frame of {fw}x{fh} pixels with {comps} components, \
                 but the header declares {w}x{h} with {spp}"
            )
            .into())
        };
        if let Some(f) = jpegls_frame_header(data) {
            // A height of 0 is given later by a DNL marker.
            if f.width != w || (f.height != h && f.height != 0) || u16::from(f.components) != spp {
                return mismatch(f.width, f.height, f.components.into());
            }
        }
        let img = exahealth_codec::decode_jpegls(data).map_err(|e| format!("JPEG-LS: {e}"))?;
        let exahealth_codec::JlsSamples::U8(s) = img.samples else {
            return Err("JPEG-LS frame with more than 8 bits".into());
        };
        if img.width != w || img.height != h || u16::from(img.components) != spp {
            return mismatch(img.width, img.height, img.components.into());
        }
        let ybr = self.photometric.starts_with("YBR");
        samples_to_rgba(&s, w, h, usize::from(spp), 0, ybr)
    }
}

/// What a JPEG-LS frame header (SOF55) declares.
struct JlsFrameHeader {
    width: u32,
    height: u32,
    components: u8,
}

/// Reads the SOF55 segment of a JPEG-LS stream without decoding it; `None`
/// when it cannot be found before the first scan (the decoder then judges).
fn jpegls_frame_header(data: &[u8]) -> Option<JlsFrameHeader> {
    if data.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2usize;
    loop {
        while data.get(pos) == Some(&0xFF) && data.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if data.get(pos) != Some(&0xFF) {
            return None;
        }
        let marker = *data.get(pos + 1)?;
        let len = usize::from(u16::from_be_bytes([
            *data.get(pos + 2)?,
            *data.get(pos + 3)?,
        ]));
        let body = data.get(pos.checked_add(4)?..pos.checked_add(2 + len)?)?;
        match marker {
            0xF7 => {
                let be = |i: usize| Some(u16::from_be_bytes([*body.get(i)?, *body.get(i + 1)?]));
                return Some(JlsFrameHeader {
                    height: be(1)?.into(),
                    width: be(3)?.into(),
                    components: *body.get(5)?,
                });
            }
            0xDA | 0xD9 => return None,
            _ => pos += 2 + len,
        }
    }
}

/// Native (or decoded) samples to RGBA; `spp` is 1 or 3, `s` holds at least
/// `w * h * spp` bytes or the frame is refused.
fn samples_to_rgba(
    s: &[u8],
    w: u32,
    h: u32,
    spp: usize,
    planar: u16,
    ybr: bool,
) -> CodecResult<RgbaImage> {
    if !matches!(spp, 1 | 3) {
        return Err(format!("{spp} samples per pixel").into());
    }
    let n = w as usize * h as usize;
    if s.len() < n * spp {
        return Err(format!("frame has {} bytes, expected {}", s.len(), n * spp).into());
    }
    let mut out = Vec::with_capacity(n * 4);
    for i in 0..n {
        let px = match (spp, planar) {
            (1, _) => [s[i]; 3],
            (_, 1) => [s[i], s[n + i], s[2 * n + i]],
            _ => [s[3 * i], s[3 * i + 1], s[3 * i + 2]],
        };
        let px = if ybr && spp == 3 {
            ycbcr_to_rgb(px)
        } else {
            px
        };
        out.extend_from_slice(&[px[0], px[1], px[2], 255]);
    }
    Ok(RgbaImage {
        width: w,
        height: h,
        data: out,
    })
}

fn ycbcr_to_rgb([y, cb, cr]: [u8; 3]) -> [u8; 3] {
    let (y, cb, cr) = (f32::from(y), f32::from(cb) - 128.0, f32::from(cr) - 128.0);
    [
        (y + 1.402 * cr).round().clamp(0.0, 255.0) as u8,
        (y - 0.344_136 * cb - 0.714_136 * cr)
            .round()
            .clamp(0.0, 255.0) as u8,
        (y + 1.772 * cb).round().clamp(0.0, 255.0) as u8,
    ]
}

/// Which frame each cell of a level's tile grid shows. Held per frame, not
/// per cell: the grid's size comes from header fields, the frames from the
/// file's bytes.
enum Grid {
    /// TILED_FULL: frames fill the grid row by row (first focal plane and
    /// optical path first), so cell `i` is frame `i`.
    Full,
    /// (cell, frame) pairs sorted by cell, the first frame for each cell.
    Positioned(Vec<(u64, u32)>),
}

/// One level: a file's frames placed on the tile grid.
struct DicomLevel {
    inst: Instance,
    index: FrameIndex,
    codec: FrameCodec,
    cols: u64,
    cells: u64,
    grid: Grid,
}

impl DicomLevel {
    fn new(inst: Instance) -> Result<Self> {
        let path = inst.path.clone();
        let index = frame_index(&*inst.src, &path, &inst.header)?;
        let codec = FrameCodec::of(&path, &inst.header)?;
        let (tw, th) = inst.tile;
        if tw == 0 || th == 0 {
            return Err(malformed(&path, "frame size is zero"));
        }
        let cols = inst.total.0.div_ceil(u64::from(tw));
        let rows = inst.total.1.div_ceil(u64::from(th));
        let cells = cols
            .checked_mul(rows)
            .filter(|&c| c > 0 && c <= MAX_GRID_CELLS)
            .ok_or_else(|| {
                malformed(
                    &path,
                    format!("a grid of {cols}x{rows} tiles is not plausible"),
                )
            })?;
        let sparse = inst.header.string(tag(0x0020, 0x9311)).as_deref() == Some("TILED_SPARSE");
        let positions = &inst.header.positions;
        let grid = if sparse
            || (positions.len() == index.frames.len() && positions.iter().any(|&p| p != (0, 0)))
        {
            let mut placed: Vec<(u64, u32)> = positions
                .iter()
                .take(index.frames.len())
                .enumerate()
                .filter(|&(_, &(x, y))| x >= 1 && y >= 1)
                .filter_map(|(f, &(x, y))| {
                    let c = (x - 1) as u64 / u64::from(tw);
                    let r = (y - 1) as u64 / u64::from(th);
                    (c < cols && r < rows).then_some((r * cols + c, f as u32))
                })
                .collect();
            // Stable: of several frames at one cell, the first is kept.
            placed.sort_by_key(|&(cell, _)| cell);
            placed.dedup_by_key(|&mut (cell, _)| cell);
            Grid::Positioned(placed)
        } else {
            Grid::Full
        };
        Ok(Self {
            inst,
            index,
            codec,
            cols,
            cells,
            grid,
        })
    }

    /// The frame shown at tile (`col`, `row`), if any.
    fn frame_at(&self, col: u64, row: u64) -> Option<usize> {
        let cell = row.checked_mul(self.cols)?.checked_add(col)?;
        if col >= self.cols || cell >= self.cells {
            return None;
        }
        let frame = match &self.grid {
            Grid::Full => usize::try_from(cell).ok()?,
            Grid::Positioned(placed) => {
                let i = placed.binary_search_by_key(&cell, |&(c, _)| c).ok()?;
                placed[i].1 as usize
            }
        };
        (frame < self.index.frames.len()).then_some(frame)
    }
}

impl TileSource for DicomLevel {
    fn tile_size(&self) -> (u32, u32) {
        self.inst.tile
    }

    fn dimensions(&self) -> (u64, u64) {
        self.inst.total
    }

    fn read_tile(&self, col: u64, row: u64) -> Result<Option<RgbaImage>> {
        let Some(f) = self.frame_at(col, row) else {
            return Ok(None);
        };
        let (off, len) = self.index.frames[f];
        let data = read_range(&*self.inst.src, off, len, &self.inst.path)?;
        let (tw, th) = self.inst.tile;
        let img = self
            .codec
            .decode(&data, tw, th)
            .map_err(|e| e.into_slide(&self.inst.path, format!("frame {f}")))?;
        if img.width == tw && img.height == th {
            return Ok(Some(img));
        }
        let mut fit = RgbaImage::transparent(tw, th);
        fit.blit(&img, 0, 0);
        Ok(Some(fit))
    }
}

/// A label or overview image: a single-frame (or tiled) instance.
struct DicomAssociated(DicomLevel);

impl AssociatedSource for DicomAssociated {
    fn dimensions(&self) -> (u32, u32) {
        let (w, h) = self.0.inst.total;
        (w as u32, h as u32)
    }
    fn read(&self) -> Result<RgbaImage> {
        let (w, h) = self.0.inst.total;
        if w.checked_mul(h).is_none_or(|n| n > MAX_TILE_PIXELS) {
            return Err(SlideError::Unsupported {
                path: self.0.inst.path.clone(),
                what: format!("associated image of {w}x{h} pixels (too large)"),
            });
        }
        rgba_bytes("an associated image", w, h)
            .map_err(|e| SlideError::budget(&self.0.inst.path, e))?;
        let (tw, th) = self.0.inst.tile;
        let mut out = RgbaImage::transparent(w as u32, h as u32);
        for r in 0..h.div_ceil(u64::from(th)) {
            for c in 0..self.0.cols {
                if let Some(t) = self.0.read_tile(c, r)? {
                    out.blit(&t, (c * u64::from(tw)) as i64, (r * u64::from(th)) as i64);
                }
            }
        }
        Ok(out)
    }
}

/// Every file of the series `path` belongs to (or, for a folder, the series
/// with the largest image).
fn series_files(path: &Path) -> Result<Vec<Instance>> {
    let (dir, wanted_series) = if path.is_dir() {
        (path.to_path_buf(), None)
    } else {
        let inst = open_instance(path)?;
        let series = inst.header.string(tag(0x0020, 0x000E));
        (
            // A bare file name's parent is "", which no folder is called.
            path.parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
            Some(series),
        )
    };
    let entries = std::fs::read_dir(&dir).map_err(|source| SlideError::Io {
        path: dir.clone(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && looks_like_dicom(p))
        .collect();
    files.sort();
    let mut instances = Vec::new();
    for f in files {
        match open_instance(&f) {
            Ok(i) if i.header.string(tag(0x0008, 0x0016)).as_deref() == Some(VL_WSI_SOP) => {
                instances.push(i)
            }
            Ok(_) => {}
            Err(e) => tracing::debug!("skipping {}: {e}", f.display()),
        }
    }
    let series = match wanted_series {
        Some(s) => s,
        None => instances
            .iter()
            .filter(|i| kind_of(i) == Some("VOLUME"))
            .max_by_key(|i| i.total.0 * i.total.1)
            .map(|i| i.header.string(tag(0x0020, 0x000E)))
            .ok_or_else(|| SlideError::UnknownFormat {
                path: path.to_path_buf(),
                reason:
                    "no DICOM whole-slide image (VL Whole Slide Microscopy, VOLUME) in this folder"
                        .into(),
            })?,
    };
    instances.retain(|i| i.header.string(tag(0x0020, 0x000E)) == series);
    Ok(instances)
}

pub(crate) fn open(path: &Path) -> Result<Parts> {
    let instances = series_files(path)?;
    let mut volumes = Vec::new();
    let mut associated: BTreeMap<String, Box<dyn AssociatedSource>> = BTreeMap::new();
    let mut first_header = None;
    for inst in instances {
        let kind = kind_of_logged(&inst).unwrap_or_default().to_string();
        let name = match kind.as_str() {
            "VOLUME" => {
                first_header.get_or_insert_with(|| inst.header.clone());
                volumes.push(inst);
                continue;
            }
            "LABEL" => "label",
            "OVERVIEW" => "macro",
            "THUMBNAIL" => "thumbnail",
            _ => continue,
        };
        if let Ok(l) = DicomLevel::new(inst) {
            associated
                .entry(name.to_string())
                .or_insert_with(|| Box::new(DicomAssociated(l)));
        }
    }
    if volumes.is_empty() {
        return Err(SlideError::UnknownFormat {
            path: path.to_path_buf(),
            reason: "DICOM series without a VOLUME image (not a whole-slide image)".into(),
        });
    }
    volumes.sort_by_key(|i| std::cmp::Reverse(i.total.0));
    // Several optical paths or focal planes share a size: keep the first.
    volumes.dedup_by_key(|i| i.total);
    let mut levels = Vec::new();
    for v in volumes {
        levels.push(Level::new(Box::new(DicomLevel::new(v)?)));
    }
    let h = first_header.unwrap_or_default();
    let mut properties = BTreeMap::new();
    for (t, name) in [
        (tag(0x0008, 0x0070), "Manufacturer"),
        (tag(0x0008, 0x1090), "ManufacturerModelName"),
        (tag(0x0018, 0x1000), "DeviceSerialNumber"),
        (tag(0x0018, 0x1020), "SoftwareVersions"),
        (tag(0x0020, 0x000D), "StudyInstanceUID"),
        (tag(0x0020, 0x000E), "SeriesInstanceUID"),
        (tag(0x0040, 0x0512), "ContainerIdentifier"),
        (tag(0x0008, 0x0008), "ImageType"),
    ] {
        if let Some(v) = h.string(t).filter(|v| !v.is_empty()) {
            properties.insert(format!("dicom.{name}"), v);
        }
    }
    // Pixel Spacing is row spacing then column spacing, in millimetres.
    let spacing = h.numbers(tag(0x0028, 0x0030));
    let mpp = match spacing.as_slice() {
        [row, col, ..] if *row > 0.0 && *col > 0.0 => Some((col * 1000.0, row * 1000.0)),
        _ => None,
    };
    let objective_power = h
        .numbers(tag(0x0048, 0x0112))
        .first()
        .copied()
        .filter(|p| *p > 0.0);
    Ok(Parts {
        vendor: "dicom",
        levels,
        properties,
        associated,
        mpp,
        objective_power,
        channels: Vec::new(),
    })
}
