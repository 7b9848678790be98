//! What can go wrong while loading batches.

use std::path::PathBuf;

/// A loader error. Errors while reading one sample carry the file they came
/// from and the sample's index in its source, so a bad file in a cohort of
/// thousands can be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoaderError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// File being read.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
    /// A file that could not be decoded as an image.
    #[error("{path}: cannot decode image: {message}")]
    Decode {
        /// The image file.
        path: PathBuf,
        /// The decoder's complaint.
        message: String,
    },
    /// An image that exahealth-image could not read (DICOM, NIfTI, TIFF...).
    #[error("{}: cannot decode image", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// The reader's error.
        #[source]
        source: Box<exahealth_image::ImageError>,
    },
    /// A slide that could not be opened.
    #[error("cannot open the slide")]
    SlideOpen {
        /// The slide.
        path: PathBuf,
        /// Why it could not be opened.
        #[source]
        source: exahealth_slide::SlideError,
    },
    /// A slide region that could not be read.
    #[error("{path}: cannot read patch at ({x}, {y}) level {level}: {source}")]
    Slide {
        /// The slide.
        path: PathBuf,
        /// Left edge of the patch, level-0 pixels.
        x: i64,
        /// Top edge of the patch, level-0 pixels.
        y: i64,
        /// Level read.
        level: usize,
        /// Why the read failed.
        #[source]
        source: exahealth_slide::SlideError,
    },
    /// A patch plan's `patches.csv` that does not follow the format; `line`
    /// is 1-based.
    #[error("{path}:{line}: {message}")]
    PatchCsv {
        /// The `patches.csv` file.
        path: PathBuf,
        /// 1-based line of the bad row.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A dataset sample the loader cannot turn into a training pair.
    #[error("dataset sample {index}: {message}")]
    Dataset {
        /// Index of the sample in the dataset.
        index: usize,
        /// What is missing or wrong (no location, an unknown class...).
        message: String,
    },
    /// Samples of one batch that cannot be stacked (different sizes or label
    /// kinds). Ask the source to resize to a fixed size.
    #[error("batch {batch}: {message}")]
    Collate {
        /// Position of the batch in its epoch.
        batch: usize,
        /// Which samples differ and how.
        message: String,
    },
    /// A loading job that failed; `sample` is the index in the source.
    #[error("sample {sample}: {source}")]
    Sample {
        /// Index of the sample in the source.
        sample: usize,
        /// Why loading or transforming it failed.
        #[source]
        source: Box<LoaderError>,
    },
    /// A transform or source that panicked while building a batch.
    #[error("batch {batch}: a loader worker panicked: {message}")]
    Panic {
        /// Position of the batch in its epoch.
        batch: usize,
        /// The panic's message.
        message: String,
    },
    /// A transform (augmentation) that refused a sample.
    #[error("transform failed: {0}")]
    Transform(String),
    /// Settings that cannot work: a zero batch size, worker count or
    /// prefetch, a patch size out of range, a level the slide lacks.
    #[error("invalid loader configuration: {0}")]
    Config(String),
}
