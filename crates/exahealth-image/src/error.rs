use thiserror::Error;

/// Everything that can go wrong reading, converting or processing an image.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImageError {
    #[error("I/O error on {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The layout string is not made of distinct `x y z c t` letters, or
    /// does not match the number of array dimensions.
    #[error("bad layout {layout:?}: {why}")]
    Layout { layout: String, why: String },
    /// An operation was asked of an image whose shape or type it does not take.
    #[error("unsupported image: {0}")]
    Unsupported(String),
    /// A valid file that holds no image (a DICOM structured report, RT
    /// plan, waveform, ...).
    #[error("{path}: no pixel data ({what})")]
    NoPixelData { path: String, what: String },
    /// The file is malformed; `why` says where.
    #[error("{format} file is malformed: {why}")]
    Malformed { format: &'static str, why: String },
    /// A header asks for a buffer larger than the process memory budget
    /// (`exahealth_base::budget`); the file may be genuine but too large.
    #[error(transparent)]
    Budget(#[from] exahealth_base::BudgetError),
    /// A parameter out of range; the message says which and why.
    #[error("{0}")]
    InvalidArgument(String),
    /// An image could not be written to `path`.
    #[error("cannot write {path}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: Box<ImageError>,
    },
}
