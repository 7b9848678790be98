//! AVX2 kernels for the common 8-bit resizes, through pulp's safe wrappers
//! of `std::arch` (runtime detection, no `unsafe`).
//!
//! Auto-vectorised loops cannot gather the taps of a resize: each output
//! pixel reads its own window of source pixels, so the compiler falls back
//! to scalar code or to copies. These kernels load each window whole, pair
//! its samples up with byte shuffles and weight the pairs with the
//! multiply-add instructions (`maddubs` on bytes, `madd` on 16-bit
//! samples), as OpenCV does:
//!
//! - [`box_half`]: 2x2 means (half-size area and linear) of 1 to 4
//!   channels, straight from the two source rows.
//! - [`blend_rows`] then [`horizontal`]: linear, cubic and mild area
//!   resizes (at most four taps per axis) of gray, RGB and RGBA images,
//!   vertical pass first. It keeps its sums in 16 bits (6 fractional bits:
//!   that rounding moves a result by at most 1/128 of a grey level), which
//!   the horizontal pass's `madd` reads directly. Gray windows are too
//!   narrow to load one per pixel: four pixels share a load and a
//!   per-group shuffle picks their pairs out (see [`gray_controls`]).
//!
//! Each kernel finishes the pixels its vector loop leaves with scalar code
//! computing the same integer formula, so results do not depend on where
//! a vector stops.

use std::arch::x86_64::{__m128i, __m256i};

use pulp::x86::V3;

/// Fractional bits the vertical pass drops: 11-bit weights times 8-bit
/// samples, shifted by 5, fit 16 bits even with cubic's overshoot
/// (|sum| <= 1.19 * 255 * 2^6 < 2^15).
const VERTICAL_SHIFT: i32 = 5;
/// The horizontal pass's shift back to bytes: 2 x 11 weight bits minus
/// what the vertical pass already dropped.
const HORIZONTAL_SHIFT: i32 = 2 * 11 - VERTICAL_SHIFT;

/// The AVX2 unit, where the CPU has one (x86-64-v3: AVX2, FMA, BMI).
pub(super) fn detect() -> Option<V3> {
    V3::try_new()
}

#[inline(always)]
fn load_u8(s: &[u8], at: usize) -> __m128i {
    let mut a = [0u8; 16];
    a.copy_from_slice(&s[at..at + 16]);
    pulp::cast(a)
}

#[inline(always)]
fn load_i16(s: &[i16], at: usize) -> __m128i {
    let mut a = [0i16; 8];
    a.copy_from_slice(&s[at..at + 8]);
    pulp::cast(a)
}

#[inline(always)]
fn store_u8(out: &mut [u8], at: usize, v: __m128i) {
    let a: [u8; 16] = pulp::cast(v);
    out[at..at + 16].copy_from_slice(&a);
}

#[inline(always)]
fn store_i16(out: &mut [i16], at: usize, v: __m256i) {
    let a: [i16; 16] = pulp::cast(v);
    out[at..at + 16].copy_from_slice(&a);
}

/// The same 16-byte pattern in both lanes (`pshufb` works per lane).
fn per_lane(p: [u8; 16]) -> __m256i {
    let mut both = [0u8; 32];
    both[..16].copy_from_slice(&p);
    both[16..].copy_from_slice(&p);
    pulp::cast(both)
}

/// Shuffle index that zeroes its byte.
const Z: u8 = 0x80;

/// One output row of a 2x2 box average of an interleaved image of 1 to 4
/// channels: `out[x][ch]` = the rounded mean of the two pixels `2x, 2x + 1`
/// of rows `r0` and `r1`. Equal to OpenCV's `INTER_AREA` half-size result.
pub(super) fn box_half(simd: V3, c: usize, r0: &[u8], r1: &[u8], out: &mut [u8]) {
    simd.vectorize(BoxHalf {
        simd,
        c,
        r0,
        r1,
        out,
    });
}

// The kernels run through pulp's `NullaryFnOnce` with `#[inline(always)]`
// `call`s: a closure's `call_once` shim can stay out of line, and then
// none of the intrinsics inside it inline (each becomes a call).
struct BoxHalf<'a> {
    simd: V3,
    c: usize,
    r0: &'a [u8],
    r1: &'a [u8],
    out: &'a mut [u8],
}

impl pulp::NullaryFnOnce for BoxHalf<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let BoxHalf {
            simd,
            c,
            r0,
            r1,
            out,
        } = self;
        let done = match c {
            3 => box_half_rgb(simd, r0, r1, out),
            1 | 2 | 4 => box_half_blocks(simd, c, r0, r1, out),
            _ => 0,
        };
        box_half_scalar(c, r0, r1, out, done);
    }
}

fn box_half_scalar(c: usize, r0: &[u8], r1: &[u8], out: &mut [u8], from: usize) {
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let (px, ch) = (i / c, i % c);
        let (a, b) = (2 * px * c + ch, (2 * px + 1) * c + ch);
        let sum = u16::from(r0[a]) + u16::from(r0[b]) + u16::from(r1[a]) + u16::from(r1[b]);
        *o = ((sum + 2) >> 2) as u8;
    }
}

/// The 16-bit sums `row[2i] + row[2i + 1]` of a pixel row's sample pairs:
/// `pairs` lines each lane's samples up as `R0 R1 G0 G1 ...`, and
/// `maddubs` by ones adds each pair.
#[inline(always)]
fn pair_sums(simd: V3, v: __m256i, pairs: __m256i) -> __m256i {
    let ones = simd.avx._mm256_set1_epi8(1);
    simd.avx2
        ._mm256_maddubs_epi16(simd.avx2._mm256_shuffle_epi8(v, pairs), ones)
}

/// `(a + b + 2) >> 2` on 16-bit lanes: the rounded mean of four samples
/// from two pair sums.
#[inline(always)]
fn mean_of_four(simd: V3, a: __m256i, b: __m256i) -> __m256i {
    let avx2 = simd.avx2;
    let two = simd.avx._mm256_set1_epi16(2);
    avx2._mm256_srli_epi16::<2>(avx2._mm256_add_epi16(avx2._mm256_add_epi16(a, b), two))
}

/// Two 16-byte loads from `r` as one register: `lo` in lane 0, `hi` in lane 1.
#[inline(always)]
fn load_lanes(simd: V3, r: &[u8], lo: usize, hi: usize) -> __m256i {
    simd.avx._mm256_set_m128i(load_u8(r, hi), load_u8(r, lo))
}

/// Eight RGB output pixels per step from 48 bytes of each row: each lane
/// pairs the samples of four source pixels and sums the pairs with
/// `maddubs`. Returns the output bytes written.
#[inline(always)]
fn box_half_rgb(simd: V3, r0: &[u8], r1: &[u8], out: &mut [u8]) -> usize {
    let (avx, avx2) = (simd.avx, simd.avx2);
    let pairs = per_lane([0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11, Z, Z, Z, Z]);
    let compact = per_lane([0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, Z, Z, Z, Z]);
    let mut o = 0;
    // 52 source bytes read per 48 consumed; 28 output bytes written per 24.
    while o + 28 <= out.len() && 2 * o + 52 <= r0.len().min(r1.len()) {
        let at = 2 * o;
        // `a` holds source pixels 0-3 (output 0-1) low and 8-11 (output
        // 4-5) high, `b` the pixels between, so that after packing each
        // lane holds four consecutive output pixels.
        let a0 = pair_sums(simd, load_lanes(simd, r0, at, at + 24), pairs);
        let a1 = pair_sums(simd, load_lanes(simd, r1, at, at + 24), pairs);
        let b0 = pair_sums(simd, load_lanes(simd, r0, at + 12, at + 36), pairs);
        let b1 = pair_sums(simd, load_lanes(simd, r1, at + 12, at + 36), pairs);
        let packed =
            avx2._mm256_packus_epi16(mean_of_four(simd, a0, a1), mean_of_four(simd, b0, b1));
        let px = avx2._mm256_shuffle_epi8(packed, compact);
        store_u8(out, o, avx._mm256_castsi256_si128(px));
        store_u8(out, o + 12, avx2._mm256_extracti128_si256::<1>(px));
        o += 24;
    }
    o
}

/// 32 output bytes per step from 64 bytes of each row, for 1, 2 or 4
/// channels: within each 16-byte block the pixel pairs are whole, so one
/// shuffle per block (none for gray) lines the pairs up.
#[inline(always)]
fn box_half_blocks(simd: V3, c: usize, r0: &[u8], r1: &[u8], out: &mut [u8]) -> usize {
    let avx2 = simd.avx2;
    let pairs = match c {
        1 => per_lane([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
        2 => per_lane([0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15]),
        _ => per_lane([0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15]),
    };
    let mut o = 0;
    while o + 32 <= out.len() && 2 * o + 64 <= r0.len().min(r1.len()) {
        let at = 2 * o;
        let lo0 = pair_sums(simd, load_lanes(simd, r0, at, at + 16), pairs);
        let lo1 = pair_sums(simd, load_lanes(simd, r1, at, at + 16), pairs);
        let hi0 = pair_sums(simd, load_lanes(simd, r0, at + 32, at + 48), pairs);
        let hi1 = pair_sums(simd, load_lanes(simd, r1, at + 32, at + 48), pairs);
        // Lanes: (output bytes 0-7, 16-23), (8-15, 24-31); the permute puts
        // them in order.
        let packed =
            avx2._mm256_packus_epi16(mean_of_four(simd, lo0, lo1), mean_of_four(simd, hi0, hi1));
        let px = avx2._mm256_permute4x64_epi64::<0b11_01_10_00>(packed);
        let a: [u8; 32] = pulp::cast(px);
        out[o..o + 32].copy_from_slice(&a);
        o += 32;
    }
    o
}

/// `out[i] = round(sum_k weights[k] * rows[k][i] / 2^VERTICAL_SHIFT)` for
/// two or four byte rows and 11-bit weights: the vertical pass of a
/// vertical-first resize, in 16 bits.
pub(super) fn blend_rows(simd: V3, rows: &[&[u8]], weights: &[i16], out: &mut [i16]) {
    simd.vectorize(Blend {
        simd,
        rows,
        weights,
        out,
    });
}

struct Blend<'a> {
    simd: V3,
    rows: &'a [&'a [u8]],
    weights: &'a [i16],
    out: &'a mut [i16],
}

impl pulp::NullaryFnOnce for Blend<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Blend {
            simd,
            rows,
            weights,
            out,
        } = self;
        let done = match (rows, weights) {
            ([r0, r1], [w0, w1]) => blend_two(simd, [r0, r1], [*w0, *w1], out),
            ([r0, r1, r2, r3], [w0, w1, w2, w3]) => {
                blend_four(simd, [r0, r1, r2, r3], [*w0, *w1, *w2, *w3], out)
            }
            _ => 0,
        };
        blend_scalar(rows, weights, out, done);
    }
}

/// The scalar form of [`blend_rows`] from sample `from` on.
pub(super) fn blend_scalar(rows: &[&[u8]], weights: &[i16], out: &mut [i16], from: usize) {
    let round = 1i32 << (VERTICAL_SHIFT - 1);
    for (i, o) in out.iter_mut().enumerate().skip(from) {
        let mut acc = round;
        for (r, &w) in rows.iter().zip(weights) {
            acc += i32::from(w) * i32::from(r[i]);
        }
        // In range by VERTICAL_SHIFT's bound; the vector path saturates.
        *o = (acc >> VERTICAL_SHIFT).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    }
}

/// Two weights as the `(w0, w1)` pairs `madd` multiplies interleaved
/// samples with.
#[inline(always)]
fn weight_pair(simd: V3, w0: i16, w1: i16) -> __m256i {
    let word = (i32::from(w1 as u16) << 16) | i32::from(w0 as u16);
    simd.avx._mm256_set1_epi32(word)
}

/// `madd` of rows `a` and `b` at 16 samples from `at`, weighted by a
/// [`weight_pair`]: the 32-bit sums of samples `at..at + 8` and
/// `at + 8..at + 16` (each half in lane order, ready for `packs`).
#[inline(always)]
fn madd_rows(simd: V3, a: &[u8], b: &[u8], at: usize, w: __m256i) -> (__m256i, __m256i) {
    let avx2 = simd.avx2;
    let x = avx2._mm256_cvtepu8_epi16(load_u8(a, at));
    let y = avx2._mm256_cvtepu8_epi16(load_u8(b, at));
    (
        avx2._mm256_madd_epi16(avx2._mm256_unpacklo_epi16(x, y), w),
        avx2._mm256_madd_epi16(avx2._mm256_unpackhi_epi16(x, y), w),
    )
}

#[inline(always)]
fn shift_pack(simd: V3, lo: __m256i, hi: __m256i) -> __m256i {
    let avx2 = simd.avx2;
    let round = simd.avx._mm256_set1_epi32(1 << (VERTICAL_SHIFT - 1));
    let lo = avx2._mm256_srai_epi32::<VERTICAL_SHIFT>(avx2._mm256_add_epi32(lo, round));
    let hi = avx2._mm256_srai_epi32::<VERTICAL_SHIFT>(avx2._mm256_add_epi32(hi, round));
    avx2._mm256_packs_epi32(lo, hi)
}

#[inline(always)]
fn blend_two(simd: V3, r: [&[u8]; 2], w: [i16; 2], out: &mut [i16]) -> usize {
    let w01 = weight_pair(simd, w[0], w[1]);
    let len = out.len().min(r[0].len()).min(r[1].len());
    let mut i = 0;
    while i + 16 <= len {
        let (lo, hi) = madd_rows(simd, r[0], r[1], i, w01);
        store_i16(out, i, shift_pack(simd, lo, hi));
        i += 16;
    }
    i
}

#[inline(always)]
fn blend_four(simd: V3, r: [&[u8]; 4], w: [i16; 4], out: &mut [i16]) -> usize {
    let avx2 = simd.avx2;
    let (w01, w23) = (weight_pair(simd, w[0], w[1]), weight_pair(simd, w[2], w[3]));
    let len = r.iter().fold(out.len(), |l, row| l.min(row.len()));
    let mut i = 0;
    while i + 16 <= len {
        let (lo01, hi01) = madd_rows(simd, r[0], r[1], i, w01);
        let (lo23, hi23) = madd_rows(simd, r[2], r[3], i, w23);
        let lo = avx2._mm256_add_epi32(lo01, lo23);
        let hi = avx2._mm256_add_epi32(hi01, hi23);
        store_i16(out, i, shift_pack(simd, lo, hi));
        i += 16;
    }
    i
}

/// The horizontal taps of a vertical-first resize as windows of `n` (2 or
/// 4) consecutive source pixels: output pixel `x` is the weighted sum of
/// pixels `base[x] .. base[x] + n`. Clamped borders (a tap repeated) fold
/// into the window; pixels past the row's end get zero weight, so the row
/// is read with [`Self::PAD`] zero samples after it.
pub(super) struct Windows {
    c: usize,
    n: usize,
    /// Per output pixel, the sample offset of its first source pixel.
    base: Vec<usize>,
    /// Per output pixel, its `n` weights.
    weights: Vec<i16>,
    /// The weights in the vector loop's register order (see [`lane_weights`]).
    lanes: Vec<[i32; 8]>,
    /// The last sample offset a vector load starts at.
    reach: usize,
    /// Gray rows only, per group of 8 output pixels and register: the
    /// `pshufb` control that picks the pixels' sample pairs out of one load
    /// per lane, where they fit (see [`gray_controls`]).
    gray: Vec<Option<[u8; 32]>>,
    /// Gray rows with four taps, per group: both registers shuffle from
    /// the first one's loads.
    gray_shared: Vec<bool>,
}

impl Windows {
    /// Zero samples the vertical row needs after its end: the vector loads
    /// read 8 samples from a window's first pixel (and its third, for 4).
    pub(super) const PAD: usize = 16;

    /// `None` unless `c` is 1, 3 or 4, at most 4 taps each, and each output
    /// pixel's taps fit a window of 2 or 4 consecutive pixels.
    pub(super) fn new(c: usize, n_taps: usize, index: &[usize], weight: &[i32]) -> Option<Windows> {
        if !matches!(c, 1 | 3 | 4) || n_taps == 0 || n_taps > 4 {
            return None;
        }
        let n = if n_taps <= 2 { 2 } else { 4 };
        let out_w = index.len() / n_taps;
        let mut base = Vec::with_capacity(out_w);
        let mut weights = vec![0i16; out_w * n];
        for (x, (idx, wts)) in index
            .chunks_exact(n_taps)
            .zip(weight.chunks_exact(n_taps))
            .enumerate()
        {
            let first = *idx.iter().min()?;
            for (&i, &w) in idx.iter().zip(wts) {
                let k = i - first;
                if k >= n {
                    return None;
                }
                let slot = &mut weights[x * n + k];
                *slot = i16::try_from(i32::from(*slot) + w).ok()?;
            }
            base.push(first * c);
        }
        let lanes = if c == 1 {
            gray_lane_weights(n, out_w, &weights)
        } else {
            lane_weights(n, out_w, &weights)
        };
        let reach = base.iter().max().map_or(0, |b| b + (n - 2) * c);
        let (gray, gray_shared) = if c == 1 {
            gray_controls(n, &base)
        } else {
            (Vec::new(), Vec::new())
        };
        Some(Windows {
            c,
            n,
            base,
            weights,
            lanes,
            reach,
            gray,
            gray_shared,
        })
    }
}

/// For 2 taps, register `k` of group `g` holds pixel `8g + k` in its low
/// lane and `8g + 4 + k` in its high lane; for 4 taps, each pixel has a
/// register of its own, taps 0-1 low, 2-3 high. Each lane repeats its
/// `(w_a, w_b)` pair for every channel.
fn lane_weights(n: usize, out_w: usize, weights: &[i16]) -> Vec<[i32; 8]> {
    let pair = |a: i16, b: i16| (i32::from(b as u16) << 16) | i32::from(a as u16);
    let groups = out_w / 8;
    let mut lanes = Vec::new();
    if n == 2 {
        for g in 0..groups {
            for k in 0..4 {
                let (lo, hi) = (8 * g + k, 8 * g + 4 + k);
                let wl = pair(weights[2 * lo], weights[2 * lo + 1]);
                let wh = pair(weights[2 * hi], weights[2 * hi + 1]);
                lanes.push([wl, wl, wl, wl, wh, wh, wh, wh]);
            }
        }
    } else {
        for px in weights.chunks_exact(4).take(groups * 8) {
            let (w01, w23) = (pair(px[0], px[1]), pair(px[2], px[3]));
            lanes.push([w01, w01, w01, w01, w23, w23, w23, w23]);
        }
    }
    lanes
}

/// Gray output pixels in the registers of a group of 8: register `r`
/// holds tap pair `2r` (taps `2r`, `2r + 1`) of the group's pixels, in
/// order, four per lane; 32-bit slot `at` is pixel `at`.
///
/// The byte shuffle that moves register `r`'s sample pairs out of 8
/// samples loaded per lane, from lane `l`'s first pixel's window start
/// plus `offset`; `None` where a pair lies outside them.
fn gray_control(px: &[usize], r: usize, offset: usize) -> Option<[u8; 32]> {
    let mut control = [0u8; 32];
    for (at, bytes) in control.chunks_exact_mut(4).enumerate() {
        let start = px[at / 4 * 4] + offset;
        let d = (px[at] + 2 * r).checked_sub(start)?;
        if d + 2 > 8 {
            return None;
        }
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = (2 * d + i) as u8;
        }
    }
    Some(control)
}

/// Per group of 8 gray output pixels: the shuffles of its `n / 2`
/// registers (see [`gray_control`]), and whether they share one load per
/// lane (four taps whose windows all lie in the 8 samples from each
/// lane's first window start: enlargements and mild shrinks). Otherwise
/// register `r` loads from the window starts plus `2r`; without a shuffle
/// (a shrink by more than about 2x) its pairs are gathered.
fn gray_controls(n: usize, base: &[usize]) -> (Vec<Option<[u8; 32]>>, Vec<bool>) {
    let (mut controls, mut shared) = (Vec::new(), Vec::new());
    for px in base.chunks_exact(8) {
        controls.push(gray_control(px, 0, 0));
        if n == 4 {
            let joint = gray_control(px, 1, 0);
            shared.push(joint.is_some());
            controls.push(joint.or_else(|| gray_control(px, 1, 2)));
        } else {
            shared.push(false);
        }
    }
    (controls, shared)
}

/// The weight pairs of gray output pixels in register order (see
/// [`gray_control`]): `n / 2` vectors per group of 8.
fn gray_lane_weights(n: usize, out_w: usize, weights: &[i16]) -> Vec<[i32; 8]> {
    let pair = |px: usize, t: usize| {
        let (a, b) = (weights[n * px + t], weights[n * px + t + 1]);
        (i32::from(b as u16) << 16) | i32::from(a as u16)
    };
    let mut lanes = Vec::new();
    for g in 0..out_w / 8 {
        for t in (0..n).step_by(2) {
            lanes.push(std::array::from_fn(|k| pair(8 * g + k, t)));
        }
    }
    lanes
}

/// One output row from a vertically blended row (`vrow`: the source row's
/// samples then [`Windows::PAD`] zeros): the horizontal pass, rounded to
/// bytes.
pub(super) fn horizontal(simd: V3, vrow: &[i16], win: &Windows, out: &mut [u8]) {
    simd.vectorize(Horizontal {
        simd,
        vrow,
        win,
        out,
    });
}

struct Horizontal<'a> {
    simd: V3,
    vrow: &'a [i16],
    win: &'a Windows,
    out: &'a mut [u8],
}

impl pulp::NullaryFnOnce for Horizontal<'_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let Horizontal {
            simd,
            vrow,
            win,
            out,
        } = self;
        let done = match (win.c, win.n) {
            (3, 2) => horizontal_groups::<3, 2>(simd, vrow, win, out),
            (3, 4) => horizontal_groups::<3, 4>(simd, vrow, win, out),
            (4, 2) => horizontal_groups::<4, 2>(simd, vrow, win, out),
            (4, 4) => horizontal_groups::<4, 4>(simd, vrow, win, out),
            (1, 2) => horizontal_gray::<2>(simd, vrow, win, out),
            (1, 4) => horizontal_gray::<4>(simd, vrow, win, out),
            _ => 0,
        };
        horizontal_scalar(vrow, win, out, done);
    }
}

/// The scalar form of [`horizontal`] from output pixel `from` on.
pub(super) fn horizontal_scalar(vrow: &[i16], win: &Windows, out: &mut [u8], from: usize) {
    let (c, n) = (win.c, win.n);
    let round = 1i32 << (HORIZONTAL_SHIFT - 1);
    for (x, o) in out.chunks_exact_mut(c).enumerate().skip(from) {
        let (b, w) = (win.base[x], &win.weights[x * n..(x + 1) * n]);
        for (ch, ov) in o.iter_mut().enumerate() {
            let mut acc = round;
            for (k, &wk) in w.iter().enumerate() {
                acc += i32::from(wk) * i32::from(vrow[b + k * c + ch]);
            }
            *ov = (acc >> HORIZONTAL_SHIFT).clamp(0, 255) as u8;
        }
    }
}

/// Eight samples from `lo` (low lane) and from `hi` (high lane) of a
/// vertical row, shuffled into `(tap a, tap b)` pairs per channel.
/// `limit` (the row's length minus 8) is the caller's proof that the loads
/// fit, which lets the compiler drop their bounds checks.
#[inline(always)]
fn window_pairs(
    simd: V3,
    vrow: &[i16],
    (lo, hi): (usize, usize),
    limit: usize,
    pairs: __m256i,
) -> __m256i {
    let (lo, hi) = (lo.min(limit), hi.min(limit));
    let v = simd
        .avx
        ._mm256_set_m128i(load_i16(vrow, hi), load_i16(vrow, lo));
    simd.avx2._mm256_shuffle_epi8(v, pairs)
}

/// The rounded, shifted 32-bit sums of two output pixels, one per
/// channel: the first in the low lane, the second in the high lane, given
/// their windows' first samples and their [`Windows::lanes`] weights.
#[inline(always)]
fn pixel_sums<const C: usize, const N: usize>(
    simd: V3,
    vrow: &[i16],
    limit: usize,
    (a, b): (usize, usize),
    weights: (&[i32; 8], &[i32; 8]),
    pairs: __m256i,
) -> __m256i {
    let avx2 = simd.avx2;
    let s = if N == 2 {
        // One register: both pixels' weights are in `weights.0`.
        let v = window_pairs(simd, vrow, (a, b), limit, pairs);
        avx2._mm256_madd_epi16(v, pulp::cast(*weights.0))
    } else {
        // Taps 0-1 low, 2-3 high, per pixel; then the halves added.
        let va = window_pairs(simd, vrow, (a, a + 2 * C), limit, pairs);
        let vb = window_pairs(simd, vrow, (b, b + 2 * C), limit, pairs);
        let sa = avx2._mm256_madd_epi16(va, pulp::cast(*weights.0));
        let sb = avx2._mm256_madd_epi16(vb, pulp::cast(*weights.1));
        avx2._mm256_add_epi32(
            avx2._mm256_permute2x128_si256::<0x20>(sa, sb),
            avx2._mm256_permute2x128_si256::<0x31>(sa, sb),
        )
    };
    let round = simd.avx._mm256_set1_epi32(1 << (HORIZONTAL_SHIFT - 1));
    avx2._mm256_srai_epi32::<HORIZONTAL_SHIFT>(avx2._mm256_add_epi32(s, round))
}

/// Eight output pixels per step; returns the pixels done. Each pixel's
/// window is loaded whole (8 samples: two pixels and a bit), shuffled into
/// `(tap a, tap b)` pairs per channel and multiplied by its weights with
/// one `madd`; packing to bytes saturates, which is the clamp.
#[inline(always)]
fn horizontal_groups<const C: usize, const N: usize>(
    simd: V3,
    vrow: &[i16],
    win: &Windows,
    out: &mut [u8],
) -> usize {
    let (avx, avx2) = (simd.avx, simd.avx2);
    let pairs = if C == 3 {
        per_lane([0, 1, 6, 7, 2, 3, 8, 9, 4, 5, 10, 11, Z, Z, Z, Z])
    } else {
        per_lane([0, 1, 8, 9, 2, 3, 10, 11, 4, 5, 12, 13, 6, 7, 14, 15])
    };
    let compact = per_lane([0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, Z, Z, Z, Z]);
    // With the row as long as the windows reach (checked here once), the
    // clamp in `window_pairs` never moves a load.
    let limit = vrow.len().saturating_sub(8);
    if vrow.len() < 8 || win.reach > limit {
        return 0;
    }
    // Each step writes 4 bytes past its 24 when C == 3.
    let slack = if C == 3 { 4 } else { 0 };
    let lanes_per_group = if N == 2 { 4 } else { 8 };
    let steps = win
        .base
        .chunks_exact(8)
        .zip(win.lanes.chunks_exact(lanes_per_group))
        .take(out.len() / (8 * C));
    let mut done = 0;
    for (g, (base, lanes)) in steps.enumerate() {
        let o = 8 * C * g;
        if o + 8 * C + slack > out.len() {
            break;
        }
        // Register k: pixels 8g + k (low lane) and 8g + 4 + k (high); for
        // two taps one weight vector covers both.
        let (w0, w1, w2, w3) = if N == 2 {
            (
                (&lanes[0], &lanes[0]),
                (&lanes[1], &lanes[1]),
                (&lanes[2], &lanes[2]),
                (&lanes[3], &lanes[3]),
            )
        } else {
            (
                (&lanes[0], &lanes[4]),
                (&lanes[1], &lanes[5]),
                (&lanes[2], &lanes[6]),
                (&lanes[3], &lanes[7]),
            )
        };
        let s0 = pixel_sums::<C, N>(simd, vrow, limit, (base[0], base[4]), w0, pairs);
        let s1 = pixel_sums::<C, N>(simd, vrow, limit, (base[1], base[5]), w1, pairs);
        let s2 = pixel_sums::<C, N>(simd, vrow, limit, (base[2], base[6]), w2, pairs);
        let s3 = pixel_sums::<C, N>(simd, vrow, limit, (base[3], base[7]), w3, pairs);
        // Lane 0: pixels 8g..8g+4, lane 1: 8g+4..8g+8, four bytes each.
        let px = avx2._mm256_packus_epi16(
            avx2._mm256_packs_epi32(s0, s1),
            avx2._mm256_packs_epi32(s2, s3),
        );
        if C == 3 {
            let px = avx2._mm256_shuffle_epi8(px, compact);
            store_u8(out, o, avx._mm256_castsi256_si128(px));
            store_u8(out, o + 12, avx2._mm256_extracti128_si256::<1>(px));
        } else {
            let a: [u8; 32] = pulp::cast(px);
            out[o..o + 32].copy_from_slice(&a);
        }
        done = 8 * (g + 1);
    }
    done
}

/// Two adjacent samples of a gray row as one 32-bit word (low sample in
/// the low half), as `madd` pairs them; `at` is clamped to `limit` (see
/// [`window_pairs`]).
#[inline(always)]
fn sample_pair(vrow: &[i16], at: usize, limit: usize) -> i32 {
    let at = at.min(limit);
    (i32::from(vrow[at + 1]) << 16) | i32::from(vrow[at] as u16)
}

/// 8 samples per lane from the window starts of pixels 0 and 4 of a
/// group, plus `offset`.
#[inline(always)]
fn gray_load(simd: V3, vrow: &[i16], limit: usize, base: &[usize], offset: usize) -> __m256i {
    // `limit` + 2 - 8: the 8-sample loads end inside the row too.
    let load_at = limit.saturating_sub(6);
    let lo = (base[0] + offset).min(load_at);
    let hi = (base[4] + offset).min(load_at);
    simd.avx
        ._mm256_set_m128i(load_i16(vrow, hi), load_i16(vrow, lo))
}

/// Register `r` of a group of 8 gray pixels (`base`: their window
/// starts), weighted with `madd`: shuffled out of its own loads (from the
/// window starts plus `2r`) where there is a control, otherwise gathered
/// one by one.
#[inline(always)]
fn gray_register(
    simd: V3,
    vrow: &[i16],
    limit: usize,
    (base, r): (&[usize], usize),
    weights: &[i32; 8],
    control: Option<&[u8; 32]>,
) -> __m256i {
    let avx2 = simd.avx2;
    let pairs = if let Some(control) = control {
        let loaded = gray_load(simd, vrow, limit, base, 2 * r);
        avx2._mm256_shuffle_epi8(loaded, pulp::cast(*control))
    } else {
        let pairs: [i32; 8] = std::array::from_fn(|k| sample_pair(vrow, base[k] + 2 * r, limit));
        pulp::cast(pairs)
    };
    avx2._mm256_madd_epi16(pairs, pulp::cast(*weights))
}

/// The rounded, shifted sums of a group of 8 gray output pixels, in order.
#[inline(always)]
fn gray_sums<const N: usize>(
    simd: V3,
    vrow: &[i16],
    limit: usize,
    base: &[usize],
    lanes: &[[i32; 8]],
    (controls, shared): (&[Option<[u8; 32]>], bool),
) -> __m256i {
    let avx2 = simd.avx2;
    let s = match (shared, controls) {
        // Four taps from one load per lane: two shuffles of the same samples.
        (true, [Some(c01), Some(c23)]) => {
            let loaded = gray_load(simd, vrow, limit, base, 0);
            let taps01 = avx2._mm256_shuffle_epi8(loaded, pulp::cast(*c01));
            let taps23 = avx2._mm256_shuffle_epi8(loaded, pulp::cast(*c23));
            avx2._mm256_add_epi32(
                avx2._mm256_madd_epi16(taps01, pulp::cast(lanes[0])),
                avx2._mm256_madd_epi16(taps23, pulp::cast(lanes[1])),
            )
        }
        _ => {
            let c01 = controls[0].as_ref();
            let mut s = gray_register(simd, vrow, limit, (base, 0), &lanes[0], c01);
            if N == 4 {
                let c23 = controls[1].as_ref();
                let taps23 = gray_register(simd, vrow, limit, (base, 1), &lanes[1], c23);
                s = avx2._mm256_add_epi32(s, taps23);
            }
            s
        }
    };
    let round = simd.avx._mm256_set1_epi32(1 << (HORIZONTAL_SHIFT - 1));
    avx2._mm256_srai_epi32::<HORIZONTAL_SHIFT>(avx2._mm256_add_epi32(s, round))
}

/// 32 gray output pixels per step; returns the pixels done. A gray window
/// is too narrow to load one per pixel: the pixels of a lane share one
/// 8-sample load and a per-group shuffle picks their sample pairs out
/// (where they do not fit, the pairs are gathered one by one); `madd`
/// weights them.
#[inline(always)]
fn horizontal_gray<const N: usize>(simd: V3, vrow: &[i16], win: &Windows, out: &mut [u8]) -> usize {
    let avx2 = simd.avx2;
    // A pair starting at `limit` ends at the row's last sample, an
    // 8-sample load starting 6 earlier too; with every load start inside
    // that (checked here once) the clamps never move one.
    let limit = vrow.len().saturating_sub(2);
    if vrow.len() < 8 || win.reach + 6 > limit {
        return 0;
    }
    let per_group = N / 2;
    let steps = win
        .base
        .chunks_exact(32)
        .zip(win.lanes.chunks_exact(4 * per_group))
        .zip(win.gray.chunks_exact(4 * per_group))
        .zip(win.gray_shared.chunks_exact(4))
        .zip(out.chunks_exact_mut(32));
    let mut done = 0;
    for ((((base, lanes), gray), shared), o) in steps {
        // Four groups of eight (a loop, not a closure: see `BoxHalf`).
        let mut sums = [simd.avx._mm256_setzero_si256(); 4];
        for (i, sum) in sums.iter_mut().enumerate() {
            let (px, w) = (8 * i..8 * i + 8, per_group * i..per_group * (i + 1));
            let controls = (&gray[w.clone()], shared[i]);
            *sum = gray_sums::<N>(simd, vrow, limit, &base[px], &lanes[w], controls);
        }
        let [s0, s1, s2, s3] = sums;
        // Dwords of four pixels: (0, 8, 16, 24 | 4, 12, 20, 28) after packing.
        let packed = avx2._mm256_packus_epi16(
            avx2._mm256_packs_epi32(s0, s1),
            avx2._mm256_packs_epi32(s2, s3),
        );
        let order = pulp::cast([0i32, 4, 1, 5, 2, 6, 3, 7]);
        let px: [u8; 32] = pulp::cast(avx2._mm256_permutevar8x32_epi32(packed, order));
        o.copy_from_slice(&px);
        done += 32;
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::geometry::{resize_taps, Interpolation};
    use rand::{Rng, SeedableRng};

    fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
        rand_chacha::ChaCha8Rng::seed_from_u64(seed)
    }

    fn bytes(r: &mut impl Rng, len: usize) -> Vec<u8> {
        // Extremes mixed in: saturation and rounding at both ends.
        (0..len)
            .map(|i| match i % 7 {
                0 => 255,
                1 => 0,
                _ => r.random(),
            })
            .collect()
    }

    /// The kernels need AVX2; on a CPU without it there is nothing to test
    /// (the portable path covers those machines).
    fn simd_or_skip() -> Option<V3> {
        let simd = detect();
        if simd.is_none() {
            println!("skipped: this CPU has no AVX2, the kernels never run here");
        }
        simd
    }

    #[test]
    fn box_half_equals_the_rounded_mean_of_each_block() {
        let Some(simd) = simd_or_skip() else { return };
        let mut r = rng(1);
        for c in 1..=4 {
            // Widths below one vector step, at it, and with every tail length.
            for out_w in (0..40).chain([97, 640]) {
                let (r0, r1) = (bytes(&mut r, 2 * out_w * c), bytes(&mut r, 2 * out_w * c));
                let mut got = vec![0u8; out_w * c];
                box_half(simd, c, &r0, &r1, &mut got);
                for (i, &g) in got.iter().enumerate() {
                    let (px, ch) = (i / c, i % c);
                    let s: u32 = [&r0, &r1]
                        .iter()
                        .map(|row| {
                            u32::from(row[2 * px * c + ch]) + u32::from(row[(2 * px + 1) * c + ch])
                        })
                        .sum();
                    assert_eq!(
                        u32::from(g),
                        (s + 2) / 4,
                        "c {c}, width {out_w}, sample {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn blend_rows_vector_and_scalar_agree_exactly() {
        let Some(simd) = simd_or_skip() else { return };
        let mut r = rng(2);
        // Linear weight pairs, and cubic quadruples with negative lobes.
        let weight_sets: [&[i16]; 4] = [
            &[2048, 0],
            &[1000, 1048],
            &[-152, 1176, 1176, -152],
            &[-30, 300, 1900, -122],
        ];
        for weights in weight_sets {
            for len in [0, 5, 16, 31, 77, 300] {
                let rows: Vec<Vec<u8>> = weights.iter().map(|_| bytes(&mut r, len)).collect();
                let refs: Vec<&[u8]> = rows.iter().map(Vec::as_slice).collect();
                let (mut vector, mut scalar) = (vec![0i16; len], vec![0i16; len]);
                blend_rows(simd, &refs, weights, &mut vector);
                blend_scalar(&refs, weights, &mut scalar, 0);
                assert_eq!(vector, scalar, "weights {weights:?}, length {len}");
                // And the scalar form is the rounded sum at 6 fractional bits.
                for (i, &v) in scalar.iter().enumerate() {
                    let exact: i32 = refs
                        .iter()
                        .zip(weights)
                        .map(|(row, &w)| i32::from(w) * i32::from(row[i]))
                        .sum();
                    assert_eq!(i32::from(v), (exact + 16) >> 5);
                }
            }
        }
    }

    fn quantised(
        n_in: usize,
        n_out: usize,
        interp: Interpolation,
    ) -> (usize, Vec<usize>, Vec<i32>) {
        let taps = resize_taps(n_in, n_out, interp);
        let n = taps.iter().map(Vec::len).max().unwrap_or(1);
        let (mut index, mut weight) = (Vec::new(), Vec::new());
        for t in &taps {
            let total: f32 = t.iter().map(|p| p.1).sum();
            for k in 0..n {
                let (i, w) = t.get(k).copied().unwrap_or((t[0].0, 0.0));
                index.push(i);
                weight.push((w / total * 2048.0).round() as i32);
            }
        }
        (n, index, weight)
    }

    #[test]
    fn horizontal_vector_and_scalar_agree_exactly() {
        let Some(simd) = simd_or_skip() else { return };
        let mut r = rng(3);
        let cases = [
            (Interpolation::Linear, 4096 / 16, 3000 / 16),
            (Interpolation::Linear, 37, 19),
            (Interpolation::Linear, 20, 53), // enlarging along x
            (Interpolation::Cubic, 128, 64),
            (Interpolation::Cubic, 61, 29),
            (Interpolation::Cubic, 9, 31),
            (Interpolation::Cubic, 40, 97), // gray: one load for four taps
            (Interpolation::Linear, 200, 64), // gray: pairs gathered
            (Interpolation::Cubic, 150, 48),
            (Interpolation::Area, 50, 33), // up to three taps: windows of four
        ];
        for (interp, w, out_w) in cases {
            for c in [1, 3, 4] {
                let (n, index, weight) = quantised(w, out_w, interp);
                let win =
                    Windows::new(c, n, &index, &weight).expect("consecutive taps fit windows");
                // Vertical sums span cubic's overshoot at 6 fractional bits.
                let mut vrow: Vec<i16> =
                    (0..w * c).map(|_| r.random_range(-3100..=19400)).collect();
                vrow.extend([0; Windows::PAD]);
                let (mut vector, mut scalar) = (vec![0u8; out_w * c], vec![0u8; out_w * c]);
                horizontal(simd, &vrow, &win, &mut vector);
                horizontal_scalar(&vrow, &win, &mut scalar, 0);
                assert_eq!(vector, scalar, "{interp:?} {w} -> {out_w}, {c} channels");
                // The scalar form is the clamped, rounded sum of the taps as given.
                for (x, px) in scalar.chunks_exact(c).enumerate() {
                    for (ch, &v) in px.iter().enumerate() {
                        let exact: i32 = (0..n)
                            .map(|k| weight[x * n + k] * i32::from(vrow[index[x * n + k] * c + ch]))
                            .sum();
                        assert_eq!(i32::from(v), ((exact + (1 << 16)) >> 17).clamp(0, 255));
                    }
                }
            }
        }
    }

    #[test]
    fn windows_refuse_what_the_kernels_cannot_do() {
        let (n, index, weight) = quantised(20, 10, Interpolation::Linear);
        assert!(Windows::new(3, n, &index, &weight).is_some());
        // Two channels: no kernel.
        assert!(Windows::new(2, n, &index, &weight).is_none());
        // Taps more than four pixels apart.
        assert!(Windows::new(3, 2, &[0, 7], &[1024, 1024]).is_none());
        // Heavy area shrinks: more than four taps.
        let (n, index, weight) = quantised(100, 17, Interpolation::Area);
        assert!(n > 4 && Windows::new(3, n, &index, &weight).is_none());
    }
}
