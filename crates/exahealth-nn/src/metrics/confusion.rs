//! The confusion matrix: the sufficient statistic of most label metrics.

use serde::Serialize;

use super::MetricsError;

/// Counts of (true class, predicted class) pairs: row = truth, column =
/// prediction, as in scikit-learn's `confusion_matrix`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfusionMatrix {
    num_classes: usize,
    /// Row-major `num_classes x num_classes`.
    counts: Vec<u64>,
}

/// Upper bound on classes: keeps the `n^2` table from an absurd allocation
/// when `n` comes from a config file.
const MAX_CLASSES: usize = 1 << 14;

impl ConfusionMatrix {
    /// An empty matrix for `num_classes` classes (at least 1).
    pub fn new(num_classes: usize) -> Result<Self, MetricsError> {
        if num_classes == 0 || num_classes > MAX_CLASSES {
            return Err(MetricsError::NumClasses(num_classes));
        }
        Ok(Self {
            num_classes,
            counts: vec![0; num_classes * num_classes],
        })
    }

    /// The matrix of paired label slices.
    pub fn from_labels(
        truth: &[usize],
        pred: &[usize],
        num_classes: usize,
    ) -> Result<Self, MetricsError> {
        if truth.len() != pred.len() {
            return Err(MetricsError::Length {
                what: "predictions",
                got: pred.len(),
                expected: truth.len(),
            });
        }
        let mut m = Self::new(num_classes)?;
        for (&t, &p) in truth.iter().zip(pred) {
            m.add(t, p)?;
        }
        Ok(m)
    }

    /// Counts one sample.
    pub fn add(&mut self, truth: usize, pred: usize) -> Result<(), MetricsError> {
        for index in [truth, pred] {
            if index >= self.num_classes {
                return Err(MetricsError::ClassOutOfRange {
                    index,
                    num_classes: self.num_classes,
                });
            }
        }
        self.counts[truth * self.num_classes + pred] += 1;
        Ok(())
    }

    /// Adds another matrix of the same size (e.g. from another rank or batch).
    pub fn merge(&mut self, other: &Self) -> Result<(), MetricsError> {
        if other.num_classes != self.num_classes {
            return Err(MetricsError::Length {
                what: "confusion matrix classes",
                got: other.num_classes,
                expected: self.num_classes,
            });
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        Ok(())
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Samples with true class `truth` predicted as `pred` (0 when out of range).
    pub fn get(&self, truth: usize, pred: usize) -> u64 {
        if truth < self.num_classes && pred < self.num_classes {
            self.counts[truth * self.num_classes + pred]
        } else {
            0
        }
    }

    /// Total number of samples.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Samples per true class (the support).
    pub fn row_sums(&self) -> Vec<u64> {
        self.counts
            .chunks_exact(self.num_classes)
            .map(|r| r.iter().sum())
            .collect()
    }

    /// Samples per predicted class.
    pub fn col_sums(&self) -> Vec<u64> {
        let n = self.num_classes;
        (0..n)
            .map(|c| (0..n).map(|r| self.get(r, c)).sum())
            .collect()
    }

    /// Correct predictions per class.
    pub fn diagonal(&self) -> Vec<u64> {
        (0..self.num_classes).map(|c| self.get(c, c)).collect()
    }

    /// The table as rows (truth) of columns (prediction).
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks_exact(self.num_classes)
            .map(<[u64]>::to_vec)
            .collect()
    }
}
