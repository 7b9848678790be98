//! `exahealth eval --model DIR --data dataset.yml`: scores on a split.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use exahealth_data::dataset::read_dataset;
use exahealth_nn::cpu_device;
use exahealth_nn::loss::LossConfig;
use exahealth_nn::train::evaluate;

use crate::train::{ModelSpec, Task};

/// Evaluate a trained model folder on a split of a DeepHealth dataset:
/// loss, accuracy and confusion matrix (classification) or foreground Dice
/// (segmentation).
///
/// Example: exahealth eval --model runs/first --data dataset.yml --split test --json
#[derive(Args)]
pub struct EvalArgs {
    /// Model folder written by `exahealth train`.
    #[arg(long)]
    pub model: PathBuf,
    /// DeepHealth dataset YAML.
    #[arg(long)]
    pub data: PathBuf,
    /// Split to score.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Images per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: EvalArgs) -> Result<()> {
    let spec = ModelSpec::read(&args.model)?;
    if spec.task == Task::Mil {
        anyhow::bail!(
            "eval scores image models on a DeepHealth dataset; a MIL model reports its validation metrics in history.csv and model_card.json, and `exahealth predict --bags` classifies slides"
        );
    }
    let model = spec.load(&args.model)?;
    let dataset =
        read_dataset(&args.data).with_context(|| format!("cannot read {}", args.data.display()))?;
    if dataset.split_indices(&args.split).is_none() {
        anyhow::bail!(
            "{} has no split named {:?}",
            args.data.display(),
            args.split
        );
    }
    let source = spec.source(dataset, Some(&args.split))?;
    let loss = LossConfig::default();
    let e = evaluate(&model, &source, args.batch, &loss, &cpu_device())?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "split": args.split,
                "samples": e.samples,
                "loss": e.loss,
                "accuracy": e.accuracy,
                "dice": e.dice,
                "confusion": e.confusion,
                "classes": spec.classes,
            })
        );
    } else {
        println!("{} samples of split {:?}", e.samples, args.split);
        println!("loss      {:.4}", e.loss);
        if let Some(a) = e.accuracy {
            println!("accuracy  {a:.4}");
        }
        if let (Some(d), Task::Segmentation) = (e.dice, spec.task) {
            println!("Dice      {d:.4}");
        }
        if let Some(c) = &e.confusion {
            println!("confusion (rows: target, columns: predicted):");
            for (name, row) in spec.classes.iter().zip(c) {
                println!("  {name:>12} {row:?}");
            }
        }
    }
    Ok(())
}
