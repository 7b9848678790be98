//! exahealth-nn: training and inference on Burn.
//!
//! - [`models`]: a small CNN, ResNet-18/34/50, VGG-16, DenseNet-121, U-Net and
//!   gated-attention MIL, each a derived `Config` whose `init(&device)`
//!   builds the `Module`; [`models::Architecture`] names any of them.
//! - [`loss`]: cross-entropy (class weights, label smoothing), binary
//!   cross-entropy with logits, Dice, focal.
//! - [`train`]: the training loop (optimisers, schedules, early stopping,
//!   metrics log, atomic checkpoints, exact resume), separate from the models.
//! - [`infer`]: batched prediction returning class probabilities.
//! - [`bench`]: training and inference throughput on random input.
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
//!   data, `[train]`), parsed and checked.
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
#[cfg(feature = "pytorch")]
pub mod pytorch;
pub mod rng;
pub mod run_file;
pub mod sources;
pub mod train;
pub mod wsi;

/// The Burn version this crate is built on, for callers that build tensors.
pub use burn;
pub use error::{NnError, Result};
pub use kernels::{own_kernels, set_own_kernels};

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
