//! Linear filters on interleaved `[height, width, channels]` float arrays:
//! separable and arbitrary 2-D kernels, Gaussian blur, with OpenCV's border
//! modes.
//!
//! Kernels are applied as correlations (OpenCV's `filter2D` convention): the
//! kernel is not flipped, and its anchor is its centre.

use std::borrow::Cow;

use ndarray::{Array2, Array3, Axis as NdAxis};
use rayon::prelude::*;

use crate::{Image, ImageError};

/// How pixels outside the image are extrapolated (OpenCV's and ECVL's
/// `BorderType`). Shown for a row `abcdefgh`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Border {
    /// `iiii|abcdefgh|iiii` with the given value.
    Constant(f32),
    /// `aaaa|abcdefgh|hhhh`
    Replicate,
    /// `dcba|abcdefgh|hgfe`
    Reflect,
    /// `efgh|abcdefgh|abcd`
    Wrap,
    /// `edcb|abcdefgh|gfed` (OpenCV's default for filters).
    Reflect101,
    /// Outside pixels leave the destination as it was: for warps that
    /// produce a new image, the source pixel at the same position is kept.
    /// Filters (which OpenCV refuses it for) treat it as `Replicate`; crops
    /// and pads as `Constant(0)`.
    Transparent,
}

impl Border {
    /// The source index for position `i` on an axis of length `n`, or
    /// `None` where the border supplies no source pixel (constant,
    /// transparent, or an empty axis).
    #[inline]
    pub fn index(self, i: isize, n: usize) -> Option<usize> {
        if n == 0 {
            return None;
        }
        let n_i = n as isize;
        if (0..n_i).contains(&i) {
            return Some(i as usize);
        }
        match self {
            Border::Constant(_) | Border::Transparent => None,
            Border::Replicate => Some(i.clamp(0, n_i - 1) as usize),
            Border::Wrap => Some(i.rem_euclid(n_i) as usize),
            Border::Reflect => {
                // Period 2n: 0..n forward, n..2n backward.
                let m = i.rem_euclid(2 * n_i);
                Some(if m < n_i { m } else { 2 * n_i - 1 - m } as usize)
            }
            Border::Reflect101 => {
                if n == 1 {
                    return Some(0);
                }
                let period = 2 * n_i - 2;
                let m = i.rem_euclid(period);
                Some(if m < n_i { m } else { period - m } as usize)
            }
        }
    }

    /// The constant fill value (0 for non-constant modes).
    pub fn value(self) -> f32 {
        match self {
            Border::Constant(v) => v,
            _ => 0.0,
        }
    }
}

/// A normalised 1-D Gaussian kernel of standard deviation `sigma` and
/// radius `ceil(3 sigma)` (so `2 ceil(3 sigma) + 1` taps; one tap of 1.0
/// for `sigma <= 0`).
pub fn gaussian_kernel(sigma: f64) -> Vec<f32> {
    if sigma.is_nan() || sigma <= 0.0 || !sigma.is_finite() {
        return vec![1.0];
    }
    let radius = (3.0 * sigma).ceil().min(4096.0) as isize;
    let w: Vec<f64> = (-radius..=radius)
        .map(|i| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f64 = w.iter().sum();
    w.iter().map(|v| (v / sum) as f32).collect()
}

/// The samples of `a` in standard (row-major) order, borrowed when already so.
pub(crate) fn contiguous<T: Copy, D: ndarray::Dimension>(a: &ndarray::Array<T, D>) -> Cow<'_, [T]> {
    match a.as_slice() {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(a.iter().copied().collect()),
    }
}

/// Correlates every row with `kx` and then every column with `ky`
/// (anchors at the kernels' centres; even lengths anchor at `len / 2`).
pub fn separable_filter(src: &Array3<f32>, kx: &[f32], ky: &[f32], border: Border) -> Array3<f32> {
    let (h, w, c) = src.dim();
    if h == 0 || w == 0 || c == 0 || kx.is_empty() || ky.is_empty() {
        return src.clone();
    }
    let data = contiguous(src);
    let tmp = filter_rows(&data, h, w, c, kx, border);
    let out = filter_cols(&tmp, h, w * c, ky, border);
    Array3::from_shape_vec((h, w, c), out).unwrap_or_else(|_| src.clone())
}

/// `out[i] = sum_j k[j] * rows[j][i]`, in blocks whose accumulators stay
/// in registers (the compiler vectorises the fixed-size inner loop).
#[inline]
fn weighted_rows(out: &mut [f32], rows: &[&[f32]], k: &[f32]) {
    const L: usize = 16;
    let n = out.len();
    let mut i = 0;
    while i + L <= n {
        let mut acc = [0f32; L];
        for (row, kv) in rows.iter().zip(k) {
            let seg = &row[i..i + L];
            for l in 0..L {
                acc[l] += kv * seg[l];
            }
        }
        out[i..i + L].copy_from_slice(&acc);
        i += L;
    }
    for (ii, o) in out.iter_mut().enumerate().skip(i) {
        *o = rows.iter().zip(k).map(|(row, kv)| kv * row[ii]).sum();
    }
}

/// Correlates each row (`w` pixels of `c` channels) with `k`, rows in
/// parallel. Each row is padded once; tap `j` then reads the padded row
/// shifted by `j` pixels.
fn filter_rows(src: &[f32], h: usize, w: usize, c: usize, k: &[f32], border: Border) -> Vec<f32> {
    let row_len = w * c;
    let mut out = vec![0f32; h * row_len];
    let pad = k.len() / 2;
    let padded_w = w + k.len() - 1;
    out.par_chunks_mut(row_len)
        .zip(src.par_chunks(row_len))
        .for_each_init(
            || vec![0f32; padded_w * c],
            |buf, (orow, srow)| {
                for px in 0..padded_w {
                    let sx = px as isize - pad as isize;
                    let from = match border.index(sx, w) {
                        Some(i) => Some(i),
                        None if matches!(border, Border::Transparent) => {
                            Some(sx.clamp(0, w as isize - 1) as usize)
                        }
                        None => None,
                    };
                    let dst = &mut buf[px * c..(px + 1) * c];
                    match from {
                        Some(i) => dst.copy_from_slice(&srow[i * c..(i + 1) * c]),
                        None => dst.fill(border.value()),
                    }
                }
                let rows: Vec<&[f32]> =
                    (0..k.len()).map(|j| &buf[j * c..j * c + row_len]).collect();
                weighted_rows(orow, &rows, k);
            },
        );
    out
}

/// Correlates each column of an `h` x `row_len` buffer with `k`: every
/// output row is a weighted sum of whole input rows.
fn filter_cols(src: &[f32], h: usize, row_len: usize, k: &[f32], border: Border) -> Vec<f32> {
    let mut out = vec![0f32; h * row_len];
    let anchor = (k.len() / 2) as isize;
    let fill = vec![border.value(); row_len];
    out.par_chunks_mut(row_len)
        .enumerate()
        .for_each(|(y, orow)| {
            let rows: Vec<&[f32]> = (0..k.len())
                .map(|j| {
                    let sy = y as isize + j as isize - anchor;
                    let from = match border.index(sy, h) {
                        Some(i) => Some(i),
                        None if matches!(border, Border::Transparent) => {
                            Some(sy.clamp(0, h as isize - 1) as usize)
                        }
                        None => None,
                    };
                    match from {
                        Some(i) => &src[i * row_len..(i + 1) * row_len],
                        None => &fill[..],
                    }
                })
                .collect();
            weighted_rows(orow, &rows, k);
        });
    out
}

/// Gaussian blur with standard deviations `sigma_x`, `sigma_y` (pixels).
pub fn gaussian_blur(src: &Array3<f32>, sigma_x: f64, sigma_y: f64, border: Border) -> Array3<f32> {
    let kx = gaussian_kernel(sigma_x);
    let ky = gaussian_kernel(sigma_y);
    separable_filter(src, &kx, &ky, border)
}

/// Correlates `src` with an arbitrary 2-D `kernel` (`[rows, cols]`,
/// anchor at `(rows / 2, cols / 2)`), each channel on its own.
pub fn filter2d(src: &Array3<f32>, kernel: &Array2<f32>, border: Border) -> Array3<f32> {
    let (h, w, c) = src.dim();
    let (kh, kw) = kernel.dim();
    let (ay, ax) = ((kh / 2) as isize, (kw / 2) as isize);
    let mut out = Array3::<f32>::zeros((h, w, c));
    if h == 0 || w == 0 {
        return out;
    }
    out.axis_iter_mut(NdAxis(0))
        .into_par_iter()
        .enumerate()
        .for_each(|(y, mut orow)| {
            for x in 0..w {
                for ch in 0..c {
                    let mut acc = 0f32;
                    for ky in 0..kh {
                        let sy = y as isize + ky as isize - ay;
                        let iy = border.index(sy, h);
                        for kx in 0..kw {
                            let sx = x as isize + kx as isize - ax;
                            let v = match (iy, border.index(sx, w)) {
                                (Some(iy), Some(ix)) => src[[iy, ix, ch]],
                                _ if matches!(border, Border::Transparent) => {
                                    src[[
                                        sy.clamp(0, h as isize - 1) as usize,
                                        sx.clamp(0, w as isize - 1) as usize,
                                        ch,
                                    ]]
                                }
                                _ => border.value(),
                            };
                            acc += kernel[[ky, kx]] * v;
                        }
                    }
                    orow[[x, ch]] = acc;
                }
            }
        });
    out
}

/// [`gaussian_blur`] on a 2-D [`Image`], keeping its element type
/// (integer results are rounded and saturated). Border: reflect-101.
pub fn gaussian_blur_image(img: &Image, sigma_x: f64, sigma_y: f64) -> Result<Image, ImageError> {
    if let Some((bytes, dims)) = super::fixed::image_bytes(img)? {
        let blurred =
            super::fixed::gaussian_blur_u8(&bytes, dims, sigma_x, sigma_y, Border::Reflect101)?;
        if let Some(out) = blurred {
            return super::fixed::bytes_image(img, out, dims);
        }
    }
    let a = img.to_hwc_f32()?;
    let out = gaussian_blur(&a, sigma_x, sigma_y, Border::Reflect101);
    Ok(img.with_hwc_f32(out, img.dtype()))
}

/// [`filter2d`] on a 2-D [`Image`], keeping its element type.
pub fn filter2d_image(
    img: &Image,
    kernel: &Array2<f32>,
    border: Border,
) -> Result<Image, ImageError> {
    let a = img.to_hwc_f32()?;
    Ok(img.with_hwc_f32(filter2d(&a, kernel, border), img.dtype()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn border_indices_match_opencv_pictures() {
        // abcdefgh with n = 8; positions -3..=-1 and 8..=10.
        let idx = |b: Border, i: isize| b.index(i, 8);
        assert_eq!(idx(Border::Replicate, -2), Some(0));
        assert_eq!(idx(Border::Replicate, 10), Some(7));
        assert_eq!(idx(Border::Reflect, -1), Some(0));
        assert_eq!(idx(Border::Reflect, -3), Some(2));
        assert_eq!(idx(Border::Reflect, 8), Some(7));
        assert_eq!(idx(Border::Reflect101, -1), Some(1));
        assert_eq!(idx(Border::Reflect101, -3), Some(3));
        assert_eq!(idx(Border::Reflect101, 8), Some(6));
        assert_eq!(idx(Border::Wrap, -1), Some(7));
        assert_eq!(idx(Border::Wrap, 9), Some(1));
        assert_eq!(idx(Border::Constant(3.0), -1), None);
    }
}
