//! Training from a run file end to end: read and check the TOML, prepare
//! the data it names, build the model, train, and leave a complete model
//! folder (weights, `model.json`, metrics log, checkpoint, curves, card).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;

use crate::model_folder::{write_run_outputs, FinishedRun, ModelSpec, Task};
use crate::models::Architecture;
use crate::prepare::{from_bags, from_plans, from_yaml, Shape};
use crate::run_file::{RunFile, TrainingData};
use exahealth_dist::{SingleProcess, World};

use crate::train::{train_in, Event, History, Monitor, Run};
use crate::workflow_error::{WorkflowError, WorkflowResult};
use crate::NnError;

/// The most a run file may weigh: it is a few lines of TOML.
const MAX_RUN_FILE_BYTES: u64 = 1 << 20;

/// How a run ended.
#[derive(Debug)]
pub struct TrainedRun {
    /// The model folder written (the run file's `output`, resolved).
    pub output: PathBuf,
    /// The model's spec, as written to `model.json`.
    pub spec: ModelSpec,
    /// The metric that chose the kept weights.
    pub monitor: Monitor,
    /// Its best value and epoch, when there was validation data.
    pub best: Option<(f64, usize)>,
    /// Per-epoch metrics.
    pub history: History,
}

/// Trains what the run file at `path` describes (relative paths in it are
/// taken against its folder) on the CPU, reporting progress to
/// `on_event`; `resume` continues from the output folder's checkpoint.
/// Worker threads are the caller's: wrap the call in
/// [`crate::threads::with_threads`] to choose them.
///
/// ```no_run
/// use std::path::Path;
/// use exahealth_nn::train::Event;
/// use exahealth_nn::train_run::train_run_file;
///
/// # fn main() -> Result<(), exahealth_nn::WorkflowError> {
/// let run = train_run_file(Path::new("run.toml"), false, &mut |event| {
///     if let Event::EpochEnd(r) = event {
///         println!("epoch {}: train loss {:.4}", r.epoch, r.train_loss);
///     }
/// })?;
/// println!("{:?} best at {:?}; model in {}", run.monitor, run.best, run.output.display());
/// # Ok(())
/// # }
/// ```
pub fn train_run_file(
    path: &Path,
    resume: bool,
    on_event: &mut dyn FnMut(Event<'_>),
) -> WorkflowResult<TrainedRun> {
    train_run_file_in(path, resume, &SingleProcess, on_event)
}

/// [`train_run_file`] as one rank of a data-parallel job
/// ([`crate::train::train_in`]): every rank reads the run file and its
/// data, rank 0 alone writes the model folder, and the card records the
/// number of ranks.
pub fn train_run_file_in(
    path: &Path,
    resume: bool,
    world: &dyn World,
    on_event: &mut dyn FnMut(Event<'_>),
) -> WorkflowResult<TrainedRun> {
    let text = exahealth_base::budget::read_file(path, MAX_RUN_FILE_BYTES).map_err(|source| {
        WorkflowError::ReadRunFile {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let text = String::from_utf8(text).map_err(|e| WorkflowError::ReadRunFile {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    })?;
    let run_file = RunFile::from_toml(&text).map_err(|source| WorkflowError::BadRunFile {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let output = base.join(&run_file.output);
    let augmentation = match &run_file.augmentations {
        Some(text) => {
            let pipeline = exahealth_image::augment::parse_config(text).map_err(|source| {
                WorkflowError::Augmentations {
                    path: path.to_path_buf(),
                    source: Box::new(source),
                }
            })?;
            let transform = exahealth_data::loader::ecvl_transform(Arc::from(pipeline));
            Some((transform, run_file.train.seed))
        }
        None => None,
    };
    let shape = Shape {
        image_size: run_file.image_size,
        channels: run_file.channels,
        segmentation: run_file.task == Task::Segmentation,
    };
    let mut embedding = None;
    let prepared = match run_file.training_data() {
        TrainingData::Dataset(data) => from_yaml(
            &base.join(data),
            [&run_file.train_split, &run_file.valid_split],
            &shape,
            augmentation,
        )?,
        TrainingData::Plans(plans) => from_plans(plans, base, &shape, augmentation)?,
        TrainingData::Bags(bags) => {
            let (prepared, e) = from_bags(bags, base, run_file.train.seed)?;
            embedding = Some(e);
            prepared
        }
    };
    let classes = match run_file.task {
        Task::Classification | Task::Mil => prepared.classes.len(),
        // Masks hold class indices; with one named class it is background + it.
        Task::Segmentation => prepared.classes.len().max(2),
    };
    let (channels, image_size) = match &embedding {
        Some(e) => (e.width, e.extractor.image_size),
        None => (run_file.channels, run_file.image_size),
    };
    let architecture = Architecture::from_name(&run_file.model, channels, classes)?;
    let spec = ModelSpec {
        task: run_file.task,
        architecture,
        classes: prepared.classes.clone(),
        channels,
        image_size,
        embedding: embedding.map(|e| e.extractor),
    };
    let config = run_file.train_config();
    std::fs::create_dir_all(&output).map_err(|source| NnError::CreateDir {
        path: output.clone(),
        source,
    })?;
    if world.is_root() {
        spec.write(&output)?;
    }

    let device = crate::cpu_train_device();
    device.seed(config.seed);
    let model = spec.architecture.init(&device)?;
    let parameters = model.num_params();
    let run = Run {
        train: prepared.train.as_ref(),
        valid: Some(prepared.valid.as_ref()),
        out_dir: Some(&output),
        resume,
    };
    let outcome = train_in(model, &config, run, world, &device, on_event)?;
    if world.is_root() {
        write_run_outputs(
            &output,
            &FinishedRun {
                spec: &spec,
                config: &config,
                data: &prepared.card,
                history: &outcome.history,
                best: outcome.best,
                parameters,
                valid_split: &run_file.valid_split,
                ranks: world.size(),
            },
        )?;
    }
    Ok(TrainedRun {
        output,
        spec,
        monitor: config.monitor,
        best: outcome.best,
        history: outcome.history,
    })
}
