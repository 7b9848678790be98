//! 8-bit Gaussian blur in OpenCV's fixed point for 8-bit Gaussians: the
//! horizontal pass weighs bytes with 8-bit weights into 8.8 sums, the
//! vertical pass weighs those with 8-bit weights again, in 16-bit
//! arithmetic throughout (see [`vertical`]). Both
//! loops run over whole interleaved rows with a constant stride per tap, so
//! they vectorise. Kernels wider than sigma [`MAX_SIGMA`] take the float
//! path: their tails would round away in 8-bit weights.

use multiversion::multiversion;
use rayon::prelude::*;

use super::{band_rows, RowWindow};
use crate::ops::filter::{gaussian_kernel, Border};
use crate::ImageError;

const H_BITS: u32 = 8;
const V_BITS: u32 = 8;

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
    let ky: Vec<u16> = quantise(&gaussian_kernel(sigma_y), V_BITS)
        .iter()
        .map(|&v| v as u16)
        .collect();
    let (rx, ry) = (kx.len() / 2, ky.len() / 2);
    let row_len = w * c;
    let fill = border.value().round().clamp(0.0, 255.0) as u8;
    // A constant border row after the horizontal pass.
    let fill_row = vec![u16::from(fill) << H_BITS; row_len];
    let band = band_rows(h);
    let mut out = super::buffer::output_buffer(h * row_len);
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

/// Output samples computed together: their sums stay in registers (two
/// AVX2 registers of 16-bit lanes) while every tap passes over them.
const LANES: usize = 32;

/// `out[i] = sum_j k[j] * padded[i + j c]`.
#[multiversion(targets = "simd")]
fn horizontal(padded: &[u8], c: usize, k: &[u16], out: &mut [u16]) {
    for (b, oc) in out.chunks_exact_mut(LANES).enumerate() {
        let start = b * LANES;
        let mut acc = [0u16; LANES];
        for (j, &kj) in k.iter().enumerate() {
            let seg = &padded[start + j * c..start + j * c + LANES];
            for (a, &v) in acc.iter_mut().zip(seg) {
                *a = a.wrapping_add(kj.wrapping_mul(u16::from(v)));
            }
        }
        oc.copy_from_slice(&acc);
    }
    let done = out.len() / LANES * LANES;
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        *o = k.iter().enumerate().fold(0u16, |a, (j, &kj)| {
            a.wrapping_add(kj.wrapping_mul(u16::from(padded[i + j * c])))
        });
    }
}

/// `out[i] = round(sum_j k[j] * rows[j][i] / 2^16)`: rows are 8.8 fixed
/// point, weights 0.8 (summing to 256, as OpenCV's 8-bit Gaussian). Each
/// row value splits into its high and low bytes, whose weighted sums each
/// fit 16 bits (at most 255 * 256), so the loop is 16-bit multiplies and
/// adds only, 16 lanes per AVX2 instruction; recombining them is exact:
/// `floor((256 hi + lo + 2^15) / 2^16) = floor((hi + floor(lo / 256) + 128) / 256)`.
#[multiversion(targets = "simd")]
fn vertical(rows: &[&[u16]], k: &[u16], out: &mut [u8]) {
    for (b, oc) in out.chunks_exact_mut(LANES).enumerate() {
        let start = b * LANES;
        let mut high = [0u16; LANES];
        let mut low = [0u16; LANES];
        for (row, &kj) in rows.iter().zip(k) {
            let seg = &row[start..start + LANES];
            for ((h, l), &v) in high.iter_mut().zip(low.iter_mut()).zip(seg) {
                *h = h.wrapping_add(kj.wrapping_mul(v >> 8));
                *l = l.wrapping_add(kj.wrapping_mul(v & 0xFF));
            }
        }
        for ((o, &h), &l) in oc.iter_mut().zip(&high).zip(&low) {
            *o = combine(h, l);
        }
    }
    let done = out.len() / LANES * LANES;
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        let (mut h, mut l) = (0u16, 0u16);
        for (row, &kj) in rows.iter().zip(k) {
            h = h.wrapping_add(kj.wrapping_mul(row[i] >> 8));
            l = l.wrapping_add(kj.wrapping_mul(row[i] & 0xFF));
        }
        *o = combine(h, l);
    }
}

/// The rounded 8-bit result from the high- and low-byte sums (see [`vertical`]).
#[inline(always)]
fn combine(high: u16, low: u16) -> u8 {
    (high.wrapping_add(low >> 8).wrapping_add(128) >> 8) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The vertical pass's high/low split gives exactly the rounded 32-bit
    /// weighted sum, in the vector body and the scalar tail alike.
    #[test]
    fn vertical_is_the_exactly_rounded_weighted_sum() {
        let mut state = 0x9E37_79B9u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        for sigma in [0.3, 1.0, 2.5, MAX_SIGMA] {
            let k: Vec<u16> = quantise(&gaussian_kernel(sigma), V_BITS)
                .iter()
                .map(|&v| v as u16)
                .collect();
            assert_eq!(k.iter().map(|&v| u32::from(v)).sum::<u32>(), 256);
            let len = 77; // two full 32-sample blocks and a tail
                          // 8.8 values up to 255.0, with extremes mixed in.
            let rows: Vec<Vec<u16>> = (0..k.len())
                .map(|_| {
                    (0..len)
                        .map(|i| match i % 5 {
                            0 => 65280,
                            1 => 0,
                            _ => (next() % 65281) as u16,
                        })
                        .collect()
                })
                .collect();
            let refs: Vec<&[u16]> = rows.iter().map(Vec::as_slice).collect();
            let mut out = vec![0u8; len];
            vertical(&refs, &k, &mut out);
            for (i, &o) in out.iter().enumerate() {
                let sum: u32 = refs
                    .iter()
                    .zip(&k)
                    .map(|(r, &w)| u32::from(w) * u32::from(r[i]))
                    .sum();
                assert_eq!(
                    u32::from(o),
                    (sum + (1 << 15)) >> 16,
                    "sigma {sigma}, sample {i}"
                );
            }
        }
    }
}
