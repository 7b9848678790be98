//! What can go wrong while loading batches.

use std::path::PathBuf;

/// A loader error. Errors while reading one sample carry the file they came
/// from and the sample's index in its source, so a bad file in a cohort of
/// thousands can be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoaderError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file that could not be decoded as an image.
    #[error("{path}: cannot decode image: {message}")]
    Decode { path: PathBuf, message: String },
    /// A slide that could not be opened.
    #[error("cannot open slide {path}: {source}")]
    SlideOpen {
        path: PathBuf,
        #[source]
        source: exahealth_slide::SlideError,
    },
    /// A slide region that could not be read.
    #[error("{path}: cannot read patch at ({x}, {y}) level {level}: {source}")]
    Slide {
        path: PathBuf,
        x: i64,
        y: i64,
        level: usize,
        #[source]
        source: exahealth_slide::SlideError,
    },
    /// A patch plan's `patches.csv` that does not follow the format; `line`
    /// is 1-based.
    #[error("{path}:{line}: {message}")]
    PatchCsv {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// A dataset sample the loader cannot turn into a training pair.
    #[error("dataset sample {index}: {message}")]
    Dataset { index: usize, message: String },
    /// Samples of one batch that cannot be stacked (different sizes or label
    /// kinds). Ask the source to resize to a fixed size.
    #[error("batch {batch}: {message}")]
    Collate { batch: usize, message: String },
    /// A loading job that failed; `sample` is the index in the source.
    #[error("sample {sample}: {source}")]
    Sample {
        sample: usize,
        #[source]
        source: Box<LoaderError>,
    },
    /// A transform or source that panicked while building a batch.
    #[error("batch {batch}: a loader worker panicked: {message}")]
    Panic { batch: usize, message: String },
    /// A transform (augmentation) that refused a sample.
    #[error("transform failed: {0}")]
    Transform(String),
    #[error("invalid loader configuration: {0}")]
    Config(String),
}
