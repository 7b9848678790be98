//! Overlap metrics for segmentation masks.

use serde::{Deserialize, Serialize};

use super::MetricsError;

/// Pixel (or voxel) counts of one binary mask pair, summable across
/// images so a dataset-level Dice is the Dice of the pooled counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskCounts {
    /// Foreground in both.
    pub tp: u64,
    /// Foreground in the prediction only.
    pub fp: u64,
    /// Foreground in the truth only.
    pub fn_: u64,
}

impl MaskCounts {
    /// Counts of a predicted and a true mask of the same length.
    pub fn from_masks(pred: &[bool], truth: &[bool]) -> Result<Self, MetricsError> {
        if pred.len() != truth.len() {
            return Err(MetricsError::Length {
                what: "predicted mask",
                got: pred.len(),
                expected: truth.len(),
            });
        }
        let mut c = Self::default();
        for (&p, &t) in pred.iter().zip(truth) {
            match (p, t) {
                (true, true) => c.tp += 1,
                (true, false) => c.fp += 1,
                (false, true) => c.fn_ += 1,
                (false, false) => {}
            }
        }
        Ok(c)
    }

    /// Per-class counts of label maps (one class index per pixel).
    pub fn per_class(
        pred: &[usize],
        truth: &[usize],
        num_classes: usize,
    ) -> Result<Vec<Self>, MetricsError> {
        if pred.len() != truth.len() {
            return Err(MetricsError::Length {
                what: "predicted label map",
                got: pred.len(),
                expected: truth.len(),
            });
        }
        let mut out = vec![Self::default(); num_classes];
        for (&p, &t) in pred.iter().zip(truth) {
            for index in [p, t] {
                if index >= num_classes {
                    return Err(MetricsError::ClassOutOfRange { index, num_classes });
                }
            }
            if p == t {
                out[p].tp += 1;
            } else {
                out[p].fp += 1;
                out[t].fn_ += 1;
            }
        }
        Ok(out)
    }

    /// Adds another image's counts.
    pub fn add(&mut self, other: Self) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }

    /// `2 tp / (2 tp + fp + fn)`; 1 when both masks are empty (a correct
    /// "nothing here").
    pub fn dice(&self) -> f64 {
        let den = 2 * self.tp + self.fp + self.fn_;
        if den == 0 {
            1.0
        } else {
            2.0 * self.tp as f64 / den as f64
        }
    }

    /// Intersection over union, `tp / (tp + fp + fn)`; 1 when both are empty.
    pub fn iou(&self) -> f64 {
        let den = self.tp + self.fp + self.fn_;
        if den == 0 {
            1.0
        } else {
            self.tp as f64 / den as f64
        }
    }
}

/// Dice coefficient of two binary masks.
pub fn dice(pred: &[bool], truth: &[bool]) -> Result<f64, MetricsError> {
    Ok(MaskCounts::from_masks(pred, truth)?.dice())
}

/// Intersection over union (Jaccard index) of two binary masks.
pub fn iou(pred: &[bool], truth: &[bool]) -> Result<f64, MetricsError> {
    Ok(MaskCounts::from_masks(pred, truth)?.iou())
}
