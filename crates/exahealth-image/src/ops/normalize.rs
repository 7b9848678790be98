//! Intensity normalisation: mean/std (global or per channel), min-max
//! scaling to a range, and linear maps between ranges.
//!
//! Array functions work on `[height, width, channels]` `f32` arrays. The
//! `*_image` wrappers return `float32` images for integer input (the results
//! are fractional) and keep `float64` as it is.

use ndarray::{Array3, Axis as NdAxis};

use crate::{DataType, Image, ImageError};

/// Per-channel mean and (population) standard deviation.
pub fn mean_std_per_channel(src: &Array3<f32>) -> (Vec<f64>, Vec<f64>) {
    let c = src.dim().2;
    let mut sum = vec![0f64; c];
    let mut sq = vec![0f64; c];
    for px in src.lanes(NdAxis(2)) {
        for (ch, v) in px.iter().enumerate() {
            sum[ch] += *v as f64;
            sq[ch] += (*v as f64) * (*v as f64);
        }
    }
    let n = (src.len() / c.max(1)).max(1) as f64;
    let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
    let std = sq
        .iter()
        .zip(&mean)
        .map(|(q, m)| (q / n - m * m).max(0.0).sqrt())
        .collect();
    (mean, std)
}

/// `(v - mean) / std` for every sample.
pub fn normalize(src: &mut Array3<f32>, mean: f64, std: f64) -> Result<(), ImageError> {
    if !(std != 0.0 && std.is_finite()) {
        return Err(ImageError::Unsupported(format!("normalise with std {std}")));
    }
    let (m, inv) = (mean as f32, (1.0 / std) as f32);
    src.par_mapv_inplace(|v| (v - m) * inv);
    Ok(())
}

/// `(v - mean[c]) / std[c]` for the samples of channel `c`.
pub fn normalize_per_channel(
    src: &mut Array3<f32>,
    mean: &[f64],
    std: &[f64],
) -> Result<(), ImageError> {
    let c = src.dim().2;
    if mean.len() != c || std.len() != c {
        return Err(ImageError::Unsupported(format!(
            "per-channel normalisation with {} means and {} stds for {c} channels",
            mean.len(),
            std.len()
        )));
    }
    if let Some(s) = std.iter().find(|s| !(**s != 0.0 && s.is_finite())) {
        return Err(ImageError::Unsupported(format!("normalise with std {s}")));
    }
    for mut px in src.lanes_mut(NdAxis(2)) {
        for (ch, v) in px.iter_mut().enumerate() {
            *v = ((*v as f64 - mean[ch]) / std[ch]) as f32;
        }
    }
    Ok(())
}

/// Linear map sending `old_min..old_max` onto `new_min..new_max` (values
/// outside follow the same line).
pub fn scale_from_to(
    src: &mut Array3<f32>,
    old_min: f64,
    old_max: f64,
    new_min: f64,
    new_max: f64,
) -> Result<(), ImageError> {
    let d = old_max - old_min;
    if !(d != 0.0 && d.is_finite()) {
        return Err(ImageError::Unsupported(format!(
            "scale from an empty range {old_min}..{old_max}"
        )));
    }
    let k = (new_max - new_min) / d;
    src.par_mapv_inplace(|v| ((v as f64 - old_min) * k + new_min) as f32);
    Ok(())
}

/// Min-max scaling: the smallest sample becomes `new_min` and the largest
/// `new_max` (a constant image becomes `new_min`).
pub fn scale_to(src: &mut Array3<f32>, new_min: f64, new_max: f64) {
    let (lo, hi) = src
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(*v), hi.max(*v))
        });
    if !matches!(hi.partial_cmp(&lo), Some(std::cmp::Ordering::Greater)) {
        src.fill(new_min as f32);
        return;
    }
    // The range is non-empty, so this cannot fail.
    let _ = scale_from_to(src, lo as f64, hi as f64, new_min, new_max);
}

fn float_type(dtype: DataType) -> DataType {
    if dtype == DataType::F64 {
        DataType::F64
    } else {
        DataType::F32
    }
}

/// [`normalize`] on a 2-D image; integer images become `float32`.
pub fn normalize_image(img: &Image, mean: f64, std: f64) -> Result<Image, ImageError> {
    let mut a = img.to_hwc_f32()?;
    normalize(&mut a, mean, std)?;
    Ok(img.with_hwc_f32(a, float_type(img.dtype())))
}

/// [`normalize_per_channel`] on a 2-D image; integer images become `float32`.
pub fn normalize_per_channel_image(
    img: &Image,
    mean: &[f64],
    std: &[f64],
) -> Result<Image, ImageError> {
    let mut a = img.to_hwc_f32()?;
    normalize_per_channel(&mut a, mean, std)?;
    Ok(img.with_hwc_f32(a, float_type(img.dtype())))
}

/// [`scale_to`] on a 2-D image; integer images become `float32`.
pub fn scale_to_image(img: &Image, new_min: f64, new_max: f64) -> Result<Image, ImageError> {
    let mut a = img.to_hwc_f32()?;
    scale_to(&mut a, new_min, new_max);
    Ok(img.with_hwc_f32(a, float_type(img.dtype())))
}

/// [`scale_from_to`] on a 2-D image; integer images become `float32`.
pub fn scale_from_to_image(
    img: &Image,
    old_min: f64,
    old_max: f64,
    new_min: f64,
    new_max: f64,
) -> Result<Image, ImageError> {
    let mut a = img.to_hwc_f32()?;
    scale_from_to(&mut a, old_min, old_max, new_min, new_max)?;
    Ok(img.with_hwc_f32(a, float_type(img.dtype())))
}
