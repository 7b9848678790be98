//! `exahealth predict --model model.onnx IMAGE...`: class probabilities
//! from an ONNX classifier (any opset-11+ CNN the interpreter supports),
//! with the input size and normalisation given on the command line.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use exahealth_image::ops::geometry::{resize_image, Interpolation};
use exahealth_image::{ColorType, DataType, ImageData};
use exahealth_nn::cpu_device;
use exahealth_nn::onnx::OnnxModel;
use exahealth_nn::train::argmax;
use ndarray::{Array4, ArrayD};

/// How images become the ONNX model's input.
pub struct OnnxOptions<'a> {
    /// `(height, width)`; `None` takes the model's declared input size.
    pub size: Option<(usize, usize)>,
    /// Per channel (or one for all): input = (pixel / 255 - mean) / std.
    pub mean: &'a [f32],
    pub std: &'a [f32],
    pub classes: &'a [String],
    pub batch: usize,
    pub json: bool,
}

/// Parses `HxW` (e.g. `48x192`).
pub fn parse_size(s: &str) -> Result<(usize, usize)> {
    let (h, w) = s
        .split_once(['x', 'X'])
        .with_context(|| format!("{s:?} is not HEIGHTxWIDTH (e.g. 224x224)"))?;
    let (h, w): (usize, usize) = (h.trim().parse()?, w.trim().parse()?);
    if h == 0 || w == 0 || h > 16384 || w > 16384 {
        bail!("input size {h}x{w} must be 1 to 16384 pixels per side");
    }
    Ok((h, w))
}

pub fn run(model_path: &Path, inputs: &[PathBuf], o: &OnnxOptions<'_>) -> Result<()> {
    let device = cpu_device();
    let model = OnnxModel::load(model_path, &device)
        .with_context(|| format!("cannot load ONNX model {}", model_path.display()))?;
    let [input] = model.inputs() else {
        bail!(
            "predict feeds one image tensor; the model has {} inputs",
            model.inputs().len()
        );
    };
    let dims = &input.dims;
    if dims.len() != 4 {
        bail!(
            "the model's input {:?} is not NCHW (dims {dims:?})",
            input.name
        );
    }
    if dims[1].is_some_and(|c| c != 3) {
        bail!("the model takes {:?} channels; predict feeds RGB", dims[1]);
    }
    let (h, w) = match (o.size, dims[2], dims[3]) {
        (Some(s), _, _) => s,
        (None, Some(h), Some(w)) if (1..=16384).contains(&h) && (1..=16384).contains(&w) => (h, w),
        (None, Some(h), Some(w)) => {
            bail!("the model declares an input of {h}x{w}; pass --input-size HEIGHTxWIDTH")
        }
        _ => bail!("the model does not fix its input size: pass --input-size HEIGHTxWIDTH"),
    };
    if model.outputs().is_empty() {
        bail!("the model declares no output");
    }
    // Models exported for a fixed batch (often 1) take batches of that size.
    let batch = match dims[0] {
        Some(n) if n >= 1 => o.batch.max(1).min(n),
        _ => o.batch.max(1),
    };
    for (name, v) in [("--mean", o.mean), ("--std", o.std)] {
        if v.len() != 1 && v.len() != 3 {
            bail!("{name} takes 1 or 3 values, not {}", v.len());
        }
    }
    if o.std.iter().any(|&s| s == 0.0 || !s.is_finite()) {
        bail!("--std values must be finite and non-zero");
    }
    let per_channel = |v: &[f32], c: usize| if v.len() == 1 { v[0] } else { v[c] };
    for chunk in inputs.chunks(batch) {
        let mut x = Array4::<f32>::zeros((chunk.len(), 3, h, w));
        for (n, path) in chunk.iter().enumerate() {
            let img = exahealth_image::io::read(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let img = match img.color() {
                ColorType::Rgb => img,
                ColorType::Gray | ColorType::Rgba => {
                    exahealth_image::ops::color::convert_color(&img, ColorType::Rgb)?
                }
                c => bail!(
                    "{}: colour type {c:?}; predict takes gray, RGB or RGBA",
                    path.display()
                ),
            };
            if img.dtype() != DataType::U8 {
                bail!(
                    "{}: {} samples; predict takes 8-bit images",
                    path.display(),
                    img.dtype().name()
                );
            }
            let img = resize_image(&img, w, h, Interpolation::Linear)?;
            let ImageData::U8(a) = img.to_hwc_data()? else {
                bail!("{}: resize changed the element type", path.display());
            };
            for ((y, xx, c), &v) in a.into_dimensionality::<ndarray::Ix3>()?.indexed_iter() {
                x[[n, c, y, xx]] =
                    (f32::from(v) / 255.0 - per_channel(o.mean, c)) / per_channel(o.std, c);
            }
        }
        let outputs = model
            .run(&[x.into_dyn()])
            .with_context(|| format!("running {}", model_path.display()))?;
        let Some(first) = outputs.first() else {
            bail!("the model returned no output");
        };
        let probs = probabilities(first)?;
        if probs.len() != chunk.len() {
            bail!(
                "the model returned {} rows for {} images; try --batch 1",
                probs.len(),
                chunk.len()
            );
        }
        for (row, path) in probs.iter().zip(chunk) {
            report(path, row, o)?;
        }
    }
    Ok(())
}

/// Rows of class probabilities: the output as is when it already is a
/// softmax (rows in 0..1 summing to 1), otherwise softmax of the logits.
fn probabilities(out: &ArrayD<f32>) -> Result<Vec<Vec<f32>>> {
    let out = out
        .view()
        .into_dimensionality::<ndarray::Ix2>()
        .with_context(|| {
            format!(
                "the model's output has shape {:?}, not [batch, classes]",
                out.shape()
            )
        })?;
    Ok(out
        .rows()
        .into_iter()
        .map(|r| {
            let v: Vec<f32> = r.to_vec();
            let sum: f32 = v.iter().sum();
            if v.iter().all(|p| (0.0..=1.0).contains(p)) && (sum - 1.0).abs() < 1e-3 {
                return v;
            }
            let max = v.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let e: Vec<f32> = v.iter().map(|x| (x - max).exp()).collect();
            let s: f32 = e.iter().sum();
            e.iter().map(|x| x / s).collect()
        })
        .collect())
}

fn report(path: &Path, p: &[f32], o: &OnnxOptions<'_>) -> Result<()> {
    if p.is_empty() {
        bail!("the model's output has no classes");
    }
    let name = |i: usize| {
        o.classes
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("class{i}"))
    };
    if !o.classes.is_empty() && o.classes.len() != p.len() {
        bail!(
            "--classes names {} classes; the model outputs {}",
            o.classes.len(),
            p.len()
        );
    }
    let top = argmax(p);
    if o.json {
        let by_class: serde_json::Map<String, serde_json::Value> = p
            .iter()
            .enumerate()
            .map(|(i, v)| (name(i), serde_json::json!(v)))
            .collect();
        println!(
            "{}",
            serde_json::json!({"input": path.display().to_string(), "class": name(top), "probabilities": by_class})
        );
    } else {
        println!("{}\t{}\t{:.4}", path.display(), name(top), p[top]);
    }
    Ok(())
}
