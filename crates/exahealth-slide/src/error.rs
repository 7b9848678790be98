use std::path::PathBuf;

/// Everything that can go wrong while opening or reading a slide.
///
/// Errors carry the file and a reason a person can act on; none of them is
/// raised by a panic, and none follows an allocation sized by an unchecked
/// header field.
#[derive(Debug, thiserror::Error)]
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
}

pub type Result<T, E = SlideError> = std::result::Result<T, E>;
