//! Geometric transforms: resize (nearest, linear, cubic, area, Lanczos-4),
//! flip, mirror, transpose, crop, pad, rotation by any angle, affine warps
//! and general remapping, with OpenCV's pixel conventions.
//!
//! Array functions work on interleaved `[height, width, channels]` `f32`
//! arrays; the `*_image` wrappers take 2-D [`Image`]s and keep their element
//! type (interpolated integer samples are rounded and saturated). Pure
//! rearrangements (flip, mirror, transpose, crop) never leave the element
//! type, so they are exact for every type.
//!
//! Coordinates: a pixel's centre sits at integer coordinates; resizing maps
//! output `d` to source `(d + 0.5) * in / out - 0.5` (nearest: `floor(d *
//! in / out)`), as OpenCV's `resize` does.

use ndarray::{s, Array2, Array3, ArrayView3};
use rayon::prelude::*;

pub use super::filter::Border;
use crate::{Image, ImageData, ImageError};

/// How samples between pixel centres are computed (ECVL's `InterpolationType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interpolation {
    /// The nearest source pixel (the right choice for label masks).
    Nearest,
    /// Bilinear.
    Linear,
    /// Box average of the covered source area (the right choice for
    /// shrinking); in warps it behaves as `Linear`, as in OpenCV.
    Area,
    /// Bicubic with a = -0.75 (OpenCV's kernel).
    Cubic,
    /// Lanczos over 8x8 neighbours.
    Lanczos4,
}

impl Interpolation {
    /// ECVL's configuration names: `nearest`, `linear`, `area`, `cubic`, `lanczos4`.
    pub fn from_name(name: &str) -> Option<Interpolation> {
        Some(match name {
            "nearest" => Interpolation::Nearest,
            "linear" => Interpolation::Linear,
            "area" => Interpolation::Area,
            "cubic" => Interpolation::Cubic,
            "lanczos4" => Interpolation::Lanczos4,
            _ => return None,
        })
    }

    /// ECVL's configuration name (see [`Interpolation::from_name`]).
    pub fn name(self) -> &'static str {
        match self {
            Interpolation::Nearest => "nearest",
            Interpolation::Linear => "linear",
            Interpolation::Area => "area",
            Interpolation::Cubic => "cubic",
            Interpolation::Lanczos4 => "lanczos4",
        }
    }
}

fn cubic_weights(f: f32) -> [f32; 4] {
    const A: f32 = -0.75;
    let w0 = ((A * (f + 1.0) - 5.0 * A) * (f + 1.0) + 8.0 * A) * (f + 1.0) - 4.0 * A;
    let w1 = ((A + 2.0) * f - (A + 3.0)) * f * f + 1.0;
    let w2 = ((A + 2.0) * (1.0 - f) - (A + 3.0)) * (1.0 - f) * (1.0 - f) + 1.0;
    [w0, w1, w2, 1.0 - w0 - w1 - w2]
}

fn lanczos4_weights(f: f32) -> [f32; 8] {
    let mut w = [0f32; 8];
    let mut sum = 0f32;
    for (k, wk) in w.iter_mut().enumerate() {
        let x = f - (k as f32 - 3.0);
        *wk = if x.abs() < 1e-6 {
            1.0
        } else {
            let px = std::f32::consts::PI * x;
            4.0 * (px).sin() * (px / 4.0).sin() / (px * px)
        };
        sum += *wk;
    }
    for wk in &mut w {
        *wk /= sum;
    }
    w
}

/// Taps `(first source index, weights)` for sampling at `s` with `interp`;
/// indices may fall outside the axis (the caller applies the border).
fn kernel_taps(s: f32, interp: Interpolation, out: &mut Vec<(isize, f32)>) {
    out.clear();
    match interp {
        Interpolation::Nearest => out.push((s.round() as isize, 1.0)),
        Interpolation::Linear | Interpolation::Area => {
            let i0 = s.floor();
            let f = s - i0;
            out.push((i0 as isize, 1.0 - f));
            out.push((i0 as isize + 1, f));
        }
        Interpolation::Cubic => {
            let i0 = s.floor();
            let w = cubic_weights(s - i0);
            for (k, wk) in w.iter().enumerate() {
                out.push((i0 as isize - 1 + k as isize, *wk));
            }
        }
        Interpolation::Lanczos4 => {
            let i0 = s.floor();
            let w = lanczos4_weights(s - i0);
            for (k, wk) in w.iter().enumerate() {
                out.push((i0 as isize - 3 + k as isize, *wk));
            }
        }
    }
}

/// Per output index, the source indices (clamped: resize replicates edges)
/// and weights along one axis.
pub(crate) fn resize_taps(
    n_in: usize,
    n_out: usize,
    interp: Interpolation,
) -> Vec<Vec<(usize, f32)>> {
    let scale = n_in as f64 / n_out as f64;
    let clamp = |i: isize| i.clamp(0, n_in as isize - 1) as usize;
    let mut tmp = Vec::new();
    (0..n_out)
        .map(|d| match interp {
            Interpolation::Nearest => {
                vec![(((d as f64 * scale).floor() as usize).min(n_in - 1), 1.0)]
            }
            Interpolation::Area => {
                // Exact overlap of [d, d + 1) * scale with each source pixel.
                let (a, b) = (d as f64 * scale, (d as f64 + 1.0) * scale);
                let mut taps = Vec::new();
                let mut i = a.floor() as usize;
                while (i as f64) < b && i < n_in {
                    let lo = a.max(i as f64);
                    let hi = b.min(i as f64 + 1.0);
                    if hi > lo {
                        taps.push((i, ((hi - lo) / scale) as f32));
                    }
                    i += 1;
                }
                if taps.is_empty() {
                    taps.push((n_in - 1, 1.0));
                }
                taps
            }
            _ => {
                let s = ((d as f64 + 0.5) * scale - 0.5) as f32;
                kernel_taps(s, interp, &mut tmp);
                tmp.iter().map(|&(i, w)| (clamp(i), w)).collect()
            }
        })
        .collect()
}

/// Resizes to `out_h` x `out_w` pixels.
pub fn resize(
    src: &Array3<f32>,
    out_h: usize,
    out_w: usize,
    interp: Interpolation,
) -> Result<Array3<f32>, ImageError> {
    let (h, w, c) = src.dim();
    if h == 0 || w == 0 || out_h == 0 || out_w == 0 {
        return Err(ImageError::Unsupported(format!(
            "resize from {w}x{h} to {out_w}x{out_h}: sizes must be positive"
        )));
    }
    let tx = resize_taps(w, out_w, interp);
    let ty = resize_taps(h, out_h, interp);
    let data = super::filter::contiguous(src);
    // Horizontal pass over every source row, then vertical: each output row
    // is a weighted sum of a few horizontally resized rows.
    let (in_row, out_row) = (w * c, out_w * c);
    // Only the source rows some output row reads need the first pass.
    let mut needed = vec![false; h];
    for taps in &ty {
        for &(i, _) in taps {
            needed[i] = true;
        }
    }
    let mut tmp = vec![0f32; h * out_row];
    tmp.par_chunks_mut(out_row)
        .zip(data.par_chunks(in_row))
        .zip(needed.par_iter())
        .filter(|(_, need)| **need)
        .for_each(|((orow, srow), _)| {
            for (x, taps) in tx.iter().enumerate() {
                let o = &mut orow[x * c..(x + 1) * c];
                for &(i, wt) in taps {
                    for (ov, sv) in o.iter_mut().zip(&srow[i * c..(i + 1) * c]) {
                        *ov += wt * sv;
                    }
                }
            }
        });
    let mut out = vec![0f32; out_h * out_row];
    out.par_chunks_mut(out_row)
        .enumerate()
        .for_each(|(y, orow)| {
            for &(i, wt) in &ty[y] {
                for (ov, tv) in orow.iter_mut().zip(&tmp[i * out_row..(i + 1) * out_row]) {
                    *ov += wt * tv;
                }
            }
        });
    Array3::from_shape_vec((out_h, out_w, c), out)
        .map_err(|e| ImageError::Unsupported(format!("resize produced a bad buffer: {e}")))
}

/// Reusable tap buffers for [`sample`].
struct Taps {
    x: Vec<(isize, f32)>,
    y: Vec<(isize, f32)>,
}

/// Samples `src` at (`x`, `y`) into `out` (one value per channel).
#[inline]
fn sample(
    src: &ArrayView3<f32>,
    x: f32,
    y: f32,
    interp: Interpolation,
    border: Border,
    taps: &mut Taps,
    out: &mut [f32],
) {
    let Taps {
        x: taps_x,
        y: taps_y,
    } = taps;
    let (h, w, _) = src.dim();
    if !x.is_finite() || !y.is_finite() {
        out.fill(border.value());
        return;
    }
    kernel_taps(x, interp, taps_x);
    kernel_taps(y, interp, taps_y);
    out.fill(0.0);
    for &(iy, wy) in taps_y.iter() {
        let sy = border.index(iy, h);
        for &(ix, wx) in taps_x.iter() {
            let wt = wy * wx;
            if wt == 0.0 {
                continue;
            }
            match (sy, border.index(ix, w)) {
                (Some(sy), Some(sx)) => {
                    for (ch, o) in out.iter_mut().enumerate() {
                        *o += wt * src[[sy, sx, ch]];
                    }
                }
                _ => {
                    let v = border.value();
                    for o in out.iter_mut() {
                        *o += wt * v;
                    }
                }
            }
        }
    }
}

/// Builds an image by sampling `src` at `f(u, v)` for every output pixel.
fn warp_with<F>(
    src: &Array3<f32>,
    out_h: usize,
    out_w: usize,
    interp: Interpolation,
    border: Border,
    f: F,
) -> Array3<f32>
where
    F: Fn(usize, usize) -> (f32, f32) + Sync,
{
    let (h, w, c) = src.dim();
    let view = src.view();
    let data = super::filter::contiguous(src);
    let data = &data[..];
    let mut out = vec![0f32; out_h * out_w * c];
    let transparent = matches!(border, Border::Transparent);
    // Transparent borders keep the source pixel; sampling near the edge
    // then replicates it.
    let border_eff = if transparent {
        Border::Replicate
    } else {
        border
    };
    out.par_chunks_mut((out_w * c).max(1))
        .enumerate()
        .for_each(|(v, row)| {
            let mut taps = Taps {
                x: Vec::with_capacity(8),
                y: Vec::with_capacity(8),
            };
            for (u, px) in row.chunks_exact_mut(c.max(1)).enumerate() {
                let (x, y) = f(u, v);
                let inside = x >= -0.5 && y >= -0.5 && x < w as f32 - 0.5 && y < h as f32 - 0.5;
                if transparent && !inside {
                    if u < w && v < h {
                        px.copy_from_slice(&data[(v * w + u) * c..(v * w + u + 1) * c]);
                    }
                    continue;
                }
                if !sample_inside(data, (h, w, c), x, y, interp, px) {
                    sample(&view, x, y, interp, border_eff, &mut taps, px);
                }
            }
        });
    Array3::from_shape_vec((out_h, out_w, c), out)
        .unwrap_or_else(|_| Array3::zeros((out_h, out_w, c)))
}

/// `v.floor()` for the coordinates warps produce (finite, far inside the
/// i32 range): without SSE4.1 in the baseline target, `floor` is a libm
/// call per sample.
#[inline(always)]
fn floor_fast(v: f32) -> f32 {
    let t = v as i32 as f32;
    if t > v {
        t - 1.0
    } else {
        t
    }
}

/// Nearest and bilinear sampling where every sample read lies inside the
/// image (most of a warp's output): direct reads, no border logic. Returns
/// false where the caller must use the general [`sample`].
#[inline]
fn sample_inside(
    data: &[f32],
    (h, w, c): (usize, usize, usize),
    x: f32,
    y: f32,
    interp: Interpolation,
    out: &mut [f32],
) -> bool {
    if !(x.is_finite() && y.is_finite()) {
        // The general path gives such samples the border value.
        return false;
    }
    match interp {
        Interpolation::Nearest => {
            let (ix, iy) = (x.round(), y.round());
            if !(ix >= 0.0 && iy >= 0.0 && ix < w as f32 && iy < h as f32) {
                return false;
            }
            let base = (iy as usize * w + ix as usize) * c;
            out.copy_from_slice(&data[base..base + c]);
            true
        }
        Interpolation::Linear | Interpolation::Area => {
            let (fx0, fy0) = (floor_fast(x), floor_fast(y));
            if !(fx0 >= 0.0 && fy0 >= 0.0 && fx0 + 1.0 < w as f32 && fy0 + 1.0 < h as f32) {
                return false;
            }
            let (ax, ay) = (x - fx0, y - fy0);
            let base = (fy0 as usize * w + fx0 as usize) * c;
            let below = base + w * c;
            for (ch, o) in out.iter_mut().enumerate() {
                let top = data[base + ch] * (1.0 - ax) + data[base + c + ch] * ax;
                let bottom = data[below + ch] * (1.0 - ax) + data[below + c + ch] * ax;
                *o = top * (1.0 - ay) + bottom * ay;
            }
            true
        }
        _ => false,
    }
}

/// Affine warp: output pixel (`u`, `v`) takes the source at
/// `m · (u, v, 1)` (`m` maps destination to source, like OpenCV's
/// `WARP_INVERSE_MAP`).
pub fn warp_affine(
    src: &Array3<f32>,
    m: [[f64; 3]; 2],
    out_h: usize,
    out_w: usize,
    interp: Interpolation,
    border: Border,
) -> Array3<f32> {
    warp_with(src, out_h, out_w, interp, border, |u, v| {
        let (u, v) = (u as f64, v as f64);
        (
            (m[0][0] * u + m[0][1] * v + m[0][2]) as f32,
            (m[1][0] * u + m[1][1] * v + m[1][2]) as f32,
        )
    })
}

/// Output pixel (`u`, `v`) takes the source at (`map_x[v, u]`, `map_y[v, u]`)
/// (OpenCV's `remap`); the output has the maps' shape.
pub fn remap(
    src: &Array3<f32>,
    map_x: &Array2<f32>,
    map_y: &Array2<f32>,
    interp: Interpolation,
    border: Border,
) -> Result<Array3<f32>, ImageError> {
    if map_x.dim() != map_y.dim() {
        return Err(ImageError::Unsupported(format!(
            "remap: map_x is {:?} but map_y is {:?}",
            map_x.dim(),
            map_y.dim()
        )));
    }
    let (oh, ow) = map_x.dim();
    Ok(warp_with(src, oh, ow, interp, border, |u, v| {
        (map_x[[v, u]], map_y[[v, u]])
    }))
}

/// The destination-to-source matrix of a rotation by `angle_deg` degrees
/// **clockwise** on screen (y down, as ECVL's `Rotate2D`), about `center`
/// (`(x, y)` pixels) with zoom `scale`.
pub fn rotation_matrix(angle_deg: f64, center: (f64, f64), scale: f64) -> [[f64; 3]; 2] {
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let (cx, cy) = center;
    let k = if scale != 0.0 { 1.0 / scale } else { 0.0 };
    // src = c + R(-angle) (dst - c) / scale
    [
        [cos * k, sin * k, cx - (cos * cx + sin * cy) * k],
        [-sin * k, cos * k, cy - (-sin * cx + cos * cy) * k],
    ]
}

/// Rotates by `angle_deg` degrees clockwise about `center` (default: the
/// middle of the pixel grid, `((w - 1) / 2, (h - 1) / 2)`), zooming by
/// `scale`; same output size; pixels from outside come from `border`.
pub fn rotate(
    src: &Array3<f32>,
    angle_deg: f64,
    center: Option<(f64, f64)>,
    scale: f64,
    interp: Interpolation,
    border: Border,
) -> Array3<f32> {
    let (h, w, _) = src.dim();
    let c = center.unwrap_or(((w as f64 - 1.0) / 2.0, (h as f64 - 1.0) / 2.0));
    warp_affine(
        src,
        rotation_matrix(angle_deg, c, scale),
        h,
        w,
        interp,
        border,
    )
}

/// Upside down (ECVL's `Flip2D`: rows reversed).
pub fn flip<T: Clone>(src: &Array3<T>) -> Array3<T> {
    // Standard layout, not the reversed strides `to_owned` would keep:
    // later steps read the buffer as a row-major slice.
    src.slice(s![..;-1, .., ..])
        .as_standard_layout()
        .into_owned()
}

/// Left to right (ECVL's `Mirror2D`: columns reversed).
pub fn mirror<T: Clone>(src: &Array3<T>) -> Array3<T> {
    src.slice(s![.., ..;-1, ..])
        .as_standard_layout()
        .into_owned()
}

/// Rows become columns (`out[x, y] = src[y, x]`).
pub fn transpose<T: Clone>(src: &Array3<T>) -> Array3<T> {
    src.view()
        .permuted_axes([1, 0, 2])
        .as_standard_layout()
        .into_owned()
}

/// The `w` x `h` window whose top-left corner is (`x`, `y`); parts outside
/// the source come from `border` (`Transparent` acts as `Constant(0)`).
pub fn crop(
    src: &Array3<f32>,
    x: isize,
    y: isize,
    w: usize,
    h: usize,
    border: Border,
) -> Array3<f32> {
    let (sh, sw, c) = src.dim();
    let mut out = Array3::<f32>::from_elem((h, w, c), border.value());
    for j in 0..h {
        let sy = border.index(y + j as isize, sh);
        for i in 0..w {
            if let (Some(sy), Some(sx)) = (sy, border.index(x + i as isize, sw)) {
                for ch in 0..c {
                    out[[j, i, ch]] = src[[sy, sx, ch]];
                }
            }
        }
    }
    out
}

/// Adds `top`, `bottom`, `left`, `right` pixels of border.
pub fn pad(
    src: &Array3<f32>,
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
    border: Border,
) -> Array3<f32> {
    let (h, w, _) = src.dim();
    crop(
        src,
        -(left as isize),
        -(top as isize),
        w + left + right,
        h + top + bottom,
        border,
    )
}

/// Applies a pure rearrangement to an `[h, w, c]` array of any element
/// type. `$a` is bound as a 3-D array: copies through fixed-rank views are
/// many times faster than through dynamic-rank ones.
macro_rules! map_hwc {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ImageData::U8(d) => ImageData::U8({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::I8(d) => ImageData::I8({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::U16(d) => ImageData::U16({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::I16(d) => ImageData::I16({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::U32(d) => ImageData::U32({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::I32(d) => ImageData::I32({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::F32(d) => ImageData::F32({
                let $a = hwc3(d)?;
                $body
            }),
            ImageData::F64(d) => ImageData::F64({
                let $a = hwc3(d)?;
                $body
            }),
        }
    };
}

fn hwc3<T>(a: ndarray::ArrayD<T>) -> Result<Array3<T>, ImageError> {
    a.into_dimensionality::<ndarray::Ix3>()
        .map_err(|e| ImageError::Unsupported(format!("expected [height, width, channels]: {e}")))
}

/// [`flip`] on a 2-D image, element type kept exactly.
pub fn flip_image(img: &Image) -> Result<Image, ImageError> {
    let d = img.to_hwc_data()?;
    img.with_hwc_data(
        map_hwc!(d, a => a.slice(s![..;-1, .., ..]).as_standard_layout().into_owned().into_dyn()),
    )
}

/// [`mirror`] on a 2-D image, element type kept exactly.
pub fn mirror_image(img: &Image) -> Result<Image, ImageError> {
    let d = img.to_hwc_data()?;
    img.with_hwc_data(
        map_hwc!(d, a => a.slice(s![.., ..;-1, ..]).as_standard_layout().into_owned().into_dyn()),
    )
}

/// [`transpose`] on a 2-D image, element type kept exactly; x and y
/// spacings swap with the axes.
pub fn transpose_image(img: &Image) -> Result<Image, ImageError> {
    let d = img.to_hwc_data()?;
    let mut out = img.with_hwc_data(map_hwc!(d, a => a
        .permuted_axes([1, 0, 2])
        .as_standard_layout()
        .into_owned()
        .into_dyn()))?;
    use crate::Axis;
    let (sx, sy) = (img.spacing_of(Axis::X), img.spacing_of(Axis::Y));
    out.set_spacing(Axis::X, sy);
    out.set_spacing(Axis::Y, sx);
    Ok(out)
}

/// The `w` x `h` window at (`x`, `y`), which must lie inside the image;
/// element type kept exactly.
pub fn crop_image(
    img: &Image,
    x: usize,
    y: usize,
    w: usize,
    h: usize,
) -> Result<Image, ImageError> {
    use crate::Axis;
    let (iw, ih) = (img.len_of(Axis::X), img.len_of(Axis::Y));
    if x + w > iw || y + h > ih || w == 0 || h == 0 {
        return Err(ImageError::Unsupported(format!(
            "crop {w}x{h} at ({x}, {y}) does not fit in a {iw}x{ih} image"
        )));
    }
    let d = img.to_hwc_data()?;
    img.with_hwc_data(map_hwc!(d, a => a.slice(s![y..y + h, x..x + w, ..]).to_owned().into_dyn()))
}

/// [`resize`] on a 2-D image (`out_w` x `out_h` pixels), element type kept.
pub fn resize_image(
    img: &Image,
    out_w: usize,
    out_h: usize,
    interp: Interpolation,
) -> Result<Image, ImageError> {
    let mut r = match resize_bytes(img, out_w, out_h, interp)? {
        Some(r) => r,
        None => {
            let a = img.to_hwc_f32()?;
            let out = resize(&a, out_h, out_w, interp)?;
            img.with_hwc_f32(out, img.dtype())
        }
    };
    use crate::Axis;
    // Physical size is preserved: spacing grows as pixels get fewer.
    let (w, h) = (img.len_of(Axis::X) as f64, img.len_of(Axis::Y) as f64);
    r.set_spacing(Axis::X, img.spacing_of(Axis::X) * w / out_w as f64);
    r.set_spacing(Axis::Y, img.spacing_of(Axis::Y) * h / out_h as f64);
    Ok(r)
}

/// The fixed-point path for 8-bit images, or `None` where it does not apply.
fn resize_bytes(
    img: &Image,
    out_w: usize,
    out_h: usize,
    interp: Interpolation,
) -> Result<Option<Image>, ImageError> {
    let Some((bytes, (h, w, c))) = super::fixed::image_bytes(img)? else {
        return Ok(None);
    };
    let Some(out) = super::fixed::resize_u8(&bytes, (h, w, c), (out_h, out_w), interp)? else {
        return Ok(None);
    };
    super::fixed::bytes_image(img, out, (out_h, out_w, c)).map(Some)
}

/// [`rotate`] on a 2-D image, element type kept.
pub fn rotate_image(
    img: &Image,
    angle_deg: f64,
    center: Option<(f64, f64)>,
    scale: f64,
    interp: Interpolation,
    border: Border,
) -> Result<Image, ImageError> {
    let a = img.to_hwc_f32()?;
    Ok(img.with_hwc_f32(
        rotate(&a, angle_deg, center, scale, interp, border),
        img.dtype(),
    ))
}

/// [`pad`] on a 2-D image, element type kept.
pub fn pad_image(
    img: &Image,
    top: usize,
    bottom: usize,
    left: usize,
    right: usize,
    border: Border,
) -> Result<Image, ImageError> {
    let a = img.to_hwc_f32()?;
    Ok(img.with_hwc_f32(pad(&a, top, bottom, left, right, border), img.dtype()))
}
