//! Max-pooling with any kernel, stride and padding (ResNet's 3x3,
//! stride-2, padding-1 stem pool) and its gradient.
//!
//! The forward pass is separable: a horizontal maximum over each input
//! row, then a vertical one over the rows of each window, so the second
//! pass runs over whole output rows. Padding never wins (it is not a
//! value), sizes round down, and the gradient goes to the first maximum of
//! each window in row-major order, as in PyTorch.

use rayon::prelude::*;

use crate::geometry::{check_len, KernelError};
use crate::pool::equal_mask;

/// The shape of a max-pool over `planes` planes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolGeometry {
    /// Independent planes pooled: batch times channels.
    pub planes: usize,
    /// Input `[height, width]` of each plane.
    pub in_size: [usize; 2],
    /// Window `[height, width]`.
    pub kernel: [usize; 2],
    /// Step between windows, `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// Padding on each side, `[rows, columns]`, at most half the kernel.
    pub pad: [usize; 2],
    /// Output `[height, width]`, derived by [`PoolGeometry::new`].
    pub out_size: [usize; 2],
}

impl PoolGeometry {
    /// Checks the sizes; padding is symmetric and at most half the kernel
    /// (PyTorch's rule: every window then holds at least one sample).
    pub fn new(
        planes: usize,
        in_size: [usize; 2],
        kernel: [usize; 2],
        stride: [usize; 2],
        pad: [usize; 2],
    ) -> Result<Self, KernelError> {
        let mut out_size = [0; 2];
        for d in 0..2 {
            if kernel[d] == 0 || stride[d] == 0 || in_size[d] == 0 {
                return Err(KernelError::Zero {
                    what: "pooling size",
                });
            }
            if pad[d] > kernel[d] / 2 {
                return Err(KernelError::KernelTooLarge {
                    kernel,
                    padded: in_size,
                });
            }
            let padded = in_size[d] + 2 * pad[d];
            if padded < kernel[d] {
                return Err(KernelError::KernelTooLarge {
                    kernel,
                    padded: [padded; 2],
                });
            }
            out_size[d] = (padded - kernel[d]) / stride[d] + 1;
        }
        planes
            .checked_mul(in_size[0])
            .and_then(|v| v.checked_mul(in_size[1]))
            .filter(|&n| n <= isize::MAX as usize / 4)
            .ok_or(KernelError::TooLarge)?;
        Ok(Self {
            planes,
            in_size,
            kernel,
            stride,
            pad,
            out_size,
        })
    }

    fn plane_len(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }

    fn out_plane_len(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }

    /// The input range `lo..hi` window `o` covers along axis `d`.
    fn window(&self, d: usize, o: usize) -> (usize, usize) {
        let start = o * self.stride[d];
        let lo = start.saturating_sub(self.pad[d]);
        let hi = (start + self.kernel[d])
            .saturating_sub(self.pad[d])
            .min(self.in_size[d]);
        (lo, hi)
    }

    /// Planes per parallel task: about 64 Ki input samples.
    fn planes_per_task(&self) -> usize {
        (1usize << 16).div_ceil(self.plane_len())
    }
}

/// Pools one plane into `out`, with `rows` (`h x ow`) as scratch.
fn pool_plane(plane: &[f32], g: &PoolGeometry, rows: &mut [f32], out: &mut [f32]) {
    let w = g.in_size[1];
    let ow = g.out_size[1];
    for (row_max, row) in rows.chunks_exact_mut(ow).zip(plane.chunks_exact(w)) {
        for (ox, m) in row_max.iter_mut().enumerate() {
            let (lo, hi) = g.window(1, ox);
            *m = row[lo..hi]
                .iter()
                .copied()
                .fold(f32::NEG_INFINITY, f32::max);
        }
    }
    for (oy, out_row) in out.chunks_exact_mut(ow).enumerate() {
        let (lo, hi) = g.window(0, oy);
        out_row.copy_from_slice(&rows[lo * ow..(lo + 1) * ow]);
        for iy in lo + 1..hi {
            for (o, m) in out_row.iter_mut().zip(&rows[iy * ow..(iy + 1) * ow]) {
                *o = o.max(*m);
            }
        }
    }
}

/// The max-pool of `input` (`planes x h x w`): `planes x oh x ow`.
pub fn max_pool2d(input: &[f32], g: &PoolGeometry) -> Result<Vec<f32>, KernelError> {
    check_len("pooling input", input.len(), g.planes * g.plane_len())?;
    let mut output = vec![0.0; g.planes * g.out_plane_len()];
    let per_task = g.planes_per_task();
    output
        .par_chunks_mut(per_task * g.out_plane_len())
        .zip(input.par_chunks(per_task * g.plane_len()))
        .for_each(|(outs, ins)| {
            let mut rows = vec![0.0f32; g.in_size[0] * g.out_size[1]];
            for (out, plane) in outs
                .chunks_exact_mut(g.out_plane_len())
                .zip(ins.chunks_exact(g.plane_len()))
            {
                pool_plane(plane, g, &mut rows, out);
            }
        });
    Ok(output)
}

/// The gradient of [`max_pool2d`] with respect to its input, given the
/// input and the output's gradient.
///
/// Each window's maximum is pooled again, then found by its bits in a
/// branch-free scan: comparing samples with branches mispredicts on
/// nearly every window of real activations.
pub fn max_pool2d_grad(
    input: &[f32],
    out_grad: &[f32],
    g: &PoolGeometry,
) -> Result<Vec<f32>, KernelError> {
    check_len("pooling input", input.len(), g.planes * g.plane_len())?;
    check_len(
        "pooling output gradient",
        out_grad.len(),
        g.planes * g.out_plane_len(),
    )?;
    let w = g.in_size[1];
    let [oh, ow] = g.out_size;
    let mut grad = vec![0.0; input.len()];
    let per_task = g.planes_per_task();
    grad.par_chunks_mut(per_task * g.plane_len())
        .zip(input.par_chunks(per_task * g.plane_len()))
        .zip(out_grad.par_chunks(per_task * g.out_plane_len()))
        .for_each(|((grads, ins), out_grads)| {
            let mut rows = vec![0.0f32; g.in_size[0] * ow];
            let mut maxima = vec![0.0f32; oh * ow];
            let planes = grads
                .chunks_exact_mut(g.plane_len())
                .zip(ins.chunks_exact(g.plane_len()));
            for ((grad, plane), out_grad) in planes.zip(out_grads.chunks_exact(g.out_plane_len())) {
                pool_plane(plane, g, &mut rows, &mut maxima);
                for oy in 0..oh {
                    let (y_lo, y_hi) = g.window(0, oy);
                    for ox in 0..ow {
                        let (x_lo, x_hi) = g.window(1, ox);
                        let bits = maxima[oy * ow + ox].to_bits();
                        // The first position holding the maximum:
                        // `found` turns all ones at the first match.
                        let (mut at, mut found) = (0usize, 0usize);
                        for iy in y_lo..y_hi {
                            for ix in x_lo..x_hi {
                                let position = iy * w + ix;
                                let equal =
                                    equal_mask(plane[position], bits) as i32 as isize as usize;
                                let take = equal & !found;
                                at = (at & !take) | (position & take);
                                found |= equal;
                            }
                        }
                        grad[at] += out_grad[oy * ow + ox];
                    }
                }
            }
        });
    Ok(grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Max-pool by its definition.
    fn naive(x: &[f32], g: &PoolGeometry) -> Vec<f32> {
        let [h, w] = g.in_size;
        let mut out = Vec::new();
        for p in 0..g.planes {
            for oy in 0..g.out_size[0] {
                for ox in 0..g.out_size[1] {
                    let mut m = f32::NEG_INFINITY;
                    for ky in 0..g.kernel[0] {
                        for kx in 0..g.kernel[1] {
                            let iy = (oy * g.stride[0] + ky) as isize - g.pad[0] as isize;
                            let ix = (ox * g.stride[1] + kx) as isize - g.pad[1] as isize;
                            if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                m = m.max(x[p * h * w + iy as usize * w + ix as usize]);
                            }
                        }
                    }
                    out.push(m);
                }
            }
        }
        out
    }

    fn values(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919) % 1013) as f32 - 500.0).collect()
    }

    fn geometries() -> Vec<PoolGeometry> {
        vec![
            PoolGeometry::new(3, [9, 8], [3, 3], [2, 2], [1, 1]).unwrap(),
            PoolGeometry::new(2, [7, 7], [3, 3], [1, 1], [0, 0]).unwrap(),
            PoolGeometry::new(40, [12, 11], [2, 3], [2, 1], [1, 1]).unwrap(),
        ]
    }

    #[test]
    fn forward_equals_the_definition() {
        for g in geometries() {
            let x = values(g.planes * g.plane_len());
            assert_eq!(max_pool2d(&x, &g).unwrap(), naive(&x, &g), "{g:?}");
        }
    }

    /// The gradient of `sum(pool(x) * r)`: with distinct values each
    /// window's maximum moves alone under a small change, so the finite
    /// difference is exact.
    #[test]
    fn gradient_equals_finite_differences() {
        for g in geometries().into_iter().take(2) {
            let x = values(g.planes * g.plane_len());
            let r = values(g.planes * g.out_plane_len() + 3)[3..].to_vec();
            let loss = |x: &[f32]| -> f64 {
                naive(x, &g)
                    .iter()
                    .zip(&r)
                    .map(|(a, b)| (*a as f64) * (*b as f64))
                    .sum()
            };
            let grad = max_pool2d_grad(&x, &r, &g).unwrap();
            for i in 0..x.len() {
                let mut up = x.clone();
                up[i] += 0.25;
                let d = (loss(&up) - loss(&x)) / 0.25;
                assert!(
                    (grad[i] as f64 - d).abs() < 1e-6,
                    "{g:?} at {i}: {} vs {d}",
                    grad[i]
                );
            }
        }
    }

    #[test]
    fn ties_send_the_gradient_to_the_first_maximum() {
        // Three levels only: most windows hold several maxima.
        let g = PoolGeometry::new(2, [9, 10], [3, 3], [2, 2], [1, 1]).unwrap();
        let x: Vec<f32> = (0..g.planes * g.plane_len())
            .map(|i| ((i * 31) % 3) as f32)
            .collect();
        let r: Vec<f32> = (0..g.planes * g.out_plane_len())
            .map(|i| i as f32 + 1.0)
            .collect();
        let mut expected = vec![0.0f32; x.len()];
        let w = g.in_size[1];
        for p in 0..g.planes {
            let plane = &x[p * g.plane_len()..(p + 1) * g.plane_len()];
            for oy in 0..g.out_size[0] {
                for ox in 0..g.out_size[1] {
                    let (y_lo, y_hi) = g.window(0, oy);
                    let (x_lo, x_hi) = g.window(1, ox);
                    let mut best = y_lo * w + x_lo;
                    for iy in y_lo..y_hi {
                        for ix in x_lo..x_hi {
                            if plane[iy * w + ix] > plane[best] {
                                best = iy * w + ix;
                            }
                        }
                    }
                    expected[p * g.plane_len() + best] +=
                        r[(p * g.out_size[0] + oy) * g.out_size[1] + ox];
                }
            }
        }
        assert_eq!(max_pool2d_grad(&x, &r, &g).unwrap(), expected);
    }

    #[test]
    fn bad_geometries_are_refused() {
        assert!(PoolGeometry::new(1, [5, 5], [3, 3], [1, 1], [2, 2]).is_err());
        assert!(PoolGeometry::new(1, [5, 5], [0, 3], [1, 1], [0, 0]).is_err());
        assert!(PoolGeometry::new(1, [2, 2], [3, 3], [1, 1], [0, 0]).is_err());
        let g = geometries()[0];
        assert!(max_pool2d(&[0.0; 3], &g).is_err());
    }
}
