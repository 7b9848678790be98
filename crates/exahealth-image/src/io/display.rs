//! From stored values to physical values (modality LUT) and to an 8-bit
//! picture (VOI window, MONOCHROME1 inversion), the way DICOM viewers do it.

use crate::{DataType, Image, ImageData, ImageError};

fn meta_f64(img: &Image, key: &str) -> Option<f64> {
    img.meta
        .get(key)
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

/// Applies `rescale_slope`/`rescale_intercept` from the metadata (DICOM
/// rescale, NIfTI `scl_slope`/`scl_inter`): the result is `float32` with
/// `value * slope + intercept` (identity where the metadata has none), and the
/// two keys are removed so the scaling is never applied twice.
pub fn modality_lut(img: &Image) -> Image {
    let slope = meta_f64(img, "rescale_slope").unwrap_or(1.0);
    let inter = meta_f64(img, "rescale_intercept").unwrap_or(0.0);
    let f = img.data().to_f64().mapv(|v| (v * slope + inter) as f32);
    let mut out = replace_data(img, ImageData::F32(f));
    out.meta.remove("rescale_slope");
    out.meta.remove("rescale_intercept");
    out
}

fn replace_data(img: &Image, data: ImageData) -> Image {
    let mut out = Image::new(data, &img.layout(), img.color()).unwrap_or_else(|_| img.clone());
    out.meta = img.meta.clone();
    for (ax, s) in img.axes().iter().zip(img.spacing()) {
        out.set_spacing(*ax, *s);
    }
    out
}

/// The first window (centre, width) the metadata names, in modality units.
pub fn window_from_meta(img: &Image) -> Option<(f64, f64)> {
    let c = meta_f64(img, "window_center")?;
    let w = meta_f64(img, "window_width")?;
    (w > 0.0).then_some((c, w))
}

/// A window spanning the image's modality-value range (min to max).
pub fn auto_window(img: &Image) -> (f64, f64) {
    let m = modality_lut(img);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    if let ImageData::F32(a) = m.data() {
        for &v in a.iter().filter(|v| v.is_finite()) {
            lo = lo.min(v as f64);
            hi = hi.max(v as f64);
        }
    }
    if !lo.is_finite() {
        return (0.5, 1.0);
    }
    // DICOM's linear window maps [c - 0.5 - (w-1)/2, c - 0.5 + (w-1)/2] to 0..255.
    let w = (hi - lo + 1.0).max(1.0);
    (lo + 0.5 + (w - 1.0) / 2.0, w)
}

/// An 8-bit picture of `img`: grayscale images go through the modality LUT
/// and the window (`window`, else the one in the metadata, else min..max),
/// with MONOCHROME1 inverted; 8-bit colour images pass through unchanged,
/// deeper colour images are scaled by their maximum.
pub fn to_display_u8(img: &Image, window: Option<(f64, f64)>) -> Result<Image, ImageError> {
    let colour = img.color().channels().is_some_and(|n| n > 1) || img.len_of(crate::Axis::C) > 1;
    if colour && window.is_none() {
        if img.dtype() == DataType::U8 {
            return Ok(img.clone());
        }
        let f = img.data().to_f64();
        let max = f
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        let scale = if max > 0.0 { 255.0 / max } else { 1.0 };
        let mut out = replace_data(
            img,
            ImageData::from_f64(&f.mapv(|v| v * scale), DataType::U8),
        );
        out.meta = img.meta.clone();
        return Ok(out);
    }
    if let Some((_, w)) = window {
        if w.is_nan() || w <= 0.0 {
            return Err(ImageError::Unsupported(format!(
                "window width {w} must be positive"
            )));
        }
    }
    let (c, w) = window
        .or_else(|| window_from_meta(img))
        .unwrap_or_else(|| auto_window(img));
    let m = modality_lut(img);
    let invert = img
        .meta
        .get("photometric_interpretation")
        .is_some_and(|p| p == "MONOCHROME1");
    let lo = c - 0.5 - (w - 1.0) / 2.0;
    let hi = c - 0.5 + (w - 1.0) / 2.0;
    let f = m.data().to_f64().mapv(|x| {
        let y = if x <= lo {
            0.0
        } else if x > hi || w <= 1.0 {
            255.0
        } else {
            ((x - (c - 0.5)) / (w - 1.0) + 0.5) * 255.0
        };
        if invert {
            255.0 - y
        } else {
            y
        }
    });
    let mut out = replace_data(img, ImageData::from_f64(&f, DataType::U8));
    out.meta.insert("display.window".into(), format!("{c},{w}"));
    Ok(out)
}
