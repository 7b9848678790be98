//! Samples of one split of a DeepHealth dataset YAML.

use super::decode::{read_image, resize_bilinear, resize_nearest, to_channels};
use super::{LoaderError, Sample, SampleSource, Target};
use crate::dataset::{Dataset, Label};
use ndarray::{concatenate, Array1, Axis};

/// How class labels become targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelMode {
    /// Multi-hot if any sample of the split has other than one class,
    /// otherwise a class index.
    #[default]
    Auto,
    /// A class index; a sample with other than one class is an error.
    Class,
    /// One value per class.
    MultiHot,
}

/// How a [`DatasetSource`] reads images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageOptions {
    /// Resize every image (and mask) to `(width, height)`; `None` keeps the
    /// file's size (batches then need images of equal size).
    pub size: Option<(u32, u32)>,
    /// Channels per plane: 1 (grey) or 3 (RGB). Multi-plane samples stack
    /// their planes along the channel axis.
    pub channels: usize,
    /// How class labels become targets (default: decided by the split).
    pub labels: LabelMode,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self {
            size: None,
            channels: 3,
            labels: LabelMode::Auto,
        }
    }
}

/// The samples of one named split of a dataset (or all samples), read on
/// demand: PNG and JPEG directly, DICOM, NIfTI, TIFF and other formats
/// through `exahealth_image::io::read` (2-D images only).
pub struct DatasetSource {
    dataset: Dataset,
    indices: Vec<usize>,
    options: ImageOptions,
    multi_hot: bool,
}

impl DatasetSource {
    /// The samples of split `split`, or every sample when `split` is `None`.
    pub fn new(
        dataset: Dataset,
        split: Option<&str>,
        options: ImageOptions,
    ) -> Result<Self, LoaderError> {
        if options.channels != 1 && options.channels != 3 {
            return Err(LoaderError::Config(format!(
                "channels must be 1 or 3, not {}",
                options.channels
            )));
        }
        if let Some((w, h)) = options.size {
            if w == 0 || h == 0 {
                return Err(LoaderError::Config(format!("output size {w}x{h} is empty")));
            }
        }
        let indices = match split {
            None => (0..dataset.samples.len()).collect(),
            Some(name) => dataset
                .split_indices(name)
                .ok_or_else(|| {
                    let names: Vec<&str> = dataset.split.iter().map(|(n, _)| n.as_str()).collect();
                    LoaderError::Config(format!(
                        "the dataset has no split {name:?} (it has: {})",
                        names.join(", ")
                    ))
                })?
                .to_vec(),
        };
        for &i in &indices {
            if i >= dataset.samples.len() {
                return Err(LoaderError::Dataset {
                    index: i,
                    message: format!(
                        "split refers to sample {i} but the dataset has {}",
                        dataset.samples.len()
                    ),
                });
            }
        }
        let multi_hot = match options.labels {
            LabelMode::MultiHot => true,
            LabelMode::Class => false,
            LabelMode::Auto => indices.iter().any(
                |&i| matches!(&dataset.samples[i].label, Some(Label::Classes(c)) if c.len() != 1),
            ),
        };
        Ok(Self {
            dataset,
            indices,
            options,
            multi_hot,
        })
    }

    /// The dataset index of the source's sample `index`.
    pub fn dataset_index(&self, index: usize) -> Option<usize> {
        self.indices.get(index).copied()
    }

    /// Whether class labels come out multi-hot.
    pub fn multi_hot(&self) -> bool {
        self.multi_hot
    }

    fn target(&self, ds_index: usize, label: Option<&Label>) -> Result<Target, LoaderError> {
        let classes = self.dataset.classes.len();
        let bad = |message: String| LoaderError::Dataset {
            index: ds_index,
            message,
        };
        match label {
            None => Ok(Target::None),
            Some(Label::Classes(c)) => {
                if let Some(&k) = c.iter().find(|&&k| k >= classes) {
                    return Err(bad(format!(
                        "class index {k} but the dataset has {classes} classes"
                    )));
                }
                if self.multi_hot {
                    let mut v = Array1::<f32>::zeros(classes);
                    for &k in c {
                        v[k] = 1.0;
                    }
                    Ok(Target::MultiHot(v))
                } else if let [k] = c.as_slice() {
                    Ok(Target::Class(*k))
                } else {
                    Err(bad(format!(
                        "{} classes for a single-label loader (use multi-hot labels)",
                        c.len()
                    )))
                }
            }
            Some(Label::Mask(loc)) => {
                let path = self.dataset.resolve(loc);
                let decoded = read_image(&path)?;
                // Masks hold values, not intensities: first channel, unscaled.
                let mut mask = decoded.pixels.index_axis(Axis(2), 0).to_owned();
                if let Some((w, h)) = self.options.size {
                    mask = resize_nearest(&mask, h as usize, w as usize);
                }
                Ok(Target::Mask(mask))
            }
        }
    }
}

impl SampleSource for DatasetSource {
    fn len(&self) -> usize {
        self.indices.len()
    }

    fn load(&self, index: usize) -> Result<Sample, LoaderError> {
        let ds_index = *self
            .indices
            .get(index)
            .ok_or_else(|| LoaderError::Dataset {
                index,
                message: format!("index out of range (the split has {})", self.indices.len()),
            })?;
        let sample = &self.dataset.samples[ds_index];
        if sample.location.is_empty() {
            return Err(LoaderError::Dataset {
                index: ds_index,
                message: "sample has no location".into(),
            });
        }
        let mut planes = Vec::with_capacity(sample.location.len());
        for loc in &sample.location {
            let path = self.dataset.resolve(loc);
            let decoded = read_image(&path)?;
            let mut img = to_channels(&decoded.pixels, self.options.channels);
            img.mapv_inplace(|v| v / decoded.max_value);
            if let Some((w, h)) = self.options.size {
                img = resize_bilinear(&img, h as usize, w as usize);
            }
            if let Some(first) = planes.first() {
                let first: &ndarray::Array3<f32> = first;
                if first.dim() != img.dim() {
                    return Err(LoaderError::Dataset {
                        index: ds_index,
                        message: format!(
                            "plane {} is {:?} but the first plane is {:?} (HWC)",
                            path.display(),
                            img.dim(),
                            first.dim()
                        ),
                    });
                }
            }
            planes.push(img);
        }
        let image = if planes.len() == 1 {
            planes.pop().unwrap_or_default()
        } else {
            let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
            concatenate(Axis(2), &views).map_err(|e| LoaderError::Dataset {
                index: ds_index,
                message: format!("cannot stack planes: {e}"),
            })?
        };
        let target = self.target(ds_index, sample.label.as_ref())?;
        Ok(Sample {
            index,
            image,
            target,
        })
    }
}
