//! Image files to `f32` arrays (PNG and JPEG decoded here, other formats
//! through `exahealth_image::io`), and resizing.

use super::LoaderError;
use ndarray::{Array2, Array3};

use std::path::Path;

/// Files larger than this are refused before reading (a JPEG of a 32k x 32k
/// image is far below it).
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Decoded images larger than this (pixels) are refused.
const MAX_PIXELS: u64 = 1 << 28;

/// A decoded image: `height x width x channels`, values as stored (0..255
/// or 0..65535), and the largest value its bit depth allows.
pub(crate) struct Decoded {
    pub pixels: Array3<f32>,
    pub max_value: f32,
}

/// The value the loader divides `path`'s samples by to bring them to 0..1:
/// 255 for 8-bit images, 65535 for 16-bit ones, 1 for other types (kept as
/// stored). What a model card records as the input scale.
pub fn pixel_max(path: &Path) -> Result<f32, LoaderError> {
    Ok(read_image(path)?.max_value)
}

pub(crate) fn read_image(path: &Path) -> Result<Decoded, LoaderError> {
    let io = |source| LoaderError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = exahealth_base::budget::read_file(path, MAX_FILE_BYTES).map_err(io)?;
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        decode_png(path, &bytes)
    } else if bytes.starts_with(&[0xFF, 0xD8]) {
        decode_jpeg(path, &bytes)
    } else {
        drop(bytes);
        read_other(path)
    }
}

/// DICOM, NIfTI, TIFF and the rest through `exahealth-image`. 8- and
/// 16-bit samples are scaled like PNG; other types (CT Hounsfield units,
/// floats) keep their values (`max_value` 1).
fn read_other(path: &Path) -> Result<Decoded, LoaderError> {
    use exahealth_image::DataType;
    let img = exahealth_image::io::read(path).map_err(|e| LoaderError::Image {
        path: path.to_path_buf(),
        source: Box::new(e),
    })?;
    let max_value = match img.dtype() {
        DataType::U8 => 255.0,
        DataType::U16 => 65535.0,
        _ => 1.0,
    };
    let pixels = img
        .to_hwc_f32()
        .map_err(|e| decode_err(path, e.to_string()))?;
    let (h, w, c) = pixels.dim();
    if h == 0 || w == 0 || c == 0 {
        return Err(decode_err(path, format!("empty image {h}x{w}x{c}")));
    }
    Ok(Decoded { pixels, max_value })
}

fn decode_err(path: &Path, message: String) -> LoaderError {
    LoaderError::Decode {
        path: path.to_path_buf(),
        message,
    }
}

fn decode_png(path: &Path, bytes: &[u8]) -> Result<Decoded, LoaderError> {
    let mut dec = png::Decoder::new(std::io::Cursor::new(bytes));
    // Palette -> RGB, low bit depths -> 8 bits, tRNS -> alpha.
    dec.set_transformations(png::Transformations::EXPAND);
    let mut reader = dec
        .read_info()
        .map_err(|e| decode_err(path, format!("PNG: {e}")))?;
    let (w, h) = reader.info().size();
    check_pixels(path, w, h)?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| decode_err(path, "PNG: image too large".into()))?;
    let mut buf = vec![0u8; size];
    let info = reader
        .next_frame(&mut buf)
        .map_err(|e| decode_err(path, format!("PNG: {e}")))?;
    let channels = info.color_type.samples();
    let (w, h) = (info.width as usize, info.height as usize);
    let n = w * h * channels;
    let (values, max_value): (Vec<f32>, f32) = match info.bit_depth {
        png::BitDepth::Sixteen => {
            if buf.len() < n * 2 {
                return Err(decode_err(path, "PNG: short frame".into()));
            }
            (
                buf[..n * 2]
                    .chunks_exact(2)
                    .map(|b| f32::from(u16::from_be_bytes([b[0], b[1]])))
                    .collect(),
                65535.0,
            )
        }
        _ => {
            if buf.len() < n {
                return Err(decode_err(path, "PNG: short frame".into()));
            }
            (buf[..n].iter().map(|&v| f32::from(v)).collect(), 255.0)
        }
    };
    let pixels = Array3::from_shape_vec((h, w, channels), values)
        .map_err(|e| decode_err(path, format!("PNG: {e}")))?;
    Ok(Decoded { pixels, max_value })
}

fn decode_jpeg(path: &Path, bytes: &[u8]) -> Result<Decoded, LoaderError> {
    use zune_jpeg::zune_core::options::DecoderOptions;
    let opts = DecoderOptions::default()
        .set_max_width(1 << 16)
        .set_max_height(1 << 16);
    let mut dec = zune_jpeg::JpegDecoder::new_with_options(bytes, opts);
    dec.decode_headers()
        .map_err(|e| decode_err(path, format!("JPEG: {e:?}")))?;
    let info = dec
        .info()
        .ok_or_else(|| decode_err(path, "JPEG: no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    check_pixels(path, w, h)?;
    let channels = dec
        .get_output_colorspace()
        .map(|c| c.num_components())
        .unwrap_or(3);
    let data = dec
        .decode()
        .map_err(|e| decode_err(path, format!("JPEG: {e:?}")))?;
    let n = w as usize * h as usize * channels;
    if data.len() < n {
        return Err(decode_err(path, "JPEG: short image".into()));
    }
    let pixels = Array3::from_shape_vec(
        (h as usize, w as usize, channels),
        data[..n].iter().map(|&v| f32::from(v)).collect(),
    )
    .map_err(|e| decode_err(path, format!("JPEG: {e}")))?;
    Ok(Decoded {
        pixels,
        max_value: 255.0,
    })
}

fn check_pixels(path: &Path, w: u32, h: u32) -> Result<(), LoaderError> {
    if w == 0 || h == 0 || u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(decode_err(
            path,
            format!("image of {w}x{h} pixels is empty or larger than {MAX_PIXELS} pixels"),
        ));
    }
    Ok(())
}

/// Converts `src` (any of 1 to 4 channels) to `channels` (1 or 3): grey is
/// replicated to RGB, RGB is reduced to luma (BT.601), alpha is dropped.
pub(crate) fn to_channels(src: &Array3<f32>, channels: usize) -> Array3<f32> {
    let (h, w, c) = src.dim();
    match (c, channels) {
        (1 | 2, 3) => Array3::from_shape_fn((h, w, 3), |(y, x, _)| src[[y, x, 0]]),
        (3 | 4, 1) => Array3::from_shape_fn((h, w, 1), |(y, x, _)| {
            0.299 * src[[y, x, 0]] + 0.587 * src[[y, x, 1]] + 0.114 * src[[y, x, 2]]
        }),
        (c, k) if c == k => src.clone(),
        _ => Array3::from_shape_fn((h, w, channels), |(y, x, k)| src[[y, x, k.min(c - 1)]]),
    }
}

/// Bilinear resize of an HWC image with pixel centres aligned (a 2x
/// reduction averages 2x2 blocks).
pub(crate) fn resize_bilinear(src: &Array3<f32>, out_h: usize, out_w: usize) -> Array3<f32> {
    let (h, w, c) = src.dim();
    if (h, w) == (out_h, out_w) {
        return src.clone();
    }
    let coord = |o: usize, n_out: usize, n_in: usize| {
        let f = ((o as f64 + 0.5) * n_in as f64 / n_out as f64 - 0.5).clamp(0.0, (n_in - 1) as f64);
        let i0 = f.floor() as usize;
        let i1 = (i0 + 1).min(n_in - 1);
        (i0, i1, (f - i0 as f64) as f32)
    };
    let xs: Vec<_> = (0..out_w).map(|x| coord(x, out_w, w)).collect();
    let ys: Vec<_> = (0..out_h).map(|y| coord(y, out_h, h)).collect();
    let mut out = Array3::<f32>::zeros((out_h, out_w, c));
    for (oy, &(y0, y1, fy)) in ys.iter().enumerate() {
        for (ox, &(x0, x1, fx)) in xs.iter().enumerate() {
            for k in 0..c {
                let top = src[[y0, x0, k]] * (1.0 - fx) + src[[y0, x1, k]] * fx;
                let bottom = src[[y1, x0, k]] * (1.0 - fx) + src[[y1, x1, k]] * fx;
                out[[oy, ox, k]] = top * (1.0 - fy) + bottom * fy;
            }
        }
    }
    out
}

/// Nearest-neighbour resize, for masks (labels must not be blended).
pub(crate) fn resize_nearest(src: &Array2<f32>, out_h: usize, out_w: usize) -> Array2<f32> {
    let (h, w) = src.dim();
    if (h, w) == (out_h, out_w) {
        return src.clone();
    }
    Array2::from_shape_fn((out_h, out_w), |(y, x)| {
        src[[(y * h / out_h).min(h - 1), (x * w / out_w).min(w - 1)]]
    })
}
