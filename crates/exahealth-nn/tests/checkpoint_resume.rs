//! Checkpoints: resume equals an uninterrupted run; a save torn by a crash
//! leaves the previous checkpoint usable; weights round-trip via safetensors.

mod common;

use std::fs;

use exahealth_nn::data::{BatchSource, InMemory};
use exahealth_nn::infer::{predict, Prediction};
use exahealth_nn::models::{SmallCnn, SmallCnnConfig};
use exahealth_nn::optim::{OptimizerConfig, OptimizerKind, Schedule};
use exahealth_nn::train::{
    load_weights, save_weights, train, Checkpoint, Monitor, Run, TrainConfig,
};
use exahealth_nn::{cpu_device, cpu_train_device, NnError};

fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 8,
        lr: 2e-3,
        seed: 99,
        schedule: Schedule::Cosine { min_lr: 1e-4 },
        warmup_epochs: 1,
        optimizer: OptimizerConfig {
            kind: OptimizerKind::Adam,
            grad_clip_norm: Some(5.0),
            ..Default::default()
        },
        monitor: Monitor::ValAccuracy,
        ..Default::default()
    }
}

/// Burn's seed is global: tests running in parallel must not interleave
/// seeding and initialisation.
static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Burn initialises parameters lazily, on first use, from the same global
/// generator: each test holds this for its whole run so another test's
/// seeding cannot land between `seed` and the draws.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fresh() -> SmallCnn {
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    let device = cpu_train_device();
    device.seed(5);
    SmallCnnConfig::new()
        .with_num_classes(3)
        .with_width(8)
        .init(&device)
}

fn probs(model: &SmallCnn, probe: &ndarray::ArrayD<f32>) -> Vec<f32> {
    match predict(model, probe, 16, &cpu_device()).unwrap() {
        Prediction::Classes(p) => p.iter().copied().collect(),
        Prediction::Masks(_) => unreachable!(),
    }
}

#[test]
fn resume_matches_an_uninterrupted_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let train_set = common::shapes(48, 32, 1);
    let valid_set = common::shapes(24, 32, 2);
    let probe = valid_set
        .batch(&(0..24).collect::<Vec<_>>())
        .unwrap()
        .inputs;
    let device = cpu_train_device();

    let straight_dir = tempfile::tempdir().unwrap();
    fn run<'a>(
        t: &'a InMemory,
        v: &'a InMemory,
        dir: &'a std::path::Path,
        resume: bool,
    ) -> Run<'a> {
        Run {
            train: t,
            valid: Some(v),
            out_dir: Some(dir),
            resume,
        }
    }
    let straight = train(
        fresh(),
        &config(2),
        run(&train_set, &valid_set, straight_dir.path(), false),
        &device,
        &mut |_| {},
    )
    .unwrap();

    let split_dir = tempfile::tempdir().unwrap();
    let first = train(
        fresh(),
        &config(1),
        run(&train_set, &valid_set, split_dir.path(), false),
        &device,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(first.history.epochs.len(), 1);
    // A different initial model: everything must come from the checkpoint.
    let other = {
        let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
        let d = cpu_train_device();
        d.seed(12345);
        SmallCnnConfig::new()
            .with_num_classes(3)
            .with_width(8)
            .init(&d)
    };
    let mut resumed_from = None;
    let resumed = train(
        other,
        &config(2),
        run(&train_set, &valid_set, split_dir.path(), true),
        &device,
        &mut |e| {
            if let exahealth_nn::train::Event::Resumed { epoch } = e {
                resumed_from = Some(epoch);
            }
        },
    )
    .unwrap();
    assert_eq!(resumed_from, Some(1));
    assert_eq!(resumed.history.epochs.len(), 2);
    for (a, b) in straight.history.epochs.iter().zip(&resumed.history.epochs) {
        assert_eq!(a.train_loss, b.train_loss, "epoch {}", a.epoch);
        assert_eq!(a.val_loss, b.val_loss);
        assert_eq!(a.lr, b.lr);
    }
    // Compare the last epoch's weights through the checkpoints' outputs.
    let last = |dir: &std::path::Path| {
        let ck = Checkpoint::new(dir.join("checkpoint"));
        let state = ck.load_state().unwrap().unwrap();
        assert_eq!(state.epoch, 2);
        let (m, _) = ck
            .restore(fresh(), config(2).optimizer.init().unwrap(), &state)
            .unwrap();
        probs(&burn::module::Module::valid(&m), &probe)
    };
    let (a, b) = (last(straight_dir.path()), last(split_dir.path()));
    let max_diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(max_diff < 1e-6, "weights differ: {max_diff}");
    // And the run changed the model at all.
    let untrained = probs(&burn::module::Module::valid(&fresh()), &probe);
    assert!(a.iter().zip(&untrained).any(|(x, y)| (x - y).abs() > 1e-3));
    for f in [
        "history.csv",
        "history.json",
        "model.safetensors",
        "best.safetensors",
    ] {
        assert!(split_dir.path().join(f).exists(), "{f} missing");
    }
    let csv = fs::read_to_string(split_dir.path().join("history.csv")).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(csv.starts_with("epoch,train_loss,lr,val_loss,val_accuracy"));
}

#[test]
fn a_save_torn_by_a_crash_leaves_the_previous_checkpoint() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let train_set = common::shapes(16, 32, 3);
    let dir = tempfile::tempdir().unwrap();
    let device = cpu_train_device();
    let run = Run {
        train: &train_set,
        valid: None,
        out_dir: Some(dir.path()),
        resume: false,
    };
    let mut cfg = config(1);
    cfg.monitor = Monitor::ValLoss;
    train(fresh(), &cfg, run, &device, &mut |_| {}).unwrap();
    let ck_dir = dir.path().join("checkpoint");
    // What `kill -9` during the next save can leave behind: half-written
    // temporaries and a complete record file not yet named by checkpoint.json.
    fs::write(
        ck_dir.join(".checkpoint.json.tmp-4242"),
        b"{\"format\": 1, \"ep",
    )
    .unwrap();
    fs::write(ck_dir.join(".model-e0002.bpk.tmp-4242"), b"garbage").unwrap();
    fs::write(ck_dir.join("model-e0002.bpk"), b"not a record").unwrap();
    let ck = Checkpoint::new(&ck_dir);
    let state = ck.load_state().unwrap().unwrap();
    assert_eq!(state.epoch, 1);
    assert_eq!(state.model_file, "model-e0001.bpk");
    ck.restore(fresh(), cfg.optimizer.init().unwrap(), &state)
        .unwrap();
    // Resuming a finished run trains no further epoch.
    let run = Run {
        train: &train_set,
        valid: None,
        out_dir: Some(dir.path()),
        resume: true,
    };
    let again = train(fresh(), &cfg, run, &device, &mut |_| {}).unwrap();
    assert_eq!(again.history.epochs.len(), 1);

    // A corrupt state file is a typed error, not a panic.
    fs::write(ck_dir.join("checkpoint.json"), b"{ nope").unwrap();
    assert!(matches!(ck.load_state(), Err(NnError::Record { .. })));
    // A corrupt record too.
    fs::write(
        ck_dir.join("checkpoint.json"),
        serde_json::to_vec(&state).unwrap(),
    )
    .unwrap();
    fs::write(ck_dir.join("model-e0001.bpk"), b"truncated").unwrap();
    assert!(ck
        .restore(fresh(), cfg.optimizer.init().unwrap(), &state)
        .is_err());
}

/// A checkpoint records the ranks of its run: resuming with another count
/// would change the global batch of every later step, so it is refused
/// with what to do; checkpoints written before the field read as one rank.
#[test]
fn a_checkpoint_resumes_only_with_its_number_of_ranks() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let train_set = common::shapes(8, 32, 3);
    let dir = tempfile::tempdir().unwrap();
    let device = cpu_train_device();
    let run = |resume| Run {
        train: &train_set,
        valid: None,
        out_dir: Some(dir.path()),
        resume,
    };
    let cfg = config(1);
    train(fresh(), &cfg, run(false), &device, &mut |_| {}).unwrap();
    let ck_dir = dir.path().join("checkpoint");
    let state_path = ck_dir.join("checkpoint.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["ranks"], 1);
    // As a 2-rank run would have written it.
    state["ranks"] = serde_json::json!(2);
    fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let e = train(fresh(), &cfg, run(true), &device, &mut |_| {}).unwrap_err();
    assert!(
        matches!(
            e,
            NnError::RanksMismatch {
                saved: 2,
                now: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("mpirun -np 2"), "{e}");
    // Without the field (an older checkpoint): one rank, resumes.
    state.as_object_mut().unwrap().remove("ranks");
    fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    let again = train(fresh(), &cfg, run(true), &device, &mut |_| {}).unwrap();
    assert_eq!(again.history.epochs.len(), 1);
}

#[test]
fn safetensors_weights_round_trip_and_reject_other_architectures() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    let device = cpu_device();
    let guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(1);
    let a = SmallCnnConfig::new()
        .with_num_classes(3)
        .with_width(8)
        .init(&device);
    save_weights(&a, &path).unwrap();
    device.seed(2);
    let b = SmallCnnConfig::new()
        .with_num_classes(3)
        .with_width(8)
        .init(&device);
    drop(guard);
    let probe = common::shapes(6, 32, 4)
        .batch(&[0, 1, 2, 3, 4, 5])
        .unwrap()
        .inputs;
    assert_ne!(probs(&a, &probe), probs(&b, &probe));
    let b = load_weights(b, &path).unwrap();
    assert_eq!(probs(&a, &probe), probs(&b, &probe));
    // The file is safetensors: an 8-byte little-endian header length, then JSON.
    let bytes = fs::read(&path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    assert!(header.get("conv1.weight").is_some(), "{header}");
    // Weights of a wider model do not fit.
    let wide = SmallCnnConfig::new()
        .with_num_classes(3)
        .with_width(16)
        .init(&device);
    assert!(load_weights(wide, &path).is_err());
    assert!(matches!(
        load_weights(b.clone(), &dir.path().join("missing.safetensors")),
        Err(NnError::Io { .. })
    ));
}
