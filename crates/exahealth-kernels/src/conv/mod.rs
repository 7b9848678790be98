//! The three passes of a convolution, batch-parallel.
//!
//! The batch is cut into one contiguous group of images per rayon thread.
//! Within a group, images go through the GEMM in tiles: one image where its
//! output is large, several side by side where it is small (ResNet's last
//! stage has 7x7 outputs, and a 49-column GEMM wastes most of the
//! microkernel's tiles). Column and staging buffers are per thread and
//! reused across calls (`buffers`); batches smaller than the thread count
//! share each image among threads (`parts`). The weight gradient sums its groups'
//! partial sums in group order, so results depend only on the input and
//! the thread count.

mod buffers;
mod parts;

use std::ops::Range;

use ndarray::linalg::general_mat_mul;
use rayon::prelude::*;

use crate::geometry::{check_len, ConvGeometry, KernelError};
use crate::im2col::{col2im_add, im2col, Block};
use buffers::{prefix, view, view_mut, with_scratch};
use parts::{
    channel_split, conv2d_row_parts, input_grad_channel_parts, row_split, weight_grad_row_parts,
};

/// Columns a GEMM should have at least: below this the microkernel's
/// edge tiles and the packing overhead dominate.
const MIN_GEMM_COLUMNS: usize = 512;

/// Images per group: the batch split evenly over rayon's threads.
fn group_size(batch: usize) -> usize {
    batch.div_ceil(rayon::current_num_threads().clamp(1, batch))
}

/// Images per GEMM.
fn tile_size(g: &ConvGeometry) -> usize {
    MIN_GEMM_COLUMNS.div_ceil(g.out_pixels())
}

/// Lowers `images` (consecutive, `image_len` each) side by side into one
/// column matrix of `images * out_pixels` columns.
fn lower<'a>(images: &[f32], g: &ConvGeometry, columns: &'a mut Vec<f32>) -> &'a [f32] {
    let count = images.len() / g.image_len();
    let stride = count * g.out_pixels();
    let col = prefix(columns, g.col_rows() * stride);
    for (j, image) in images.chunks_exact(g.image_len()).enumerate() {
        im2col(image, g, col, Block::whole(g, stride, j * g.out_pixels()));
    }
    col
}

/// Copies per-image `[channels, out_pixels]` matrices side by side into
/// one `[channels, count * out_pixels]` matrix (`gather`), or back.
fn interleave(per_image: &[f32], side_by_side: &mut [f32], channels: usize, pixels: usize) {
    let count = per_image.len() / (channels * pixels);
    for (j, image) in per_image.chunks_exact(channels * pixels).enumerate() {
        for (c, row) in image.chunks_exact(pixels).enumerate() {
            let start = (c * count + j) * pixels;
            side_by_side[start..start + pixels].copy_from_slice(row);
        }
    }
}

fn deinterleave(side_by_side: &[f32], per_image: &mut [f32], channels: usize, pixels: usize) {
    let count = per_image.len() / (channels * pixels);
    for (j, image) in per_image.chunks_exact_mut(channels * pixels).enumerate() {
        for (c, row) in image.chunks_exact_mut(pixels).enumerate() {
            let start = (c * count + j) * pixels;
            row.copy_from_slice(&side_by_side[start..start + pixels]);
        }
    }
}

/// The convolution of `input` (`[batch, in, h, w]`) with `weight`
/// (`[out, in, kh, kw]`), without bias: `[batch, out, oh, ow]`.
pub fn conv2d(input: &[f32], weight: &[f32], g: &ConvGeometry) -> Result<Vec<f32>, KernelError> {
    check_len("input", input.len(), g.input_len())?;
    check_len("weight", weight.len(), g.weight_len())?;
    let weights = view(g.out_channels, g.col_rows(), weight)?;
    let out_len = g.out_channels * g.out_pixels();
    if let Some(rows_per_part) = row_split(g) {
        return conv2d_row_parts(input, &weights, g, rows_per_part);
    }
    let per_group = group_size(g.batch);
    let per_tile = tile_size(g);
    let mut output = vec![0.0; g.output_len()];
    output
        .par_chunks_mut(per_group * out_len)
        .zip(input.par_chunks(per_group * g.image_len()))
        .try_for_each(|(outputs, images)| {
            with_scratch(|scratch| {
                let tiles = outputs
                    .chunks_mut(per_tile * out_len)
                    .zip(images.chunks(per_tile * g.image_len()));
                for (out, images) in tiles {
                    let columns = images.len() / g.image_len() * g.out_pixels();
                    let col = if g.is_pointwise() && columns == g.out_pixels() {
                        images
                    } else {
                        lower(images, g, &mut scratch.columns)
                    };
                    let col = view(g.col_rows(), columns, col)?;
                    if columns == g.out_pixels() {
                        let mut out = view_mut(g.out_channels, columns, out)?;
                        general_mat_mul(1.0, &weights, &col, 0.0, &mut out);
                    } else {
                        let staged = prefix(&mut scratch.staging, g.out_channels * columns);
                        general_mat_mul(
                            1.0,
                            &weights,
                            &col,
                            0.0,
                            &mut view_mut(g.out_channels, columns, staged)?,
                        );
                        deinterleave(staged, out, g.out_channels, g.out_pixels());
                    }
                }
                Ok(())
            })
        })?;
    Ok(output)
}

/// The gradient with respect to the input, given the output's gradient
/// (`[batch, out, oh, ow]`): `[batch, in, h, w]`.
pub fn conv2d_input_grad(
    weight: &[f32],
    out_grad: &[f32],
    g: &ConvGeometry,
) -> Result<Vec<f32>, KernelError> {
    check_len("weight", weight.len(), g.weight_len())?;
    check_len("output gradient", out_grad.len(), g.output_len())?;
    let weights_t = view(g.out_channels, g.col_rows(), weight)?.reversed_axes();
    let out_len = g.out_channels * g.out_pixels();
    if let Some(channels_per_part) = channel_split(g) {
        return input_grad_channel_parts(&weights_t, out_grad, g, channels_per_part);
    }
    let per_group = group_size(g.batch);
    let per_tile = tile_size(g);
    let mut grad = vec![0.0; g.input_len()];
    grad.par_chunks_mut(per_group * g.image_len())
        .zip(out_grad.par_chunks(per_group * out_len))
        .try_for_each(|(grads, out_grads)| {
            with_scratch(|scratch| {
                let tiles = grads
                    .chunks_mut(per_tile * g.image_len())
                    .zip(out_grads.chunks(per_tile * out_len));
                for (image_grads, out_grads) in tiles {
                    let count = image_grads.len() / g.image_len();
                    let columns = count * g.out_pixels();
                    let out_grads = if count == 1 {
                        out_grads
                    } else {
                        let staged = prefix(&mut scratch.staging, out_grads.len());
                        interleave(out_grads, staged, g.out_channels, g.out_pixels());
                        staged
                    };
                    let out_grads = view(g.out_channels, columns, out_grads)?;
                    if g.is_pointwise() && count == 1 {
                        let mut target = view_mut(g.col_rows(), columns, image_grads)?;
                        general_mat_mul(1.0, &weights_t, &out_grads, 0.0, &mut target);
                        continue;
                    }
                    let col = prefix(&mut scratch.columns, g.col_rows() * columns);
                    general_mat_mul(
                        1.0,
                        &weights_t,
                        &out_grads,
                        0.0,
                        &mut view_mut(g.col_rows(), columns, col)?,
                    );
                    for (j, image_grad) in image_grads.chunks_exact_mut(g.image_len()).enumerate() {
                        let block = Block::whole(g, columns, j * g.out_pixels());
                        col2im_add(col, g, block, image_grad);
                    }
                }
                Ok(())
            })
        })?;
    Ok(grad)
}

/// The gradient with respect to the weights: `[out, in, kh, kw]`.
pub fn conv2d_weight_grad(
    input: &[f32],
    out_grad: &[f32],
    g: &ConvGeometry,
) -> Result<Vec<f32>, KernelError> {
    check_len("input", input.len(), g.input_len())?;
    check_len("output gradient", out_grad.len(), g.output_len())?;
    let out_len = g.out_channels * g.out_pixels();
    if let Some(rows_per_part) = row_split(g) {
        let partials = weight_grad_row_parts(input, out_grad, g, rows_per_part)?;
        return Ok(sum_in_order(partials, g.weight_len()));
    }
    let per_group = group_size(g.batch);
    let per_tile = tile_size(g);
    let groups: Vec<Range<usize>> = (0..g.batch)
        .step_by(per_group)
        .map(|start| start..(start + per_group).min(g.batch))
        .collect();
    let partials = groups
        .into_par_iter()
        .map(|images| {
            with_scratch(|scratch| {
                let mut sum = vec![0.0; g.weight_len()];
                for start in images.clone().step_by(per_tile) {
                    let end = (start + per_tile).min(images.end);
                    let tile = &input[start * g.image_len()..end * g.image_len()];
                    let out_grads = &out_grad[start * out_len..end * out_len];
                    let columns = (end - start) * g.out_pixels();
                    let col = if g.is_pointwise() && end - start == 1 {
                        tile
                    } else {
                        lower(tile, g, &mut scratch.columns)
                    };
                    let out_grads = if end - start == 1 {
                        out_grads
                    } else {
                        let staged = prefix(&mut scratch.staging, out_grads.len());
                        interleave(out_grads, staged, g.out_channels, g.out_pixels());
                        staged
                    };
                    let col = view(g.col_rows(), columns, col)?;
                    let out_grads = view(g.out_channels, columns, out_grads)?;
                    let mut target = view_mut(g.out_channels, g.col_rows(), &mut sum)?;
                    general_mat_mul(1.0, &out_grads, &col.t(), 1.0, &mut target);
                }
                Ok(sum)
            })
        })
        .collect::<Result<Vec<_>, KernelError>>()?;
    Ok(sum_in_order(partials, g.weight_len()))
}

/// The element-wise sum of `partials`, added in their order (so results
/// do not depend on which thread finished first).
fn sum_in_order(partials: Vec<Vec<f32>>, len: usize) -> Vec<f32> {
    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_else(|| vec![0.0; len]);
    for partial in partials {
        for (t, p) in total.iter_mut().zip(&partial) {
            *t += *p;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct convolution by its definition, in f64.
    fn naive(input: &[f32], weight: &[f32], g: &ConvGeometry) -> Vec<f64> {
        let [h, w] = g.in_size;
        let [kh, kw] = g.kernel;
        let [oh, ow] = g.out_size;
        let mut out = vec![0.0f64; g.output_len()];
        for n in 0..g.batch {
            for o in 0..g.out_channels {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0f64;
                        for c in 0..g.in_channels {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let iy =
                                        (oy * g.stride[0] + ky) as isize - g.pad_start[0] as isize;
                                    let ix =
                                        (ox * g.stride[1] + kx) as isize - g.pad_start[1] as isize;
                                    if (0..h as isize).contains(&iy)
                                        && (0..w as isize).contains(&ix)
                                    {
                                        let xv = input[((n * g.in_channels + c) * h + iy as usize)
                                            * w
                                            + ix as usize];
                                        let wv =
                                            weight[((o * g.in_channels + c) * kh + ky) * kw + kx];
                                        acc += xv as f64 * wv as f64;
                                    }
                                }
                            }
                        }
                        out[((n * g.out_channels + o) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        out
    }

    fn noise(n: usize, seed: u64) -> Vec<f32> {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((s >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
            })
            .collect()
    }

    fn geometries() -> Vec<ConvGeometry> {
        let p = |t, b, l, r| [(t, b), (l, r)];
        vec![
            ConvGeometry::new(3, 3, [9, 8], 4, [3, 3], [1, 1], p(1, 1, 1, 1)).unwrap(),
            ConvGeometry::new(2, 2, [11, 9], 5, [7, 7], [2, 2], p(3, 3, 3, 3)).unwrap(),
            ConvGeometry::new(5, 4, [6, 6], 3, [1, 1], [1, 1], p(0, 0, 0, 0)).unwrap(),
            ConvGeometry::new(2, 4, [7, 6], 3, [1, 1], [2, 2], p(0, 0, 0, 0)).unwrap(),
            ConvGeometry::new(1, 2, [5, 7], 2, [2, 3], [1, 2], p(0, 1, 1, 0)).unwrap(),
            // Small outputs: several images per GEMM, pointwise too.
            ConvGeometry::new(9, 3, [4, 5], 4, [3, 3], [1, 1], p(1, 1, 1, 1)).unwrap(),
            ConvGeometry::new(6, 5, [3, 3], 2, [1, 1], [1, 1], p(0, 0, 0, 0)).unwrap(),
        ]
    }

    fn assert_close(actual: &[f32], expected: &[f64], what: &str, g: &ConvGeometry) {
        assert_eq!(actual.len(), expected.len());
        for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (*a as f64 - e).abs() <= 1e-4 * (1.0 + e.abs()),
                "{what} {g:?} at {i}: {a} vs {e}"
            );
        }
    }

    #[test]
    fn forward_equals_the_definition() {
        for g in geometries() {
            let x = noise(g.input_len(), 1);
            let w = noise(g.weight_len(), 2);
            assert_close(
                &conv2d(&x, &w, &g).unwrap(),
                &naive(&x, &w, &g),
                "forward",
                &g,
            );
        }
    }

    /// Gradients of `sum(conv(x, w) * r)` for a fixed `r`, by definition:
    /// the input gradient at `x[j]` is the forward pass of the unit input
    /// `e_j` against `r`, and likewise for the weights (the map is linear).
    #[test]
    fn gradients_equal_the_definition() {
        for g in geometries() {
            let x = noise(g.input_len(), 3);
            let w = noise(g.weight_len(), 4);
            let r = noise(g.output_len(), 5);
            let dot = |out: Vec<f64>| out.iter().zip(&r).map(|(o, r)| o * *r as f64).sum::<f64>();
            let unit = |n: usize, j: usize| {
                let mut e = vec![0.0f32; n];
                e[j] = 1.0;
                e
            };
            let expected_x: Vec<f64> = (0..x.len())
                .map(|j| dot(naive(&unit(x.len(), j), &w, &g)))
                .collect();
            let expected_w: Vec<f64> = (0..w.len())
                .map(|j| dot(naive(&x, &unit(w.len(), j), &g)))
                .collect();
            assert_close(
                &conv2d_input_grad(&w, &r, &g).unwrap(),
                &expected_x,
                "input grad",
                &g,
            );
            assert_close(
                &conv2d_weight_grad(&x, &r, &g).unwrap(),
                &expected_w,
                "weight grad",
                &g,
            );
        }
    }

    #[test]
    fn wrong_lengths_are_typed_errors() {
        let g = geometries()[0];
        let x = vec![0.0; g.input_len() - 1];
        let w = vec![0.0; g.weight_len()];
        assert_eq!(
            conv2d(&x, &w, &g),
            Err(KernelError::Length {
                what: "input",
                actual: x.len(),
                expected: g.input_len()
            })
        );
        assert!(conv2d_weight_grad(&vec![0.0; g.input_len()], &[0.0], &g).is_err());
        assert!(conv2d_input_grad(&[0.0], &vec![0.0; g.output_len()], &g).is_err());
    }

    #[test]
    fn single_images_split_their_rows_among_threads() {
        let four = rayon::ThreadPoolBuilder::new()
            .num_threads(4)
            .build()
            .unwrap();
        for g in [
            ConvGeometry::new(1, 3, [11, 9], 4, [3, 3], [1, 1], [(1, 1), (1, 1)]).unwrap(),
            ConvGeometry::new(2, 2, [13, 10], 3, [7, 7], [2, 2], [(3, 3), (3, 3)]).unwrap(),
        ] {
            assert!(four.install(|| row_split(&g)).is_some());
            let x = noise(g.input_len(), 8);
            let w = noise(g.weight_len(), 9);
            let split = four.install(|| conv2d(&x, &w, &g)).unwrap();
            assert_close(&split, &naive(&x, &w, &g), "row parts", &g);
            // The backward passes split too; compare with one thread.
            let one = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let r = noise(g.output_len(), 10);
            let as_f64 = |v: Vec<f32>| v.into_iter().map(f64::from).collect::<Vec<_>>();
            assert!(four.install(|| channel_split(&g)).is_some());
            let (a, b) = (
                four.install(|| conv2d_input_grad(&w, &r, &g)).unwrap(),
                one.install(|| conv2d_input_grad(&w, &r, &g)).unwrap(),
            );
            assert_close(&a, &as_f64(b), "input grad parts", &g);
            let (a, b) = (
                four.install(|| conv2d_weight_grad(&x, &r, &g)).unwrap(),
                one.install(|| conv2d_weight_grad(&x, &r, &g)).unwrap(),
            );
            assert_close(&a, &as_f64(b), "weight grad parts", &g);
        }
    }

    #[test]
    fn results_do_not_depend_on_the_batch_split() {
        let g = ConvGeometry::new(7, 3, [10, 10], 6, [3, 3], [1, 1], [(1, 1), (1, 1)]).unwrap();
        let x = noise(g.input_len(), 6);
        let w = noise(g.weight_len(), 7);
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let three = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let a = one.install(|| conv2d(&x, &w, &g)).unwrap();
        let b = three.install(|| conv2d(&x, &w, &g)).unwrap();
        assert_eq!(a, b, "per-image results are independent of grouping");
        let ga = one.install(|| conv2d_weight_grad(&x, &a, &g)).unwrap();
        let gb = three.install(|| conv2d_weight_grad(&x, &a, &g)).unwrap();
        assert_close(
            &ga,
            &gb.iter().map(|v| *v as f64).collect::<Vec<_>>(),
            "weight grad",
            &g,
        );
    }
}
