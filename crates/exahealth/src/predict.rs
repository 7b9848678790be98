//! `exahealth predict --model DIR IMAGE...`: class probabilities per image.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use exahealth_data::dataset::{Dataset, Sample};
use exahealth_nn::cpu_device;
use exahealth_nn::data::BatchSource;
use exahealth_nn::infer::{predict, Prediction};
use exahealth_nn::train::argmax;

use crate::train::{ModelSpec, Task};

/// Predict the class of images (PNG or JPEG) with a trained model folder.
///
/// Images are resized to the model's input size. Prints one line per image
/// (path, predicted class, probability), or with --json one object per image
/// with every class's probability.
///
/// Example: exahealth predict --model runs/first slide1.png slide2.png --json
#[derive(Args)]
pub struct PredictArgs {
    /// Model folder written by `exahealth train`.
    #[arg(long)]
    pub model: PathBuf,
    /// Images to classify.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Images per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: PredictArgs) -> Result<()> {
    let spec = ModelSpec::read(&args.model)?;
    if spec.task != Task::Classification {
        bail!(
            "predict classifies images; this model is for {:?}",
            spec.task
        );
    }
    let model = spec.load(&args.model)?;
    let dataset = Dataset {
        classes: spec.classes.clone(),
        samples: args
            .inputs
            .iter()
            .map(|p| Sample {
                location: vec![p.to_string_lossy().into_owned()],
                label: None,
                values: Default::default(),
            })
            .collect(),
        base_dir: PathBuf::from("."),
        ..Default::default()
    };
    let source = spec.source(dataset, None)?;
    let all: Vec<usize> = (0..source.len()).collect();
    for chunk in all.chunks(args.batch.max(1)) {
        let batch = source.batch(chunk)?;
        let Prediction::Classes(probs) =
            predict(&model, &batch.inputs, chunk.len(), &cpu_device())?
        else {
            bail!("the model does not output classes");
        };
        for (row, &i) in probs.rows().into_iter().zip(chunk) {
            let p: Vec<f32> = row.to_vec();
            let top = argmax(&p);
            let class = spec
                .classes
                .get(top)
                .cloned()
                .unwrap_or_else(|| top.to_string());
            let path = args.inputs[i].display().to_string();
            if args.json {
                let by_class: serde_json::Map<String, serde_json::Value> = spec
                    .classes
                    .iter()
                    .zip(&p)
                    .map(|(c, v)| (c.clone(), serde_json::json!(v)))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"input": path, "class": class, "probabilities": by_class})
                );
            } else {
                println!("{path}\t{class}\t{:.4}", p[top]);
            }
        }
    }
    Ok(())
}
