//! `exahealth predict --model DIR IMAGE...`: class probabilities per image.

pub(crate) mod bags;
mod onnx;
mod slides;

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use exahealth_data::dataset::{Dataset, Sample};
use exahealth_nn::cpu_device;
use exahealth_nn::data::BatchSource;
use exahealth_nn::infer::{predict, Prediction};
use exahealth_nn::model_folder::{ModelSpec, Task};
use exahealth_nn::train::argmax;

use exahealth_nn::prepare::model_source;

/// Predict with a trained model: classes of images, whole slides through
/// their patch plans, or slides from their patch embeddings with a MIL
/// model. Also runs ONNX classifiers.
///
/// Four modes, picked by the arguments:
///
///   Images (PNG, JPEG, TIFF, DICOM, ...) with a model folder from
///   `exahealth train`: images are resized to the model's input size; one
///   line per image (path, class, probability), or with --json one object
///   per image with every class's probability.
///
///   Slides, with --plans (the --out folder of `exahealth slide tile`): every
///   patch of each slide's plan is scored; OUT/<slide stem>/ receives
///   scores.csv (the plan's rows plus p_<class> and the predicted class),
///   heatmap.tiff (pyramidal, one pixel per --heatmap-downsample level-0
///   pixels, colour = probability of --class), overlay.png (the heatmap on
///   the thumbnail) and summary.json (per class: max and mean probability,
///   share of patches predicted).
///
///   Slides with a MIL model (task = "mil"), with --bags (the --out folder
///   of `exahealth embed`, made with the extractor the model was trained
///   on): one line per slide (name, class, probability), or JSON with
///   every class's probability and the ten most attended patches; the
///   inputs are slide names (default: every slide of --bags).
///   OUT/<slide>/ receives attention.csv (each patch's attention weight),
///   summary.json, and heatmap.tiff and overlay.png of the attention
///   (scaled to its maximum) when the slide file is still where it was.
///
///   Images with an ONNX classifier (--model ends in .onnx, NCHW input, RGB):
///   pixels become (value / 255 - mean) / std per channel at --input-size
///   (default: the size the model declares); outputs that are not already
///   probabilities go through softmax.
///
/// Examples:
///   exahealth predict --model runs/first patch1.png patch2.png --json
///   exahealth slide tile slides/*.svs --mpp 0.5 --size 64 --out tiles
///   exahealth predict --model runs/first --plans tiles --out predictions slides/*.svs
///   exahealth embed --model resnet18.pth --plans tiles --out features
///   exahealth predict --model runs/mil --bags features --out predictions
///   exahealth predict --model cls.onnx --input-size 48x192 --mean 0.5 --std 0.5 --classes 0,180 word.png
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct PredictArgs {
    /// Model folder written by `exahealth train`, or an .onnx file.
    #[arg(long)]
    pub model: PathBuf,
    /// Images to classify, slides with --plans, slide names with --bags.
    pub inputs: Vec<PathBuf>,
    /// Images (or patches) per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
    /// Whole-slide mode: the folder of patch plans (<slide stem>/patches.csv),
    /// as `exahealth slide tile --out` writes it.
    #[arg(long)]
    pub plans: Option<PathBuf>,
    /// MIL mode: the folder of patch embeddings (`exahealth embed --out`).
    #[arg(long, conflicts_with = "plans")]
    pub bags: Option<PathBuf>,
    /// Whole-slide and MIL modes: where the per-slide outputs go.
    #[arg(long, default_value = "predictions")]
    pub out: PathBuf,
    /// Whole-slide mode: the class the heatmap shows (default: the last class).
    #[arg(long)]
    pub class: Option<String>,
    /// Whole-slide and MIL modes: level-0 pixels per heatmap pixel.
    #[arg(long, default_value_t = 32)]
    pub heatmap_downsample: u32,
    /// Whole-slide mode: do shard I of N (0-based) of the slides, split by
    /// file size (default: from Slurm's variables, else all).
    #[arg(long, value_name = "I/N", requires = "plans")]
    pub shard: Option<String>,
    /// ONNX mode: input HEIGHTxWIDTH (default: the model's declared size).
    #[arg(long)]
    pub input_size: Option<String>,
    /// ONNX mode: per-channel mean subtracted after scaling to 0..1 (1 or 3 values).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    pub mean: Vec<f32>,
    /// ONNX mode: per-channel standard deviation divided by (1 or 3 values).
    #[arg(long, value_delimiter = ',', default_value = "1")]
    pub std: Vec<f32>,
    /// ONNX mode: class names in output order (default: class0, class1, ...).
    #[arg(long, value_delimiter = ',')]
    pub classes: Vec<String>,
}

pub fn run(args: PredictArgs) -> Result<()> {
    if let Some(bags) = &args.bags {
        let options = bags::BagOptions {
            bags,
            out: &args.out,
            heatmap_downsample: args.heatmap_downsample,
            json: args.json,
        };
        let slides: Vec<String> = args
            .inputs
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        return bags::run(&args.model, &slides, &options);
    }
    if args.inputs.is_empty() {
        bail!("nothing to predict: give images, or slides with --plans (see `exahealth predict --help`)");
    }
    let is_onnx = args
        .model
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
    if is_onnx {
        if args.plans.is_some() {
            bail!("whole-slide prediction (--plans) takes a model folder from `exahealth train`, not an ONNX file");
        }
        let size = args
            .input_size
            .as_deref()
            .map(onnx::parse_size)
            .transpose()?;
        let options = onnx::OnnxOptions {
            size,
            mean: &args.mean,
            std: &args.std,
            classes: &args.classes,
            batch: args.batch,
            json: args.json,
        };
        return onnx::run(&args.model, &args.inputs, &options);
    }
    if let Some(plans) = &args.plans {
        let options = slides::SlideOptions {
            plans,
            out: &args.out,
            class: args.class.as_deref(),
            batch: args.batch,
            heatmap_downsample: args.heatmap_downsample,
            json: args.json,
        };
        let shard = crate::shard::detect(args.shard.as_deref())?;
        let inputs = crate::shard::select(
            args.inputs.clone(),
            shard,
            |p| crate::shard::bytes_of(p),
            "slides",
        );
        return slides::run(&args.model, &inputs, &options);
    }
    let spec = ModelSpec::read(&args.model)?;
    if spec.task != Task::Classification {
        bail!(
            "predict classifies images; this model is for {}{}",
            spec.task.name(),
            if spec.task == Task::Mil {
                " (give --bags with its embeddings)"
            } else {
                ""
            }
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
    let source = model_source(&spec, dataset, None)?;
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
