//! Augmentation of training batches: drawn per (seed, epoch, sample), so
//! an epoch replays exactly (what resume relies on); evaluation batches are
//! never augmented.

use exahealth_data::loader::{LoaderError, Sample, SampleSource, Target, Transform};
use exahealth_nn::data::BatchSource;
use exahealth_nn::sources::SampleBatches;
use ndarray::Array3;
use rand::Rng;
use std::sync::Arc;

/// Four 8x8 RGB images with a ramp, labelled by index parity.
struct Ramps;

impl SampleSource for Ramps {
    fn len(&self) -> usize {
        4
    }
    fn load(&self, index: usize) -> Result<Sample, LoaderError> {
        Ok(Sample {
            index,
            image: Array3::from_shape_fn((8, 8, 3), |(y, x, c)| {
                (y * 8 + x + c + index) as f32 / 100.0
            }),
            target: Target::Class(index % 2),
        })
    }
}

/// Adds a random offset to every pixel.
fn jitter() -> Transform {
    Arc::new(
        |s: &mut Sample, rng: &mut exahealth_data::loader::SampleRng| {
            let d: f32 = rng.random_range(-0.5..0.5);
            s.image.mapv_inplace(|v| v + d);
            Ok(())
        },
    )
}

#[test]
fn training_batches_are_augmented_reproducibly_per_epoch() {
    let plain = SampleBatches::new(Ramps, 2);
    let aug = SampleBatches::new(Ramps, 2).with_augmentation(jitter(), 42);
    let idx = [2, 0, 3];
    let base = plain.batch(&idx).unwrap().inputs;
    // Evaluation and prediction batches are untouched.
    assert_eq!(aug.batch(&idx).unwrap().inputs, base);
    // Without augmentation a training batch is the plain batch.
    assert_eq!(plain.training_batch(&idx, 1).unwrap().inputs, base);

    let e1 = aug.training_batch(&idx, 1).unwrap().inputs;
    assert_ne!(e1, base);
    // Same epoch, same draws, whatever the batch composition and order.
    assert_eq!(aug.training_batch(&idx, 1).unwrap().inputs, e1);
    let alone = aug.training_batch(&[0], 1).unwrap().inputs;
    assert_eq!(
        alone.index_axis(ndarray::Axis(0), 0),
        e1.index_axis(ndarray::Axis(0), 1)
    );
    // Another epoch or another seed draws differently.
    assert_ne!(aug.training_batch(&idx, 2).unwrap().inputs, e1);
    let other_seed = SampleBatches::new(Ramps, 2).with_augmentation(jitter(), 43);
    assert_ne!(other_seed.training_batch(&idx, 1).unwrap().inputs, e1);
    // Labels are not touched.
    assert_eq!(
        format!("{:?}", aug.training_batch(&idx, 1).unwrap().targets),
        format!("{:?}", plain.batch(&idx).unwrap().targets)
    );
}
