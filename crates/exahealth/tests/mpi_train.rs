//! Data-parallel training (built with `--features mpi`, run by
//! `.ci/mpi-suite`): `mpirun -np 2 exahealth train` with batch b follows
//! one process with batch 2b. The small CNN has no batch norm, so the two
//! runs compute the same steps; only the order of float sums differs
//! (per rank means averaged versus one mean), hence a tolerance of 1e-4
//! on every weight.
#![cfg(feature = "mpi")]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{exahealth, write_png};

/// The float tensors of a safetensors file, by name.
fn tensors(path: &Path) -> BTreeMap<String, Vec<f32>> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header: serde_json::Value = serde_json::from_slice(&bytes[8..8 + n]).unwrap();
    let data = &bytes[8 + n..];
    header
        .as_object()
        .unwrap()
        .iter()
        .filter(|(name, _)| name.as_str() != "__metadata__")
        .filter(|(_, t)| t["dtype"] == "F32")
        .map(|(name, t)| {
            let (a, b) = (
                t["data_offsets"][0].as_u64().unwrap() as usize,
                t["data_offsets"][1].as_u64().unwrap() as usize,
            );
            let values = data[a..b]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect();
            (name.clone(), values)
        })
        .collect()
}

fn run_file(root: &Path, name: &str, batch: usize) {
    std::fs::write(
        root.join(format!("{name}.toml")),
        format!(
            "data = \"dataset.yml\"\nmodel = \"small-cnn\"\nimage_size = 24\nchannels = 3\noutput = \"{name}\"\n[train]\nepochs = 2\nbatch_size = {batch}\nlr = 0.01\noptimizer = {{ kind = \"sgd\", momentum = 0.9 }}\n"
        ),
    )
    .unwrap();
}

#[test]
fn two_ranks_with_batch_b_follow_one_process_with_batch_2b() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut images = String::new();
    for i in 0..24u32 {
        let bright = i % 2 == 0;
        let name = format!("img{i}.png");
        let v = if bright { 180 } else { 40 };
        write_png(&root.join(&name), [v, v / 2, v], 40, i + 1);
        images.push_str(&format!(
            "  - location: {name}\n    label: {}\n",
            if bright { "bright" } else { "dark" }
        ));
    }
    let list = |r: std::ops::Range<u32>| r.map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    std::fs::write(
        root.join("dataset.yml"),
        format!(
            "name: b\nclasses: [dark, bright]\nimages:\n{images}split:\n  training: [{}]\n  validation: [{}]\n",
            list(0..16),
            list(16..24)
        ),
    )
    .unwrap();
    run_file(root, "single", 8);
    run_file(root, "ranks", 4);
    exahealth(&[
        "train",
        "--config",
        root.join("single.toml").to_str().unwrap(),
    ]);
    let out = Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-np", "2"])
        .arg(env!("CARGO_BIN_EXE_exahealth"))
        .args([
            "train",
            "--config",
            root.join("ranks.toml").to_str().unwrap(),
        ])
        .output()
        .expect("mpirun (apt install openmpi-bin)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Rank 0 alone printed the result line.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("model in").count(), 1, "{stdout}");

    for file in ["model.safetensors", "checkpoint"] {
        assert!(root.join("ranks").join(file).exists(), "{file}");
    }
    let (one, two) = (
        tensors(&root.join("single/model.safetensors")),
        tensors(&root.join("ranks/model.safetensors")),
    );
    assert_eq!(
        one.keys().collect::<Vec<_>>(),
        two.keys().collect::<Vec<_>>()
    );
    let mut worst = 0f32;
    for (name, a) in &one {
        for (x, y) in a.iter().zip(&two[name]) {
            worst = worst.max((x - y).abs());
        }
    }
    assert!(worst <= 1e-4, "weights differ by up to {worst}");
    // Validation is split across the ranks and its sums added: the same
    // per-epoch figures as one process.
    let history = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(root.join(name).join("history.json")).unwrap())
            .unwrap()
    };
    let (h1, h2) = (history("single"), history("ranks"));
    for (a, b) in h1["epochs"]
        .as_array()
        .unwrap()
        .iter()
        .zip(h2["epochs"].as_array().unwrap())
    {
        for key in ["train_loss", "val_loss", "val_accuracy"] {
            let (x, y) = (a[key].as_f64().unwrap(), b[key].as_f64().unwrap());
            assert!((x - y).abs() <= 1e-5, "{key}: {x} vs {y}");
        }
    }
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("ranks/model_card.json")).unwrap())
            .unwrap();
    assert_eq!(card["ranks"], 2);
    let single: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("single/model_card.json")).unwrap())
            .unwrap();
    assert!(single.get("ranks").is_none());
    eprintln!("largest weight difference: {worst:e}");
}
