//! 8-bit Gaussian blur. The horizontal pass weighs bytes with 8-bit
//! weights into 16-bit sums (OpenCV's 8.8 fixed point for 8-bit
//! Gaussians); the vertical pass multiplies those by 16-bit weights and
//! keeps the high 16 bits of each product, so the sum stays in 8.8. Both
//! loops run over whole interleaved rows with a constant stride per tap, so
//! they vectorise. Kernels wider than sigma [`MAX_SIGMA`] take the float
//! path: their tails would round away in 8-bit weights.

use multiversion::multiversion;
use rayon::prelude::*;

use super::{band_rows, RowWindow};
use crate::ops::filter::{gaussian_kernel, Border};
use crate::ImageError;

const H_BITS: u32 = 8;
const V_BITS: u32 = 16;

/// Largest sigma the 8-bit path takes (25 taps): beyond it the 8-bit
/// horizontal weights lose too much of the kernel's tails.
pub const MAX_SIGMA: f64 = 4.0;

/// A non-negative kernel quantised to integers summing exactly to
/// `1 << bits`, by cumulative rounding (each weight within one unit of its
/// value, the rounding spread over the kernel).
fn quantise(k: &[f32], bits: u32) -> Vec<u32> {
    let one = (1u64 << bits) as f64;
    let total: f64 = k.iter().map(|&v| f64::from(v)).sum();
    let scale = if total > 0.0 { one / total } else { 0.0 };
    let (mut run, mut prev) = (0.0f64, 0i64);
    k.iter()
        .map(|&v| {
            run += f64::from(v).max(0.0) * scale;
            let r = run.round() as i64;
            let q = (r - prev).max(0);
            prev = r;
            q as u32
        })
        .collect()
}

/// Blurs an interleaved 8-bit image (`h` x `w` pixels of `c` channels)
/// with a Gaussian of standard deviations `sigma_x`, `sigma_y` (pixels;
/// kernels as [`gaussian_kernel`]), outside pixels from `border`
/// (`Transparent` acts as `Replicate`, as in the float filter). `None` when
/// a sigma exceeds [`MAX_SIGMA`] (use the float path).
pub fn gaussian_blur_u8(
    src: &[u8],
    (h, w, c): (usize, usize, usize),
    sigma_x: f64,
    sigma_y: f64,
    border: Border,
) -> Result<Option<Vec<u8>>, ImageError> {
    if src.len() != h * w * c {
        return Err(ImageError::Unsupported(format!(
            "blur: {} bytes do not hold {w}x{h}x{c} samples",
            src.len()
        )));
    }
    if sigma_x > MAX_SIGMA || sigma_y > MAX_SIGMA {
        return Ok(None);
    }
    if h == 0 || w == 0 || c == 0 {
        return Ok(Some(Vec::new()));
    }
    let border = match border {
        Border::Transparent => Border::Replicate,
        b => b,
    };
    let kx: Vec<u16> = quantise(&gaussian_kernel(sigma_x), H_BITS)
        .iter()
        .map(|&v| v as u16)
        .collect();
    let ky = quantise(&gaussian_kernel(sigma_y), V_BITS);
    let (rx, ry) = (kx.len() / 2, ky.len() / 2);
    let row_len = w * c;
    let fill = border.value().round().clamp(0.0, 255.0) as u8;
    // A constant border row after the horizontal pass.
    let fill_row = vec![u16::from(fill) << H_BITS; row_len];
    let band = band_rows(h);
    let mut out = vec![0u8; h * row_len];
    out.par_chunks_mut(band * row_len)
        .enumerate()
        .for_each(|(b, oband)| {
            // Window rows are source rows shifted by `ry` (so the rows above
            // the image are 0..ry); border rows map through `border.index`.
            let mut window = RowWindow::<u16>::new(row_len);
            let mut padded = vec![0u8; (w + 2 * rx) * c];
            for (r, orow) in oband.chunks_exact_mut(row_len).enumerate() {
                let y = b * band + r;
                window.advance(y, y + 2 * ry, |p, hrow| {
                    match border.index(p as isize - ry as isize, h) {
                        Some(iy) => {
                            let srow = &src[iy * row_len..(iy + 1) * row_len];
                            pad_row(srow, w, c, rx, border, fill, &mut padded);
                            horizontal(&padded, c, &kx, hrow);
                        }
                        None => hrow.copy_from_slice(&fill_row),
                    }
                });
                let rows: Vec<&[u16]> = (y..=y + 2 * ry).map(|p| window.row(p)).collect();
                vertical(&rows, &ky, orow);
            }
        });
    Ok(Some(out))
}

/// The row with `rx` pixels of border on each side.
fn pad_row(srow: &[u8], w: usize, c: usize, rx: usize, border: Border, fill: u8, out: &mut [u8]) {
    out[rx * c..(rx + w) * c].copy_from_slice(srow);
    for p in (0..rx).chain(rx + w..w + 2 * rx) {
        let dst = &mut out[p * c..(p + 1) * c];
        match border.index(p as isize - rx as isize, w) {
            Some(i) => dst.copy_from_slice(&srow[i * c..(i + 1) * c]),
            None => dst.fill(fill),
        }
    }
}

/// Samples per block: a block's accumulators stay in L1 while every tap
/// passes over them.
const BLOCK: usize = 1024;

/// `out[i] = sum_j k[j] * padded[i + j c]`, tap by tap over blocks of the
/// row (each pass is a plain vector loop).
#[multiversion(targets = "simd")]
fn horizontal(padded: &[u8], c: usize, k: &[u16], out: &mut [u16]) {
    for (b, ob) in out.chunks_mut(BLOCK).enumerate() {
        let start = b * BLOCK;
        let n = ob.len();
        ob.fill(0);
        for (j, &kj) in k.iter().enumerate() {
            let seg = &padded[start + j * c..start + j * c + n];
            for (o, &v) in ob.iter_mut().zip(seg) {
                *o = o.wrapping_add(kj.wrapping_mul(u16::from(v)));
            }
        }
    }
}

/// `out[i] = round(sum_j hi16(k[j] * rows[j][i]) / 256)`: rows are 8.8
/// fixed point, weights 0.16 (each below 1; a one-tap kernel, whose weight
/// is exactly 1, is a copy).
#[multiversion(targets = "simd")]
fn vertical(rows: &[&[u16]], k: &[u32], out: &mut [u8]) {
    if k.len() == 1 {
        for (o, &v) in out.iter_mut().zip(rows[0]) {
            *o = ((u32::from(v) + 128) >> 8).min(255) as u8;
        }
        return;
    }
    let mut acc = [0u16; BLOCK];
    for (b, ob) in out.chunks_mut(BLOCK).enumerate() {
        let start = b * BLOCK;
        let n = ob.len();
        let acc = &mut acc[..n];
        acc.fill(128);
        for (row, &kj) in rows.iter().zip(k) {
            let kj = kj.min(u32::from(u16::MAX)) as u16;
            for (a, &v) in acc.iter_mut().zip(&row[start..start + n]) {
                *a = a.wrapping_add(mul_high(v, kj));
            }
        }
        for (o, &a) in ob.iter_mut().zip(acc.iter()) {
            *o = (a >> 8) as u8;
        }
    }
}

/// The high 16 bits of a 16 x 16-bit product.
#[inline(always)]
fn mul_high(a: u16, b: u16) -> u16 {
    ((u32::from(a) * u32::from(b)) >> 16) as u16
}
