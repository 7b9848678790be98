//! The crate's one error type, [`SlideError`], and its `Result` alias.

use std::path::PathBuf;

/// Everything that can go wrong while opening or reading a slide.
///
/// Errors carry the file and a reason a person can act on; none of them is
/// raised by a panic, and none follows an allocation sized by an unchecked
/// header field.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SlideError {
    /// The file could not be opened or read.
    #[error("{path}")]
    Io {
        /// File being read.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
    /// The content matches none of the formats this crate reads.
    #[error("{path}: not a slide this reader understands ({reason})")]
    UnknownFormat {
        /// File being opened.
        path: PathBuf,
        /// What the detection saw, e.g. the first bytes are not a TIFF header.
        reason: String,
    },
    /// The file is of a known format but its structure is broken or
    /// contradicts itself (offsets past the end, missing required tags).
    #[error("{path}: malformed {format} file: {reason}")]
    Malformed {
        /// File being read.
        path: PathBuf,
        /// Format the file claimed to be (`"TIFF"`, `"NDPI"`, `"DICOM"`...).
        format: &'static str,
        /// Which structure is broken and how.
        reason: String,
    },
    /// A well-formed file uses a feature this crate does not read (a
    /// compression, a sample layout, a pixel type).
    #[error("{path}: unsupported {what}")]
    Unsupported {
        /// File being read.
        path: PathBuf,
        /// The feature, with its value where it helps (`compression 6 (old-style JPEG)`).
        what: String,
    },
    /// A tile or associated image's compressed data could not be decoded.
    #[error("{path}: cannot decode {what}: {reason}")]
    Decode {
        /// File being read.
        path: PathBuf,
        /// Which image, e.g. a tile with its grid position.
        what: String,
        /// The decoder's complaint.
        reason: String,
    },
    /// The caller asked for something the slide cannot give: a level that
    /// does not exist, a tile outside the grid, a region over
    /// [`MAX_REGION_PIXELS`](crate::MAX_REGION_PIXELS).
    #[error("invalid request: {0}")]
    InvalidArgument(String),
    /// [`Slide::read_associated_image`](crate::Slide::read_associated_image)
    /// was given a name the slide does not have.
    #[error("no associated image named {name:?} (this slide has: {available})")]
    NoSuchAssociatedImage {
        /// Name asked for.
        name: String,
        /// The names the slide has, comma-separated, or `none`.
        available: String,
    },
    /// Writing a file (a pyramidal TIFF, a PNG) failed.
    #[error("{path}: cannot write: {reason}")]
    Write {
        /// File being written.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A header field asked for more memory than the budget allows
    /// ([`exahealth_base::budget`]); the message says what and how much.
    #[error("{path}: cannot read")]
    Budget {
        /// File whose header asked for the memory.
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

/// `Result` with [`SlideError`] as the default error.
pub type Result<T, E = SlideError> = std::result::Result<T, E>;
