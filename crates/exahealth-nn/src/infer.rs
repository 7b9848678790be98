//! Batched prediction on arrays: class probabilities per image, or class
//! probabilities per pixel.

use burn::tensor::activation::softmax;
use burn::tensor::Device;
use ndarray::{Array2, Array4, ArrayD, Axis, Ix2, Ix4};

use crate::data::tensor_to_array;
use crate::error::{NnError, Result};
use crate::models::{Model, Output};

/// Softmax probabilities for a set of inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// `[n, classes]`, each row summing to one.
    Classes(Array2<f32>),
    /// `[n, classes, h, w]`, summing to one over classes.
    Masks(Array4<f32>),
}

impl Prediction {
    /// Number of samples.
    pub fn len(&self) -> usize {
        match self {
            Prediction::Classes(p) => p.shape()[0],
            Prediction::Masks(p) => p.shape()[0],
        }
    }

    /// True when there is no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Runs `model` (in validation mode, on a device without autodiff) over
/// `inputs` (sample axis first) in batches of `batch_size`.
pub fn predict<M: Model>(
    model: &M,
    inputs: &ArrayD<f32>,
    batch_size: usize,
    device: &Device,
) -> Result<Prediction> {
    let n = inputs.shape().first().copied().unwrap_or(0);
    if n == 0 {
        return Err(NnError::EmptyData("nothing to predict".into()));
    }
    let mut classes: Vec<ArrayD<f32>> = Vec::new();
    let mut masks: Vec<ArrayD<f32>> = Vec::new();
    let mut start = 0;
    while start < n {
        let end = (start + batch_size.max(1)).min(n);
        let chunk = inputs.slice_axis(Axis(0), (start..end).into()).to_owned();
        match model.output(&chunk, device)? {
            Output::Logits(l) => classes.push(tensor_to_array(softmax(l, 1))?),
            Output::Masks(l) => masks.push(tensor_to_array(softmax(l, 1))?),
        }
        start = end;
    }
    let join = |parts: Vec<ArrayD<f32>>| -> Result<ArrayD<f32>> {
        let views: Vec<_> = parts.iter().map(|a| a.view()).collect();
        ndarray::concatenate(Axis(0), &views).map_err(|e| NnError::Shape(e.to_string()))
    };
    if !classes.is_empty() {
        let p = join(classes)?
            .into_dimensionality::<Ix2>()
            .map_err(|e| NnError::Shape(e.to_string()))?;
        Ok(Prediction::Classes(p))
    } else {
        let p = join(masks)?
            .into_dimensionality::<Ix4>()
            .map_err(|e| NnError::Shape(e.to_string()))?;
        Ok(Prediction::Masks(p))
    }
}
