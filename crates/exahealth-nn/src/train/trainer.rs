//! The loop itself.

use std::path::Path;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::tensor::Device;
use exahealth_dist::{SingleProcess, World};

use super::checkpoint::{Checkpoint, CheckpointState};
use super::evaluate::evaluate_in;
use super::history::{EpochRecord, History};
use super::TrainConfig;
use crate::data::BatchSource;
use crate::error::{NnError, Result};
use crate::models::Model;
use crate::optim::LrSchedule;
use crate::rng::SplitMix64;
use crate::weights::{load_weights, save_weights};

/// Progress reports, for a progress bar or a log.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// Training continues from a checkpoint after `epoch` epochs.
    Resumed {
        /// Epochs already done.
        epoch: usize,
    },
    /// An epoch begins.
    EpochStart {
        /// 1-based epoch.
        epoch: usize,
        /// Total epochs of the run.
        epochs: usize,
        /// Batches in this epoch.
        batches: usize,
    },
    /// One optimiser step finished.
    Batch {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based batch within the epoch.
        batch: usize,
        /// This batch's loss.
        loss: f64,
        /// Learning rate used.
        lr: f64,
    },
    /// An epoch (and its validation) finished.
    EpochEnd(&'a EpochRecord),
    /// Early stopping ended the run.
    EarlyStop {
        /// The last epoch run.
        epoch: usize,
        /// The best epoch.
        best_epoch: Option<usize>,
    },
}

/// Where a run's data comes from and where its files go.
pub struct Run<'a> {
    /// Training samples.
    pub train: &'a dyn BatchSource,
    /// Validation samples (needed for early stopping and best-model choice).
    pub valid: Option<&'a dyn BatchSource>,
    /// Folder for checkpoints, the metrics log and weights; `None` keeps
    /// everything in memory.
    pub out_dir: Option<&'a Path>,
    /// Continue from the checkpoint in `out_dir` if there is one.
    pub resume: bool,
}

/// The result of [`train`].
#[derive(Debug)]
pub struct TrainOutcome<M> {
    /// The best model by the monitored metric (the last one without validation data).
    pub model: M,
    /// Per-epoch metrics.
    pub history: History,
    /// Best monitored value and its epoch.
    pub best: Option<(f64, usize)>,
    /// True when early stopping ended the run.
    pub stopped_early: bool,
}

fn improved(config: &TrainConfig, value: f64, best: Option<f64>) -> bool {
    let delta = config.early_stopping.as_ref().map_or(0.0, |e| e.min_delta);
    match best {
        None => true,
        Some(b) if config.monitor.maximise() => value > b + delta,
        Some(b) => value < b - delta,
    }
}

/// Trains `model` (built on the autodiff `device`) as `config` says.
///
/// The sample order comes from a generator seeded with `config.seed` whose
/// state is checkpointed after every epoch, and the learning rate is a
/// function of the step, so `resume` after an interruption continues with
/// the same weights, optimiser state, order and rates as an uninterrupted run.
pub fn train<M: Model>(
    model: M,
    config: &TrainConfig,
    run: Run<'_>,
    device: &Device,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<TrainOutcome<M>> {
    train_in(model, config, run, &SingleProcess, device, on_event)
}

/// [`train`] as one rank of a data-parallel job: every rank starts from
/// the same weights (the same seeded initialisation, or the same
/// checkpoint), draws the same shuffled order, takes its contiguous share
/// of every global batch of `batch_size` x ranks samples, and steps with
/// the gradient of the whole global batch (its share's gradient weighted
/// by its sample count, averaged in one all-reduce), so N ranks with
/// batch b follow one process with batch N x b. Batch-norm statistics are
/// each rank's own (not synchronised). Validation is split the same way
/// and its sums added across ranks, so every rank takes the same
/// early-stopping decision; rank 0 alone writes the history, checkpoints
/// and weights. A rank whose call fails must end the job
/// (`World::abort`): the others would wait for it in the next all-reduce.
pub fn train_in<M: Model>(
    model: M,
    config: &TrainConfig,
    run: Run<'_>,
    world: &dyn World,
    device: &Device,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<TrainOutcome<M>> {
    let (rank, ranks) = (world.rank(), world.size().max(1));
    let writer = rank == 0;
    let global_batch = config.batch_size.saturating_mul(ranks);
    let n = run.train.len();
    if n == 0 {
        return Err(NnError::EmptyData("training set".into()));
    }
    if config.batch_size == 0 || config.epochs == 0 {
        return Err(NnError::Config(
            "batch_size and epochs must be at least 1".into(),
        ));
    }
    if !(config.lr.is_finite() && config.lr > 0.0) {
        return Err(NnError::Config(format!(
            "learning rate {} must be > 0",
            config.lr
        )));
    }
    if config.early_stopping.is_some() && run.valid.is_none() {
        return Err(NnError::Config(
            "early stopping needs validation data".into(),
        ));
    }
    let steps_per_epoch = n.div_ceil(global_batch);
    let schedule = LrSchedule {
        base_lr: config.lr,
        schedule: config.schedule.clone(),
        warmup_steps: config.warmup_epochs * steps_per_epoch,
        steps_per_epoch,
        total_steps: config.epochs * steps_per_epoch,
    };
    let plain = device.clone().without_autodiff();
    let mut model = model;
    let mut optimizer = config.optimizer.init()?;
    let checkpoint = run.out_dir.map(|d| Checkpoint::new(d.join("checkpoint")));
    let mut state = CheckpointState {
        format: 1,
        epoch: 0,
        step: 0,
        rng: SplitMix64::new(config.seed),
        best: None,
        best_epoch: None,
        bad_epochs: 0,
        stopped_early: false,
        history: History::default(),
        config: config.clone(),
        model_file: String::new(),
        optimizer_file: String::new(),
        ranks,
    };
    let mut best_model: Option<M> = None;
    if let (true, Some(ck)) = (run.resume, &checkpoint) {
        if let Some(saved) = ck.load_state()? {
            if saved.ranks != ranks {
                return Err(NnError::RanksMismatch {
                    checkpoint: ck.dir().to_path_buf(),
                    saved: saved.ranks,
                    now: ranks,
                });
            }
            if saved.config.epochs > config.epochs || saved.config.seed != config.seed {
                tracing::warn!(
                    "resuming with a different seed or fewer epochs than the checkpoint's run"
                );
            }
            let (m, o) = ck.restore(model, optimizer, &saved)?;
            model = m;
            optimizer = o;
            if let (Some(dir), Some(_)) = (run.out_dir, saved.best_epoch) {
                let best_path = dir.join("best.safetensors");
                if best_path.exists() {
                    best_model = Some(load_weights(model.valid(), &best_path)?);
                }
            }
            state = CheckpointState {
                config: config.clone(),
                ..saved
            };
            on_event(Event::Resumed { epoch: state.epoch });
        }
    }
    let mut order: Vec<usize> = (0..n).collect();
    while state.epoch < config.epochs && !state.stopped_early {
        let epoch = state.epoch + 1;
        let started = Instant::now();
        order.sort_unstable();
        state.rng.shuffle(&mut order);
        on_event(Event::EpochStart {
            epoch,
            epochs: config.epochs,
            batches: steps_per_epoch,
        });
        let mut loss_sum = 0.0;
        let mut lr = config.lr;
        for (b, chunk) in order.chunks(global_batch).enumerate() {
            // This rank's contiguous share; a rank left without a sample
            // (a last batch smaller than the job) steps on the first one
            // with weight 0, so that it still joins the all-reduce.
            let share = &chunk[chunk.len() * rank / ranks..chunk.len() * (rank + 1) / ranks];
            let (part, mine) = match share {
                [] => (&chunk[..1], 0),
                _ => (share, share.len()),
            };
            let batch = run.train.training_batch(part, epoch)?;
            let output = model.output(&batch.inputs, device)?;
            let loss = config.loss.compute(&output, &batch.targets, device)?;
            let mut value = f64::from(loss.clone().into_scalar::<f32>());
            if ranks > 1 {
                // The global batch's mean loss, the same on every rank, so
                // that every rank takes the same decision below.
                let mut weighted = [value as f32 * mine as f32];
                world
                    .all_reduce_sum(&mut weighted)
                    .map_err(|e| NnError::Config(format!("data-parallel step: {e}")))?;
                value = f64::from(weighted[0]) / chunk.len() as f64;
            }
            if !value.is_finite() {
                return Err(NnError::Config(format!(
                    "the loss diverged ({value}) at epoch {epoch}, batch {}: lower the learning rate or clip gradients",
                    b + 1
                )));
            }
            lr = schedule.lr_at(state.step);
            let mut grads = GradientsParams::from_grads(loss.backward(), &model);
            if ranks > 1 {
                grads = super::allreduce::average(world, &model, grads, mine, chunk.len())?;
            }
            model = optimizer.step(lr, model, grads);
            state.step += 1;
            loss_sum += value * chunk.len() as f64;
            on_event(Event::Batch {
                epoch,
                batch: b + 1,
                loss: value,
                lr,
            });
        }
        let mut record = EpochRecord {
            epoch,
            train_loss: loss_sum / n as f64,
            lr,
            val_loss: None,
            val_accuracy: None,
            val_dice: None,
            seconds: 0.0,
        };
        if let Some(valid) = run.valid {
            let eval = evaluate_in(
                &model.valid(),
                valid,
                config.batch_size,
                &config.loss,
                world,
                &plain,
            )?;
            record.val_loss = Some(eval.loss);
            record.val_accuracy = eval.accuracy;
            record.val_dice = eval.dice;
            let value = config.monitor.value(&record).ok_or_else(|| {
                NnError::Config(format!(
                    "monitor {:?} is not measured for this task",
                    config.monitor
                ))
            })?;
            if improved(config, value, state.best) {
                state.best = Some(value);
                state.best_epoch = Some(epoch);
                state.bad_epochs = 0;
                let snapshot = model.valid();
                if let (Some(dir), true) = (run.out_dir, writer) {
                    save_weights(&snapshot, &dir.join("best.safetensors"))?;
                }
                best_model = Some(snapshot);
            } else {
                state.bad_epochs += 1;
            }
            if let Some(es) = &config.early_stopping {
                state.stopped_early = state.bad_epochs >= es.patience.max(1);
            }
        }
        record.seconds = started.elapsed().as_secs_f64();
        state.epoch = epoch;
        state.history.epochs.push(record);
        if let (Some(dir), true) = (run.out_dir, writer) {
            state.history.write(dir)?;
        }
        if let (Some(ck), true) = (&checkpoint, writer) {
            ck.save(&model, &optimizer, &mut state)?;
        }
        if let Some(r) = state.history.epochs.last() {
            on_event(Event::EpochEnd(r));
        }
        if state.stopped_early {
            on_event(Event::EarlyStop {
                epoch,
                best_epoch: state.best_epoch,
            });
        }
    }
    let final_model = best_model.unwrap_or_else(|| model.valid());
    if let (Some(dir), true) = (run.out_dir, writer) {
        save_weights(&final_model, &dir.join(crate::weights::WEIGHTS_FILE))?;
    }
    Ok(TrainOutcome {
        model: final_model,
        history: state.history,
        best: state.best.zip(state.best_epoch),
        stopped_early: state.stopped_early,
    })
}
