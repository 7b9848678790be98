//! The error of the end-to-end workflows (data preparation, training from a
//! run file, embedding slides): each variant names the file or step at
//! fault and keeps the lower crate's error as its typed source.

use std::path::PathBuf;

use exahealth_data::dataset::DatasetError;
use exahealth_data::loader::LoaderError;
use exahealth_data::plan::PlanError;

use crate::card::CardError;
use crate::NnError;

/// What can stop a workflow of [`crate::prepare`], [`crate::train_run::train_run_file`]
/// or [`crate::embed`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkflowError {
    /// The inputs break a rule of the workflow; the message says which and
    /// what to do.
    #[error("{0}")]
    Invalid(String),
    /// A DeepHealth YAML dataset could not be read.
    #[error("cannot read {}", path.display())]
    Dataset {
        /// The YAML file.
        path: PathBuf,
        /// The dataset reader's error.
        #[source]
        source: Box<DatasetError>,
    },
    /// An image of a dataset could not be read to find its element type.
    #[error("cannot read {}", path.display())]
    Image {
        /// The image.
        path: PathBuf,
        /// The loader's error.
        #[source]
        source: Box<LoaderError>,
    },
    /// A slide's patch plan is missing or unreadable.
    #[error(
        "no usable patch plan for slide {slide:?} in {}: run `exahealth slide tile` first",
        dir.display()
    )]
    Plan {
        /// The slide stem (its folder under the plans folder).
        slide: String,
        /// The plan folder.
        dir: PathBuf,
        /// The plan reader's error.
        #[source]
        source: Box<PlanError>,
    },
    /// A plan's patches could not be added to a patch source.
    #[error("cannot use the plan in {}", dir.display())]
    UsePlan {
        /// The plan folder.
        dir: PathBuf,
        /// The loader's error.
        #[source]
        source: Box<LoaderError>,
    },
    /// A sample source could not be built.
    #[error(transparent)]
    Loader(Box<LoaderError>),
    /// A model, embedding, label or features operation failed.
    #[error(transparent)]
    Nn(Box<NnError>),
    /// A run file could not be read.
    #[error("cannot read the run file {}", path.display())]
    ReadRunFile {
        /// The run file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A run file is not a valid run file.
    #[error("{}", path.display())]
    BadRunFile {
        /// The run file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: Box<NnError>,
    },
    /// The `augmentations` of a run file do not parse.
    #[error("{}: `augmentations` is not a valid ECVL augmentation config", path.display())]
    Augmentations {
        /// The run file.
        path: PathBuf,
        /// The augmentation parser's error.
        #[source]
        source: Box<exahealth_image::augment::ConfigError>,
    },
    /// A file could not be hashed for a card or an embedding record.
    #[error("cannot hash {}", path.display())]
    Hash {
        /// The file.
        path: PathBuf,
        /// The hasher's error.
        #[source]
        source: Box<CardError>,
    },
    /// The training data could not be fingerprinted for the model card.
    #[error("cannot fingerprint the training data")]
    Fingerprint(#[source] Box<CardError>),
    /// The model card could not be written.
    #[error("cannot write {}", path.display())]
    Card {
        /// The card file.
        path: PathBuf,
        /// The card writer's error.
        #[source]
        source: Box<CardError>,
    },
    /// The training curves could not be drawn or written.
    #[error("cannot write {}", path.display())]
    Curves {
        /// The PNG file.
        path: PathBuf,
        /// The plotter's error.
        #[source]
        source: Box<crate::plot::PlotError>,
    },
    /// A record (an architecture for the card, a summary) could not be
    /// written as JSON.
    #[error("cannot write the record as JSON")]
    Json(#[source] serde_json::Error),
    /// A folder could not be listed or a file read.
    #[error("cannot {what} {}", path.display())]
    Io {
        /// `list` or `read`.
        what: &'static str,
        /// The folder or file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// PyTorch weights could not be loaded into an extractor.
    #[cfg(feature = "pytorch")]
    #[error("cannot use {} as {arch} weights", path.display())]
    PyTorch {
        /// The weights file.
        path: PathBuf,
        /// The architecture asked for.
        arch: String,
        /// The importer's error.
        #[source]
        source: Box<crate::pytorch::PytorchError>,
    },
    /// A slide's patches could not be scored.
    #[error("scoring {}", slide.display())]
    Score {
        /// The slide.
        slide: PathBuf,
        /// The network's error.
        #[source]
        source: Box<NnError>,
    },
    /// A slide could not be opened.
    #[error(transparent)]
    Slide(Box<exahealth_slide::SlideError>),
    /// A slide's patches could not be embedded.
    #[error("embedding {}", slide.display())]
    Embed {
        /// The slide.
        slide: PathBuf,
        /// The network's error.
        #[source]
        source: Box<NnError>,
    },
}

impl From<LoaderError> for WorkflowError {
    fn from(e: LoaderError) -> Self {
        Self::Loader(Box::new(e))
    }
}

impl From<NnError> for WorkflowError {
    fn from(e: NnError) -> Self {
        Self::Nn(Box::new(e))
    }
}

impl From<exahealth_slide::SlideError> for WorkflowError {
    fn from(e: exahealth_slide::SlideError) -> Self {
        Self::Slide(Box::new(e))
    }
}

// Boxed sources: these errors are rare and some sources are large, so
// every `WorkflowResult` stays a pointer wide on its error side.
impl WorkflowError {
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

/// Result alias for the workflows.
pub type WorkflowResult<T> = std::result::Result<T, WorkflowError>;
