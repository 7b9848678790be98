use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong reading, converting or processing an image.
///
/// A message names the file where there is one and never repeats its cause:
/// the cause is the error's [`source`](std::error::Error::source), so print
/// the chain (`{e:#}` through `anyhow`, or walk `source()`).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Reading, writing, listing or creating `path` failed; `source` says why.
    #[error("cannot {action} {path}")]
    Io {
        /// What was being done: `read`, `write`, `compress` (before
        /// writing), `list` (a folder) or `create` (a folder).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// Why the system refused.
        #[source]
        source: std::io::Error,
    },
    /// The layout string is not made of distinct `x y z c t` letters, or
    /// does not match the number of array dimensions.
    #[error("bad layout {layout:?}: {why}")]
    Layout {
        /// The layout string as given.
        layout: String,
        /// What is wrong with it.
        why: String,
    },
    /// An operation was asked of an image whose shape or type it does not take.
    #[error("unsupported image: {0}")]
    Unsupported(String),
    /// A valid file that holds no image (a DICOM structured report, RT
    /// plan, waveform, ...).
    #[error("{path}: no pixel data ({what})")]
    NoPixelData {
        /// The file; empty when the bytes came from memory
        /// ([`io::read_bytes`](crate::io::read_bytes)).
        path: PathBuf,
        /// What the file holds instead (SOP class and modality).
        what: String,
    },
    /// The file is malformed; `why` says where.
    #[error("{format} file is malformed: {why}")]
    Malformed {
        /// The format the content was read as (`DICOM`, `NIfTI`, `gzip`, ...).
        format: &'static str,
        /// Where and how the content departs from the format.
        why: String,
    },
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
        /// The output file.
        path: PathBuf,
        /// Why: encoding or I/O.
        #[source]
        source: Box<ImageError>,
    },
}

impl ImageError {
    /// An I/O failure doing `action` (see [`ImageError::Io`]) on `path`.
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        ImageError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;

    #[test]
    fn an_io_error_names_the_file_once_and_keeps_its_cause_as_source() {
        let path = std::env::temp_dir().join("exahealth-no-such-image.nii");
        let e = crate::io::read(&path).unwrap_err();
        let message = e.to_string();
        assert_eq!(message, format!("cannot read {}", path.display()));
        let cause = e.source().expect("the I/O error is the source").to_string();
        assert!(!message.contains(&cause), "{message} repeats {cause}");
    }
}
