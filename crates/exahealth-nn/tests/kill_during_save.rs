//! `kill -9` at random moments of a training run that checkpoints every
//! epoch: after each kill the checkpoint folder must hold a loadable
//! checkpoint (the one before the interrupted save, or the new one; never
//! a torn file), `best.safetensors` must load, and `--resume` must carry
//! on from it. The run under test is this same test binary, started again
//! as a child process with `EXAHEALTH_KILL_TEST_DIR` set.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exahealth_nn::models::{SmallCnn, SmallCnnConfig};
use exahealth_nn::optim::OptimizerConfig;
use exahealth_nn::train::{load_weights, train, Checkpoint, Run, TrainConfig};
use exahealth_nn::{cpu_train_device, rng::SplitMix64};

const CHILD_ENV: &str = "EXAHEALTH_KILL_TEST_DIR";
const TEST_NAME: &str = "kill_nine_during_saves_leaves_a_loadable_checkpoint";
/// More epochs than any child lives to finish.
const EPOCHS: usize = 100_000;

fn config() -> TrainConfig {
    TrainConfig {
        epochs: EPOCHS,
        batch_size: 16,
        lr: 1e-3,
        seed: 3,
        optimizer: OptimizerConfig::default(),
        ..Default::default()
    }
}

fn model() -> SmallCnn {
    let device = cpu_train_device();
    device.seed(1);
    SmallCnnConfig::new()
        .with_num_classes(3)
        .with_width(8)
        .init(&device)
}

/// The child: train "forever" (one small batch per epoch, so saves are
/// most of the time spent), resuming whatever checkpoint is there.
fn child(dir: &Path) {
    let train_set = common::shapes(16, 16, 1);
    let valid_set = common::shapes(8, 16, 2);
    let run = Run {
        train: &train_set,
        valid: Some(&valid_set),
        out_dir: Some(dir),
        resume: true,
    };
    let _ = train(model(), &config(), run, &cpu_train_device(), &mut |_| {});
}

fn spawn_child(dir: &Path) -> std::process::Child {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([TEST_NAME, "--exact", "--nocapture", "--test-threads", "1"])
        .env(CHILD_ENV, dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the child run")
}

/// Epochs the checkpoint in `dir` records, after checking every file it
/// names loads into the model and the optimiser.
fn check_checkpoint(dir: &Path) -> usize {
    let ck = Checkpoint::new(dir.join("checkpoint"));
    let Some(state) = ck
        .load_state()
        .unwrap_or_else(|e| panic!("checkpoint.json torn by kill -9: {e}"))
    else {
        return 0;
    };
    let optimizer = config().optimizer.init().unwrap();
    ck.restore(model(), optimizer, &state)
        .unwrap_or_else(|e| panic!("checkpoint files torn by kill -9: {e}"));
    let best = dir.join("best.safetensors");
    if best.exists() {
        load_weights(model(), &best)
            .unwrap_or_else(|e| panic!("best.safetensors torn by kill -9: {e}"));
    }
    state.epoch
}

fn temporaries(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for sub in [dir.to_path_buf(), dir.join("checkpoint")] {
        if let Ok(entries) = std::fs::read_dir(&sub) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().contains(".tmp-") {
                    found.push(e.path());
                }
            }
        }
    }
    found
}

#[test]
fn kill_nine_during_saves_leaves_a_loadable_checkpoint() {
    if let Some(dir) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut rng = SplitMix64::new(7);
    let mut epochs_seen = Vec::new();
    for round in 0..10 {
        let before = check_checkpoint_quietly(dir.path());
        let mut child = spawn_child(dir.path());
        // Wait until this child has resumed and saved at least once, so the
        // kill lands in its save loop rather than in start-up; then kill at
        // a random moment.
        let started = Instant::now();
        let ready = Duration::from_secs(60);
        while check_checkpoint_quietly(dir.path()) <= before && started.elapsed() < ready {
            std::thread::sleep(Duration::from_millis(5));
        }
        let delay = 5 + (rng.next_u64() % 150);
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().expect("SIGKILL the child");
        let status = child.wait().expect("reap the child");
        assert!(
            !status.success(),
            "round {round}: the child finished before the kill"
        );
        epochs_seen.push(check_checkpoint(dir.path()));
    }
    // Progress was kept across kills: each round resumed where the last
    // one's checkpoint stood.
    assert!(epochs_seen[0] >= 1, "no checkpoint before the first kill");
    // Each round got past the previous round's checkpoint before its kill,
    // and the kill never took a saved epoch back.
    assert!(
        epochs_seen.windows(2).all(|w| w[1] > w[0]),
        "a round made no progress, or a kill lost checkpointed epochs: {epochs_seen:?}"
    );
    assert!(epochs_seen.last() > epochs_seen.first(), "{epochs_seen:?}");
    // Temporaries of killed writes are cleaned up by later saves; at most
    // the last kill's can remain.
    assert!(
        temporaries(dir.path()).len() <= 2,
        "{:?}",
        temporaries(dir.path())
    );
}

/// [`check_checkpoint`]'s epoch, 0 while there is none or it is being
/// written for the first time.
fn check_checkpoint_quietly(dir: &Path) -> usize {
    Checkpoint::new(dir.join("checkpoint"))
        .load_state()
        .ok()
        .flatten()
        .map_or(0, |s| s.epoch)
}
