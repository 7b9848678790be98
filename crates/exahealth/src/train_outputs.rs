//! What `exahealth train` writes beside the weights once a run ends: the
//! curve plot (`curves.png`) and the model card (`model_card.json`).

use std::path::Path;

use anyhow::{Context, Result};
use exahealth_nn::card::{
    hash_files, ArchitectureInfo, InputSpec, ModelCard, Normalization, TrainingData,
};
use exahealth_nn::metrics::MetricSet;
use exahealth_nn::model_folder::{ModelSpec, Task, CARD_FILE, WEIGHTS_FILE};
use exahealth_nn::plot::{write_png, Curves, PlotOptions};
use exahealth_nn::train::{History, TrainConfig};

/// Everything a card says about one finished run.
pub struct FinishedRun<'a> {
    pub spec: &'a ModelSpec,
    pub config: &'a TrainConfig,
    pub data: &'a crate::train_data::CardData,
    pub history: &'a History,
    pub best: Option<(f64, usize)>,
    pub parameters: usize,
    pub valid_split: &'a str,
}

/// Writes `curves.png` and `model_card.json` into `output`.
pub fn write(output: &Path, run: &FinishedRun<'_>) -> Result<()> {
    let curves = Curves::from_history(run.history);
    let png = output.join("curves.png");
    write_png(&png, &curves, PlotOptions::default())
        .with_context(|| format!("cannot write {}", png.display()))?;
    let card = card(run)?;
    let path = output.join(CARD_FILE);
    card.write(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn card(run: &FinishedRun<'_>) -> Result<ModelCard> {
    let spec = run.spec;
    let architecture = ArchitectureInfo {
        name: spec.architecture.name(),
        config: serde_json::to_value(&spec.architecture)?,
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
    card.epochs = Some(run.history.epochs.len() as u64);
    let fingerprint = hash_files(&run.data.root, &run.data.files)
        .context("cannot fingerprint the training data")?;
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
