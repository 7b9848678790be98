//! Checkpoints and weight files.
//!
//! A checkpoint is three files in one folder: the model as a Burn record
//! (`model-eNNNN.bpk`, which keeps parameter ids so the optimiser state
//! matches up again), the optimiser state (`optim-eNNNN.bpk`) and
//! `checkpoint.json` (epoch, step, RNG state, early-stopping state, history).
//! Each file is written atomically, and `checkpoint.json` last: it names the
//! pair it belongs to, so a `kill -9` mid-save leaves the previous
//! checkpoint whole. Files of older epochs are removed only afterwards.
//!
//! Exported weights (`save_weights`) are safetensors, readable by PyTorch.

use std::fs;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use super::history::History;
use super::TrainConfig;
use crate::atomic::write_atomic;
use crate::error::{NnError, Result};
use crate::rng::SplitMix64;

const STATE_FILE: &str = "checkpoint.json";
const FORMAT: u32 = 1;

/// Everything about a run that is not a tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Layout version of this file.
    pub format: u32,
    /// Epochs completed.
    pub epoch: usize,
    /// Optimiser steps taken.
    pub step: usize,
    /// The sample-order generator after the last completed epoch.
    pub rng: SplitMix64,
    /// Best monitored value so far.
    pub best: Option<f64>,
    /// Epoch (1-based) of the best value.
    pub best_epoch: Option<usize>,
    /// Epochs since the last improvement.
    pub bad_epochs: usize,
    /// True once early stopping fired.
    pub stopped_early: bool,
    /// The metrics log so far.
    pub history: History,
    /// The run's configuration, checked on resume.
    pub config: TrainConfig,
    /// Model record file name in the checkpoint folder.
    pub model_file: String,
    /// Optimiser record file name in the checkpoint folder.
    pub optimizer_file: String,
    /// Data-parallel ranks of the run (absent in older checkpoints: 1).
    /// A resume must use as many: the global batch, and so the steps, are
    /// `batch_size` x ranks.
    #[serde(default = "one_rank")]
    pub ranks: usize,
}

fn one_rank() -> usize {
    1
}

/// A checkpoint folder.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    dir: PathBuf,
}

impl Checkpoint {
    /// The checkpoint kept in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Saves model, optimiser and `state` (whose file names are set here).
    pub fn save<M: Module>(
        &self,
        model: &M,
        optimizer: &ModuleOptimizer,
        state: &mut CheckpointState,
    ) -> Result<()> {
        state.format = FORMAT;
        state.model_file = format!("model-e{:04}.bpk", state.epoch);
        state.optimizer_file = format!("optim-e{:04}.bpk", state.epoch);
        let model_path = self.dir.join(&state.model_file);
        let bytes = model
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| NnError::record(&model_path, e))?;
        write_atomic(&model_path, &bytes)?;
        let optim_path = self.dir.join(&state.optimizer_file);
        let bytes = optimizer
            .into_bytes()
            .map_err(|e| NnError::record(&optim_path, e))?;
        write_atomic(&optim_path, &bytes)?;
        let state_path = self.dir.join(STATE_FILE);
        let json = serde_json::to_vec_pretty(state).map_err(|e| NnError::record(&state_path, e))?;
        write_atomic(&state_path, &json)?;
        self.remove_stale(state);
        Ok(())
    }

    /// Deletes record files other than the ones `state` names.
    fn remove_stale(&self, state: &CheckpointState) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ours = name.ends_with(".bpk")
                && (name.starts_with("model-e") || name.starts_with("optim-e"));
            // Temporaries of record files whose write was killed: each epoch
            // writes new names, so no later write of the same name removes them.
            let orphan = name.starts_with('.') && name.contains(".bpk.tmp-");
            if orphan || (ours && name != state.model_file && name != state.optimizer_file) {
                if let Err(e) = fs::remove_file(entry.path()) {
                    tracing::warn!("cannot remove stale checkpoint file {name}: {e}");
                }
            }
        }
    }

    /// The saved state, or `None` when the folder holds no checkpoint.
    pub fn load_state(&self) -> Result<Option<CheckpointState>> {
        let path = self.dir.join(STATE_FILE);
        let bytes = match exahealth_base::budget::read_file(&path, u64::MAX) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(NnError::io(&path, e)),
        };
        let state: CheckpointState =
            serde_json::from_slice(&bytes).map_err(|e| NnError::record(&path, e))?;
        if state.format != FORMAT {
            return Err(NnError::record(
                &path,
                format!(
                    "checkpoint format {} is not supported (expected {FORMAT})",
                    state.format
                ),
            ));
        }
        for name in [&state.model_file, &state.optimizer_file] {
            if name.contains(['/', '\\']) || name.starts_with('.') {
                return Err(NnError::record(&path, format!("bad file name {name:?}")));
            }
        }
        Ok(Some(state))
    }

    /// Loads the weights and optimiser state named by `state` into `model`
    /// (built with the same architecture) and `optimizer` (same kind).
    pub fn restore<M: Module>(
        &self,
        model: M,
        optimizer: ModuleOptimizer,
        state: &CheckpointState,
    ) -> Result<(M, ModuleOptimizer)> {
        let model_path = self.dir.join(&state.model_file);
        let bytes = exahealth_base::budget::read_file(&model_path, u64::MAX)
            .map_err(|e| NnError::io(&model_path, e))?;
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| NnError::record(&model_path, e))?;
        let model = model
            .try_load_record(record)
            .map_err(|e| NnError::record(&model_path, e))?;
        let optim_path = self.dir.join(&state.optimizer_file);
        let bytes = exahealth_base::budget::read_file(&optim_path, u64::MAX)
            .map_err(|e| NnError::io(&optim_path, e))?;
        let optimizer = optimizer
            .from_bytes(Bytes::from_bytes_vec(bytes))
            .map_err(|e| NnError::record(&optim_path, e))?;
        Ok((model, optimizer))
    }
}
