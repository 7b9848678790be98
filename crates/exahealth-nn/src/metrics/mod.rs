//! Evaluation metrics on plain Rust slices (no Burn types), so the CLI,
//! the server and the training loop share one implementation.
//!
//! Conventions follow scikit-learn where it defines one, so numbers can be
//! checked against it (`bench/metrics_reference.py`):
//! - precision, recall and F1 of a class with a zero denominator are 0
//!   (scikit-learn's `zero_division=0`);
//! - balanced accuracy averages recall over the classes present in the truth;
//! - ROC AUC is the Mann-Whitney statistic (ties count one half), equal to the
//!   area under the trapezoidal ROC curve; multi-class AUC is one-vs-rest,
//!   macro-averaged;
//! - Cohen's kappa is `1 - sum(w * observed) / sum(w * expected)`.
//!
//! Values that are undefined for the data (AUC with one class only, kappa
//! when chance agreement is total) are errors from the functions and `None`
//! in the serialisable reports.

mod auc;
mod classification;
mod confusion;
mod report;
mod segmentation;

pub use auc::{roc_auc_binary, roc_auc_ovr_macro, roc_auc_ovr_per_class};
pub use classification::{
    accuracy, balanced_accuracy, cohen_kappa, precision_recall_f1, Averages, KappaWeights, PerClass,
};
pub use confusion::ConfusionMatrix;
pub use report::{argmax_rows, ClassificationReport, MetricSet, SegmentationReport};
pub use segmentation::{dice, iou, MaskCounts};

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsError {
    /// No samples were given.
    #[error("no samples: a metric needs at least one")]
    Empty,
    /// Two inputs that must pair up have different lengths.
    #[error("length mismatch: {what} has {got} entries, expected {expected}")]
    Length {
        /// Which input is off.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length it must have.
        expected: usize,
    },
    /// A class index is not below the number of classes.
    #[error("class index {index} out of range for {num_classes} classes")]
    ClassOutOfRange {
        /// The offending label.
        index: usize,
        /// The number of classes.
        num_classes: usize,
    },
    /// A score is NaN or infinite.
    #[error("score {index} is not finite ({value})")]
    NonFinite {
        /// Position of the score.
        index: usize,
        /// The value.
        value: f64,
    },
    /// The metric is mathematically undefined for these data.
    #[error("undefined: {0}")]
    Undefined(&'static str),
    /// Fewer than two classes, or a class count that cannot be right.
    #[error("invalid number of classes: {0}")]
    NumClasses(usize),
}
