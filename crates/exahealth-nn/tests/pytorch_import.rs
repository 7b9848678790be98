#![cfg(feature = "pytorch")]
//! PyTorch state dicts into exahealth's ResNet: a torchvision-layout
//! ResNet-18 saved by `torch.save` gives the same logits in both.
//!
//! Runs `bench/pytorch_reference.py` and skips, with the reason on stderr,
//! when `python3` or torch is missing; `EXAHEALTH_PYTHON` picks another
//! interpreter than `python3`.

use std::path::PathBuf;
use std::process::Command;

use burn::tensor::{Tensor, TensorData};
use exahealth_nn::cpu_device;
use exahealth_nn::models::{densenet_pytorch_remapping, DenseNetConfig, ResNetConfig};
use exahealth_nn::pytorch::{
    load_pytorch, load_pytorch_backbone, PytorchError, TORCHVISION_RESNET,
};

fn python_with_torch() -> Option<String> {
    let py = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&py).args(["-c", "import torch"]).output() {
        Ok(o) if o.status.success() => Some(py),
        Ok(_) => {
            eprintln!("skipping: `{py}` lacks torch; pip install torch (CPU wheel)");
            None
        }
        Err(e) => {
            eprintln!("skipping: cannot run `{py}`: {e}");
            None
        }
    }
}

/// A state dict and its reference outputs from `bench/pytorch_reference.py`.
struct Reference {
    _dir: tempfile::TempDir,
    weights: PathBuf,
    input: Vec<f32>,
    output: Vec<f32>,
}

fn torch_reference(py: &str, args: &[&str]) -> Reference {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/pytorch_reference.py");
    let dir = tempfile::tempdir().unwrap();
    let weights = dir.path().join("weights.pt");
    let out = dir.path().join("ref.json");
    let status = Command::new(py)
        .arg(&script)
        .arg("--weights")
        .arg(&weights)
        .arg("--out")
        .arg(&out)
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let floats = |key: &str| -> Vec<f32> {
        reference[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    Reference {
        weights,
        input: floats("input"),
        output: floats("output"),
        _dir: dir,
    }
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max)
}

#[test]
fn torchvision_resnet18_weights_give_pytorchs_logits() {
    let Some(py) = python_with_torch() else {
        return;
    };
    let r = torch_reference(
        &py,
        &["--depth", "18", "--classes", "10", "--shape", "2,3,64,64"],
    );
    let device = cpu_device();
    let logits = |model: &exahealth_nn::models::ResNet| -> Vec<f32> {
        let x = Tensor::<4>::from_data(TensorData::new(r.input.clone(), [2, 3, 64, 64]), &device);
        model
            .forward(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap()
    };
    let config = ResNetConfig::new().with_depth(18).with_num_classes(10);
    let mut model = config.init(&device).unwrap();
    let report = load_pytorch(&mut model, &r.weights, TORCHVISION_RESNET).unwrap();
    // 20 convolutions/BN pairs' tensors + fc: every model tensor was set.
    assert!(report.applied >= 100, "{report:?}");
    assert!(
        report
            .unused
            .iter()
            .all(|k| k.ends_with("num_batches_tracked")),
        "{:?}",
        report.unused
    );
    let max_diff = max_abs_diff(&logits(&model), &r.output);
    eprintln!("max |exahealth - pytorch| logit difference: {max_diff:e}");
    assert!(max_diff < 1e-4, "logits differ by {max_diff}");
    // A fresh model (no import) is far off: the comparison can fail.
    let fresh = config.init(&device).unwrap();
    assert!(max_abs_diff(&logits(&fresh), &r.output) > 1e-3);

    // Without the head, the same file fits a 1000-class model and gives
    // the same features: every backbone tensor was read.
    let mut backbone = ResNetConfig::new()
        .with_depth(18)
        .with_num_classes(1000)
        .init(&device)
        .unwrap();
    let report = load_pytorch_backbone(&mut backbone, &r.weights, TORCHVISION_RESNET).unwrap();
    assert!(report.applied >= 100, "{report:?}");
    let features = |m: &exahealth_nn::models::ResNet| -> Vec<f32> {
        let x = Tensor::<4>::from_data(TensorData::new(r.input.clone(), [2, 3, 64, 64]), &device);
        m.features(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap()
    };
    assert_eq!(max_abs_diff(&features(&backbone), &features(&model)), 0.0);

    // Weights of another architecture do not fit.
    let mut wide = ResNetConfig::new()
        .with_depth(18)
        .with_num_classes(7)
        .init(&device)
        .unwrap();
    assert!(matches!(
        load_pytorch(&mut wide, &r.weights, TORCHVISION_RESNET),
        Err(PytorchError::Mismatch { .. })
    ));
}

#[test]
fn torchvision_densenet_weights_give_pytorchs_logits() {
    let Some(py) = python_with_torch() else {
        return;
    };
    // A narrow DenseNet: torchvision's names and structure, a test's size;
    // saved with today's key names and with those of torchvision's
    // published checkpoints (`norm.1` for `norm1`).
    for legacy in [false, true] {
        let mut args = vec![
            "--arch",
            "densenet",
            "--growth",
            "8",
            "--blocks",
            "2,3,2,2",
            "--init-features",
            "16",
            "--classes",
            "5",
            "--shape",
            "2,3,64,64",
        ];
        if legacy {
            args.push("--legacy-names");
        }
        let r = torch_reference(&py, &args);
        let device = cpu_device();
        let config = DenseNetConfig::new()
            .with_growth_rate(8)
            .with_block_layers(vec![2, 3, 2, 2])
            .with_init_features(16)
            .with_num_classes(5);
        let mut model = config.init(&device).unwrap();
        let remap = densenet_pytorch_remapping(&config);
        let pairs: Vec<(&str, &str)> = remap
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let report = load_pytorch(&mut model, &r.weights, &pairs).unwrap();
        assert!(report.applied >= 100, "{report:?}");
        let x = Tensor::<4>::from_data(TensorData::new(r.input.clone(), [2, 3, 64, 64]), &device);
        let got: Vec<f32> = model
            .forward(x)
            .into_data()
            .convert::<f32>()
            .try_into_vec()
            .unwrap();
        let max_diff = max_abs_diff(&got, &r.output);
        eprintln!("DenseNet (legacy names: {legacy}): max logit difference {max_diff:e}");
        assert!(max_diff < 1e-4, "logits differ by {max_diff}");
    }
}

#[test]
fn bad_files_are_typed_errors() {
    let device = cpu_device();
    let mut model = ResNetConfig::new()
        .with_depth(18)
        .with_num_classes(2)
        .init(&device)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        load_pytorch(&mut model, &dir.path().join("missing.pt"), &[]),
        Err(PytorchError::Io { .. })
    ));
    let junk = dir.path().join("junk.pt");
    std::fs::write(&junk, b"PK\x03\x04 this is not a zip archive at all").unwrap();
    assert!(matches!(
        load_pytorch(&mut model, &junk, &[]),
        Err(PytorchError::Read { .. })
    ));
}
