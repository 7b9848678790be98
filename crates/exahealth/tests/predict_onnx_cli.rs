//! `exahealth predict --model X.onnx` with the pretrained PaddleOCR text
//! orientation classifier in `../shared/testdata/models/`: probabilities
//! equal onnxruntime's (same preprocessing, done in Python) within 1e-4,
//! and upright vs upside-down images get opposite classes.
//!
//! Skips, with the reason on stderr, when the model or Python with
//! numpy, pillow and onnxruntime is missing.

use std::path::Path;
use std::process::Command;

const MODEL: &str = "models/ch_ppocr_mobile_v2.0_cls_infer.onnx";

/// A 48x192 RGB image: dark "text" strokes on white, heavier at the top
/// left, so the picture has an up and a down; `flip` turns it 180 degrees.
fn write_png(path: &Path, flip: bool) {
    let (w, h) = (192usize, 48usize);
    let mut data = vec![255u8; w * h * 3];
    for y in 0..h {
        for x in 0..w {
            let (sx, sy) = if flip { (w - 1 - x, h - 1 - y) } else { (x, y) };
            let stroke = (sx % 24 < 4 && sy > 8 && sy < 40) || (sy > 8 && sy < 14 && sx < 150);
            if stroke {
                data[(y * w + x) * 3..(y * w + x) * 3 + 3].copy_from_slice(&[20, 20, 30]);
            }
        }
    }
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), w as u32, h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}

const REFERENCE: &str = r#"
import json, sys
import numpy as np, onnxruntime as ort
from PIL import Image
sess = ort.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
out = []
for p in sys.argv[2:]:
    x = np.asarray(Image.open(p).convert("RGB"), dtype=np.float32)
    x = ((x / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)[None]
    out.append(sess.run(None, {sess.get_inputs()[0].name: x})[0][0].tolist())
print(json.dumps(out))
"#;

#[test]
fn onnx_classifier_matches_onnxruntime() {
    let Some(model) = exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), MODEL)
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("up.png");
    let down = dir.path().join("down.png");
    write_png(&up, false);
    write_png(&down, true);
    let out = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .arg("predict")
        .arg("--model")
        .arg(&model)
        .args(["--input-size", "48x192", "--mean", "0.5", "--std", "0.5"])
        .args(["--classes", "0,180", "--json"])
        .arg(&up)
        .arg(&down)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    let ours: Vec<[f64; 2]> = rows
        .iter()
        .map(|r| {
            let p = &r["probabilities"];
            [p["0"].as_f64().unwrap(), p["180"].as_f64().unwrap()]
        })
        .collect();
    assert_ne!(rows[0]["class"], rows[1]["class"], "{rows:?}");
    // Without a size the model's open input dimensions are an error.
    let no_size = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .arg("predict")
        .arg("--model")
        .arg(&model)
        .arg(&up)
        .output()
        .unwrap();
    assert!(!no_size.status.success());
    assert!(String::from_utf8_lossy(&no_size.stderr).contains("--input-size"));

    let python = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let reference = match Command::new(&python)
        .args(["-c", REFERENCE])
        .arg(&model)
        .arg(&up)
        .arg(&down)
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            eprintln!(
                "SKIP predict_onnx_cli reference: {} (pip install -r bench/requirements.txt)",
                err.lines().last().unwrap_or("")
            );
            return;
        }
        Err(e) => {
            eprintln!("SKIP predict_onnx_cli reference: cannot run {python}: {e}");
            return;
        }
    };
    let theirs: Vec<[f64; 2]> = serde_json::from_slice(&reference.stdout).unwrap();
    for (a, b) in ours.iter().zip(&theirs) {
        for k in 0..2 {
            assert!(
                (a[k] - b[k]).abs() < 1e-4,
                "exahealth {a:?} vs onnxruntime {b:?}"
            );
        }
    }
}
