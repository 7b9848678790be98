use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong making, saving or loading a patch plan.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("I/O error on {path}: {error}")]
    Io {
        path: PathBuf,
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
    NoMpp { path: PathBuf },
    /// The target is a magnification but the slide records no objective power.
    #[error(
        "{path} records no objective power, so a magnification cannot be honoured; \
         give --mpp, --level or --downsample instead"
    )]
    NoObjectivePower { path: PathBuf },
    #[error("slide error: {0}")]
    Slide(#[from] exahealth_slide::SlideError),
    #[error("tissue detection failed: {0}")]
    Image(#[from] exahealth_image::ImageError),
    #[error("annotations: {0}")]
    Annotations(#[from] crate::annotations::AnnotationError),
    /// `plan.json` is not valid JSON for a plan.
    #[error("{path} is not a valid plan file: {message}")]
    Json { path: PathBuf, message: String },
    /// A plan written by a newer (or unknown) format version.
    #[error("{path} has plan format version {found}; this build reads version {supported}")]
    UnsupportedVersion {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    /// `patches.csv` does not follow the format; `line` is 1-based.
    #[error("{path}, line {line}: {message}")]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },
    /// `plan.json` and `patches.csv` disagree (e.g. a torn or edited pair).
    #[error("{path}: {message}; delete the folder and plan again")]
    Inconsistent { path: PathBuf, message: String },
    #[error("cannot encode patch {x}_{y}: {message}")]
    Encode { x: u64, y: u64, message: String },
    // The steps of `plan_or_resume`, each naming its file or folder; the
    // cause is the source.
    /// The slide cannot be opened (missing, unreadable, not a slide).
    #[error("cannot open slide {path}")]
    SlideOpen {
        path: PathBuf,
        #[source]
        source: exahealth_slide::SlideError,
    },
    /// The slide's annotation file cannot be hashed or read.
    #[error("cannot read annotations {path}")]
    AnnotationFile {
        path: PathBuf,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The plan in `dir` was judged current but cannot be read back.
    #[error("cannot read the saved plan in {dir}")]
    SavedPlan {
        dir: PathBuf,
        #[source]
        source: Box<PlanError>,
    },
    /// Planning the slide failed.
    #[error("cannot plan {path}")]
    Planning {
        path: PathBuf,
        #[source]
        source: Box<PlanError>,
    },
    /// The slide's output folder cannot be created.
    #[error("cannot create {dir}")]
    CreateDir {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The plan cannot be saved in `dir`.
    #[error("cannot write the plan to {dir}")]
    SavePlan {
        dir: PathBuf,
        #[source]
        source: Box<PlanError>,
    },
    /// The patch files cannot be written to `dir`.
    #[error("cannot write patches to {dir}")]
    WritePatches {
        dir: PathBuf,
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
