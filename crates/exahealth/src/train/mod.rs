//! `exahealth train --config run.toml`: train a model on a DeepHealth
//! dataset and write a model folder (weights, spec, metrics log, checkpoint).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use exahealth_dist::{SingleProcess, World};
use exahealth_nn::train::Event;
use exahealth_nn::train_run::{train_run_file_in, TrainedRun};

use crate::progress;

/// Train a network on a DeepHealth dataset (ECVL YAML) or on slide patches
/// from patch plans.
///
/// The run file is TOML, for example:
///
///   task = "classification"        # or "segmentation"
///   data = "dataset.yml"           # DeepHealth YAML, relative to the run file
///   model = "small-cnn"            # small-cnn, resnet18/34/50, vgg16,
///                                  # densenet121, unet
///   image_size = 64                # images are resized to this square side
///   channels = 3                   # 1 (grey) or 3 (RGB)
///   output = "runs/first"          # model folder, relative to the run file
///   # Optional: ECVL augmentations of the training split, on images as
///   # floats in 0..1, drawn per sample and epoch from the run's seed.
///   augmentations = """
///   SequentialAugmentationContainer
///       AugMirror p=0.5
///       AugRotate angle=[-10,10]
///       AugBrightness beta=[-0.05,0.05]
///   end
///   """
///   [train]
///   epochs = 10
///   batch_size = 32
///   lr = 0.001
///   optimizer = { kind = "adam" }  # sgd (momentum), adam, adamw
///   schedule = { kind = "cosine" } # constant, step, cosine; warmup_epochs = N
///
/// Slide patches instead of `data`: plan the slides first (`exahealth
/// slide tile SLIDES --mpp 0.5 --size 256 --annotations A --out tiles`),
/// then replace `data` with
///
///   [plans]
///   folder = "tiles"                # the `slide tile --out` folder
///   training = ["slide_a", "slide_b"]  # slide stems (its sub-folders)
///   validation = ["slide_c"]
///   classes = ["background", "Tumor"]  # optional; default: background + the
///                                      # annotation classes, sorted
///
/// Patches are read from the slides on the fly (the plan's slide path, as
/// is or relative to the run file) and resized to image_size.
///
/// Slide-level labels instead (multiple-instance learning): embed every
/// patch first (`exahealth embed --model M --plans tiles --out features`),
/// then
///
///   task = "mil"
///   model = "attention-mil"          # gated attention pooling
///   output = "runs/mil"
///   [bags]
///   folder = "features"              # the `embed --out` folder
///   labels = "labels.csv"            # first column: slide (folder name)
///   column = "cancer"                # the label column (default "label"),
///                                    # e.g. of `reports extract` output
///   training = ["s1", "s2", "s3", "s4"]
///   validation = ["s5", "s6"]
///   max_patches = 512                # optional: random patches per slide
///                                    # and training step (default: all)
///   [train]
///   batch_size = 1                   # slides per step; in bigger batches
///                                    # slides are cut to the smallest one
///
/// Validation always takes one slide at a time, with all its patches.
///
/// The output folder receives model.safetensors (best weights),
/// model.json (architecture, classes, input), history.csv/json (per-epoch
/// metrics), checkpoint/ (for --resume), and at the end curves.png (loss
/// and metric curves) and model_card.json (architecture, classes, input and
/// normalisation, SHA-256 of the training data (the YAML and its files; for
/// [plans], plan.json and patches.csv, which identify each slide by its
/// quick hash), kept epoch's validation metrics, seed, timings, versions).
///
/// Example: exahealth train --config run.toml
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct TrainArgs {
    /// The run file (TOML).
    #[arg(long)]
    pub config: PathBuf,
    /// Continue from the checkpoint in the output folder after an interruption.
    #[arg(long)]
    pub resume: bool,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let world = crate::shard::world()?;
    if world.size() == 1 {
        let trained = exahealth_nn::threads::with_threads(args.threads, || {
            train_printing(&args, &SingleProcess)
        })??;
        return report(&trained);
    }
    match crate::shard::on_rank(world.as_ref(), args.threads, |w| train_printing(&args, w)) {
        Some(trained) => report(&trained),
        None => Ok(()),
    }
}

/// Trains, with the progress bar and epoch lines on rank 0 only.
fn train_printing(args: &TrainArgs, world: &dyn World) -> Result<TrainedRun> {
    let pb = if world.is_root() {
        progress::bar(0, "train")
    } else {
        indicatif::ProgressBar::hidden()
    };
    pb.set_style(
        indicatif::ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let say = |line: String| {
        if world.is_root() {
            pb.println(line);
        }
    };
    let mut on_event = |e: Event<'_>| match e {
        Event::Resumed { epoch } => say(format!("resumed after epoch {epoch}")),
        Event::EpochStart {
            epoch,
            epochs,
            batches,
        } => {
            pb.reset();
            pb.set_length(batches as u64);
            pb.set_prefix(format!("epoch {epoch}/{epochs}"));
        }
        Event::Batch { loss, lr, .. } => {
            pb.set_message(format!("loss {loss:.4} lr {lr:.2e}"));
            pb.inc(1);
        }
        Event::EpochEnd(r) => say(format!(
            "epoch {}: train loss {:.4}, val loss {}, val accuracy {}, val Dice {} ({:.1} s)",
            r.epoch,
            r.train_loss,
            fmt(r.val_loss),
            fmt(r.val_accuracy),
            fmt(r.val_dice),
            r.seconds
        )),
        Event::EarlyStop { epoch, best_epoch } => say(format!(
            "early stop after epoch {epoch} (best: {best_epoch:?})"
        )),
    };
    let trained = train_run_file_in(&args.config, args.resume, world, &mut on_event);
    pb.finish_and_clear();
    Ok(trained?)
}

fn report(trained: &TrainedRun) -> Result<()> {
    match trained.best {
        Some((v, epoch)) => println!(
            "best {:?} {v:.4} at epoch {epoch}; model in {}",
            trained.monitor,
            trained.output.display()
        ),
        None => println!("model in {}", trained.output.display()),
    }
    Ok(())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.4}"))
}
