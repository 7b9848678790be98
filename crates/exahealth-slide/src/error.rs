use std::path::PathBuf;

/// Everything that can go wrong while opening or reading a slide.
///
/// Errors carry the file and a reason a person can act on; none of them is
/// raised by a panic, and none follows an allocation sized by an unchecked
/// header field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlideError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a slide this reader understands ({reason})")]
    UnknownFormat { path: PathBuf, reason: String },
    #[error("{path}: malformed {format} file: {reason}")]
    Malformed {
        path: PathBuf,
        format: &'static str,
        reason: String,
    },
    #[error("{path}: unsupported {what}")]
    Unsupported { path: PathBuf, what: String },
    #[error("{path}: cannot decode {what}: {reason}")]
    Decode {
        path: PathBuf,
        what: String,
        reason: String,
    },
    #[error("invalid request: {0}")]
    InvalidArgument(String),
    #[error("no associated image named {name:?} (this slide has: {available})")]
    NoSuchAssociatedImage { name: String, available: String },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
    /// A header field asked for more memory than the budget allows
    /// ([`exahealth_base::budget`]); the message says what and how much.
    #[error("{path}: cannot read")]
    Budget {
        path: PathBuf,
        /// Boxed: a rare error should not widen every `Result` of the crate.
        #[source]
        source: Box<exahealth_base::BudgetError>,
    },
}

impl SlideError {
    /// Wraps a refused allocation with the file that asked for it.
    pub(crate) fn budget(path: &std::path::Path, source: exahealth_base::BudgetError) -> Self {
        SlideError::Budget {
            path: path.to_path_buf(),
            source: Box::new(source),
        }
    }
}

pub type Result<T, E = SlideError> = std::result::Result<T, E>;
