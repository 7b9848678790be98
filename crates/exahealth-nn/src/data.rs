//! Batches as `ndarray` arrays, and their conversion to tensors.
//!
//! The training loop owns the sample order (so a resumed run sees the same
//! order); a [`BatchSource`] only assembles the samples it is asked for.

use burn::tensor::{Device, Int, Tensor, TensorData};
use ndarray::{Array2, Array3, ArrayD, Axis};

use crate::error::{NnError, Result};

/// What a batch is trained against.
#[derive(Debug, Clone, PartialEq)]
pub enum Targets {
    /// One class index per sample (classification, MIL bags).
    Classes(Vec<usize>),
    /// One class index per pixel, `[n, h, w]` (segmentation).
    Masks(Array3<u8>),
    /// Independent 0/1 labels, `[n, labels]` (multi-label classification).
    MultiLabel(Array2<f32>),
    /// No targets (prediction only); holds the number of samples.
    Unlabelled(usize),
}

impl Targets {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Targets::Classes(c) => c.len(),
            Targets::Masks(m) => m.shape()[0],
            Targets::MultiLabel(m) => m.shape()[0],
            Targets::Unlabelled(n) => *n,
        }
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn select(&self, indices: &[usize]) -> Targets {
        match self {
            Targets::Classes(c) => Targets::Classes(indices.iter().map(|&i| c[i]).collect()),
            Targets::Masks(m) => Targets::Masks(m.select(Axis(0), indices)),
            Targets::MultiLabel(m) => Targets::MultiLabel(m.select(Axis(0), indices)),
            Targets::Unlabelled(_) => Targets::Unlabelled(indices.len()),
        }
    }
}

/// A batch: inputs with the sample axis first (`[n, c, h, w]` images, or
/// `[n, instances, features]` MIL bags) and their targets.
#[derive(Debug, Clone)]
pub struct Batch {
    /// Inputs, sample axis first, standard (row-major) layout not required.
    pub inputs: ArrayD<f32>,
    /// Targets, one per sample.
    pub targets: Targets,
}

impl Batch {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.shape().first().copied().unwrap_or(0)
    }

    /// True when the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Anything that can assemble batches of samples by index.
pub trait BatchSource {
    /// Number of samples.
    fn len(&self) -> usize;
    /// True when there is no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The samples at `indices` (each `< len()`), in that order.
    fn batch(&self, indices: &[usize]) -> Result<Batch>;
    /// The samples at `indices` as training epoch `epoch` (1-based) sees
    /// them: sources with random augmentation draw from a stream seeded by
    /// (seed, epoch, sample), so an epoch replays exactly after a resume.
    /// Without augmentation it is [`BatchSource::batch`].
    fn training_batch(&self, indices: &[usize], epoch: usize) -> Result<Batch> {
        let _ = epoch;
        self.batch(indices)
    }
    /// The batch size an evaluation pass should use when `requested` is
    /// asked for: sources whose batches would lose part of a sample (MIL
    /// bags of unequal size cut to a common size) return 1.
    fn evaluation_batch_size(&self, requested: usize) -> usize {
        requested
    }
}

/// A dataset held in memory: inputs with the sample axis first.
#[derive(Debug, Clone)]
pub struct InMemory {
    inputs: ArrayD<f32>,
    targets: Targets,
}

impl InMemory {
    /// Checks that inputs and targets agree on the number of samples.
    pub fn new(inputs: ArrayD<f32>, targets: Targets) -> Result<Self> {
        let n = inputs.shape().first().copied().unwrap_or(0);
        if n != targets.len() {
            return Err(NnError::Shape(format!(
                "{n} inputs but {} targets",
                targets.len()
            )));
        }
        if let Targets::Masks(m) = &targets {
            let s = inputs.shape();
            if s.len() != 4 || s[2] != m.shape()[1] || s[3] != m.shape()[2] {
                return Err(NnError::Shape(format!(
                    "masks {:?} do not match images {:?}",
                    m.shape(),
                    s
                )));
            }
        }
        Ok(Self { inputs, targets })
    }

    /// The targets of all samples.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }
}

impl BatchSource for InMemory {
    fn len(&self) -> usize {
        self.targets.len()
    }

    fn batch(&self, indices: &[usize]) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(NnError::Shape(format!(
                "sample {bad} out of range (dataset has {})",
                self.len()
            )));
        }
        Ok(Batch {
            inputs: self.inputs.select(Axis(0), indices),
            targets: self.targets.select(indices),
        })
    }
}

/// Copies an array into a float tensor of rank `D` on `device`.
pub fn to_tensor<const D: usize>(array: &ArrayD<f32>, device: &Device) -> Result<Tensor<D>> {
    if array.ndim() != D {
        return Err(NnError::Shape(format!(
            "expected a rank-{D} array, got shape {:?}",
            array.shape()
        )));
    }
    let shape = array.shape().to_vec();
    let values: Vec<f32> = array.iter().copied().collect();
    Ok(Tensor::from_data(TensorData::new(values, shape), device))
}

/// Class indices as an integer tensor `[n]`.
pub fn classes_to_tensor(classes: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = classes.iter().map(|&c| c as i64).collect();
    Tensor::from_data(TensorData::new(values, [classes.len()]), device)
}

/// Per-pixel class masks as an integer tensor `[n, h, w]`.
pub fn masks_to_tensor(masks: &Array3<u8>, device: &Device) -> Tensor<3, Int> {
    let shape = masks.shape().to_vec();
    let values: Vec<i64> = masks.iter().map(|&c| i64::from(c)).collect();
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Copies a float tensor back into a row-major array.
pub fn tensor_to_array<const D: usize>(tensor: Tensor<D>) -> Result<ArrayD<f32>> {
    let shape = tensor.dims().to_vec();
    let values = tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| NnError::Shape(format!("cannot read tensor data: {e:?}")))?;
    ArrayD::from_shape_vec(shape, values).map_err(|e| NnError::Shape(e.to_string()))
}
