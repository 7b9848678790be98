//! 2x2 max-pooling at stride 2 and its gradient.
//!
//! Sizes round down, as Burn's and PyTorch's pooling do by default: an odd
//! last row or column is not pooled (and gets no gradient). The gradient
//! goes to the first maximum of each window in row-major order, PyTorch's
//! choice among ties.

use rayon::prelude::*;

use crate::geometry::{check_len, KernelError};

/// Planes per parallel task: enough work to pay for the task.
fn planes_per_task(plane_len: usize) -> usize {
    (1usize << 16).div_ceil(plane_len.max(1))
}

fn pooled_len(planes: usize, size: [usize; 2]) -> Result<(usize, usize), KernelError> {
    let plane = size[0].checked_mul(size[1]).ok_or(KernelError::TooLarge)?;
    let input = planes.checked_mul(plane).ok_or(KernelError::TooLarge)?;
    Ok((input, planes * (size[0] / 2) * (size[1] / 2)))
}

/// All ones if `value`'s bits are `bits`, else zero, without a branch.
pub(crate) fn equal_mask(value: f32, bits: u32) -> u32 {
    let d = value.to_bits() ^ bits;
    // `d | -d` has its sign bit set exactly when `d` is not zero.
    !((((d | d.wrapping_neg()) as i32) >> 31) as u32)
}

/// Max-pools `planes` planes of `size` (`[h, w]`) samples each:
/// `planes x h/2 x w/2`.
pub fn max_pool_2x2(
    input: &[f32],
    planes: usize,
    size: [usize; 2],
) -> Result<Vec<f32>, KernelError> {
    let (input_len, output_len) = pooled_len(planes, size)?;
    check_len("pooling input", input.len(), input_len)?;
    let [h, w] = size;
    let (oh, ow) = (h / 2, w / 2);
    let mut output = vec![0.0; output_len];
    if output_len == 0 {
        return Ok(output);
    }
    let per_task = planes_per_task(h * w);
    output
        .par_chunks_mut(per_task * oh * ow)
        .zip(input.par_chunks(per_task * h * w))
        .for_each(|(outs, ins)| {
            for (out, plane) in outs.chunks_exact_mut(oh * ow).zip(ins.chunks_exact(h * w)) {
                for (out_row, rows) in out.chunks_exact_mut(ow).zip(plane.chunks_exact(2 * w)) {
                    let (top, bottom) = rows.split_at(w);
                    for ((o, t), b) in out_row
                        .iter_mut()
                        .zip(top.chunks_exact(2))
                        .zip(bottom.chunks_exact(2))
                    {
                        *o = t[0].max(t[1]).max(b[0].max(b[1]));
                    }
                }
            }
        });
    Ok(output)
}

/// The gradient of [`max_pool_2x2`] with respect to its input, given the
/// input and the output's gradient: `planes x h x w`.
pub fn max_pool_2x2_grad(
    input: &[f32],
    out_grad: &[f32],
    planes: usize,
    size: [usize; 2],
) -> Result<Vec<f32>, KernelError> {
    let (input_len, output_len) = pooled_len(planes, size)?;
    check_len("pooling input", input.len(), input_len)?;
    check_len("pooling output gradient", out_grad.len(), output_len)?;
    let [h, w] = size;
    let (oh, ow) = (h / 2, w / 2);
    let mut grad = vec![0.0; input_len];
    if output_len == 0 {
        return Ok(grad);
    }
    let per_task = planes_per_task(h * w);
    grad.par_chunks_mut(per_task * h * w)
        .zip(input.par_chunks(per_task * h * w))
        .zip(out_grad.par_chunks(per_task * oh * ow))
        .for_each(|((grads, ins), out_grads)| {
            let planes = grads.chunks_exact_mut(h * w).zip(ins.chunks_exact(h * w));
            for ((grad, plane), out_grad) in planes.zip(out_grads.chunks_exact(oh * ow)) {
                for oy in 0..oh {
                    let (grad_top, grad_bottom) =
                        grad[2 * oy * w..(2 * oy + 2) * w].split_at_mut(w);
                    let (top, bottom) = plane[2 * oy * w..(2 * oy + 2) * w].split_at(w);
                    let grads = grad_top
                        .chunks_exact_mut(2)
                        .zip(grad_bottom.chunks_exact_mut(2));
                    let windows = top.chunks_exact(2).zip(bottom.chunks_exact(2));
                    for (((gt, gb), (t, b)), g) in
                        grads.zip(windows).zip(&out_grad[oy * ow..(oy + 1) * ow])
                    {
                        // Branch-free, in integer masks: on random data the
                        // winner is unpredictable, and a branch per window
                        // (which LLVM makes of any `bool`) cost more than the
                        // whole forward pass. `max` returns one of its
                        // inputs, so comparing bits finds it.
                        let m = t[0].max(t[1]).max(b[0].max(b[1])).to_bits();
                        let (e0, e1, e2) = (
                            equal_mask(t[0], m),
                            equal_mask(t[1], m),
                            equal_mask(b[0], m),
                        );
                        let masks = [e0, !e0 & e1, !e0 & !e1 & e2, !e0 & !e1 & !e2];
                        let [p0, p1, p2, p3] = masks.map(|mask| f32::from_bits(g.to_bits() & mask));
                        (gt[0], gt[1], gb[0], gb[1]) = (p0, p1, p2, p3);
                    }
                }
            }
        });
    Ok(grad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_each_window_and_drops_odd_edges() {
        // One 3x5 plane: rows 0-1 pool into two windows, row 2 and
        // column 4 are dropped.
        let x: Vec<f32> = (0..15).map(|v| ((v * 7) % 11) as f32).collect();
        let out = max_pool_2x2(&x, 1, [3, 5]).unwrap();
        let expect = |r: usize, c: usize| {
            [
                x[r * 5 + c],
                x[r * 5 + c + 1],
                x[(r + 1) * 5 + c],
                x[(r + 1) * 5 + c + 1],
            ]
            .into_iter()
            .fold(f32::MIN, f32::max)
        };
        assert_eq!(out, vec![expect(0, 0), expect(0, 2)]);
    }

    #[test]
    fn gradient_goes_to_the_first_maximum() {
        // Two planes of 2x4; the second window of plane 0 has a tie.
        let x = vec![
            1.0, 5.0, 7.0, 7.0, 2.0, 3.0, 0.0, 7.0, /* plane 1 */ 0.0, 0.0, 1.0, 2.0, 9.0,
            0.0, 3.0, 4.0,
        ];
        let g = vec![10.0, 20.0, 30.0, 40.0];
        let grad = max_pool_2x2_grad(&x, &g, 2, [2, 4]).unwrap();
        let expected = vec![
            0.0, 10.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0, /* plane 1 */ 0.0, 0.0, 0.0, 0.0, 30.0,
            0.0, 0.0, 40.0,
        ];
        assert_eq!(grad, expected);
    }

    #[test]
    fn many_planes_split_across_tasks_match_one_by_one() {
        // Enough planes for several parallel tasks.
        let (planes, size) = (600, [10, 12]);
        let x: Vec<f32> = (0..planes * 120)
            .map(|v| ((v * 37) % 101) as f32 - 50.0)
            .collect();
        let out = max_pool_2x2(&x, planes, size).unwrap();
        let g: Vec<f32> = (0..out.len()).map(|v| v as f32).collect();
        let grad = max_pool_2x2_grad(&x, &g, planes, size).unwrap();
        for p in [0, 299, 599] {
            let plane = &x[p * 120..(p + 1) * 120];
            assert_eq!(
                &out[p * 30..(p + 1) * 30],
                &max_pool_2x2(plane, 1, size).unwrap()[..]
            );
            let single = max_pool_2x2_grad(plane, &g[p * 30..(p + 1) * 30], 1, size).unwrap();
            assert_eq!(&grad[p * 120..(p + 1) * 120], &single[..]);
        }
    }

    #[test]
    fn wrong_lengths_are_typed_errors() {
        assert!(matches!(
            max_pool_2x2(&[0.0; 7], 1, [2, 4]),
            Err(KernelError::Length { .. })
        ));
        assert!(matches!(
            max_pool_2x2_grad(&[0.0; 8], &[0.0; 3], 1, [2, 4]),
            Err(KernelError::Length { .. })
        ));
        assert_eq!(max_pool_2x2(&[], 0, [2, 4]).unwrap(), Vec::<f32>::new());
    }
}
