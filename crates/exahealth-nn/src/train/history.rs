//! The per-epoch metrics log, written as CSV and JSON after every epoch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{NnError, Result};

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Mean validation loss, when there is validation data.
    pub val_loss: Option<f64>,
    /// Validation accuracy (classification).
    pub val_accuracy: Option<f64>,
    /// Validation foreground Dice (segmentation).
    pub val_dice: Option<f64>,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// All epochs so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per finished epoch.
    pub epochs: Vec<EpochRecord>,
}

fn cell(v: Option<f64>) -> String {
    v.map(|v| format!("{v}")).unwrap_or_default()
}

impl History {
    /// CSV with a header row; empty cells for unmeasured values.
    pub fn to_csv(&self) -> String {
        let mut s = String::from("epoch,train_loss,lr,val_loss,val_accuracy,val_dice,seconds\n");
        for r in &self.epochs {
            s.push_str(&format!(
                "{},{},{},{},{},{},{:.3}\n",
                r.epoch,
                r.train_loss,
                r.lr,
                cell(r.val_loss),
                cell(r.val_accuracy),
                cell(r.val_dice),
                r.seconds
            ));
        }
        s
    }

    /// Writes `history.csv` and `history.json` into `dir`, atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_atomic(&dir.join("history.csv"), self.to_csv().as_bytes())?;
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| NnError::record(dir.join("history.json"), e))?;
        write_atomic(&dir.join("history.json"), &json)
    }
}
