//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in exahealth-nn.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// An input array or tensor has a shape the model cannot take.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A checkpoint or weight file could not be encoded or decoded.
    #[error("{path}: cannot read or write the record: {message}")]
    Record {
        /// The file involved.
        path: PathBuf,
        /// What Burn or the JSON codec reported.
        message: String,
    },
    /// No checkpoint exists where one was expected.
    #[error("no checkpoint in {0}: train first, or drop --resume")]
    NoCheckpoint(PathBuf),
    /// Loading samples (images, slide patches) failed.
    #[error("{0}")]
    Data(String),
    /// The data source produced no batch.
    #[error("the data source is empty: {0}")]
    EmptyData(String),
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A folder has no readable `model.json`.
    #[error("{path}: not a model folder (train one with `exahealth train`)")]
    NotAModelFolder {
        /// The `model.json` looked for.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// `model.json` is not a model spec.
    #[error("{path}: bad model spec")]
    BadModelSpec {
        /// The `model.json`.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// `model.json` parses but lacks what rebuilding the model needs.
    #[error("{0}: the model spec needs classes, an image size and channels")]
    IncompleteModelSpec(PathBuf),
    /// `embedding.json` is not an embedding description.
    #[error("{path}: not an embedding description")]
    BadEmbedding {
        /// The `embedding.json`.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A slide name that is not one plain folder name.
    #[error("{0:?} is not a slide name (a folder name, without `/` or `..`)")]
    SlideName(String),
}

impl NnError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn record(path: impl Into<PathBuf>, message: impl ToString) -> Self {
        Self::Record {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = NnError> = std::result::Result<T, E>;
