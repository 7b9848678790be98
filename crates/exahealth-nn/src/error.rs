//! The crate's error type.

use std::path::PathBuf;

/// Everything that can go wrong in exahealth-nn.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NnError {
    /// An input array or tensor has a shape the model cannot take.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// A configuration value is out of range or inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or writing a file failed (the I/O error is the source).
    #[error("{}", path.display())]
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
    /// A checkpoint of a data-parallel run resumed with another number of
    /// ranks (the global batch, and so every later step, would change).
    #[error("{}: written by a run of {saved} rank(s), resumed with {now}: resume with the same number (mpirun -np {saved}), or train afresh without --resume", checkpoint.display())]
    RanksMismatch {
        /// The checkpoint folder.
        checkpoint: PathBuf,
        /// Ranks of the run that wrote it.
        saved: usize,
        /// Ranks of this run.
        now: usize,
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
    /// A file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A folder has no readable `model.json`.
    #[error("{path}: not a model folder (train one with `exahealth train`)")]
    NotAModelFolder {
        /// The `model.json` looked for.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// `model.json` is not a model spec.
    #[error("{path}: bad model spec")]
    BadModelSpec {
        /// The `model.json`.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// `model.json` parses but lacks what rebuilding the model needs.
    #[error("{0}: the model spec needs classes, an image size and channels")]
    IncompleteModelSpec(PathBuf),
    /// `embedding.json` is not an embedding description.
    #[error("{path}: not an embedding description")]
    BadEmbedding {
        /// The `embedding.json`.
        path: PathBuf,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// A slide name that is not one plain folder name.
    #[error("{0:?} is not a slide name (a folder name, without `/` or `..`)")]
    SlideName(String),
    /// A run file is not TOML of the run-file schema.
    #[error("not a valid run file (see `exahealth train --help`)")]
    BadRunFile(#[source] Box<toml::de::Error>),
    /// A run file gives `task = "mil"` without `[bags]`, or `[bags]` for
    /// another task.
    #[error("task = \"mil\" trains on a `[bags]` table, and a `[bags]` table needs task = \"mil\" (see `exahealth train --help`)")]
    MilNeedsBags,
    /// A run file gives none, or more than one, of `data`, `[plans]` and
    /// `[bags]`.
    #[error("give one of `data` (a DeepHealth YAML), a `[plans]` table or, for task = \"mil\", a `[bags]` table (see `exahealth train --help`)")]
    NoTrainingData,
    /// A run file asks for augmentations of MIL bags.
    #[error("augmentations apply to images; MIL bags are embeddings: drop `augmentations`")]
    AugmentedBags,
    /// A MIL run file names a model other than `attention-mil`.
    #[error("task = \"mil\" trains model = \"attention-mil\", not {0:?}")]
    NotAMilModel(String),
    /// A run file names `attention-mil` for a task other than MIL.
    #[error(
        "attention-mil takes bags of patch embeddings: use task = \"mil\" with a `[bags]` table"
    )]
    MilModelWithoutBags,
    /// A slide label table could not be opened or read.
    #[error("cannot read the labels table {path}")]
    ReadLabels {
        /// The table.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A slide label table is not CSV.
    #[error("{path}: {what}")]
    LabelsCsv {
        /// The table.
        path: PathBuf,
        /// What was being read (`no header row`, `bad CSV`).
        what: &'static str,
        /// The CSV reader's error.
        source: csv::Error,
    },
    /// A slide label table is CSV but not a label table.
    #[error("{path}{}: {problem}", .line.map(|l| format!(" line {l}")).unwrap_or_default())]
    BadLabels {
        /// The table.
        path: PathBuf,
        /// The CSV line at fault, if one is.
        line: Option<u64>,
        /// What is wrong.
        problem: String,
    },
    /// A bags folder has no `embedding.json`.
    #[error("{0} holds no embeddings: make them with `exahealth embed --out {0}`")]
    NoEmbedding(PathBuf),
    /// The shards of one embedding run used different extractors.
    #[error("{}: {shard} was embedded with another extractor or width than the other shards", folder.display())]
    ShardsDisagree {
        /// The features folder.
        folder: PathBuf,
        /// The shard index that differs.
        shard: String,
    },
    /// A slide's features file is missing or unreadable.
    #[error("no usable embeddings for slide {slide:?}")]
    BagUnreadable {
        /// The slide (its folder name in the bags folder).
        slide: String,
        /// Why the features file could not be read.
        source: Box<NnError>,
    },
    /// A slide's embeddings do not have the model's input width.
    #[error("{slide}: {width} features per patch; the model takes {expected}")]
    BagWidth {
        /// The slide.
        slide: String,
        /// Features per patch in its file.
        width: usize,
        /// Features per patch the model takes.
        expected: usize,
    },
    /// A slide's patch list (`patches.csv`) could not be read.
    #[error("{slide}: cannot read the patch list")]
    PatchList {
        /// The slide.
        slide: String,
        /// The loader's error.
        source: Box<exahealth_data::loader::LoaderError>,
    },
    /// A slide's patch list and its embeddings disagree.
    #[error("{slide}: {listed} patches listed but {embedded} embeddings: embed the slide again")]
    PatchCount {
        /// The slide.
        slide: String,
        /// Rows of its `patches.csv`.
        listed: usize,
        /// Rows of its features file.
        embedded: usize,
    },
    /// A bags-folder prediction was asked of a model that is not MIL.
    #[error("--bags takes a MIL model (task = \"mil\"); this one is for {0}")]
    NotMil(&'static str),
    /// The bags were embedded by another extractor than the model's.
    #[error(
        "the model was trained on embeddings of {trained} ({trained_source}), these bags come from {found} ({found_source}): embed the slides with the model's extractor"
    )]
    ForeignEmbeddings {
        /// The architecture of the extractor the model was trained on.
        trained: String,
        /// Its weights, as recorded in the model spec.
        trained_source: String,
        /// The architecture of the bags' extractor.
        found: String,
        /// Its weights, as recorded in `embedding.json`.
        found_source: String,
    },
    /// A MIL model folder whose weights are not an attention-MIL network.
    #[error("{0}: the model folder does not hold an attention-MIL model")]
    NotAttentionMil(PathBuf),
    /// An output folder could not be created.
    #[error("cannot create {path}")]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A slide's label is not one of the model's classes.
    #[error("slide {slide:?} has label {label:?}, not one of the model's classes {classes:?}")]
    UnknownLabel {
        /// The slide.
        slide: String,
        /// Its label in the table.
        label: String,
        /// The model's classes.
        classes: Vec<String>,
    },
    /// A slide to score has no row in the label table.
    #[error("{table}: no label for slide {slide:?}")]
    NoLabel {
        /// The label table.
        table: PathBuf,
        /// The slide.
        slide: String,
    },
    /// Slide-level metrics could not be computed.
    #[error(transparent)]
    Metrics(#[from] crate::metrics::MetricsError),
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
