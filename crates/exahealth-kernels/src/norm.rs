//! Batch normalisation over `[batch, channels, pixels]` data: per-channel
//! batch statistics, the affine normalisation, and the training gradient.
//!
//! Each pass reads a channel's `batch` runs of `pixels` samples, so the
//! statistics and the gradient take one and two passes instead of the
//! transposed copies and half a dozen element-wise passes of a generic
//! composition. Sums run in f32 over blocks of 256 samples and in f64
//! across blocks.

use rayon::prelude::*;

use crate::geometry::{check_len, KernelError};

/// The layout of a batch-normalised tensor: `[batch, channels, pixels]`
/// (pixels: everything after the channel axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NormShape {
    /// Images in the batch.
    pub batch: usize,
    /// Channels, each with its own statistics, gamma and beta.
    pub channels: usize,
    /// Samples per channel of one image (height times width for 2-D).
    pub pixels: usize,
}

impl NormShape {
    fn len(&self) -> Result<usize, KernelError> {
        self.batch
            .checked_mul(self.channels)
            .and_then(|v| v.checked_mul(self.pixels))
            .ok_or(KernelError::TooLarge)
    }

    /// Samples per channel.
    fn count(&self) -> usize {
        self.batch * self.pixels
    }

    /// The runs of channel `c`: one per image.
    fn runs<'a>(&self, data: &'a [f32], c: usize) -> impl Iterator<Item = &'a [f32]> + 'a {
        let (channels, pixels) = (self.channels, self.pixels);
        (0..self.batch).map(move |n| &data[(n * channels + c) * pixels..][..pixels])
    }

    fn check(&self, what: &'static str, data: &[f32]) -> Result<(), KernelError> {
        check_len(what, data.len(), self.len()?)?;
        if self.count() == 0 {
            return Err(KernelError::Zero {
                what: "batch normalisation samples per channel",
            });
        }
        Ok(())
    }
}

/// Channels per parallel task in the per-channel reductions.
fn channels_per_task(shape: NormShape) -> usize {
    (1usize << 16).div_ceil(shape.count().max(1))
}

/// Runs `f(channel, out_plane, x_plane, other_plane)` over every
/// `[pixels]` plane, in parallel tasks of at least 64 Ki samples (ResNet's
/// last stage has 49-sample planes: one task each would be all overhead).
/// `other` defaults to `x`.
fn for_each_plane(
    out: &mut [f32],
    x: &[f32],
    other: Option<&[f32]>,
    shape: NormShape,
    f: impl Fn(usize, &mut [f32], &[f32], &[f32]) + Sync,
) {
    let other = other.unwrap_or(x);
    let per_task = (1usize << 16).div_ceil(shape.pixels.max(1));
    let chunk = per_task * shape.pixels;
    out.par_chunks_mut(chunk)
        .zip(x.par_chunks(chunk).zip(other.par_chunks(chunk)))
        .enumerate()
        .for_each(|(task, (out, (x, other)))| {
            let planes = out.chunks_exact_mut(shape.pixels).zip(
                x.chunks_exact(shape.pixels)
                    .zip(other.chunks_exact(shape.pixels)),
            );
            for (j, (out, (x, other))) in planes.enumerate() {
                f((task * per_task + j) % shape.channels, out, x, other);
            }
        });
}

/// `f` summed over `values` in f32 blocks (vectorised) added up in f64
/// (long runs would lose precision in f32).
fn block_sum(values: &[f32], f: impl Fn(f32) -> f32 + Copy) -> f64 {
    values
        .chunks(256)
        .map(|block| block.iter().fold(0.0f32, |acc, v| acc + f(*v)) as f64)
        .sum()
}

/// Per-channel mean and biased variance of `x`. Two passes (the mean,
/// then squared deviations from it): a variance from the mean of squares
/// cancels badly when the mean dominates.
pub fn batch_norm_stats(x: &[f32], shape: NormShape) -> Result<(Vec<f32>, Vec<f32>), KernelError> {
    shape.check("batch-norm input", x)?;
    let n = shape.count() as f64;
    let stats: Vec<(f32, f32)> = (0..shape.channels)
        .into_par_iter()
        .with_min_len(channels_per_task(shape))
        .map(|c| {
            let mean = shape
                .runs(x, c)
                .map(|run| block_sum(run, |v| v))
                .sum::<f64>()
                / n;
            let m = mean as f32;
            let squares: f64 = shape
                .runs(x, c)
                .map(|run| block_sum(run, |v| (v - m) * (v - m)))
                .sum();
            (m, (squares / n) as f32)
        })
        .collect();
    Ok(stats.into_iter().unzip())
}

/// `x * scale[c] + shift[c]` for every channel `c`.
pub fn channel_affine(
    x: &[f32],
    shape: NormShape,
    scale: &[f32],
    shift: &[f32],
) -> Result<Vec<f32>, KernelError> {
    shape.check("batch-norm input", x)?;
    check_len("scale", scale.len(), shape.channels)?;
    check_len("shift", shift.len(), shape.channels)?;
    let mut out = vec![0.0; x.len()];
    for_each_plane(&mut out, x, None, shape, |c, out, x, _| {
        let (a, b) = (scale[c], shift[c]);
        for (o, v) in out.iter_mut().zip(x) {
            *o = v * a + b;
        }
    });
    Ok(out)
}

/// Per-channel `(scale, shift)` that normalise with `mean` and `variance`
/// and then apply `gamma` and `beta`.
pub fn norm_affine(
    gamma: &[f32],
    beta: &[f32],
    mean: &[f32],
    variance: &[f32],
    epsilon: f64,
) -> (Vec<f32>, Vec<f32>) {
    gamma
        .iter()
        .zip(beta)
        .zip(mean.iter().zip(variance))
        .map(|((g, b), (m, v))| {
            let inv_std = 1.0 / (*v as f64 + epsilon).sqrt();
            let scale = *g as f64 * inv_std;
            (scale as f32, (*b as f64 - *m as f64 * scale) as f32)
        })
        .unzip()
}

/// Gradients of batch normalisation with batch statistics (training mode).
pub struct BatchNormGrads {
    /// Gradient of the input, laid out as the input.
    pub x: Vec<f32>,
    /// Gradient of the scale, one per channel.
    pub gamma: Vec<f32>,
    /// Gradient of the shift, one per channel.
    pub beta: Vec<f32>,
}

/// The gradients of `y = gamma * (x - mean) / sqrt(variance + eps) + beta`
/// where `mean` and `variance` are `x`'s own batch statistics, given the
/// output's gradient.
pub fn batch_norm_train_grad(
    x: &[f32],
    out_grad: &[f32],
    shape: NormShape,
    gamma: &[f32],
    mean: &[f32],
    variance: &[f32],
    epsilon: f64,
) -> Result<BatchNormGrads, KernelError> {
    shape.check("batch-norm input", x)?;
    check_len("batch-norm output gradient", out_grad.len(), x.len())?;
    for (what, v) in [("gamma", gamma), ("mean", mean), ("variance", variance)] {
        check_len(what, v.len(), shape.channels)?;
    }
    // Per channel: sum(g) and sum(g * (x - mean)).
    let sums: Vec<(f64, f64)> = (0..shape.channels)
        .into_par_iter()
        .with_min_len(channels_per_task(shape))
        .map(|c| {
            let m = mean[c];
            shape.runs(out_grad, c).zip(shape.runs(x, c)).fold(
                (0.0f64, 0.0f64),
                |(sg, sgx), (g, x)| {
                    let (a, b) = g
                        .iter()
                        .zip(x)
                        .fold((0.0f32, 0.0f32), |(a, b), (g, x)| (a + g, b + g * (x - m)));
                    (sg + a as f64, sgx + b as f64)
                },
            )
        })
        .collect();
    let n = shape.count() as f64;
    // dx = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat)), written
    // as k_g * g + k_x * x + k_1 per channel.
    let mut coefficients = Vec::with_capacity(shape.channels);
    let (mut gamma_grad, mut beta_grad) = (
        Vec::with_capacity(shape.channels),
        Vec::with_capacity(shape.channels),
    );
    for c in 0..shape.channels {
        let (sg, sgx) = sums[c];
        let inv_std = 1.0 / (variance[c] as f64 + epsilon).sqrt();
        let k_g = gamma[c] as f64 * inv_std;
        let k_x = -k_g * sgx * inv_std * inv_std / n;
        let k_1 = -k_g * sg / n - k_x * mean[c] as f64;
        coefficients.push((k_g as f32, k_x as f32, k_1 as f32));
        gamma_grad.push((sgx * inv_std) as f32);
        beta_grad.push(sg as f32);
    }
    let mut x_grad = vec![0.0; x.len()];
    x_grad
        .par_chunks_mut(shape.pixels)
        .zip(
            out_grad
                .par_chunks(shape.pixels)
                .zip(x.par_chunks(shape.pixels)),
        )
        .enumerate()
        .for_each(|(plane, (dx, (g, x)))| {
            let (k_g, k_x, k_1) = coefficients[plane % shape.channels];
            for ((d, g), x) in dx.iter_mut().zip(g).zip(x) {
                *d = k_g * g + k_x * x + k_1;
            }
        });
    Ok(BatchNormGrads {
        x: x_grad,
        gamma: gamma_grad,
        beta: beta_grad,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(shape: NormShape, seed: u32) -> Vec<f32> {
        (0..shape.batch * shape.channels * shape.pixels)
            .map(|i| {
                ((i as u32).wrapping_mul(2654435761).wrapping_add(seed) % 1000) as f32 / 100.0 - 3.0
            })
            .collect()
    }

    const SHAPE: NormShape = NormShape {
        batch: 3,
        channels: 4,
        pixels: 10,
    };

    #[test]
    fn statistics_equal_their_definition() {
        let x = data(SHAPE, 1);
        let (mean, var) = batch_norm_stats(&x, SHAPE).unwrap();
        for c in 0..4 {
            let values: Vec<f64> = SHAPE.runs(&x, c).flatten().map(|v| *v as f64).collect();
            let m = values.iter().sum::<f64>() / 30.0;
            let v = values.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / 30.0;
            assert!(
                (mean[c] as f64 - m).abs() < 1e-5 && (var[c] as f64 - v).abs() < 1e-4,
                "{c}"
            );
        }
    }

    #[test]
    fn affine_planes_split_across_tasks_keep_their_channels() {
        // 7,000-sample planes: ten per task, so tasks start mid-batch.
        let shape = NormShape {
            batch: 3,
            channels: 7,
            pixels: 7000,
        };
        let x = data(shape, 3);
        let scale: Vec<f32> = (0..7).map(|c| c as f32 + 1.0).collect();
        let shift: Vec<f32> = (0..7).map(|c| -(c as f32)).collect();
        let y = channel_affine(&x, shape, &scale, &shift).unwrap();
        for (i, (y, x)) in y.iter().zip(&x).enumerate() {
            let c = i / 7000 % 7;
            assert_eq!(*y, x * scale[c] + shift[c], "sample {i}");
        }
    }

    #[test]
    fn variance_survives_a_large_mean() {
        // Long runs far from zero: a mean-of-squares variance would lose
        // every digit here in f32.
        let shape = NormShape {
            batch: 2,
            channels: 1,
            pixels: 50_000,
        };
        let x: Vec<f32> = (0..100_000)
            .map(|i| 1000.0 + ((i * 7919) % 13) as f32 * 0.01)
            .collect();
        let (mean, var) = batch_norm_stats(&x, shape).unwrap();
        let m = x.iter().map(|v| *v as f64).sum::<f64>() / 1e5;
        let v = x.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / 1e5;
        assert!((mean[0] as f64 - m).abs() < 1e-3);
        assert!((var[0] as f64 - v).abs() < 1e-2 * v, "{} vs {v}", var[0]);
    }

    /// The loss `sum(y * r)` by finite differences, in f64 through the f32
    /// kernels' own forward pass.
    #[test]
    fn training_gradient_matches_finite_differences() {
        let shape = NormShape {
            batch: 2,
            channels: 3,
            pixels: 5,
        };
        let x = data(shape, 7);
        let r = data(shape, 11);
        let gamma = vec![0.5, 1.5, -2.0];
        let beta = vec![0.1, -0.2, 0.3];
        let eps = 1e-5;
        let loss = |x: &[f32], gamma: &[f32], beta: &[f32]| -> f64 {
            let (mean, var) = batch_norm_stats(x, shape).unwrap();
            let (scale, shift) = norm_affine(gamma, beta, &mean, &var, eps);
            let y = channel_affine(x, shape, &scale, &shift).unwrap();
            y.iter().zip(&r).map(|(y, r)| *y as f64 * *r as f64).sum()
        };
        let (mean, var) = batch_norm_stats(&x, shape).unwrap();
        let grads = batch_norm_train_grad(&x, &r, shape, &gamma, &mean, &var, eps).unwrap();
        let h = 1e-2f32;
        let numeric = |f: &dyn Fn(f32) -> f64| (f(h) - f(-h)) / (2.0 * h as f64);
        for i in [0, 4, 7, 13, 29] {
            let d = numeric(&|e| {
                let mut x = x.clone();
                x[i] += e;
                loss(&x, &gamma, &beta)
            });
            assert!(
                (grads.x[i] as f64 - d).abs() < 2e-2 * (1.0 + d.abs()),
                "x[{i}]: {} vs {d}",
                grads.x[i]
            );
        }
        for c in 0..3 {
            let dg = numeric(&|e| {
                let mut g = gamma.clone();
                g[c] += e;
                loss(&x, &g, &beta)
            });
            let db = numeric(&|e| {
                let mut b = beta.clone();
                b[c] += e;
                loss(&x, &gamma, &b)
            });
            assert!(
                (grads.gamma[c] as f64 - dg).abs() < 1e-2 * (1.0 + dg.abs()),
                "gamma[{c}]"
            );
            assert!(
                (grads.beta[c] as f64 - db).abs() < 1e-2 * (1.0 + db.abs()),
                "beta[{c}]"
            );
        }
    }

    #[test]
    fn bad_lengths_are_typed_errors() {
        let x = data(SHAPE, 1);
        assert!(matches!(
            batch_norm_stats(&x[1..], SHAPE),
            Err(KernelError::Length { .. })
        ));
        assert!(channel_affine(&x, SHAPE, &[1.0; 3], &[0.0; 4]).is_err());
        let empty = NormShape {
            batch: 0,
            channels: 4,
            pixels: 10,
        };
        assert!(matches!(
            batch_norm_stats(&[], empty),
            Err(KernelError::Zero { .. })
        ));
    }
}
