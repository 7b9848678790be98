//! Run files: what `exahealth train --config run.toml` reads.
//!
//! A run file is TOML: the task (`classification`, `segmentation` or
//! `mil`), the model by name, the output folder, the training data (one of
//! `data`, a DeepHealth YAML; a `[plans]` table of patch plans; or, for
//! `task = "mil"`, a `[bags]` table of slide embeddings), the input shape,
//! optional ECVL augmentations and a `[train]` table
//! ([`TrainConfig`]). Paths are as written, relative to the run file's
//! folder; unknown keys are refused. [`RunFile::from_toml`] parses and
//! checks that task, model and data fit together; `exahealth train --help`
//! shows a complete example.
//!
//! ```no_run
//! use exahealth_nn::run_file::{RunFile, TrainingData};
//!
//! # fn main() -> exahealth_nn::Result<()> {
//! let text = std::fs::read_to_string("run.toml").expect("a run file");
//! let run = RunFile::from_toml(&text)?;
//! match run.training_data() {
//!     TrainingData::Dataset(yaml) => println!("DeepHealth dataset {}", yaml.display()),
//!     TrainingData::Plans(plans) => println!("patch plans in {}", plans.folder.display()),
//!     TrainingData::Bags(bags) => println!("slide bags in {}", bags.folder.display()),
//! }
//! println!("{} epochs into {}", run.train.epochs, run.output.display());
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{NnError, Result};
use crate::model_folder::Task;
use crate::train::{Monitor, TrainConfig};

/// The model name MIL runs train (gated attention pooling).
pub const MIL_MODEL: &str = "attention-mil";

/// What a run file says.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct RunFile {
    /// What the model learns (default `classification`).
    #[serde(default = "classification")]
    pub task: Task,
    /// A DeepHealth YAML dataset (or give `[plans]` or `[bags]`).
    #[serde(default)]
    pub data: Option<PathBuf>,
    /// Patch plans from `exahealth slide tile` (or give `data`).
    #[serde(default)]
    pub plans: Option<PlansData>,
    /// Slide embeddings from `exahealth embed` (task = "mil").
    #[serde(default)]
    pub bags: Option<BagsData>,
    /// The architecture's name (`small-cnn`, `resnet18`, ..., `attention-mil`).
    pub model: String,
    /// Images are resized to this square side (default 64).
    #[serde(default = "default_size")]
    pub image_size: u32,
    /// 1 (grey) or 3 (RGB) (default 3).
    #[serde(default = "default_channels")]
    pub channels: usize,
    /// The model folder to write.
    pub output: PathBuf,
    /// The dataset split trained on (default `training`).
    #[serde(default = "training")]
    pub train_split: String,
    /// The dataset split validated on (default `validation`).
    #[serde(default = "validation")]
    pub valid_split: String,
    /// Augmentations of the training split, in ECVL's text syntax.
    #[serde(default)]
    pub augmentations: Option<String>,
    /// Epochs, batch size, optimiser, schedule, seed, monitor...
    #[serde(default)]
    pub train: TrainConfig,
}

/// The `[plans]` table of a run file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlansData {
    /// The `--out` folder of `exahealth slide tile` (one sub-folder per slide).
    pub folder: PathBuf,
    /// Slide stems (sub-folders of `folder`) to train on.
    pub training: Vec<String>,
    /// Slide stems to validate on.
    pub validation: Vec<String>,
    /// Patch classes in output order; default: `background`, then the
    /// annotation classes the plans found, sorted.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
}

/// The `[bags]` table of a run file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BagsData {
    /// The `--out` folder of `exahealth embed` (one sub-folder per slide).
    pub folder: PathBuf,
    /// CSV with a header: the first column names the slide (its folder
    /// name), `column` holds its label (see [`crate::labels`]).
    pub labels: PathBuf,
    /// The label column (default `label`).
    #[serde(default = "label")]
    pub column: String,
    /// Slide names to train on.
    pub training: Vec<String>,
    /// Slide names to validate on.
    pub validation: Vec<String>,
    /// Classes in output order; default: the labels found, sorted.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// At most this many patches of a slide per training step (a random
    /// subset each epoch); default: all.
    #[serde(default)]
    pub max_patches: Option<usize>,
}

/// Where a run's samples come from: exactly one per run file.
#[derive(Debug, Clone, Copy)]
pub enum TrainingData<'a> {
    /// A DeepHealth YAML dataset (`data`).
    Dataset(&'a Path),
    /// Slide patches through patch plans (`[plans]`).
    Plans(&'a PlansData),
    /// Slide embeddings as MIL bags (`[bags]`, task = "mil").
    Bags(&'a BagsData),
}

fn classification() -> Task {
    Task::Classification
}
fn default_size() -> u32 {
    64
}
fn default_channels() -> usize {
    3
}
fn training() -> String {
    "training".into()
}
fn validation() -> String {
    "validation".into()
}
fn label() -> String {
    "label".into()
}

impl RunFile {
    /// Parses a run file's text and checks it ([`RunFile::check`]).
    pub fn from_toml(text: &str) -> Result<Self> {
        let run: Self = toml::from_str(text).map_err(|e| NnError::BadRunFile(Box::new(e)))?;
        run.check()?;
        Ok(run)
    }

    /// Checks that task, model and data fit together: `task = "mil"` if
    /// and only if `[bags]`; exactly one of `data`, `[plans]` and `[bags]`;
    /// no augmentations of bags; `attention-mil` if and only if MIL.
    pub fn check(&self) -> Result<()> {
        if (self.task == Task::Mil) != self.bags.is_some() {
            return Err(NnError::MilNeedsBags);
        }
        match (&self.data, &self.plans, &self.bags) {
            (Some(_), None, None) | (None, Some(_), None) => {}
            (None, None, Some(_)) => {
                if self.augmentations.is_some() {
                    return Err(NnError::AugmentedBags);
                }
            }
            _ => return Err(NnError::NoTrainingData),
        }
        match (self.task == Task::Mil, self.model == MIL_MODEL) {
            (true, false) => Err(NnError::NotAMilModel(self.model.clone())),
            (false, true) => Err(NnError::MilModelWithoutBags),
            _ => Ok(()),
        }
    }

    /// The run's one source of samples (checked by [`RunFile::from_toml`]).
    ///
    /// # Panics
    ///
    /// On a `RunFile` built by hand that gives no source, or several.
    pub fn training_data(&self) -> TrainingData<'_> {
        match (&self.data, &self.plans, &self.bags) {
            (Some(data), None, None) => TrainingData::Dataset(data),
            (None, Some(plans), None) => TrainingData::Plans(plans),
            (None, None, Some(bags)) => TrainingData::Bags(bags),
            _ => panic!("a checked run file names exactly one source of samples"),
        }
    }

    /// The `[train]` table as the trainer takes it: segmentation runs left
    /// on the default monitor (validation loss) keep the epoch of best
    /// validation Dice instead.
    pub fn train_config(&self) -> TrainConfig {
        let mut config = self.train.clone();
        if config.monitor == Monitor::ValLoss && self.task == Task::Segmentation {
            config.monitor = Monitor::ValDice;
        }
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimal_run_file_takes_the_defaults() {
        let run = RunFile::from_toml("data = \"d.yml\"\nmodel = \"small-cnn\"\noutput = \"m\"\n")
            .unwrap();
        assert_eq!(run.task, Task::Classification);
        assert_eq!((run.image_size, run.channels), (64, 3));
        assert_eq!(
            (run.train_split.as_str(), run.valid_split.as_str()),
            ("training", "validation")
        );
        assert!(matches!(run.training_data(), TrainingData::Dataset(p) if p == Path::new("d.yml")));
    }

    #[test]
    fn run_file_rules_are_checked_with_their_messages() {
        let bad = |text: &str| RunFile::from_toml(text).unwrap_err();
        let e = bad("model = \"small-cnn\"\noutput = \"m\"\nunknown = 1\n");
        assert!(matches!(e, NnError::BadRunFile(_)), "{e:?}");
        assert!(std::error::Error::source(&e).is_some());
        let e =
            bad("task = \"mil\"\nmodel = \"attention-mil\"\noutput = \"x\"\ndata = \"p.yml\"\n");
        assert!(e.to_string().contains("[bags]"), "{e}");
        let e = bad("data = \"x.yml\"\nmodel = \"small-cnn\"\noutput = \"m\"\n[plans]\nfolder = \"t\"\ntraining = [\"s1\"]\nvalidation = [\"s2\"]\n");
        assert!(e.to_string().contains("give one of `data`"), "{e}");
        let bags = "output = \"m\"\n[bags]\nfolder = \"f\"\nlabels = \"l.csv\"\ntraining = [\"a\"]\nvalidation = [\"b\"]\n";
        let e = bad(&format!("task = \"mil\"\nmodel = \"resnet18\"\n{bags}"));
        assert!(
            matches!(e, NnError::NotAMilModel(ref m) if m == "resnet18"),
            "{e:?}"
        );
        let e = bad(&format!(
            "task = \"mil\"\nmodel = \"attention-mil\"\naugmentations = \"x\"\n{bags}"
        ));
        assert!(matches!(e, NnError::AugmentedBags), "{e:?}");
        let e = bad("data = \"d.yml\"\nmodel = \"attention-mil\"\noutput = \"m\"\n");
        assert!(matches!(e, NnError::MilModelWithoutBags), "{e:?}");
        let run = RunFile::from_toml(&format!(
            "task = \"mil\"\nmodel = \"attention-mil\"\n{bags}"
        ))
        .unwrap();
        let TrainingData::Bags(b) = run.training_data() else {
            panic!("bags expected");
        };
        assert_eq!(b.column, "label");
    }

    #[test]
    fn segmentation_runs_monitor_dice_by_default() {
        let run = RunFile::from_toml(
            "task = \"segmentation\"\ndata = \"d.yml\"\nmodel = \"unet\"\noutput = \"m\"\n",
        )
        .unwrap();
        assert_eq!(run.train_config().monitor, Monitor::ValDice);
    }
}
