//! 8-bit resize with 11-bit fixed-point weights (OpenCV's precision for
//! 8-bit `resize`), separable: each band of output rows resizes the source
//! rows it needs horizontally into 32-bit rows, then combines them
//! vertically.

use multiversion::multiversion;
use rayon::prelude::*;

use super::{band_rows, RowWindow};
use crate::ops::geometry::{resize_taps, Interpolation};
use crate::ImageError;

const BITS: u32 = 11;
const ONE: i32 = 1 << BITS;
/// Both passes scale by `ONE`; this rounds the product back to bytes.
const SHIFT: u32 = 2 * BITS;
const HALF: i32 = 1 << (SHIFT - 1);

/// Per output index along one axis, `n` source indices and weights summing
/// exactly to `ONE` (padded with zero weights where an index has fewer).
struct Taps {
    n: usize,
    index: Vec<usize>,
    weight: Vec<i32>,
}

impl Taps {
    fn quantise(taps: &[Vec<(usize, f32)>]) -> Taps {
        let n = taps.iter().map(Vec::len).max().unwrap_or(1).max(1);
        let mut index = Vec::with_capacity(taps.len() * n);
        let mut weight = Vec::with_capacity(taps.len() * n);
        for t in taps {
            // Cumulative rounding: each weight is the step between rounded
            // running sums, so the weights sum to exactly `ONE` (a flat
            // image stays flat) and each is within one unit of its value.
            let total: f64 = t.iter().map(|&(_, v)| f64::from(v)).sum();
            let scale = if total != 0.0 {
                f64::from(ONE) / total
            } else {
                0.0
            };
            let (mut run, mut prev) = (0.0f64, 0i32);
            let w: Vec<i32> = t
                .iter()
                .map(|&(_, v)| {
                    run += f64::from(v) * scale;
                    let r = run.round() as i32;
                    let q = r - prev;
                    prev = r;
                    q
                })
                .collect();
            let first = t.first().map_or(0, |p| p.0);
            for k in 0..n {
                index.push(t.get(k).map_or(first, |p| p.0));
                weight.push(w.get(k).copied().unwrap_or(0));
            }
        }
        Taps { n, index, weight }
    }
}

/// Most taps per output sample the fixed-point path takes: with 11-bit
/// weights, more (an area shrink by more than about 8x along an axis)
/// would round small weights away; such shrinks take the float path.
const MAX_TAPS: usize = 9;

/// Resizes an interleaved 8-bit image (`h` x `w` pixels of `c` channels)
/// to `out_h` x `out_w`. Nearest, linear, area and cubic follow OpenCV's
/// conventions (as [`crate::ops::geometry::resize`] does); `None` where
/// the float path must do it: Lanczos-4 (its overshoot does not fit the
/// fixed-point range) and area shrinks by more than 8x along an axis that
/// are not whole blocks of at most 256 pixels.
pub fn resize_u8(
    src: &[u8],
    (h, w, c): (usize, usize, usize),
    (out_h, out_w): (usize, usize),
    interp: Interpolation,
) -> Result<Option<Vec<u8>>, ImageError> {
    resize_with(src, (h, w, c), (out_h, out_w), interp, Vector::detect())
}

/// The explicit-SIMD kernels this CPU runs (see [`super::resize_avx2`]);
/// `none()` runs the portable code everywhere (for tests of both).
#[derive(Clone, Copy)]
struct Vector {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<pulp::x86::V3>,
}

impl Vector {
    fn detect() -> Vector {
        Vector {
            #[cfg(target_arch = "x86_64")]
            avx2: super::resize_avx2::detect(),
        }
    }

    #[cfg(test)]
    fn none() -> Vector {
        Vector {
            #[cfg(target_arch = "x86_64")]
            avx2: None,
        }
    }
}

fn resize_with(
    src: &[u8],
    (h, w, c): (usize, usize, usize),
    (out_h, out_w): (usize, usize),
    interp: Interpolation,
    vector: Vector,
) -> Result<Option<Vec<u8>>, ImageError> {
    if h == 0 || w == 0 || c == 0 || out_h == 0 || out_w == 0 {
        return Err(ImageError::Unsupported(format!(
            "resize from {w}x{h} to {out_w}x{out_h}: sizes must be positive"
        )));
    }
    if src.len() != h * w * c {
        return Err(ImageError::Unsupported(format!(
            "resize: {} bytes do not hold {w}x{h}x{c} samples",
            src.len()
        )));
    }
    let box_factor = |n: usize, m: usize| (n % m == 0).then_some(n / m);
    let out = match interp {
        Interpolation::Lanczos4 => return Ok(None),
        Interpolation::Nearest => nearest(src, (h, w, c), (out_h, out_w)),
        // Linear at exactly half size samples midway between pixel pairs:
        // the 2x2 box average (OpenCV makes the same substitution).
        Interpolation::Linear if h == 2 * out_h && w == 2 * out_w => {
            box_average(src, (h, w, c), (out_h, out_w), (2, 2), vector)
        }
        Interpolation::Area => match (box_factor(h, out_h), box_factor(w, out_w)) {
            (Some(fy), Some(fx)) if fx * fy <= 256 => {
                box_average(src, (h, w, c), (out_h, out_w), (fy, fx), vector)
            }
            // Heavy non-integer (or > 256-pixel block) shrinks: float path.
            _ if h > (MAX_TAPS - 1) * out_h || w > (MAX_TAPS - 1) * out_w => return Ok(None),
            _ => separable(src, (h, w, c), (out_h, out_w), interp, vector),
        },
        _ => separable(src, (h, w, c), (out_h, out_w), interp, vector),
    };
    Ok(Some(out))
}

fn nearest(
    src: &[u8],
    (h, w, c): (usize, usize, usize),
    (out_h, out_w): (usize, usize),
) -> Vec<u8> {
    let xs: Vec<usize> = (0..out_w)
        .map(|d| ((d as f64 * w as f64 / out_w as f64).floor() as usize).min(w - 1) * c)
        .collect();
    let mut out = super::buffer::output_buffer(out_h * out_w * c);
    out.par_chunks_mut(out_w * c)
        .enumerate()
        .for_each(|(y, orow)| {
            let sy = ((y as f64 * h as f64 / out_h as f64).floor() as usize).min(h - 1);
            let srow = &src[sy * w * c..(sy + 1) * w * c];
            for (o, &sx) in orow.chunks_exact_mut(c).zip(&xs) {
                o.copy_from_slice(&srow[sx..sx + c]);
            }
        });
    out
}

/// Mean of each `fy` x `fx` block (`fx * fy <= 256`, so sums fit 16 bits),
/// rounded half up.
fn box_average(
    src: &[u8],
    (_h, w, c): (usize, usize, usize),
    (out_h, out_w): (usize, usize),
    (fy, fx): (usize, usize),
    vector: Vector,
) -> Vec<u8> {
    let row_len = w * c;
    let mut out = super::buffer::output_buffer(out_h * out_w * c);
    #[cfg(target_arch = "x86_64")]
    if let (Some(simd), (2, 2), 1..=4) = (vector.avx2, (fy, fx), c) {
        out.par_chunks_mut(out_w * c)
            .enumerate()
            .for_each(|(y, orow)| {
                let (r0, r1) = src[2 * y * row_len..(2 * y + 2) * row_len].split_at(row_len);
                super::resize_avx2::box_half(simd, c, r0, r1, orow);
            });
        return out;
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = vector;
    out.par_chunks_mut(out_w * c).enumerate().for_each_init(
        || (vec![0u16; row_len], vec![0u16; row_len]),
        |(sums, window), (y, orow)| {
            let rows = &src[y * fy * row_len..(y + 1) * fy * row_len];
            column_sums(rows, row_len, sums);
            box_row(sums, (fy, fx), c, window, orow);
        },
    );
    out
}

/// `sums[i]` = the sum of sample `i` over the rows.
#[multiversion(targets = "simd")]
fn column_sums(rows: &[u8], row_len: usize, sums: &mut [u16]) {
    if rows.len() == 2 * row_len {
        // Two rows (half size): one pass, no zero fill.
        let (r0, r1) = rows.split_at(row_len);
        for ((s, &a), &b) in sums.iter_mut().zip(r0).zip(r1) {
            *s = u16::from(a) + u16::from(b);
        }
        return;
    }
    sums.fill(0);
    for srow in rows.chunks_exact(row_len) {
        for (s, &v) in sums.iter_mut().zip(srow) {
            *s = s.wrapping_add(u16::from(v));
        }
    }
}

/// One output row of [`box_average`] from the column sums of its source
/// rows. `window` is scratch of the row's length.
#[multiversion(targets = "simd")]
fn box_row(sums: &[u16], (fy, fx): (usize, usize), c: usize, window: &mut [u16], out: &mut [u8]) {
    let area = (fx * fy) as u32;
    let half = (area / 2) as u16;
    // n / area: a shift for powers of two; otherwise (n * m) >> 32 with
    // m = ceil(2^32 / area), exact for the n < 2^16 that occur.
    let shift = area.trailing_zeros();
    let recip = u32::try_from((1u64 << 32).div_ceil(u64::from(area))).unwrap_or(u32::MAX);
    let mean = |v: u16| -> u8 {
        let v = v.wrapping_add(half);
        if area.is_power_of_two() {
            (v >> shift) as u8
        } else {
            ((u64::from(v) * u64::from(recip)) >> 32) as u8
        }
    };
    if (fx, c) == (2, 3) {
        // The common case (half size, RGB): pairs of pixels directly.
        for (o, s) in out.chunks_exact_mut(3).zip(sums.chunks_exact(6)) {
            o[0] = mean(s[0].wrapping_add(s[3]));
            o[1] = mean(s[1].wrapping_add(s[4]));
            o[2] = mean(s[2].wrapping_add(s[5]));
        }
        return;
    }
    // Sums over fx pixels starting at every position, then the block
    // starts picked out.
    let span = sums.len() - (fx - 1) * c;
    let window = &mut window[..span];
    window.copy_from_slice(&sums[..span]);
    for k in 1..fx {
        for (wv, &s) in window.iter_mut().zip(&sums[k * c..k * c + span]) {
            *wv = wv.wrapping_add(s);
        }
    }
    for (x, o) in out.chunks_exact_mut(c).enumerate() {
        for (ch, ov) in o.iter_mut().enumerate() {
            *ov = mean(window[x * fx * c + ch]);
        }
    }
}

fn separable(
    src: &[u8],
    (h, w, c): (usize, usize, usize),
    (out_h, out_w): (usize, usize),
    interp: Interpolation,
    vector: Vector,
) -> Vec<u8> {
    let tx = Taps::quantise(&resize_taps(w, out_w, interp));
    let ty = Taps::quantise(&resize_taps(h, out_h, interp));
    let (in_row, out_row) = (w * c, out_w * c);
    let band = band_rows(out_h);
    let mut out = super::buffer::output_buffer(out_h * out_row);
    // With the AVX2 kernels, vertical-first in both directions: enlarging
    // rows it blends out_h rows where horizontal-first would resize h,
    // but each pass is several times faster than the portable ones
    // (4096 to 5000 pixels: 44 to 19 ms linear, 76 to 30 ms cubic).
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = vector.avx2 {
        if let Some(win) = super::resize_avx2::Windows::new(c, tx.n, &tx.index, &tx.weight) {
            if vertical_first_avx2(simd, src, in_row, &ty, &win, &mut out, band) {
                return out;
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = vector;
    // Horizontal taps as byte offsets into a source row.
    let x_offsets: Vec<usize> = tx.index.iter().map(|i| i * c).collect();
    if out_h <= h {
        // Shrinking rows: blending source rows first leaves the gathering
        // horizontal pass only out_h rows to do (instead of every source
        // row), and the vertical pass reads bytes in plain vector loops.
        let split = SplitTaps::new(c, &tx, out_row);
        out.par_chunks_mut(band * out_row)
            .enumerate()
            .for_each(|(b, oband)| {
                let mut vrow = vec![0i32; in_row];
                let mut scratch = vec![0i32; split.as_ref().map_or(0, |s| s.scratch_len())];
                for (r, orow) in oband.chunks_exact_mut(out_row).enumerate() {
                    let y = b * band + r;
                    let idx = &ty.index[y * ty.n..(y + 1) * ty.n];
                    let rows: Vec<&[u8]> = idx
                        .iter()
                        .map(|&i| &src[i * in_row..(i + 1) * in_row])
                        .collect();
                    blend_rows(&rows, &ty.weight[y * ty.n..(y + 1) * ty.n], &mut vrow);
                    match &split {
                        Some(t) => gather_blend_to_bytes(&vrow, t, &x_offsets, &mut scratch, orow),
                        None => horizontal_to_bytes(&vrow, (c, tx.n), &x_offsets, &tx.weight, orow),
                    }
                }
            });
        return out;
    }
    out.par_chunks_mut(band * out_row)
        .enumerate()
        .for_each(|(b, oband)| {
            let mut window = RowWindow::<i32>::new(out_row);
            let mut acc = vec![0i32; out_row];
            for (r, orow) in oband.chunks_exact_mut(out_row).enumerate() {
                let y = b * band + r;
                let idx = &ty.index[y * ty.n..(y + 1) * ty.n];
                let (lo, hi) = (
                    idx.iter().copied().min().unwrap_or(0),
                    idx.iter().copied().max().unwrap_or(0),
                );
                window.advance(lo, hi, |sy, hrow| {
                    horizontal_from_bytes(
                        &src[sy * in_row..(sy + 1) * in_row],
                        (c, tx.n),
                        &x_offsets,
                        &tx.weight,
                        hrow,
                    )
                });
                let rows: Vec<&[i32]> = idx.iter().map(|&i| window.row(i)).collect();
                vertical(&rows, &ty.weight[y * ty.n..(y + 1) * ty.n], &mut acc, orow);
            }
        });
    out
}

/// The vertical-first path with the AVX2 kernels: each output row blends
/// its two or four source rows into 16-bit samples, then resizes that row
/// horizontally by windows. `false` (nothing written) where the vertical
/// taps do not fit: more than four, or weights beyond 16 bits.
#[cfg(target_arch = "x86_64")]
fn vertical_first_avx2(
    simd: pulp::x86::V3,
    src: &[u8],
    in_row: usize,
    ty: &Taps,
    win: &super::resize_avx2::Windows,
    out: &mut [u8],
    band: usize,
) -> bool {
    use super::resize_avx2::{blend_rows, horizontal, Windows};
    let n = match ty.n {
        1 | 2 => 2,
        3 | 4 => 4,
        _ => return false,
    };
    let Ok(weights) = ty
        .weight
        .iter()
        .map(|&w| i16::try_from(w))
        .collect::<Result<Vec<i16>, _>>()
    else {
        return false;
    };
    let out_h = ty.index.len() / ty.n;
    let out_row = out.len() / out_h.max(1);
    out.par_chunks_mut(band * out_row)
        .enumerate()
        .for_each(|(b, oband)| {
            // The source row's samples, then zeros the windows may read.
            let mut vrow = vec![0i16; in_row + Windows::PAD];
            for (r, orow) in oband.chunks_exact_mut(out_row).enumerate() {
                let y = b * band + r;
                let (idx, wts) = (
                    &ty.index[y * ty.n..(y + 1) * ty.n],
                    &weights[y * ty.n..(y + 1) * ty.n],
                );
                // Taps padded to `n` with zero weights on the first row.
                let rows: [&[u8]; 4] = std::array::from_fn(|k| {
                    let i = idx.get(k).copied().unwrap_or(idx[0]);
                    &src[i * in_row..(i + 1) * in_row]
                });
                let w: [i16; 4] = std::array::from_fn(|k| wts.get(k).copied().unwrap_or(0));
                blend_rows(simd, &rows[..n], &w[..n], &mut vrow[..in_row]);
                horizontal(simd, &vrow, win, orow);
            }
        });
    true
}

/// `out[i] = sum_k weights[k] * rows[k][i]` over byte rows (`ONE`-scaled).
#[multiversion(targets = "simd")]
fn blend_rows(rows: &[&[u8]], weights: &[i32], out: &mut [i32]) {
    if let ([r0, r1], [w0, w1]) = (rows, weights) {
        for ((o, &a), &b) in out.iter_mut().zip(r0.iter()).zip(r1.iter()) {
            *o = w0
                .wrapping_mul(i32::from(a))
                .wrapping_add(w1.wrapping_mul(i32::from(b)));
        }
        return;
    }
    if let ([r0, r1, r2, r3], [w0, w1, w2, w3]) = (rows, weights) {
        // Cubic: the four rows at once, sums in registers.
        let quads = r0.iter().zip(r1.iter()).zip(r2.iter().zip(r3.iter()));
        for (o, ((&a, &b), (&c, &d))) in out.iter_mut().zip(quads) {
            *o = w0
                .wrapping_mul(i32::from(a))
                .wrapping_add(w1.wrapping_mul(i32::from(b)))
                .wrapping_add(w2.wrapping_mul(i32::from(c)))
                .wrapping_add(w3.wrapping_mul(i32::from(d)));
        }
        return;
    }
    out.fill(0);
    for (row, &wk) in rows.iter().zip(weights) {
        if wk == 0 {
            continue;
        }
        for (o, &v) in out.iter_mut().zip(row.iter()) {
            *o = o.wrapping_add(wk.wrapping_mul(i32::from(v)));
        }
    }
}

/// One output row from horizontally resized rows and their weights.
#[multiversion(targets = "simd")]
fn vertical(rows: &[&[i32]], weights: &[i32], acc: &mut [i32], out: &mut [u8]) {
    if let ([r0, r1], [w0, w1]) = (rows, weights) {
        for ((o, a), b) in out.iter_mut().zip(r0.iter()).zip(r1.iter()) {
            *o = to_byte(w0.wrapping_mul(*a).wrapping_add(w1.wrapping_mul(*b)));
        }
        return;
    }
    acc.fill(0);
    for (row, &wk) in rows.iter().zip(weights) {
        if wk == 0 {
            continue;
        }
        for (a, v) in acc.iter_mut().zip(row.iter()) {
            *a = a.wrapping_add(wk.wrapping_mul(*v));
        }
    }
    for (o, a) in out.iter_mut().zip(acc.iter()) {
        *o = to_byte(*a);
    }
}

#[inline(always)]
// max/min rather than clamp: here they compile to conditional moves, clamp
// to branches (measured: the 3000-pixel resize went from 33 to 26 ms).
#[allow(clippy::manual_clamp)]
fn to_byte(v: i32) -> u8 {
    (v.wrapping_add(HALF) >> SHIFT).max(0).min(255) as u8
}

/// One row resized horizontally: `out` pixel `x` channel `ch` is
/// `store(sum_k weights[x n + k] * load(src[offsets[x n + k] + ch]))`. The
/// horizontal-first path loads bytes and stores `ONE`-scaled sums; the
/// vertical-first path loads those sums and stores rounded bytes. Inlined
/// into its callers, which are compiled per instruction set.
#[inline(always)]
fn horizontal<I: Copy, O: Copy>(
    src: &[I],
    (c, n): (usize, usize),
    offsets: &[usize],
    weights: &[i32],
    out: &mut [O],
    load: impl Fn(I) -> i32 + Copy,
    store: impl Fn(i32) -> O + Copy,
) {
    // Fixed channel and tap counts let the compiler unroll the inner loops.
    match (c, n) {
        (3, 2) => gather::<3, 2, I, O>(src, offsets, weights, out, load, store),
        (3, 3) => gather::<3, 3, I, O>(src, offsets, weights, out, load, store),
        (3, 4) => gather::<3, 4, I, O>(src, offsets, weights, out, load, store),
        (1, 2) => gather::<1, 2, I, O>(src, offsets, weights, out, load, store),
        (1, 4) => gather::<1, 4, I, O>(src, offsets, weights, out, load, store),
        (4, 2) => gather::<4, 2, I, O>(src, offsets, weights, out, load, store),
        (4, 4) => gather::<4, 4, I, O>(src, offsets, weights, out, load, store),
        _ => {
            for ((o, offs), wts) in out
                .chunks_exact_mut(c)
                .zip(offsets.chunks_exact(n))
                .zip(weights.chunks_exact(n))
            {
                for (ch, ov) in o.iter_mut().enumerate() {
                    let mut acc = 0i32;
                    for (&off, &wk) in offs.iter().zip(wts) {
                        acc = acc.wrapping_add(wk.wrapping_mul(load(src[off + ch])));
                    }
                    *ov = store(acc);
                }
            }
        }
    }
}

#[inline(always)]
fn gather<const C: usize, const N: usize, I: Copy, O: Copy>(
    src: &[I],
    offsets: &[usize],
    weights: &[i32],
    out: &mut [O],
    load: impl Fn(I) -> i32,
    store: impl Fn(i32) -> O,
) {
    for ((o, offs), wts) in out
        .chunks_exact_mut(C)
        .zip(offsets.chunks_exact(N))
        .zip(weights.chunks_exact(N))
    {
        let mut acc = [0i32; C];
        for k in 0..N {
            let px = &src[offs[k]..offs[k] + C];
            for ch in 0..C {
                acc[ch] = acc[ch].wrapping_add(wts[k].wrapping_mul(load(px[ch])));
            }
        }
        for ch in 0..C {
            o[ch] = store(acc[ch]);
        }
    }
}

/// [`horizontal`] from bytes to `ONE`-scaled sums (horizontal-first path).
#[multiversion(targets = "simd")]
fn horizontal_from_bytes(
    srow: &[u8],
    cn: (usize, usize),
    offsets: &[usize],
    weights: &[i32],
    out: &mut [i32],
) {
    horizontal(srow, cn, offsets, weights, out, i32::from, |v| v);
}

/// [`horizontal`] from `ONE`-scaled sums to rounded bytes (vertical-first path).
#[multiversion(targets = "simd")]
fn horizontal_to_bytes(
    vrow: &[i32],
    cn: (usize, usize),
    offsets: &[usize],
    weights: &[i32],
    out: &mut [u8],
) {
    horizontal(vrow, cn, offsets, weights, out, |v| v, to_byte);
}

/// The horizontal taps of a vertical-first resize laid out per output
/// sample, tap by tap (`weights[k * len + s]`: tap `k`'s weight for sample
/// `s`), for 2 taps (linear) and 4 (cubic) on 1, 3 or 4 channels.
struct SplitTaps {
    c: usize,
    n: usize,
    len: usize,
    weights: Vec<i32>,
}

impl SplitTaps {
    fn new(c: usize, tx: &Taps, out_row: usize) -> Option<SplitTaps> {
        if !matches!(c, 1 | 3 | 4) || !matches!(tx.n, 2 | 4) {
            return None;
        }
        let n = tx.n;
        let mut weights = vec![0i32; n * out_row];
        for (k, wk) in weights.chunks_exact_mut(out_row).enumerate() {
            for (px, w) in wk.chunks_exact_mut(c).zip(tx.weight.chunks_exact(n)) {
                px.fill(w[k]);
            }
        }
        Some(SplitTaps {
            c,
            n,
            len: out_row,
            weights,
        })
    }

    fn scratch_len(&self) -> usize {
        self.n * self.len
    }
}

/// One output row from a vertically blended row, in two steps that both
/// run as plain loops: copy each tap's source pixels into a contiguous row
/// of its own (whole pixels, no arithmetic), then blend those rows sample
/// by sample with [`SplitTaps`]' weights in a vector loop. Gathering and
/// computing at once, per pixel, keeps the arithmetic scalar.
#[multiversion(targets = "simd")]
fn gather_blend_to_bytes(
    vrow: &[i32],
    taps: &SplitTaps,
    offsets: &[usize],
    scratch: &mut [i32],
    out: &mut [u8],
) {
    let len = taps.len;
    match (taps.c, taps.n) {
        (1, 2) => copy_taps::<1, 2>(vrow, offsets, scratch, len),
        (3, 2) => copy_taps::<3, 2>(vrow, offsets, scratch, len),
        (4, 2) => copy_taps::<4, 2>(vrow, offsets, scratch, len),
        (1, _) => copy_taps::<1, 4>(vrow, offsets, scratch, len),
        (3, _) => copy_taps::<3, 4>(vrow, offsets, scratch, len),
        _ => copy_taps::<4, 4>(vrow, offsets, scratch, len),
    }
    let w = &taps.weights;
    if taps.n == 2 {
        let (s0, s1) = scratch.split_at(len);
        let (w0, w1) = w.split_at(len);
        for ((o, (&a, &b)), (&wa, &wb)) in
            out.iter_mut().zip(s0.iter().zip(s1)).zip(w0.iter().zip(w1))
        {
            *o = to_byte(wa.wrapping_mul(a).wrapping_add(wb.wrapping_mul(b)));
        }
        return;
    }
    let (s01, s23) = scratch.split_at(2 * len);
    let ((s0, s1), (s2, s3)) = (s01.split_at(len), s23.split_at(len));
    let (w01, w23) = w.split_at(2 * len);
    let ((w0, w1), (w2, w3)) = (w01.split_at(len), w23.split_at(len));
    for (s, o) in out.iter_mut().enumerate().take(len) {
        let acc = w0[s]
            .wrapping_mul(s0[s])
            .wrapping_add(w1[s].wrapping_mul(s1[s]))
            .wrapping_add(w2[s].wrapping_mul(s2[s]))
            .wrapping_add(w3[s].wrapping_mul(s3[s]));
        *o = to_byte(acc);
    }
}

/// Scratch row `k` (of `len` samples), pixel `x` = the `C` samples at tap
/// `k`'s offset for pixel `x`. Where a pixel's taps are consecutive source
/// pixels (everywhere but clamped borders), one read covers all of them.
#[inline(always)]
fn copy_taps<const C: usize, const N: usize>(
    src: &[i32],
    offsets: &[usize],
    scratch: &mut [i32],
    len: usize,
) {
    let mut rows = scratch.chunks_exact_mut(len);
    let mut rows: [&mut [i32]; N] = std::array::from_fn(|_| rows.next().unwrap_or_default());
    for (x, offs) in offsets.chunks_exact(N).enumerate() {
        let (o, d) = (offs[0], x * C);
        if offs[N - 1] == o + (N - 1) * C && o + N * C <= src.len() {
            let px = &src[o..o + N * C];
            for (k, row) in rows.iter_mut().enumerate() {
                row[d..d + C].copy_from_slice(&px[k * C..(k + 1) * C]);
            }
        } else {
            for (row, &ok) in rows.iter_mut().zip(offs) {
                row[d..d + C].copy_from_slice(&src[ok..ok + C]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(h: usize, w: usize, c: usize) -> Vec<u8> {
        let mut state = 0x2545_F491u32;
        (0..h * w * c)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let smooth = (i / c % w * 5 + i / (w * c) * 3) as u32;
                ((smooth + state % 48) % 256) as u8
            })
            .collect()
    }

    /// The explicit-SIMD kernels, or `None` (saying why) where this CPU
    /// has none and both paths would be the portable one.
    fn vector_or_skip() -> Option<Vector> {
        let vector = Vector::detect();
        #[cfg(target_arch = "x86_64")]
        if vector.avx2.is_some() {
            return Some(vector);
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = vector;
        println!("skipped: no AVX2 on this CPU, both calls would run the portable path");
        None
    }

    /// The largest difference between the vector and the portable result
    /// of one resize; `None` where the 8-bit path declines it.
    fn paths_differ_by(
        vector: Vector,
        (h, w, c): (usize, usize, usize),
        out: (usize, usize),
        interp: Interpolation,
    ) -> Option<u8> {
        let src = image(h, w, c);
        let run = |v| resize_with(&src, (h, w, c), out, interp, v).expect("valid sizes");
        let (fast, portable) = (run(vector)?, run(Vector::none())?);
        assert_eq!(fast.len(), portable.len());
        let worst = fast
            .iter()
            .zip(&portable)
            .map(|(&a, &b)| a.abs_diff(b))
            .max();
        Some(worst.unwrap_or(0))
    }

    /// Where this CPU runs the explicit-SIMD kernels, the portable path
    /// (what other CPUs run) agrees with them: exactly for the box means,
    /// within one grey level for linear and cubic (their intermediate sums
    /// are rounded at different bits).
    #[test]
    fn vector_and_portable_paths_agree() {
        let Some(vector) = vector_or_skip() else {
            return;
        };
        let cases = [
            (64, 96, 3, 32, 48, Interpolation::Linear),
            (64, 96, 4, 32, 48, Interpolation::Area),
            (64, 96, 1, 32, 48, Interpolation::Area),
            (66, 94, 2, 33, 47, Interpolation::Linear),
            (64, 90, 3, 32, 45, Interpolation::Area),
            (101, 67, 3, 80, 50, Interpolation::Linear),
            (101, 67, 4, 80, 50, Interpolation::Linear),
            (96, 64, 3, 48, 32, Interpolation::Cubic),
            (55, 70, 4, 40, 90, Interpolation::Cubic),
            (40, 40, 3, 97, 71, Interpolation::Linear),
            (40, 40, 4, 97, 71, Interpolation::Cubic),
            (9, 13, 3, 31, 29, Interpolation::Cubic),
            (60, 60, 3, 45, 45, Interpolation::Area),
            (90, 130, 1, 66, 95, Interpolation::Linear),
            (40, 50, 1, 97, 120, Interpolation::Cubic),
        ];
        for (h, w, c, oh, ow, interp) in cases {
            let worst = paths_differ_by(vector, (h, w, c), (oh, ow), interp)
                .expect("the 8-bit path covers these");
            let box_path = h == 2 * oh && w == 2 * ow && interp != Interpolation::Cubic;
            let tol = if box_path { 0 } else { 1 };
            assert!(
                worst <= tol,
                "{interp:?} {w}x{h}x{c} -> {ow}x{oh}: paths differ by {worst}"
            );
        }
    }

    /// Random shapes, down to single pixels and single rows, in every
    /// direction: the vector kernels' tails, clamped borders and padded
    /// windows against the portable path.
    #[test]
    fn vector_path_handles_any_shape() {
        let Some(vector) = vector_or_skip() else {
            return;
        };
        let mut state = 0x1234_5678u32;
        let mut next = |n: u32| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state % n) as usize + 1
        };
        let interps = [
            Interpolation::Linear,
            Interpolation::Cubic,
            Interpolation::Area,
        ];
        for case in 0..300 {
            let (h, w, c) = (next(40), next(40), next(4));
            let (oh, ow) = (next(60), next(60));
            let interp = interps[case % 3];
            // `None`: a heavy area shrink, which both send to the float path.
            if let Some(worst) = paths_differ_by(vector, (h, w, c), (oh, ow), interp) {
                assert!(
                    worst <= 1,
                    "{interp:?} {w}x{h}x{c} -> {ow}x{oh}: paths differ by {worst}"
                );
            }
        }
    }
}
