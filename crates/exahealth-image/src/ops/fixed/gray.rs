//! 8-bit luma, histograms and thresholds, in parallel chunks.

use multiversion::multiversion;
use rayon::prelude::*;

/// Pixels per parallel task.
const CHUNK: usize = 1 << 16;

/// BT.601 luma of interleaved RGB (`c` = 3) or RGBA (`c` = 4) bytes, with
/// the weights 0.299, 0.587, 0.114 in 14-bit fixed point (OpenCV's
/// `COLOR_RGB2GRAY`). Other channel counts return `None`.
pub fn rgb_to_gray_u8(src: &[u8], c: usize) -> Option<Vec<u8>> {
    const R: u32 = 4899;
    const G: u32 = 9617;
    const B: u32 = 1868;
    const HALF: u32 = 1 << 13;
    if !(c == 3 || c == 4) || src.len() % c != 0 {
        return None;
    }
    #[multiversion(targets = "simd")]
    fn luma<const C: usize>(src: &[u8], out: &mut [u8]) {
        // A constant channel count lets the compiler vectorise the
        // strided loads.
        for (g, p) in out.iter_mut().zip(src.chunks_exact(C)) {
            let v = (R.wrapping_mul(u32::from(p[0])))
                .wrapping_add(G.wrapping_mul(u32::from(p[1])))
                .wrapping_add(B.wrapping_mul(u32::from(p[2])))
                .wrapping_add(HALF);
            *g = (v >> 14) as u8;
        }
    }
    let mut out = super::buffer::output_buffer(src.len() / c);
    out.par_chunks_mut(CHUNK)
        .zip(src.par_chunks(CHUNK * c))
        .for_each(|(o, s)| {
            if c == 3 {
                luma::<3>(s, o)
            } else {
                luma::<4>(s, o)
            }
        });
    Some(out)
}

/// The 256-bin histogram of bytes.
pub fn histogram_u8(src: &[u8]) -> [u64; 256] {
    src.par_chunks(CHUNK)
        .map(|s| {
            // Four sub-histograms: consecutive equal bytes would otherwise
            // wait on each other's increment.
            let mut h = [[0u32; 256]; 4];
            let mut quads = s.chunks_exact(4);
            for q in &mut quads {
                h[0][q[0] as usize] += 1;
                h[1][q[1] as usize] += 1;
                h[2][q[2] as usize] += 1;
                h[3][q[3] as usize] += 1;
            }
            for &v in quads.remainder() {
                h[0][v as usize] += 1;
            }
            let mut total = [0u64; 256];
            for sub in &h {
                for (t, &v) in total.iter_mut().zip(sub) {
                    *t += u64::from(v);
                }
            }
            total
        })
        .reduce(
            || [0u64; 256],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(&b) {
                    *x += y;
                }
                a
            },
        )
}

/// 255 where a byte is above `t`, else 0.
pub fn threshold_u8(src: &[u8], t: u8) -> Vec<u8> {
    let mut out = super::buffer::output_buffer(src.len());
    out.par_chunks_mut(CHUNK)
        .zip(src.par_chunks(CHUNK))
        .for_each(|(o, s)| {
            for (d, &v) in o.iter_mut().zip(s) {
                *d = if v > t { 255 } else { 0 };
            }
        });
    out
}
