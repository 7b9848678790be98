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
