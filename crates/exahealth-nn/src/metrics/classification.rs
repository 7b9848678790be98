//! Label metrics derived from a confusion matrix.

use serde::{Deserialize, Serialize};

use super::{ConfusionMatrix, MetricsError};

/// Fraction of samples predicted correctly.
pub fn accuracy(cm: &ConfusionMatrix) -> Result<f64, MetricsError> {
    let total = cm.total();
    if total == 0 {
        return Err(MetricsError::Empty);
    }
    Ok(cm.diagonal().iter().sum::<u64>() as f64 / total as f64)
}

/// Mean recall over the classes that occur in the truth, so a classifier
/// that always answers the majority class scores `1 / classes present`.
pub fn balanced_accuracy(cm: &ConfusionMatrix) -> Result<f64, MetricsError> {
    let support = cm.row_sums();
    let diag = cm.diagonal();
    let (sum, present) = support
        .iter()
        .zip(&diag)
        .filter(|(&s, _)| s > 0)
        .fold((0.0, 0usize), |(acc, n), (&s, &d)| {
            (acc + d as f64 / s as f64, n + 1)
        });
    if present == 0 {
        return Err(MetricsError::Empty);
    }
    Ok(sum / present as f64)
}

/// Precision, recall and F1 of each class, with their support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerClass {
    /// `tp / (tp + fp)` per class (0 when nothing was predicted as the class).
    pub precision: Vec<f64>,
    /// `tp / (tp + fn)` per class (0 when the class never occurs).
    pub recall: Vec<f64>,
    /// Harmonic mean of precision and recall (0 when both are 0).
    pub f1: Vec<f64>,
    /// Number of true samples per class.
    pub support: Vec<u64>,
}

/// An averaged precision/recall/F1 triple.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Averages {
    /// Averaged precision.
    pub precision: f64,
    /// Averaged recall.
    pub recall: f64,
    /// Averaged F1 (for `macro`, the mean of per-class F1, as scikit-learn).
    pub f1: f64,
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

fn f1_of(p: f64, r: f64) -> f64 {
    if p + r == 0.0 {
        0.0
    } else {
        2.0 * p * r / (p + r)
    }
}

impl PerClass {
    /// Unweighted mean over all classes.
    pub fn macro_avg(&self) -> Averages {
        let n = self.f1.len().max(1) as f64;
        Averages {
            precision: self.precision.iter().sum::<f64>() / n,
            recall: self.recall.iter().sum::<f64>() / n,
            f1: self.f1.iter().sum::<f64>() / n,
        }
    }

    /// Mean over classes weighted by support.
    pub fn weighted_avg(&self) -> Averages {
        let total: u64 = self.support.iter().sum();
        let w = |v: &[f64]| {
            if total == 0 {
                0.0
            } else {
                v.iter()
                    .zip(&self.support)
                    .map(|(x, &s)| x * s as f64)
                    .sum::<f64>()
                    / total as f64
            }
        };
        Averages {
            precision: w(&self.precision),
            recall: w(&self.recall),
            f1: w(&self.f1),
        }
    }
}

/// Per-class precision, recall and F1, and the micro average (pooled
/// counts; for single-label data all three equal the accuracy).
pub fn precision_recall_f1(cm: &ConfusionMatrix) -> (PerClass, Averages) {
    let support = cm.row_sums();
    let predicted = cm.col_sums();
    let diag = cm.diagonal();
    let precision: Vec<f64> = diag
        .iter()
        .zip(&predicted)
        .map(|(&d, &p)| ratio(d, p))
        .collect();
    let recall: Vec<f64> = diag
        .iter()
        .zip(&support)
        .map(|(&d, &s)| ratio(d, s))
        .collect();
    let f1 = precision
        .iter()
        .zip(&recall)
        .map(|(&p, &r)| f1_of(p, r))
        .collect();
    let tp: u64 = diag.iter().sum();
    let micro_p = ratio(tp, predicted.iter().sum());
    let micro_r = ratio(tp, support.iter().sum());
    let micro = Averages {
        precision: micro_p,
        recall: micro_r,
        f1: f1_of(micro_p, micro_r),
    };
    (
        PerClass {
            precision,
            recall,
            f1,
            support,
        },
        micro,
    )
}

/// Disagreement weights for Cohen's kappa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KappaWeights {
    /// Every disagreement costs 1 (plain kappa).
    None,
    /// Disagreement costs `|i - j|`.
    Linear,
    /// Disagreement costs `(i - j)^2`: the usual choice for ordinal grades
    /// (e.g. Gleason or ISUP grade groups).
    Quadratic,
}

/// Cohen's kappa: agreement beyond chance, `1 - sum(w O) / sum(w E)` where
/// `O` is the observed confusion matrix and `E = row_sums x col_sums / N`.
pub fn cohen_kappa(cm: &ConfusionMatrix, weights: KappaWeights) -> Result<f64, MetricsError> {
    let total = cm.total();
    if total == 0 {
        return Err(MetricsError::Empty);
    }
    let rows = cm.row_sums();
    let cols = cm.col_sums();
    let (mut observed, mut expected) = (0.0, 0.0);
    for (i, &row) in rows.iter().enumerate() {
        for (j, &col) in cols.iter().enumerate() {
            let d = i.abs_diff(j) as f64;
            let w = match weights {
                KappaWeights::None => f64::from(u8::from(i != j)),
                KappaWeights::Linear => d,
                KappaWeights::Quadratic => d * d,
            };
            observed += w * cm.get(i, j) as f64;
            expected += w * row as f64 * col as f64 / total as f64;
        }
    }
    if expected == 0.0 {
        return Err(MetricsError::Undefined(
            "kappa: chance agreement is total (one class only in truth and predictions)",
        ));
    }
    Ok(1.0 - observed / expected)
}
