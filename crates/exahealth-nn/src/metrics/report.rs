//! Serialisable summaries: a full classification report, a segmentation
//! report, and a flat name -> value set for per-epoch logs and plots.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    accuracy, balanced_accuracy, cohen_kappa, precision_recall_f1, roc_auc_ovr_macro,
    roc_auc_ovr_per_class, Averages, ConfusionMatrix, KappaWeights, MaskCounts, MetricsError,
    PerClass,
};

/// A flat set of named scalar metrics (e.g. `loss`, `accuracy`, `auc`):
/// the row type of the per-epoch log and the input of the curve plot.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MetricSet(pub BTreeMap<String, f64>);

impl MetricSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`.
    pub fn insert(&mut self, name: impl Into<String>, value: f64) {
        self.0.insert(name.into(), value);
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<f64> {
        self.0.get(name).copied()
    }

    /// Names and values in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, &v)| (k.as_str(), v))
    }
}

/// Index of the largest score in each row of a row-major
/// `samples x classes` matrix (first index on ties, NaN never wins).
pub fn argmax_rows(scores: &[f32], num_classes: usize) -> Result<Vec<usize>, MetricsError> {
    if num_classes == 0 {
        return Err(MetricsError::NumClasses(0));
    }
    if scores.len() % num_classes != 0 {
        return Err(MetricsError::Length {
            what: "score matrix",
            got: scores.len(),
            expected: scores.len() / num_classes * num_classes,
        });
    }
    Ok(scores
        .chunks_exact(num_classes)
        .map(|row| {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] || row[best].is_nan() && !v.is_nan() {
                    best = i;
                }
            }
            best
        })
        .collect())
}

/// Everything a classifier's evaluation reports, ready for JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Number of classes.
    pub num_classes: usize,
    /// Number of samples.
    pub samples: u64,
    /// Fraction correct.
    pub accuracy: f64,
    /// Mean recall over classes present in the truth.
    pub balanced_accuracy: f64,
    /// Per-class precision, recall, F1 and support.
    pub per_class: PerClass,
    /// Unweighted mean over classes.
    #[serde(rename = "macro")]
    pub macro_avg: Averages,
    /// Pooled counts (equals accuracy for single-label data).
    pub micro: Averages,
    /// Mean over classes weighted by support.
    pub weighted: Averages,
    /// Cohen's kappa (`None` when undefined).
    pub kappa: Option<f64>,
    /// Quadratic-weighted kappa, for ordinal classes.
    pub kappa_quadratic: Option<f64>,
    /// ROC AUC: binary for 2 classes, one-vs-rest macro otherwise (`None`
    /// without scores, or when a class is missing from the truth).
    pub roc_auc: Option<f64>,
    /// One-vs-rest AUC per class (`None` where undefined).
    pub roc_auc_per_class: Option<Vec<Option<f64>>>,
    /// Rows = true class, columns = predicted class.
    pub confusion_matrix: Vec<Vec<u64>>,
}

impl ClassificationReport {
    /// Report from hard predictions only (no AUC).
    pub fn from_labels(
        truth: &[usize],
        pred: &[usize],
        num_classes: usize,
    ) -> Result<Self, MetricsError> {
        let cm = ConfusionMatrix::from_labels(truth, pred, num_classes)?;
        Self::from_confusion(&cm)
    }

    /// Report from a confusion matrix (no AUC).
    pub fn from_confusion(cm: &ConfusionMatrix) -> Result<Self, MetricsError> {
        let (per_class, micro) = precision_recall_f1(cm);
        Ok(Self {
            num_classes: cm.num_classes(),
            samples: cm.total(),
            accuracy: accuracy(cm)?,
            balanced_accuracy: balanced_accuracy(cm)?,
            macro_avg: per_class.macro_avg(),
            weighted: per_class.weighted_avg(),
            micro,
            per_class,
            kappa: cohen_kappa(cm, KappaWeights::None).ok(),
            kappa_quadratic: cohen_kappa(cm, KappaWeights::Quadratic).ok(),
            roc_auc: None,
            roc_auc_per_class: None,
            confusion_matrix: cm.rows(),
        })
    }

    /// Report from scores (probabilities or logits; row-major
    /// `samples x classes`): predictions are the arg-max of each row.
    pub fn from_scores(
        truth: &[usize],
        scores: &[f32],
        num_classes: usize,
    ) -> Result<Self, MetricsError> {
        let pred = argmax_rows(scores, num_classes)?;
        let mut report = Self::from_labels(truth, &pred, num_classes)?;
        let scores: Vec<f64> = scores.iter().map(|&s| f64::from(s)).collect();
        report.roc_auc = roc_auc_ovr_macro(truth, &scores, num_classes).ok();
        report.roc_auc_per_class = Some(
            roc_auc_ovr_per_class(truth, &scores, num_classes)?
                .into_iter()
                .map(Result::ok)
                .collect(),
        );
        Ok(report)
    }

    /// The headline numbers as a flat set (undefined ones left out).
    pub fn metric_set(&self) -> MetricSet {
        let mut m = MetricSet::new();
        m.insert("accuracy", self.accuracy);
        m.insert("balanced_accuracy", self.balanced_accuracy);
        m.insert("precision_macro", self.macro_avg.precision);
        m.insert("recall_macro", self.macro_avg.recall);
        m.insert("f1_macro", self.macro_avg.f1);
        for (name, v) in [
            ("kappa", self.kappa),
            ("kappa_quadratic", self.kappa_quadratic),
            ("auc", self.roc_auc),
        ] {
            if let Some(v) = v {
                m.insert(name, v);
            }
        }
        m
    }
}

/// Overlap scores of a segmentation, per class and averaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentationReport {
    /// Dice per class, from counts pooled over all images.
    pub dice: Vec<f64>,
    /// IoU per class, pooled likewise.
    pub iou: Vec<f64>,
    /// Mean Dice over the foreground classes (all but class 0 when there are
    /// two or more classes).
    pub mean_dice: f64,
    /// Mean IoU over the foreground classes.
    pub mean_iou: f64,
    /// The pooled counts behind the scores.
    pub counts: Vec<MaskCounts>,
}

impl SegmentationReport {
    /// Report from per-class counts pooled over a dataset (class 0 is the
    /// background and is left out of the means when there are others).
    pub fn from_counts(counts: Vec<MaskCounts>) -> Result<Self, MetricsError> {
        if counts.is_empty() {
            return Err(MetricsError::NumClasses(0));
        }
        let dice: Vec<f64> = counts.iter().map(MaskCounts::dice).collect();
        let iou: Vec<f64> = counts.iter().map(MaskCounts::iou).collect();
        let fg = if counts.len() > 1 { 1 } else { 0 };
        let mean = |v: &[f64]| v[fg..].iter().sum::<f64>() / (v.len() - fg) as f64;
        Ok(Self {
            mean_dice: mean(&dice),
            mean_iou: mean(&iou),
            dice,
            iou,
            counts,
        })
    }

    /// Report of label maps (one class index per pixel).
    pub fn from_label_maps(
        pred: &[usize],
        truth: &[usize],
        num_classes: usize,
    ) -> Result<Self, MetricsError> {
        Self::from_counts(MaskCounts::per_class(pred, truth, num_classes)?)
    }

    /// `dice` and `iou` (means) as a flat set.
    pub fn metric_set(&self) -> MetricSet {
        let mut m = MetricSet::new();
        m.insert("dice", self.mean_dice);
        m.insert("iou", self.mean_iou);
        m
    }
}
