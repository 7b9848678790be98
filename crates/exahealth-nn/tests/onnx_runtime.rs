//! The ONNX interpreter against onnxruntime on the pretrained PaddleOCR
//! text-direction classifier in ../shared/testdata/models, and its
//! behaviour on damaged files.
//!
//! The comparison runs `bench/onnx_reference.py` (onnxruntime) and skips,
//! with the reason on stderr, when the model, `python3` or onnxruntime is
//! missing; `EXAHEALTH_PYTHON` picks another interpreter than `python3`.

use std::path::PathBuf;
use std::process::Command;

use exahealth_nn::cpu_device;
use exahealth_nn::onnx::{OnnxError, OnnxModel};
use ndarray::ArrayD;

fn model_path() -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(
        env!("CARGO_MANIFEST_DIR"),
        "models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
    )
}

fn python_with_ort() -> Option<String> {
    let py = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&py)
        .args(["-c", "import onnxruntime, numpy"])
        .output()
    {
        Ok(o) if o.status.success() => Some(py),
        Ok(o) => {
            eprintln!(
                "skipping: `{py}` lacks onnxruntime/numpy ({}); pip install -r bench/requirements.txt",
                String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
            );
            None
        }
        Err(e) => {
            eprintln!("skipping: cannot run `{py}`: {e}");
            None
        }
    }
}

#[test]
fn loads_the_paddleocr_classifier() {
    let Some(path) = model_path() else { return };
    let m = OnnxModel::load(&path, &cpu_device()).unwrap();
    assert_eq!(m.opset(), 11);
    assert_eq!(m.producer(), "PaddlePaddle");
    assert_eq!(m.inputs().len(), 1);
    assert_eq!(m.inputs()[0].name, "x");
    // [-1, 3, ?, ?]: only the channel count is fixed.
    assert_eq!(m.inputs()[0].dims, vec![None, Some(3), None, None]);
    assert_eq!(m.operators()["Conv"], 53);
    assert_eq!(m.operators()["BatchNormalization"], 35);
    assert_eq!(m.outputs().len(), 1);
    // Wrong channel count and wrong input count are refused.
    let bad = ArrayD::<f32>::zeros(vec![1, 1, 48, 192]);
    assert!(matches!(m.run(&[bad]), Err(OnnxError::Input(_))));
    assert!(matches!(m.run(&[]), Err(OnnxError::Input(_))));
}

#[test]
fn outputs_match_onnxruntime_within_1e_4() {
    let Some(path) = model_path() else { return };
    let Some(py) = python_with_ort() else { return };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/onnx_reference.py");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("ref.json");
    let status = Command::new(&py)
        .arg(&script)
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .args([
            "--shape",
            "2,3,48,192",
            "--shape",
            "1,3,48,320",
            "--shape",
            "3,3,48,100",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();

    let model = OnnxModel::load(&path, &cpu_device()).unwrap();
    for case in reference["cases"].as_array().unwrap() {
        let shape: Vec<usize> = serde_json::from_value(case["shape"].clone()).unwrap();
        let input: Vec<f32> = case["input"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let want: Vec<f32> = case["output"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let want_shape: Vec<usize> = serde_json::from_value(case["output_shape"].clone()).unwrap();
        let x = ArrayD::from_shape_vec(shape.clone(), input).unwrap();
        let got = model.run(&[x]).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].shape(), want_shape.as_slice());
        let max_diff = got[0]
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!("shape {shape:?}: max |exahealth - onnxruntime| = {max_diff:e}");
        assert!(
            max_diff <= 1e-4,
            "shape {shape:?}: max difference {max_diff}"
        );
        // The outputs are probabilities and not all the same: a model that
        // ignored its input would not pass.
        for row in got[0].as_slice().unwrap().chunks(2) {
            assert!((row[0] + row[1] - 1.0).abs() < 1e-5);
        }
    }
    let all: Vec<f64> = reference["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| {
            c["output"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
        })
        .collect();
    assert!(
        all.iter().any(|&p| (p - 0.5).abs() > 0.05),
        "reference outputs are degenerate"
    );
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let Some(path) = model_path() else { return };
    let bytes = std::fs::read(&path).unwrap();
    let device = cpu_device();
    assert!(matches!(
        OnnxModel::from_bytes(b"", &device),
        Err(OnnxError::Malformed(_))
    ));
    assert!(OnnxModel::from_bytes(b"not a model at all, just text", &device).is_err());
    // Truncations at many points.
    for cut in (1..bytes.len()).step_by(bytes.len() / 97) {
        let r =
            std::panic::catch_unwind(|| OnnxModel::from_bytes(&bytes[..cut], &device).map(drop));
        match r {
            Ok(res) => assert!(res.is_err(), "truncated at {cut} of {} loaded", bytes.len()),
            Err(_) => panic!("panic on a file truncated at {cut}"),
        }
    }
    // Single-byte corruptions: loading and running must not panic.
    let x = ArrayD::<f32>::from_elem(vec![1, 3, 32, 64], 0.25);
    let mut state = 0x9e3779b97f4a7c15u64;
    for _ in 0..60 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pos = (state >> 33) as usize % bytes.len();
        let mut damaged = bytes.clone();
        damaged[pos] ^= 1 << ((state >> 20) % 8);
        let r = std::panic::catch_unwind(|| {
            if let Ok(m) = OnnxModel::from_bytes(&damaged, &device) {
                let _ = m.run(std::slice::from_ref(&x));
            }
        });
        assert!(r.is_ok(), "panic with byte {pos} flipped");
    }
}

#[test]
fn missing_file_is_an_io_error() {
    let err = OnnxModel::load(
        std::path::Path::new("/nonexistent/model.onnx"),
        &cpu_device(),
    )
    .unwrap_err();
    assert!(matches!(err, OnnxError::Io { .. }), "{err}");
}

/// Operators the classifier does not use (SAME padding, average pooling,
/// Gemm, Transpose, Squeeze/Unsqueeze, Gather, opset-13 Softmax, ...), in a
/// small model that `bench/onnx_ops_reference.py` builds with the `onnx`
/// package and runs with onnxruntime.
#[test]
fn operator_zoo_matches_onnxruntime() {
    let Some(py) = python_with_ort() else { return };
    let probe = Command::new(&py).args(["-c", "import onnx"]).output();
    if !probe.map(|o| o.status.success()).unwrap_or(false) {
        eprintln!("skipping: `{py}` lacks the onnx package; pip install -r bench/requirements.txt");
        return;
    }
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/onnx_ops_reference.py");
    let dir = tempfile::tempdir().unwrap();
    let (model_path, out) = (dir.path().join("ops.onnx"), dir.path().join("ops.json"));
    let status = Command::new(&py)
        .arg(&script)
        .arg("--model")
        .arg(&model_path)
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let floats = |v: &serde_json::Value| -> Vec<f32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect()
    };
    let shape: Vec<usize> = serde_json::from_value(r["input_shape"].clone()).unwrap();
    let x = ArrayD::from_shape_vec(shape, floats(&r["input"])).unwrap();
    let model = OnnxModel::load(&model_path, &cpu_device()).unwrap();
    assert_eq!(model.opset(), 14);
    let got = model.run(&[x]).unwrap();
    let outputs = r["outputs"].as_array().unwrap();
    assert_eq!(got.len(), outputs.len());
    for (g, want) in got.iter().zip(outputs) {
        let want_shape: Vec<usize> = serde_json::from_value(want["shape"].clone()).unwrap();
        assert_eq!(g.shape(), want_shape.as_slice());
        let max_diff = g
            .iter()
            .zip(floats(&want["data"]))
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        eprintln!("operator zoo output {want_shape:?}: max difference {max_diff:e}");
        assert!(max_diff <= 1e-4, "max difference {max_diff}");
    }
}
