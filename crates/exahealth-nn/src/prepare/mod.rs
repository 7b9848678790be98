//! Where training gets its samples: a DeepHealth YAML dataset
//! ([`from_yaml`]), slide patches through patch plans ([`from_plans`]) or
//! bags of patch embeddings with slide labels ([`from_bags`]). Each returns
//! the training and validation batches and what the model card says about
//! the data.

mod bags;
mod plans;
mod yaml;

use std::path::{Path, PathBuf};

use exahealth_data::dataset::Dataset;
use exahealth_data::loader::{DatasetSource, ImageOptions, LabelMode};

pub use crate::card::CardData;
use crate::data::BatchSource;
use crate::model_folder::ModelSpec;
use crate::sources::SampleBatches;
use crate::workflow_error::{WorkflowError, WorkflowResult};

pub use bags::from_bags;
pub use plans::from_plans;
pub use yaml::from_yaml;

/// A split's batches, whatever their source.
pub type Batches = Box<dyn BatchSource + Send + Sync>;

/// The batches of a run's two splits, its class names and its card data.
pub struct Prepared {
    /// Class names, in label order.
    pub classes: Vec<String>,
    /// The training split (augmented when augmentations were given).
    pub train: Batches,
    /// The validation split.
    pub valid: Batches,
    /// What the model card records of the data.
    pub card: CardData,
}

/// How samples are shaped for the network.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    /// Images are resized to this square side.
    pub image_size: u32,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Whether targets are masks (class index per pixel) instead of classes.
    pub segmentation: bool,
}

/// The slide a plan was made from: its recorded path as it is, or relative
/// to `base` (the run file's or plans folder's parent).
pub fn slide_path(recorded: &str, base: &Path) -> WorkflowResult<PathBuf> {
    let p = PathBuf::from(recorded);
    for candidate in [p.clone(), base.join(&p)] {
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    Err(WorkflowError::invalid(format!(
        "the slide {recorded} named by a plan is neither at that path nor under {}",
        base.display()
    )))
}

/// A dataset's images (a split of it, or all) shaped for the model a
/// model folder describes, with class labels: what prediction and
/// evaluation feed a trained image model.
pub fn model_source(
    spec: &ModelSpec,
    dataset: Dataset,
    split: Option<&str>,
) -> WorkflowResult<SampleBatches<DatasetSource>> {
    let options = ImageOptions {
        size: Some((spec.image_size, spec.image_size)),
        channels: spec.channels,
        labels: LabelMode::Class,
    };
    let source = DatasetSource::new(dataset, split, options)?;
    Ok(SampleBatches::new(source, spec.classes.len()))
}
