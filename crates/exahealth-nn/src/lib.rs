//! exahealth-nn: training and inference on Burn.
//!
//! The whole weak-label workflow from Rust, as the `exahealth` commands run
//! it: a classifier trained from a run file, whole-slide prediction through
//! a patch plan, patch embeddings and attention MIL on slide labels.
//!
//! ```no_run
//! use std::path::Path;
//!
//! use exahealth_nn::embed::{embed_slides, load_extractor, plan_stems, PyTorchExtractor};
//! use exahealth_nn::mil_inference::{BagsFolder, MilModel};
//! use exahealth_nn::slide_prediction::{SlideClassifier, SlidePredictionOptions};
//! use exahealth_nn::train_run::train_run_file;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let device = exahealth_nn::cpu_device();
//! // Train what run.toml describes (see `exahealth train --help`); the
//! // model folder it names receives weights, model.json, curves and card.
//! let trained = train_run_file(Path::new("run.toml"), false, &mut |_event| {})?;
//!
//! // Score every patch of a slide's plan (`exahealth slide tile`): scores,
//! // heatmap.tiff, overlay.png and summary.json in predictions/a/.
//! let classifier = SlideClassifier::load(&trained.output, None)?;
//! let options = SlidePredictionOptions::default();
//! let (_, summary) = classifier.predict_slide(
//!     Path::new("slides/a.svs"),
//!     Path::new("tiles"),
//!     Path::new("predictions"),
//!     &options,
//!     &device,
//!     &mut |_done, _total| {},
//! )?;
//! println!("{} patches scored", summary.patches);
//!
//! // Embed every planned slide with torchvision ResNet-18 weights...
//! let pytorch = PyTorchExtractor { arch: "resnet18".into(), size: 224 };
//! let (network, extractor) = load_extractor(Path::new("resnet18.pth"), &pytorch)?;
//! let stems = plan_stems(Path::new("tiles"), &[])?;
//! embed_slides(&network, &extractor, Path::new("tiles"), Path::new("features"),
//!              &stems, 32, &mut |_event| {})?;
//!
//! // ...and, once a MIL run file has trained runs/mil on them, classify a
//! // slide and map the model's attention.
//! let bags = BagsFolder::open(Path::new("features"))?;
//! let mil = MilModel::load(Path::new("runs/mil"), &bags.embedding)?;
//! let p = mil.predict_slide(&bags, "a", Path::new("mil-predictions"), 32, &device)?;
//! println!("slide a: class {}", p.summary.class);
//! # Ok(())
//! # }
//! ```
//!
//! What lives where:
//!
//! - [`models`]: a small CNN, ResNet-18/34/50, VGG-16, DenseNet-121, U-Net and
//!   gated-attention MIL, each a derived `Config` whose `init(&device)`
//!   builds the `Module`; [`models::Architecture`] names any of them.
//! - [`loss`]: cross-entropy (class weights, label smoothing), binary
//!   cross-entropy with logits, Dice, focal.
//! - [`train`]: the training loop (optimisers, schedules, early stopping,
//!   metrics log, atomic checkpoints, exact resume), separate from the models.
//! - [`infer`]: batched prediction returning class probabilities.
//! - [`bench`]: training and inference throughput on random input;
//!   [`threads`]: the worker count of CPU work.
//! - [`data`]: `ndarray` batches in, tensors out; [`sources`] adapts
//!   exahealth-data's dataset and patch-plan sources.
//! - [`model_folder`]: what a run leaves for prediction: `model.json`
//!   ([`model_folder::ModelSpec`]), the weights file and the model card.
//! - [`features`] and [`bags`]: per-slide patch embeddings (computed through
//!   a patch plan, stored as safetensors) and the bags of them that
//!   attention MIL trains on with slide-level labels; [`embedding`]: the
//!   `embedding.json` naming a features folder's extractor and slides;
//!   [`labels`]: the CSV table of slide labels; [`mil_inference`]: slide
//!   classes and attention maps from an attention-MIL model folder and a
//!   bags folder, and slide-level scores on labelled slides.
//! - [`run_file`]: the TOML run file of `exahealth train` (task, model,
//!   data, `[train]`), parsed and checked; [`prepare`]: the batches and
//!   card data of a run's YAML dataset, patch plans or bags;
//!   [`train_run`]: a run file to a complete model folder.
//! - [`embed`]: extractor loading and resumable per-slide embedding;
//!   [`slide_prediction`]: a classifier over a slide's patch plan, with
//!   scores, heatmap, overlay and summary; [`workflow_error`]: the error of
//!   these workflows.
//! - [`wsi`]: whole-slide prediction through a patch plan: score table,
//!   pyramidal TIFF heatmap, thumbnail overlay, slide-level scores.
//! - [`metrics`]: accuracy, balanced accuracy, precision/recall/F1, ROC AUC,
//!   Cohen's kappa, confusion matrix, Dice, IoU on plain slices
//!   (scikit-learn's conventions), with JSON reports.
//! - [`plot`]: training curves as a PNG (own rasteriser and bitmap font).
//! - [`card`]: model cards and run manifests (versions, seeds, SHA-256 of
//!   the training data and inputs), written atomically.
//! - [`onnx`]: run ONNX models chosen at run time on Burn tensors.
//! - `pytorch` (feature `pytorch`, on by default): PyTorch state dicts into
//!   these models through burn-store.
//!
//! Burn 0.22 picks the backend at run time from the tensor's `Device`, so all
//! model code is backend-agnostic. On the Flex CPU device, convolution,
//! max-pooling and batch norm run exahealth-kernels' implementations
//! through a Burn backend extension (`kernels`); elsewhere the Burn modules
//! run unchanged. The default CPU backend is Flex (pure
//! Rust, builds offline, multi-threaded through rayon): see [`cpu_device`].
//! GPU backends are the `cuda` and `wgpu` cargo features.
#![forbid(unsafe_code)]

pub mod atomic;
pub mod bags;
pub mod bench;
pub mod card;
pub mod data;
pub mod embed;
pub mod embedding;
mod error;
pub mod features;
pub mod infer;
mod kernels;
pub mod labels;
pub mod loss;
pub mod metrics;
pub mod mil_inference;
pub mod model_folder;
pub mod models;
pub mod onnx;
pub mod optim;
pub mod plot;
pub mod prepare;
#[cfg(feature = "pytorch")]
pub mod pytorch;
pub mod rng;
pub mod run_file;
pub mod slide_prediction;
pub mod sources;
pub mod threads;
pub mod train;
pub mod train_run;
pub mod weights;
pub mod workflow_error;
pub mod wsi;

/// The Burn version this crate is built on, for callers that build tensors.
pub use burn;
pub use error::{NnError, Result};
pub use kernels::{own_kernels, set_own_kernels};
pub use workflow_error::{WorkflowError, WorkflowResult};

/// The default CPU backend for inference.
pub type CpuBackend = burn::backend::Flex;
/// The default CPU backend for training (with autodiff).
pub type CpuAutodiff = burn::backend::Autodiff<CpuBackend>;

/// The default CPU device (Flex backend), for inference.
pub fn cpu_device() -> burn::tensor::Device {
    burn::tensor::Device::flex()
}

/// The default CPU device with autodiff, for training.
pub fn cpu_train_device() -> burn::tensor::Device {
    burn::tensor::Device::flex().autodiff()
}
