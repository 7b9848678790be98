//! The passes when a batch has fewer images than threads (one image at
//! inference time): each image's work is shared among the threads instead
//! of leaving all but one idle. The forward pass and the weight gradient
//! split output rows; the input gradient splits input channels, whose
//! planes col2im writes without overlap (rows would overlap at the
//! kernel's edges).

use ndarray::linalg::general_mat_mul;
use ndarray::{s, ArrayView2, Axis};
use rayon::prelude::*;

use super::buffers::{prefix, view, view_mut, with_scratch};
use crate::geometry::{ConvGeometry, KernelError};
use crate::im2col::{col2im_add, im2col, Block};

/// Output rows per part when there are fewer images than threads (one
/// image at inference time): each image's rows are shared among the
/// threads instead of leaving all but one idle. `None` when the batch
/// keeps every thread busy.
pub(super) fn row_split(g: &ConvGeometry) -> Option<usize> {
    let threads = rayon::current_num_threads();
    let parts = threads.div_ceil(g.batch).min(g.out_size[0]);
    (g.batch < threads && parts > 1).then(|| g.out_size[0].div_ceil(parts))
}

/// [`conv2d`] with each image's output rows in parts of `rows_per_part`,
/// each part lowered and multiplied on its own.
pub(super) fn conv2d_row_parts(
    input: &[f32],
    weights: &ArrayView2<'_, f32>,
    g: &ConvGeometry,
    rows_per_part: usize,
) -> Result<Vec<f32>, KernelError> {
    let out_len = g.out_channels * g.out_pixels();
    let ow = g.out_size[1];
    let mut output = vec![0.0; g.output_len()];
    output
        .par_chunks_mut(out_len)
        .zip(input.par_chunks(g.image_len()))
        .try_for_each(|(out, image)| {
            let mut out = view_mut(g.out_channels, g.out_pixels(), out)?;
            let parts: Vec<_> = out
                .axis_chunks_iter_mut(Axis(1), rows_per_part * ow)
                .enumerate()
                .collect();
            parts.into_par_iter().try_for_each(|(k, mut part)| {
                let rows = (
                    k * rows_per_part,
                    ((k + 1) * rows_per_part).min(g.out_size[0]),
                );
                let columns = (rows.1 - rows.0) * ow;
                with_scratch(|scratch| {
                    let col = prefix(&mut scratch.columns, g.col_rows() * columns);
                    let block = Block {
                        stride: columns,
                        offset: 0,
                        rows,
                    };
                    im2col(image, g, col, block);
                    general_mat_mul(
                        1.0,
                        weights,
                        &view(g.col_rows(), columns, col)?,
                        0.0,
                        &mut part,
                    );
                    Ok(())
                })
            })
        })?;
    Ok(output)
}

/// [`conv2d_weight_grad`] with fewer images than threads: one partial sum
/// per image and part of its output rows, in (image, part) order.
pub(super) fn weight_grad_row_parts(
    input: &[f32],
    out_grad: &[f32],
    g: &ConvGeometry,
    rows_per_part: usize,
) -> Result<Vec<Vec<f32>>, KernelError> {
    let (oh, ow) = (g.out_size[0], g.out_size[1]);
    let parts = oh.div_ceil(rows_per_part);
    let out_len = g.out_channels * g.out_pixels();
    (0..g.batch * parts)
        .into_par_iter()
        .map(|unit| {
            let (i, k) = (unit / parts, unit % parts);
            let rows = (k * rows_per_part, ((k + 1) * rows_per_part).min(oh));
            let columns = (rows.1 - rows.0) * ow;
            let image = &input[i * g.image_len()..(i + 1) * g.image_len()];
            let out_grad = view(
                g.out_channels,
                g.out_pixels(),
                &out_grad[i * out_len..(i + 1) * out_len],
            )?;
            let out_grad = out_grad.slice(s![.., rows.0 * ow..rows.1 * ow]);
            with_scratch(|scratch| {
                let col = prefix(&mut scratch.columns, g.col_rows() * columns);
                im2col(
                    image,
                    g,
                    col,
                    Block {
                        stride: columns,
                        offset: 0,
                        rows,
                    },
                );
                let col = view(g.col_rows(), columns, col)?;
                let mut sum = vec![0.0; g.weight_len()];
                let mut target = view_mut(g.out_channels, g.col_rows(), &mut sum)?;
                general_mat_mul(1.0, &out_grad, &col.t(), 0.0, &mut target);
                Ok(sum)
            })
        })
        .collect()
}

/// Input channels per part when there are fewer images than threads: the
/// input gradient splits by input channel, whose planes col2im writes
/// without overlap (output rows would overlap at the kernel's edges).
pub(super) fn channel_split(g: &ConvGeometry) -> Option<usize> {
    let threads = rayon::current_num_threads();
    let parts = threads.div_ceil(g.batch).min(g.in_channels);
    (g.batch < threads && parts > 1).then(|| g.in_channels.div_ceil(parts))
}

/// [`conv2d_input_grad`] with each image's input channels in parts of
/// `channels_per_part`.
pub(super) fn input_grad_channel_parts(
    weights_t: &ArrayView2<'_, f32>,
    out_grad: &[f32],
    g: &ConvGeometry,
    channels_per_part: usize,
) -> Result<Vec<f32>, KernelError> {
    let out_len = g.out_channels * g.out_pixels();
    let plane = g.in_size[0] * g.in_size[1];
    let taps = g.kernel[0] * g.kernel[1];
    let mut grad = vec![0.0; g.input_len()];
    grad.par_chunks_mut(g.image_len())
        .zip(out_grad.par_chunks(out_len))
        .try_for_each(|(image_grad, out_grad)| {
            let out_grad = view(g.out_channels, g.out_pixels(), out_grad)?;
            image_grad
                .par_chunks_mut(channels_per_part * plane)
                .enumerate()
                .try_for_each(|(k, part_grad)| {
                    let first = k * channels_per_part;
                    let channels = part_grad.len() / plane;
                    // The same convolution restricted to these channels.
                    let part = ConvGeometry {
                        in_channels: channels,
                        ..*g
                    };
                    let rows = weights_t.slice(s![first * taps..(first + channels) * taps, ..]);
                    with_scratch(|scratch| {
                        let col = prefix(&mut scratch.columns, part.col_rows() * g.out_pixels());
                        general_mat_mul(
                            1.0,
                            &rows,
                            &out_grad,
                            0.0,
                            &mut view_mut(part.col_rows(), g.out_pixels(), col)?,
                        );
                        col2im_add(
                            col,
                            &part,
                            Block::whole(&part, g.out_pixels(), 0),
                            part_grad,
                        );
                        Ok(())
                    })
                })
        })?;
    Ok(grad)
}
