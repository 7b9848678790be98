//! Tile codecs: compressed bytes in, RGBA pixels out.
//!
//! One place knows every compression a slide tile can use, so a new codec
//! touches this file and nothing else.

use crate::error::SlideError;
use crate::image::RgbaImage;
use crate::tiff_tags::{compression, photometric};
use exahealth_base::{budget, BudgetError};
use std::io::Read;
use std::path::Path;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

/// A decode failure, before it is given a file and a tile name.
#[derive(Debug)]
pub enum CodecError {
    /// The data does not decode, or not to what its container declares.
    Invalid(String),
    /// Decoding would allocate more than the memory budget.
    Budget(BudgetError),
}

impl From<String> for CodecError {
    fn from(reason: String) -> Self {
        CodecError::Invalid(reason)
    }
}

impl From<&str> for CodecError {
    fn from(reason: &str) -> Self {
        CodecError::Invalid(reason.to_string())
    }
}

impl From<BudgetError> for CodecError {
    fn from(e: BudgetError) -> Self {
        CodecError::Budget(e)
    }
}

impl CodecError {
    /// The error for `what` (a tile, a frame) of the file at `path`.
    pub fn into_slide(self, path: &Path, what: impl Into<String>) -> SlideError {
        match self {
            CodecError::Invalid(reason) => SlideError::Decode {
                path: path.to_path_buf(),
                what: what.into(),
                reason,
            },
            CodecError::Budget(e) => SlideError::budget(path, e),
        }
    }
}

pub type CodecResult<T> = std::result::Result<T, CodecError>;

/// Largest tile or strip any reader accepts, in pixels (a 16k x 16k tile).
pub const MAX_TILE_PIXELS: u64 = 1 << 28;

/// Bytes of an RGBA image of `width` x `height`, held to the memory budget:
/// asked before anything the size of a decoded tile is allocated.
pub fn rgba_bytes(what: &str, width: u64, height: u64) -> Result<usize, BudgetError> {
    budget::bytes_for(
        format!("{what} of {width}x{height} pixels"),
        &[width, height],
        4,
    )
}

/// How much to reserve before inflating `compressed` bytes that may grow to
/// `expected`: a header promises `expected`, only the data can deliver it,
/// so a few bytes that claim a huge tile get a small buffer that grows as
/// output actually arrives.
fn initial_capacity(expected: usize, compressed: usize) -> usize {
    expected.min(compressed.saturating_mul(8).max(64 << 10))
}

/// How the samples of one tile are encoded.
#[derive(Debug, Clone)]
pub struct TileFormat {
    pub compression: u16,
    pub photometric: u16,
    pub samples_per_pixel: u16,
    pub bits_per_sample: u16,
    pub predictor: u16,
    /// Abbreviated-stream tables shared by all JPEG tiles (TIFF tag 347).
    pub jpeg_tables: Option<Vec<u8>>,
}

impl TileFormat {
    pub fn describe_compression(c: u16) -> &'static str {
        match c {
            compression::NONE => "uncompressed",
            compression::LZW => "LZW",
            compression::JPEG => "JPEG",
            compression::OLD_JPEG => "old-style JPEG",
            compression::ADOBE_DEFLATE | compression::DEFLATE => "deflate",
            compression::APERIO_J2K_YCBCR => "Aperio JPEG 2000 (YCbCr)",
            compression::APERIO_J2K_RGB => "Aperio JPEG 2000 (RGB)",
            compression::JPEG2000 => "JPEG 2000",
            compression::ZSTD | compression::ZSTD_OLD => "zstd",
            _ => "unknown",
        }
    }

    pub fn is_supported(&self) -> std::result::Result<(), String> {
        match self.compression {
            compression::NONE
            | compression::LZW
            | compression::JPEG
            | compression::ADOBE_DEFLATE
            | compression::DEFLATE
            | compression::APERIO_J2K_YCBCR
            | compression::APERIO_J2K_RGB
            | compression::JPEG2000
            | compression::ZSTD
            | compression::ZSTD_OLD => {}
            c => {
                return Err(format!(
                    "compression {c} ({})",
                    Self::describe_compression(c)
                ))
            }
        }
        if !matches!(self.samples_per_pixel, 1 | 3 | 4) {
            return Err(format!("{} samples per pixel", self.samples_per_pixel));
        }
        let encoded_by_codec = matches!(
            self.compression,
            compression::JPEG
                | compression::APERIO_J2K_YCBCR
                | compression::APERIO_J2K_RGB
                | compression::JPEG2000
        );
        if !encoded_by_codec && !matches!(self.bits_per_sample, 8 | 16) {
            return Err(format!("{} bits per sample", self.bits_per_sample));
        }
        if !encoded_by_codec && self.photometric == photometric::YCBCR {
            return Err("uncompressed YCbCr samples".into());
        }
        Ok(())
    }
}

/// Decodes one tile of `width` x `height` pixels. A JPEG or JPEG 2000
/// codestream may be smaller than that (it is padded) but never larger.
pub fn decode_tile(
    fmt: &TileFormat,
    data: &[u8],
    width: u32,
    height: u32,
) -> CodecResult<RgbaImage> {
    if u64::from(width) * u64::from(height) > MAX_TILE_PIXELS {
        return Err(format!("tile of {width}x{height} pixels is larger than allowed").into());
    }
    rgba_bytes("a tile", width.into(), height.into())?;
    match fmt.compression {
        compression::JPEG => {
            let rgb = fmt.photometric == photometric::RGB;
            let img = decode_jpeg(data, fmt.jpeg_tables.as_deref(), rgb, (width, height))?;
            Ok(fit(img, width, height))
        }
        compression::APERIO_J2K_YCBCR | compression::APERIO_J2K_RGB | compression::JPEG2000 => {
            let ycbcr = fmt.compression == compression::APERIO_J2K_YCBCR;
            Ok(fit(
                decode_j2k(data, ycbcr, (width, height))?,
                width,
                height,
            ))
        }
        _ => {
            let raw = decompress(fmt.compression, data, width, height, fmt)?;
            samples_to_rgba(fmt, raw, width, height)
        }
    }
}

/// Whether tiles of this format are whole images in their own right
/// (JPEG, JPEG 2000), which keep their full height in a short last strip.
pub fn is_image_codec(c: u16) -> bool {
    matches!(
        c,
        compression::JPEG
            | compression::APERIO_J2K_YCBCR
            | compression::APERIO_J2K_RGB
            | compression::JPEG2000
    )
}

fn decompress(
    c: u16,
    data: &[u8],
    width: u32,
    height: u32,
    fmt: &TileFormat,
) -> CodecResult<Vec<u8>> {
    let expected = budget::bytes_for(
        format!("the samples of a {width}x{height} tile"),
        &[width.into(), height.into(), fmt.samples_per_pixel.into()],
        u64::from(fmt.bits_per_sample / 8),
    )?;
    let reserve = initial_capacity(expected, data.len());
    let mut out = match c {
        // Only the tile's own bytes: a byte count may run far past them.
        compression::NONE => data.get(..expected).unwrap_or(data).to_vec(),
        compression::ADOBE_DEFLATE | compression::DEFLATE => {
            let mut out = Vec::with_capacity(reserve);
            flate2::read::ZlibDecoder::new(data)
                .take(expected as u64)
                .read_to_end(&mut out)
                .map_err(|e| format!("deflate: {e}"))?;
            out
        }
        compression::LZW => lzw_decode(data, expected, reserve)?,
        compression::ZSTD | compression::ZSTD_OLD => {
            let mut dec =
                ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| format!("zstd: {e}"))?;
            let mut out = Vec::with_capacity(reserve);
            (&mut dec)
                .take(expected as u64)
                .read_to_end(&mut out)
                .map_err(|e| format!("zstd: {e}"))?;
            out
        }
        other => return Err(format!("compression {other} is not a byte-stream codec").into()),
    };
    if out.len() < expected {
        return Err(format!("decompressed {} bytes, expected {expected}", out.len()).into());
    }
    out.truncate(expected);
    if fmt.predictor == 2 {
        undo_horizontal_predictor(
            &mut out,
            width as usize,
            fmt.samples_per_pixel as usize,
            fmt.bits_per_sample,
        );
    }
    Ok(out)
}

/// TIFF LZW, stopping once `expected` bytes are out: LZW expands up to
/// several thousand times, so the output is never allowed past the tile.
fn lzw_decode(data: &[u8], expected: usize, reserve: usize) -> CodecResult<Vec<u8>> {
    let mut dec = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let mut out = Vec::with_capacity(reserve);
    let mut chunk = vec![0u8; (64 << 10).min(expected.max(1))];
    let mut input = data;
    while out.len() < expected {
        let r = dec.decode_bytes(input, &mut chunk);
        input = input.get(r.consumed_in..).unwrap_or(&[]);
        let room = expected - out.len();
        out.extend_from_slice(&chunk[..r.consumed_out.min(room)]);
        match r.status {
            Ok(weezl::LzwStatus::Ok) if r.consumed_in > 0 || r.consumed_out > 0 => {}
            // Many writers end strips without an end code; a short stream
            // is caught by the caller's length check, not here.
            Ok(_) => break,
            Err(e) if out.len() < expected => return Err(format!("LZW: {e}").into()),
            Err(_) => break,
        }
    }
    Ok(out)
}

fn undo_horizontal_predictor(buf: &mut [u8], width: usize, spp: usize, bits: u16) {
    if bits == 8 {
        let row = width * spp;
        for r in buf.chunks_exact_mut(row) {
            for i in spp..row {
                r[i] = r[i].wrapping_add(r[i - spp]);
            }
        }
    }
    // 16-bit prediction is applied after byte-order handling in samples_to_rgba.
}

fn samples_to_rgba(
    fmt: &TileFormat,
    raw: Vec<u8>,
    width: u32,
    height: u32,
) -> CodecResult<RgbaImage> {
    let n = width as usize * height as usize;
    let spp = fmt.samples_per_pixel as usize;
    // Reduce 16-bit samples to their high byte (little-endian files only;
    // slides with 16-bit channels are fluorescence, shown as 8-bit here).
    let samples: Vec<u8> = if fmt.bits_per_sample == 16 {
        let mut v: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        if fmt.predictor == 2 {
            for r in v.chunks_exact_mut(width as usize * spp) {
                for i in spp..r.len() {
                    r[i] = r[i].wrapping_add(r[i - spp]);
                }
            }
        }
        v.iter().map(|&s| (s >> 8) as u8).collect()
    } else {
        raw
    };
    let mut out = Vec::with_capacity(n * 4);
    match spp {
        1 => {
            let invert = fmt.photometric == photometric::MIN_IS_WHITE;
            for &g in &samples[..n] {
                let g = if invert { 255 - g } else { g };
                out.extend_from_slice(&[g, g, g, 255]);
            }
        }
        3 => {
            for p in samples[..n * 3].chunks_exact(3) {
                out.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
        }
        4 => out.extend_from_slice(&samples[..n * 4]),
        s => return Err(format!("{s} samples per pixel").into()),
    }
    Ok(RgbaImage {
        width,
        height,
        data: out,
    })
}

/// Joins TIFF's shared JPEG tables with an abbreviated tile stream.
pub fn splice_jpeg_tables(tables: &[u8], tile: &[u8]) -> Vec<u8> {
    // tables = SOI ... EOI, tile = SOI ... EOI: drop the tables' EOI and the
    // tile's SOI so one decoder sees one complete stream.
    let t = tables.strip_suffix(&[0xFF, 0xD9]).unwrap_or(tables);
    let body = tile.strip_prefix(&[0xFF, 0xD8]).unwrap_or(tile);
    let mut v = Vec::with_capacity(t.len() + body.len());
    v.extend_from_slice(t);
    v.extend_from_slice(body);
    v
}

/// Whether a JPEG's own markers say its components are RGB, by libjpeg's
/// rules: a JFIF marker means YCbCr, an Adobe marker says which, component
/// ids 'R','G','B' mean RGB, anything else YCbCr.
pub fn jpeg_marks_rgb(stream: &[u8]) -> bool {
    let mut pos = 2usize;
    let mut adobe_transform = None;
    let mut jfif = false;
    while pos + 4 <= stream.len() && stream[pos] == 0xFF {
        let marker = stream[pos + 1];
        if marker == 0xFF {
            pos += 1;
            continue;
        }
        let len = usize::from(u16::from_be_bytes([stream[pos + 2], stream[pos + 3]]));
        let body = stream.get(pos + 4..pos + 2 + len.max(2)).unwrap_or(&[]);
        match marker {
            0xE0 if body.starts_with(b"JFIF") => jfif = true,
            0xEE if body.starts_with(b"Adobe") && body.len() >= 12 => {
                adobe_transform = Some(body[11])
            }
            0xC0..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => {
                if jfif {
                    return false;
                }
                if let Some(t) = adobe_transform {
                    return t == 0;
                }
                return body.len() >= 15
                    && body[5] == 3
                    && body[6] == b'R'
                    && body[9] == b'G'
                    && body[12] == b'B';
            }
            0xDA => return false,
            _ => {}
        }
        pos += 2 + len;
    }
    false
}

/// Decodes a baseline or progressive JPEG to RGBA.
///
/// `rgb_components` says the three components are R, G, B rather than
/// YCbCr. The container decides, as OpenSlide lets it: TIFF's photometric
/// tag (Aperio writes RGB-coded JPEG with component ids 0, 1, 2 that libjpeg's
/// guess would call YCbCr), DICOM's photometric interpretation.
///
/// `max` is the largest image the container declares (the tile or frame);
/// a stream whose header claims more is refused before the decoder
/// allocates for it, as libtiff does.
pub fn decode_jpeg(
    data: &[u8],
    tables: Option<&[u8]>,
    rgb_components: bool,
    max: (u32, u32),
) -> CodecResult<RgbaImage> {
    let joined;
    let stream = match tables {
        Some(t) if t.len() > 4 => {
            joined = splice_jpeg_tables(t, data);
            &joined[..]
        }
        _ => data,
    };
    let opts = |cs: ColorSpace| {
        DecoderOptions::default()
            .jpeg_set_out_colorspace(cs)
            .set_max_width(1 << 16)
            .set_max_height(1 << 16)
            .set_strict_mode(false)
    };
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(stream, opts(ColorSpace::RGBA));
    dec.decode_headers().map_err(|e| format!("JPEG: {e:?}"))?;
    if rgb_components && dec.get_input_colorspace() != Some(ColorSpace::RGB) {
        // The decoder would convert from YCbCr; asking for YCbCr out returns
        // the components untouched, which for RGB-coded data is RGB.
        dec = zune_jpeg::JpegDecoder::new_with_options(stream, opts(ColorSpace::YCbCr));
        dec.decode_headers().map_err(|e| format!("JPEG: {e:?}"))?;
    }
    let out_cs = dec.get_output_colorspace().unwrap_or(ColorSpace::RGBA);
    let info = dec.info().ok_or("JPEG: no image header")?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_codestream_size("JPEG", (w, h), max)?;
    let (pixels, out_cs) = match dec.decode() {
        Ok(p) => (p, out_cs),
        // The decoder recognised RGB on its own (Adobe marker, or ids
        // 'R','G','B') and maps it only to RGB: ask for exactly that.
        Err(_) if out_cs != ColorSpace::RGB => {
            let mut d = zune_jpeg::JpegDecoder::new_with_options(stream, opts(ColorSpace::RGB));
            (
                d.decode().map_err(|e| format!("JPEG: {e:?}"))?,
                ColorSpace::RGB,
            )
        }
        Err(e) => return Err(format!("JPEG: {e:?}").into()),
    };
    let n = w as usize * h as usize;
    let data = match out_cs.num_components() {
        4 if pixels.len() >= n * 4 => {
            let mut p = pixels;
            p.truncate(n * 4);
            p
        }
        3 if pixels.len() >= n * 3 => {
            let mut v = Vec::with_capacity(n * 4);
            for p in pixels[..n * 3].chunks_exact(3) {
                v.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
            v
        }
        1 if pixels.len() >= n => {
            let mut v = Vec::with_capacity(n * 4);
            for &g in &pixels[..n] {
                v.extend_from_slice(&[g, g, g, 255]);
            }
            v
        }
        c => {
            return Err(format!(
                "JPEG decoder returned {c} components, {} bytes",
                pixels.len()
            )
            .into())
        }
    };
    Ok(RgbaImage {
        width: w,
        height: h,
        data,
    })
}

/// Refuses a codestream whose own header is larger than the tile or frame
/// its container declares (`max`, already held to the budget).
fn check_codestream_size(codec: &str, (w, h): (u32, u32), max: (u32, u32)) -> CodecResult<()> {
    if w > max.0 || h > max.1 {
        return Err(format!(
            "{codec} image of {w}x{h} pixels is larger than its {}x{} tile",
            max.0, max.1
        )
        .into());
    }
    if u64::from(w) * u64::from(h) > MAX_TILE_PIXELS {
        return Err(format!("{codec} image of {w}x{h} pixels is larger than allowed").into());
    }
    rgba_bytes(&format!("a {codec} image"), w.into(), h.into())?;
    Ok(())
}

/// Decodes a JPEG 2000 codestream (or JP2 file) to RGBA; `max` as for
/// [`decode_jpeg`].
pub fn decode_j2k(data: &[u8], ycbcr: bool, max: (u32, u32)) -> CodecResult<RgbaImage> {
    let settings = hayro_jpeg2000::DecodeSettings::default();
    let image =
        hayro_jpeg2000::Image::new(data, &settings).map_err(|e| format!("JPEG 2000: {e:?}"))?;
    let (w, h) = (image.width(), image.height());
    check_codestream_size("JPEG 2000", (w, h), max)?;
    let has_alpha = image.has_alpha();
    let mut ctx = hayro_jpeg2000::DecoderContext::default();
    let pixels = image
        .decode(&mut ctx)
        .map_err(|e| format!("JPEG 2000: {e:?}"))?
        .data_u8();
    let n = w as usize * h as usize;
    if n == 0 {
        return Err("JPEG 2000 image has no pixels".into());
    }
    let channels = pixels.len() / n;
    let mut out = Vec::with_capacity(n * 4);
    match (channels, has_alpha) {
        (1, _) => pixels[..n]
            .iter()
            .for_each(|&g| out.extend_from_slice(&[g, g, g, 255])),
        (2, true) => pixels[..n * 2]
            .chunks_exact(2)
            .for_each(|p| out.extend_from_slice(&[p[0], p[0], p[0], p[1]])),
        (3, _) => pixels[..n * 3]
            .chunks_exact(3)
            .for_each(|p| out.extend_from_slice(&[p[0], p[1], p[2], 255])),
        (4, true) => out.extend_from_slice(&pixels[..n * 4]),
        (c, a) => return Err(format!("JPEG 2000 image with {c} channels (alpha: {a})").into()),
    }
    // hayro-jpeg2000 already turns a raw codestream whose Cb and Cr are
    // subsampled into RGB (as OpenJPEG's tools do); converting again would
    // paint white glass magenta.
    if ycbcr && !decoder_converts_subsampled_ycbcr(data) {
        ycbcr_to_rgb_in_place(&mut out);
    }
    Ok(RgbaImage {
        width: w,
        height: h,
        data: out,
    })
}

/// Whether `data` is a raw codestream of three components, the last two
/// subsampled alike and more than the first: the case hayro-jpeg2000 takes
/// for YCbCr and converts to RGB itself. Read from the SIZ segment, which
/// follows the SOC marker (T.800 A.5.1).
fn decoder_converts_subsampled_ycbcr(data: &[u8]) -> bool {
    let Some(siz) = data.strip_prefix(&[0xFF, 0x4F, 0xFF, 0x51]) else {
        return false;
    };
    // Lsiz, Rsiz, eight 32-bit sizes, then Csiz at byte 38 of the segment.
    let Some(&[c0, c1]) = siz.get(36..38) else {
        return false;
    };
    if u16::from_be_bytes([c0, c1]) != 3 {
        return false;
    }
    // Each component: Ssiz, XRsiz, YRsiz.
    let step = |i: usize| siz.get(38 + 3 * i + 1..38 + 3 * i + 3);
    match (step(0), step(1), step(2)) {
        (Some(y), Some(cb), Some(cr)) => cb == cr && cb != y && cb[0] >= y[0] && cb[1] >= y[1],
        _ => false,
    }
}

/// Full-range BT.601 YCbCr to RGB, as JFIF defines it.
fn ycbcr_to_rgb_in_place(rgba: &mut [u8]) {
    for p in rgba.chunks_exact_mut(4) {
        let y = f32::from(p[0]);
        let cb = f32::from(p[1]) - 128.0;
        let cr = f32::from(p[2]) - 128.0;
        p[0] = (y + 1.402 * cr).round().clamp(0.0, 255.0) as u8;
        p[1] = (y - 0.344_136 * cb - 0.714_136 * cr)
            .round()
            .clamp(0.0, 255.0) as u8;
        p[2] = (y + 1.772 * cb).round().clamp(0.0, 255.0) as u8;
    }
}

/// Crops or pads a decoded image to the tile size the container declares.
fn fit(img: RgbaImage, width: u32, height: u32) -> RgbaImage {
    if img.width == width && img.height == height {
        return img;
    }
    let mut out = RgbaImage::transparent(width, height);
    out.blit(&img, 0, 0);
    out
}
