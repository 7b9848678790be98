//! The training loop (own, not burn-train): epochs of shuffled mini-batches,
//! a validation pass per epoch, learning-rate schedules, early stopping on a
//! validation metric, a per-epoch metrics log, and crash-safe checkpoints
//! from which `resume` continues exactly where an interrupted run stopped.

pub(crate) mod allreduce;
mod checkpoint;
mod evaluate;
mod history;
mod trainer;

pub use crate::weights::{load_weights, save_weights};
pub use checkpoint::{Checkpoint, CheckpointState};
pub use evaluate::{argmax, evaluate, evaluate_in, Evaluation};
pub use history::{EpochRecord, History};
pub use trainer::{train, train_in, Event, Run, TrainOutcome};

use serde::{Deserialize, Serialize};

use crate::loss::LossConfig;
use crate::optim::{OptimizerConfig, Schedule};

/// Which validation number decides "best" and early stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Monitor {
    /// Validation loss (lower is better).
    #[default]
    ValLoss,
    /// Validation accuracy (higher is better).
    ValAccuracy,
    /// Validation foreground Dice (higher is better).
    ValDice,
}

impl Monitor {
    /// True when a larger value is better.
    pub fn maximise(self) -> bool {
        !matches!(self, Monitor::ValLoss)
    }

    /// The monitored value of an epoch, if it was measured.
    pub fn value(self, record: &EpochRecord) -> Option<f64> {
        match self {
            Monitor::ValLoss => record.val_loss,
            Monitor::ValAccuracy => record.val_accuracy,
            Monitor::ValDice => record.val_dice,
        }
    }
}

/// Stop when the monitored metric has not improved by `min_delta` for
/// `patience` epochs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: usize,
    /// Smallest change that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
}

/// Everything that defines a training run, apart from model and data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per optimiser step.
    pub batch_size: usize,
    /// Seeds weight initialisation (by the caller) and the sample order.
    pub seed: u64,
    /// Peak learning rate.
    pub lr: f64,
    /// Decay after warm-up.
    pub schedule: Schedule,
    /// Epochs of linear warm-up.
    pub warmup_epochs: usize,
    /// Optimiser.
    pub optimizer: OptimizerConfig,
    /// Loss.
    pub loss: LossConfig,
    /// The metric that picks the best epoch.
    pub monitor: Monitor,
    /// Optional early stopping on `monitor`.
    pub early_stopping: Option<EarlyStopping>,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            epochs: 10,
            batch_size: 32,
            seed: 42,
            lr: 1e-3,
            schedule: Schedule::Constant,
            warmup_epochs: 0,
            optimizer: OptimizerConfig::default(),
            loss: LossConfig::default(),
            monitor: Monitor::ValLoss,
            early_stopping: None,
        }
    }
}
