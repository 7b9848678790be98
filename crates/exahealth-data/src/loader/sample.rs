//! One loaded sample and the batches stacked from them.

use super::LoaderError;
use ndarray::{Array1, Array2, Array3, Array4, Axis};

/// One training example as a source loads it, before batching.
///
/// `image` is `height x width x channels` (HWC), `f32` in `0..=1` for 8-bit
/// files (16-bit files are scaled by 65535). Transforms (augmentations) see
/// and may change both the image and a mask target, so spatial operations
/// stay aligned.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's index in its source.
    pub index: usize,
    /// Pixels, `height x width x channels`.
    pub image: Array3<f32>,
    /// What the sample should be predicted as.
    pub target: Target,
}

/// What a sample should be predicted as.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    /// Unlabelled (inference, or a dataset without labels).
    None,
    /// A class index (single-label classification).
    Class(usize),
    /// One value per class, 1.0 where the class is present (multi-label).
    MultiHot(Array1<f32>),
    /// A `height x width` mask of the values stored in the mask file (class
    /// indices, or 0/255 for binary masks: the loader does not rescale them).
    Mask(Array2<f32>),
}

/// A batch, stacked in the order of the epoch's sample order.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Position of this batch in its epoch (0-based).
    pub index: usize,
    /// Source indices of the samples, in batch order.
    pub samples: Vec<usize>,
    /// `batch x channels x height x width` (NCHW, the layout Burn's
    /// convolutions take).
    pub images: Array4<f32>,
    /// The samples' targets, in batch order.
    pub labels: Labels,
}

/// The targets of a batch, stacked.
#[derive(Debug, Clone, PartialEq)]
pub enum Labels {
    /// The samples are unlabelled.
    None,
    /// One class index per sample.
    Classes(Vec<usize>),
    /// `batch x classes`.
    MultiHot(Array2<f32>),
    /// `batch x height x width`.
    Masks(Array3<f32>),
}

impl Batch {
    /// Samples in the batch (`batch_size`, or fewer for an epoch's last).
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether the batch holds no sample.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Stacks samples (same image shape, same kind of target) into a batch as
/// they arrive, so a worker holds one sample plus the batch, not the
/// batch twice.
pub(crate) struct BatchBuilder {
    batch: usize,
    capacity: usize,
    /// HWC shape of the first sample, and its index.
    shape: Option<((usize, usize, usize), usize)>,
    data: Vec<f32>,
    indices: Vec<usize>,
    targets: Vec<Target>,
}

impl BatchBuilder {
    /// `buffer` is an empty vector whose memory is reused (see
    /// [`crate::loader::Loader::recycle`]).
    pub(crate) fn new(batch: usize, capacity: usize, buffer: Vec<f32>) -> Self {
        Self {
            batch,
            capacity,
            shape: None,
            data: buffer,
            indices: Vec::with_capacity(capacity),
            targets: Vec::with_capacity(capacity),
        }
    }

    fn err(&self, message: String) -> LoaderError {
        LoaderError::Collate {
            batch: self.batch,
            message,
        }
    }

    pub(crate) fn push(&mut self, s: Sample) -> Result<(), LoaderError> {
        let dim = s.image.dim();
        let (h, w, c) = match self.shape {
            None => {
                self.shape = Some((dim, s.index));
                dim
            }
            Some((d, first)) if d != dim => {
                return Err(self.err(format!(
                    "sample {} is {dim:?} (HWC) but sample {first} is {d:?}; give the source a fixed output size",
                    s.index
                )))
            }
            Some((d, _)) => d,
        };
        if self.indices.len() == self.capacity {
            return Err(self.err(format!("more than {} samples", self.capacity)));
        }
        if self.indices.is_empty() {
            self.data.clear();
            self.data.reserve_exact(self.capacity * h * w * c);
        }
        append_chw(&s.image, &mut self.data);
        self.indices.push(s.index);
        self.targets.push(s.target);
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Result<Batch, LoaderError> {
        let Some(((h, w, c), _)) = self.shape else {
            return Err(self.err("no samples in batch".into()));
        };
        let n = self.indices.len();
        let images = Array4::from_shape_vec((n, c, h, w), std::mem::take(&mut self.data))
            .map_err(|e| self.err(format!("cannot shape the batch: {e}")))?;
        let labels = self.labels()?;
        Ok(Batch {
            index: self.batch,
            samples: self.indices,
            images,
            labels,
        })
    }

    fn labels(&self) -> Result<Labels, LoaderError> {
        let n = self.targets.len();
        let first = self.indices[0];
        let mixed = |k: usize| self.err(mixed(first, self.indices[k]));
        Ok(match &self.targets[0] {
            Target::None => {
                if let Some(k) = self.targets.iter().position(|t| *t != Target::None) {
                    return Err(mixed(k));
                }
                Labels::None
            }
            Target::Class(_) => Labels::Classes(
                self.targets
                    .iter()
                    .enumerate()
                    .map(|(k, t)| match t {
                        Target::Class(c) => Ok(*c),
                        _ => Err(mixed(k)),
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Target::MultiHot(v) => {
                let classes = v.len();
                let mut m = Array2::<f32>::zeros((n, classes));
                for (k, t) in self.targets.iter().enumerate() {
                    match t {
                        Target::MultiHot(v) if v.len() == classes => m.row_mut(k).assign(v),
                        _ => return Err(mixed(k)),
                    }
                }
                Labels::MultiHot(m)
            }
            Target::Mask(m0) => {
                let (mh, mw) = m0.dim();
                let mut m = Array3::<f32>::zeros((n, mh, mw));
                for (k, t) in self.targets.iter().enumerate() {
                    match t {
                        Target::Mask(mask) if mask.dim() == (mh, mw) => {
                            m.index_axis_mut(Axis(0), k).assign(mask)
                        }
                        Target::Mask(mask) => {
                            return Err(self.err(format!(
                                "mask of sample {} is {:?} but mask of sample {first} is {:?}",
                                self.indices[k],
                                mask.dim(),
                                (mh, mw)
                            )))
                        }
                        _ => return Err(mixed(k)),
                    }
                }
                Labels::Masks(m)
            }
        })
    }
}

/// Appends an HWC image to `dst` as CHW, one plane at a time: sequential
/// writes, no zero-filled buffer (ndarray's strided assignment and
/// per-pixel scatter were the loader's largest costs).
fn append_chw(image: &Array3<f32>, dst: &mut Vec<f32>) {
    let c = image.dim().2;
    let src = image.as_standard_layout();
    match src.as_slice() {
        Some(src) if c > 0 => {
            for k in 0..c {
                dst.extend(src[k..].iter().step_by(c));
            }
        }
        // Not reached for standard layout; kept total for safety.
        _ => dst.extend(image.view().permuted_axes([2, 0, 1]).iter()),
    }
}

fn mixed(a: usize, b: usize) -> String {
    format!("samples {a} and {b} have different kinds of label (class, multi-hot, mask or none)")
}
