//! Per-sample transforms (augmentations) run by the loader's workers.
//!
//! A [`Transform`] is any `Fn(&mut Sample, &mut SampleRng) -> Result`: the loader
//! gives each sample its own generator seeded from (seed, epoch, sample), so
//! augmented batches are the same whatever the number of workers. Build one
//! loader per split to give each split its own transforms (typically
//! augmentation for training, none for validation).
//!
//! [`flip_rotate_jitter`] is a small built-in pipeline (flips, quarter
//! turns, brightness/contrast jitter) used by `exahealth bench loader`;
//! ECVL-style pipelines from `exahealth-image` plug in through the same
//! [`Transform`] type.

use super::{Sample, Target};
use ndarray::{Array2, Array3, Axis};
use rand::Rng;
use std::sync::Arc;

/// The random generator a transform draws from: ChaCha8, whose stream is
/// fixed for a seed on every platform.
pub type SampleRng = rand_chacha::ChaCha8Rng;

/// Why a transform could not process a sample.
pub type TransformError = Box<dyn std::error::Error + Send + Sync>;

/// A per-sample transform, shared by all workers. An error fails the
/// sample's batch, naming the sample.
pub type Transform =
    Arc<dyn Fn(&mut Sample, &mut SampleRng) -> Result<(), TransformError> + Send + Sync>;

/// Random horizontal and vertical flips (each with probability 1/2), a
/// random quarter turn (square images only, so shapes stay fixed), then
/// brightness `+U(-brightness, brightness)` and contrast
/// `*U(1-contrast, 1+contrast)` around 0.5, clamped to 0..=1. Flips and
/// turns apply to mask targets too; jitter only to the image.
pub fn flip_rotate_jitter(brightness: f32, contrast: f32) -> Transform {
    Arc::new(move |s: &mut Sample, rng: &mut SampleRng| {
        if rng.random_bool(0.5) {
            s.image.invert_axis(Axis(1));
            if let Target::Mask(m) = &mut s.target {
                m.invert_axis(Axis(1));
            }
        }
        if rng.random_bool(0.5) {
            s.image.invert_axis(Axis(0));
            if let Target::Mask(m) = &mut s.target {
                m.invert_axis(Axis(0));
            }
        }
        let (h, w, _) = s.image.dim();
        let turns = if h == w { rng.random_range(0..4u8) } else { 0 };
        for _ in 0..turns {
            s.image = rotate90(&s.image);
            if let Target::Mask(m) = &mut s.target {
                *m = rotate90_2d(m);
            }
        }
        let b = if brightness > 0.0 {
            rng.random_range(-brightness..=brightness)
        } else {
            0.0
        };
        let c = if contrast > 0.0 {
            rng.random_range(1.0 - contrast..=1.0 + contrast)
        } else {
            1.0
        };
        if b != 0.0 || c != 1.0 {
            s.image
                .mapv_inplace(|v| ((v - 0.5) * c + 0.5 + b).clamp(0.0, 1.0));
        }
        Ok(())
    })
}

/// A quarter turn counter-clockwise of an HWC image, stored contiguously.
fn rotate90(a: &Array3<f32>) -> Array3<f32> {
    let mut v = a.view();
    v.swap_axes(0, 1);
    v.invert_axis(Axis(0));
    v.as_standard_layout().into_owned()
}

fn rotate90_2d(a: &Array2<f32>) -> Array2<f32> {
    let mut v = a.view();
    v.swap_axes(0, 1);
    v.invert_axis(Axis(0));
    v.as_standard_layout().into_owned()
}
