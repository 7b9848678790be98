//! `exahealth eval --model DIR --data dataset.yml`: scores on a split.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use exahealth_data::dataset::read_dataset;
use exahealth_nn::cpu_device;
use exahealth_nn::embedding::check_slide_name;
use exahealth_nn::labels::read_labels;
use exahealth_nn::loss::LossConfig;
use exahealth_nn::metrics::ClassificationReport;
use exahealth_nn::mil_inference::{BagsFolder, MilModel};
use exahealth_nn::model_folder::{ModelSpec, Task};
use exahealth_nn::train::evaluate;

use exahealth_nn::prepare::model_source;

/// Score a trained model on a dataset split, or a MIL model on labelled slides.
///
/// On a split of a DeepHealth dataset: loss, accuracy and confusion matrix
/// (classification) or foreground Dice (segmentation). A MIL model
/// (task = "mil") is scored on slides instead:
/// --bags (the `exahealth embed --out` folder) and --labels (a CSV whose
/// first column names the slides) give accuracy, balanced accuracy,
/// per-class precision/recall/F1, ROC AUC, Cohen's kappa and the confusion
/// matrix over the slides named (default: every labelled slide in --bags).
///
/// Examples:
///   exahealth eval --model runs/first --data dataset.yml --split test --json
///   exahealth eval --model runs/mil --bags features --labels labels.csv --column cancer
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct EvalArgs {
    /// Model folder written by `exahealth train`.
    #[arg(long)]
    pub model: PathBuf,
    /// DeepHealth dataset YAML.
    #[arg(long, required_unless_present = "bags")]
    pub data: Option<PathBuf>,
    /// MIL: the folder of slide embeddings (`exahealth embed --out`).
    #[arg(long, conflicts_with = "data", requires = "labels")]
    pub bags: Option<PathBuf>,
    /// MIL: slide labels (CSV; the first column names the slide).
    #[arg(long)]
    pub labels: Option<PathBuf>,
    /// MIL: the label column.
    #[arg(long, default_value = "label")]
    pub column: String,
    /// MIL: slides to score (default: every labelled slide in --bags).
    pub slides: Vec<String>,
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
    if let Some(bags) = &args.bags {
        return eval_bags(&args, bags);
    }
    let spec = ModelSpec::read(&args.model)?;
    if spec.task == Task::Mil {
        anyhow::bail!(
            "a MIL model is scored on slides: give --bags (the `exahealth embed --out` folder) and --labels"
        );
    }
    let Some(data) = &args.data else {
        anyhow::bail!("give --data (a DeepHealth YAML)");
    };
    let model = spec.load(&args.model)?;
    let dataset = read_dataset(data).with_context(|| format!("cannot read {}", data.display()))?;
    if dataset.split_indices(&args.split).is_none() {
        anyhow::bail!("{} has no split named {:?}", data.display(), args.split);
    }
    let source = model_source(&spec, dataset, Some(&args.split))?;
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

/// Scores a MIL model on labelled slides.
fn eval_bags(args: &EvalArgs, bags: &Path) -> Result<()> {
    let bags = BagsFolder::open(bags)?;
    let model = MilModel::load(&args.model, &bags.embedding)?;
    let spec = &model.spec;
    let labels_path = args.labels.as_deref().context("give --labels")?;
    let labels = read_labels(labels_path, &args.column)?;
    let slides: Vec<String> = if args.slides.is_empty() {
        bags.embedding
            .slides
            .keys()
            .filter(|s| labels.contains_key(*s))
            .cloned()
            .collect()
    } else {
        args.slides.clone()
    };
    for slide in &slides {
        check_slide_name(slide)?;
    }
    if slides.is_empty() {
        anyhow::bail!(
            "no slide of {} is labelled in {}",
            bags.path.display(),
            labels_path.display()
        );
    }
    let report = model.evaluate(&bags, &slides, &labels, labels_path, &cpu_device())?;
    if args.json {
        println!(
            "{}",
            serde_json::json!({"slides": slides.len(), "classes": spec.classes, "report": report})
        );
        return Ok(());
    }
    print_slide_report(&spec.classes, slides.len(), &report);
    Ok(())
}

/// The slide-level scores of a MIL model, as `eval --bags` prints them.
pub fn print_slide_report(classes: &[String], slides: usize, report: &ClassificationReport) {
    println!("{slides} slides");
    println!("accuracy           {:.4}", report.accuracy);
    println!("balanced accuracy  {:.4}", report.balanced_accuracy);
    if let Some(auc) = report.roc_auc {
        println!("ROC AUC            {auc:.4}");
    }
    if let Some(kappa) = report.kappa {
        println!("Cohen's kappa      {kappa:.4}");
    }
    println!("per class       precision  recall      F1  support");
    let p = &report.per_class;
    for (i, name) in classes.iter().enumerate() {
        println!(
            "  {name:>12}  {:>9.4} {:>7.4} {:>7.4} {:>8}",
            p.precision[i], p.recall[i], p.f1[i], p.support[i]
        );
    }
    println!("confusion (rows: target, columns: predicted):");
    for (name, row) in classes.iter().zip(&report.confusion_matrix) {
        println!("  {name:>12} {row:?}");
    }
}
