//! Batches from exahealth-data's sample sources (dataset splits, slide
//! patch plans): samples load in parallel and stack into NCHW arrays.

use exahealth_data::loader::{sample_rng, SampleSource, Target, Transform};
use ndarray::{Array2, Array3, Array4, ArrayD};
use rayon::prelude::*;

use crate::data::{Batch, BatchSource, Targets};
use crate::error::{NnError, Result};

/// A [`BatchSource`] over any [`SampleSource`].
pub struct SampleBatches<S> {
    source: S,
    num_classes: usize,
    /// Applied to training batches only ([`BatchSource::training_batch`]).
    augmentation: Option<(Transform, u64)>,
}

impl<S: SampleSource> SampleBatches<S> {
    /// Wraps `source`, whose targets index `num_classes` classes. Mask
    /// values are class indices; with two classes any non-zero mask value
    /// (such as 255 in binary PNG masks) is the foreground class 1.
    pub fn new(source: S, num_classes: usize) -> Self {
        Self {
            source,
            num_classes,
            augmentation: None,
        }
    }

    /// Runs `transform` (e.g. an ECVL pipeline through
    /// `exahealth_data::loader::ecvl_transform`) on every sample of a
    /// training batch, with a random stream seeded by (`seed`, epoch,
    /// sample index). Evaluation and prediction batches stay untouched.
    pub fn with_augmentation(mut self, transform: Transform, seed: u64) -> Self {
        self.augmentation = Some((transform, seed));
        self
    }

    /// The wrapped source.
    pub fn source(&self) -> &S {
        &self.source
    }

    fn mask_class(&self, v: f32) -> Result<u8> {
        if self.num_classes == 2 {
            return Ok(u8::from(v > 0.0));
        }
        if v >= 0.0 && (v as usize) < self.num_classes && v.fract() == 0.0 {
            Ok(v as u8)
        } else {
            Err(NnError::Data(format!(
                "mask value {v} is not a class index below {}",
                self.num_classes
            )))
        }
    }
}

impl<S: SampleSource> BatchSource for SampleBatches<S> {
    fn len(&self) -> usize {
        self.source.len()
    }

    fn batch(&self, indices: &[usize]) -> Result<Batch> {
        self.stack(indices, None)
    }

    fn training_batch(&self, indices: &[usize], epoch: usize) -> Result<Batch> {
        self.stack(indices, Some(epoch))
    }
}

impl<S: SampleSource> SampleBatches<S> {
    /// Loads (and, for a training epoch, augments) the samples and stacks
    /// them into one batch.
    fn stack(&self, indices: &[usize], epoch: Option<usize>) -> Result<Batch> {
        let samples = indices
            .par_iter()
            .map(|&i| {
                let mut sample = self
                    .source
                    .load(i)
                    .map_err(|e| NnError::Data(e.to_string()))?;
                if let (Some((transform, seed)), Some(epoch)) = (&self.augmentation, epoch) {
                    let mut rng = sample_rng(*seed, epoch as u64, i);
                    transform(&mut sample, &mut rng)
                        .map_err(|e| NnError::Data(format!("augmenting sample {i}: {e}")))?;
                }
                Ok(sample)
            })
            .collect::<Result<Vec<_>>>()?;
        let first = samples
            .first()
            .ok_or_else(|| NnError::EmptyData("empty batch".into()))?;
        let (h, w, c) = first.image.dim();
        let n = samples.len();
        let mut images = Array4::<f32>::zeros((n, c, h, w));
        for (k, s) in samples.iter().enumerate() {
            if s.image.dim() != (h, w, c) {
                return Err(NnError::Shape(format!(
                    "sample {} is {:?}, the batch's first is {:?}: set an image size",
                    s.index,
                    s.image.dim(),
                    (h, w, c)
                )));
            }
            // HWC to CHW.
            images
                .index_axis_mut(ndarray::Axis(0), k)
                .assign(&s.image.view().permuted_axes([2, 0, 1]));
        }
        let targets = match &first.target {
            Target::Class(_) => Targets::Classes(
                samples
                    .iter()
                    .map(|s| match s.target {
                        Target::Class(k) if k < self.num_classes => Ok(k),
                        _ => Err(NnError::Data(format!(
                            "sample {} has no class below {}",
                            s.index, self.num_classes
                        ))),
                    })
                    .collect::<Result<_>>()?,
            ),
            Target::MultiHot(_) => {
                let mut m = Array2::<f32>::zeros((n, self.num_classes));
                for (k, s) in samples.iter().enumerate() {
                    match &s.target {
                        Target::MultiHot(v) if v.len() == self.num_classes => {
                            m.row_mut(k).assign(v)
                        }
                        _ => {
                            return Err(NnError::Data(format!(
                                "sample {} has no {}-class multi-hot label",
                                s.index, self.num_classes
                            )))
                        }
                    }
                }
                Targets::MultiLabel(m)
            }
            Target::Mask(_) => {
                let mut m = Array3::<u8>::zeros((n, h, w));
                for (k, s) in samples.iter().enumerate() {
                    match &s.target {
                        Target::Mask(mask) if mask.dim() == (h, w) => {
                            for ((y, x), &v) in mask.indexed_iter() {
                                m[[k, y, x]] = self.mask_class(v)?;
                            }
                        }
                        _ => {
                            return Err(NnError::Data(format!(
                                "sample {} has no {h}x{w} mask",
                                s.index
                            )))
                        }
                    }
                }
                Targets::Masks(m)
            }
            Target::None => Targets::Unlabelled(n),
        };
        Ok(Batch {
            inputs: images.into_dyn(),
            targets,
        })
    }
}

/// Stacks HWC images into an NCHW array (for prediction on loose images).
pub fn stack_hwc(images: &[Array3<f32>]) -> Result<ArrayD<f32>> {
    let first = images
        .first()
        .ok_or_else(|| NnError::EmptyData("no image".into()))?;
    let (h, w, c) = first.dim();
    let mut out = Array4::<f32>::zeros((images.len(), c, h, w));
    for (k, img) in images.iter().enumerate() {
        if img.dim() != (h, w, c) {
            return Err(NnError::Shape(format!(
                "image {k} is {:?}, the first is {:?}",
                img.dim(),
                (h, w, c)
            )));
        }
        out.index_axis_mut(ndarray::Axis(0), k)
            .assign(&img.view().permuted_axes([2, 0, 1]));
    }
    Ok(out.into_dyn())
}
