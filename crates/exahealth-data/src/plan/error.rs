use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong making, saving or loading a patch plan.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A plan or patch file could not be read or written.
    #[error("I/O error on {path}: {error}")]
    Io {
        /// File or folder concerned.
        path: PathBuf,
        /// What the operating system reported.
        error: std::io::Error,
    },
    /// A parameter is out of range; the message says which and why.
    #[error("invalid plan parameter: {0}")]
    InvalidParams(String),
    /// The target resolution is in microns per pixel but the slide records none.
    #[error(
        "{path} records no microns per pixel, so --mpp cannot be honoured; \
         give the resolution as --level or --downsample instead"
    )]
    NoMpp {
        /// The slide.
        path: PathBuf,
    },
    /// The target is a magnification but the slide records no objective power.
    #[error(
        "{path} records no objective power, so a magnification cannot be honoured; \
         give --mpp, --level or --downsample instead"
    )]
    NoObjectivePower {
        /// The slide.
        path: PathBuf,
    },
    /// Reading the slide (mask level, patch regions) failed.
    #[error("cannot read the slide")]
    Slide(#[from] exahealth_slide::SlideError),
    /// Tissue detection on the mask level failed.
    #[error("tissue detection failed")]
    Image(#[from] exahealth_image::ImageError),
    /// Reading or rasterising the annotations failed.
    #[error("cannot use the annotations")]
    Annotations(#[from] crate::annotations::AnnotationError),
    /// `plan.json` is not valid JSON for a plan.
    #[error("{path} is not a valid plan file: {message}")]
    Json {
        /// The `plan.json` file.
        path: PathBuf,
        /// The JSON parser's complaint.
        message: String,
    },
    /// A plan written by a newer (or unknown) format version.
    #[error("{path} has plan format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        /// The `plan.json` file.
        path: PathBuf,
        /// Version the file declares.
        found: u32,
        /// [`PLAN_VERSION`](crate::plan::PLAN_VERSION), the one this build reads.
        supported: u32,
    },
    /// `patches.csv` does not follow the format; `line` is 1-based.
    #[error("{path}, line {line}: {message}")]
    Csv {
        /// The `patches.csv` file.
        path: PathBuf,
        /// 1-based line of the bad row.
        line: u64,
        /// What is wrong with it.
        message: String,
    },
    /// `plan.json` and `patches.csv` disagree (e.g. a torn or edited pair).
    #[error("{path}: {message}; delete the folder and plan again")]
    Inconsistent {
        /// The plan folder's file that disagrees.
        path: PathBuf,
        /// How the two differ.
        message: String,
    },
    /// A patch could not be encoded as PNG or JPEG.
    #[error("cannot encode patch {x}_{y}: {message}")]
    Encode {
        /// Left edge of the patch, level-0 pixels.
        x: u64,
        /// Top edge of the patch, level-0 pixels.
        y: u64,
        /// The encoder's complaint.
        message: String,
    },
    // The steps of `plan_or_resume`, each naming its file or folder; the
    // cause is the source.
    /// The slide cannot be opened (missing, unreadable, not a slide).
    #[error("cannot open the slide")]
    SlideOpen {
        /// The slide.
        path: PathBuf,
        /// Why it could not be opened.
        #[source]
        source: exahealth_slide::SlideError,
    },
    /// The slide's annotation file cannot be hashed or read.
    #[error("cannot read annotations {path}")]
    AnnotationFile {
        /// The annotation file.
        path: PathBuf,
        /// Why: the hashing error, or the reader's [`AnnotationError`](crate::annotations::AnnotationError).
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The plan in `dir` was judged current but cannot be read back.
    #[error("cannot read the saved plan in {dir}")]
    SavedPlan {
        /// The slide's output folder.
        dir: PathBuf,
        /// Why the saved plan could not be loaded.
        #[source]
        source: Box<PlanError>,
    },
    /// Planning the slide failed.
    #[error("cannot plan {path}")]
    Planning {
        /// The slide.
        path: PathBuf,
        /// Why planning failed.
        #[source]
        source: Box<PlanError>,
    },
    /// The slide's output folder cannot be created.
    #[error("cannot create {dir}")]
    CreateDir {
        /// The folder.
        dir: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
    /// The plan cannot be saved in `dir`.
    #[error("cannot write the plan to {dir}")]
    SavePlan {
        /// The slide's output folder.
        dir: PathBuf,
        /// Why saving failed.
        #[source]
        source: Box<PlanError>,
    },
    /// The patch files cannot be written to `dir`.
    #[error("cannot write patches to {dir}")]
    WritePatches {
        /// The patch folder.
        dir: PathBuf,
        /// Why writing failed.
        #[source]
        source: Box<PlanError>,
    },
}

impl PlanError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> PlanError {
        let path = path.into();
        move |error| PlanError::Io { path, error }
    }
}
