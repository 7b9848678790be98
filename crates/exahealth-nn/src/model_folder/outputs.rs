//! What a finished training run leaves beside the weights: the curve plot
//! (`curves.png`) and the model card (`model_card.json`).

use std::path::Path;

use super::{ModelSpec, Task, CARD_FILE, WEIGHTS_FILE};
use crate::card::{
    hash_files, ArchitectureInfo, CardData, InputSpec, ModelCard, Normalization, TrainingData,
};
use crate::metrics::MetricSet;
use crate::plot::{write_png, Curves, PlotOptions};
use crate::train::{History, TrainConfig};
use crate::workflow_error::{WorkflowError, WorkflowResult};

/// The plot file a run writes.
pub const CURVES_FILE: &str = "curves.png";

/// Everything a card says about one finished run.
pub struct FinishedRun<'a> {
    /// The model's spec (architecture, classes, input).
    pub spec: &'a ModelSpec,
    /// The training configuration (seed, epochs...).
    pub config: &'a TrainConfig,
    /// What the data preparation recorded of the data.
    pub data: &'a CardData,
    /// Per-epoch metrics.
    pub history: &'a History,
    /// The monitored value and epoch of the weights kept, if any.
    pub best: Option<(f64, usize)>,
    /// Trainable parameters of the model.
    pub parameters: usize,
    /// The name of the validation split, the card's metrics key.
    pub valid_split: &'a str,
    /// The processes that trained it (data-parallel ranks; 1 alone).
    pub ranks: usize,
}

/// Writes `curves.png` and `model_card.json` into the model folder `output`.
pub fn write_run_outputs(output: &Path, run: &FinishedRun<'_>) -> WorkflowResult<()> {
    let curves = Curves::from_history(run.history);
    let png = output.join(CURVES_FILE);
    write_png(&png, &curves, PlotOptions::default()).map_err(|source| WorkflowError::Curves {
        path: png,
        source: Box::new(source),
    })?;
    let card = card(run)?;
    let path = output.join(CARD_FILE);
    card.write(&path).map_err(|source| WorkflowError::Card {
        path,
        source: Box::new(source),
    })?;
    Ok(())
}

fn card(run: &FinishedRun<'_>) -> WorkflowResult<ModelCard> {
    let spec = run.spec;
    let architecture = ArchitectureInfo {
        name: spec.architecture.name(),
        config: serde_json::to_value(&spec.architecture).map_err(WorkflowError::Json)?,
        parameters: Some(run.parameters as u64),
    };
    // A MIL model reads `channels` features per patch, not pixels.
    let side = if spec.task == Task::Mil {
        1
    } else {
        spec.image_size as usize
    };
    let input = InputSpec {
        channels: spec.channels,
        height: side,
        width: side,
        depth: None,
        microns_per_pixel: None,
        // The loaders scale samples to 0..1 by the element type's maximum
        // (the data's `scale`) and centre nothing.
        normalization: Normalization {
            scale: run.data.scale,
            mean: vec![0.0],
            std: vec![1.0],
        },
    };
    let mut card = ModelCard::new(spec.task.name(), architecture, spec.classes.clone(), input);
    card.weights = Some(WEIGHTS_FILE.into());
    card.seed = Some(run.config.seed);
    card.ranks = (run.ranks > 1).then_some(run.ranks as u64);
    card.epochs = Some(run.history.epochs.len() as u64);
    let fingerprint = hash_files(&run.data.root, &run.data.files)
        .map_err(|e| WorkflowError::Fingerprint(Box::new(e)))?;
    card.training_data = Some(TrainingData {
        source: run.data.source.clone(),
        fingerprint,
        samples: run.data.samples.clone(),
    });
    // The validation metrics of the epoch whose weights were kept.
    let kept = run
        .best
        .map(|(_, epoch)| epoch)
        .or_else(|| run.history.epochs.last().map(|r| r.epoch));
    if let Some(r) = run.history.epochs.iter().find(|r| Some(r.epoch) == kept) {
        let mut m = MetricSet::new();
        m.insert("train_loss", r.train_loss);
        for (name, v) in [
            ("loss", r.val_loss),
            ("accuracy", r.val_accuracy),
            ("dice", r.val_dice),
        ] {
            if let Some(v) = v {
                m.insert(name, v);
            }
        }
        m.insert("epoch", r.epoch as f64);
        card.metrics.insert(run.valid_split.to_string(), m);
    }
    let total: f64 = run.history.epochs.iter().map(|r| r.seconds).sum();
    card.timings.insert("train".into(), total);
    if !run.history.epochs.is_empty() {
        card.timings.insert(
            "per_epoch_mean".into(),
            total / run.history.epochs.len() as f64,
        );
    }
    Ok(card)
}
