//! PyTorch weights (`.pt`/`.pth` state dicts) into exahealth's models,
//! through burn-store's PyTorch reader.
//!
//! Module names follow torchvision (`conv1`, `bn1`, `layer1.0.conv1`,
//! `fc`), so most keys match as they are; burn-store's adapter transposes
//! linear weights and renames batch-norm `weight`/`bias` to
//! `gamma`/`beta`. What differs is listed in a remapping table per
//! architecture, e.g. [`TORCHVISION_RESNET`].

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::pytorch_reader::PytorchReader;
use burn::store::{ModuleSnapshot, PytorchStore};

/// Why PyTorch weights could not be imported.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PytorchError {
    /// The file does not exist or cannot be read.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a readable PyTorch checkpoint.
    #[error("{path}: cannot read PyTorch weights: {message}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the reader reported.
        message: String,
    },
    /// Tensors of the model that the file lacks, or that have another shape.
    #[error("{path}: weights do not fit the model: {message}")]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// The tensors involved.
        message: String,
    },
}

/// Refuses a file with a tensor larger than the memory budget before any
/// is read: a view with zero strides over a one-element storage can
/// promise gigabytes, and the store materialises a tensor before it
/// compares its shape with the model's.
fn check_sizes(path: &Path) -> Result<(), PytorchError> {
    let read_error = |message: String| PytorchError::Read {
        path: path.to_path_buf(),
        message,
    };
    // The reader parses outside data: a panic in it must not take the
    // process down.
    let reader = std::panic::catch_unwind(|| PytorchReader::new(path))
        .map_err(|_| read_error("the reader panicked on this file".into()))?
        .map_err(|e| read_error(e.to_string()))?;
    for (name, tensor) in reader.tensors() {
        let dims: Vec<u64> = tensor.shape().iter().map(|&d| d as u64).collect();
        exahealth_base::budget::bytes_for(
            format!("tensor {name:?} of shape {:?}", tensor.shape()),
            &dims,
            tensor.dtype().size() as u64,
        )
        .map_err(|e| read_error(e.to_string()))?;
    }
    Ok(())
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Model tensors set from the file.
    pub applied: usize,
    /// Tensors in the file that the model has no place for (e.g. batch
    /// norm's `num_batches_tracked`).
    pub unused: Vec<String>,
}

/// torchvision ResNet -> exahealth ResNet: the shortcut is a module with
/// named fields (`downsample.conv`, `downsample.bn`) rather than a
/// `Sequential` (`downsample.0`, `downsample.1`).
pub const TORCHVISION_RESNET: &[(&str, &str)] = &[
    (r"^(.*)\.downsample\.0\.(.*)$", "$1.downsample.conv.$2"),
    (r"^(.*)\.downsample\.1\.(.*)$", "$1.downsample.bn.$2"),
];

/// Loads the state dict in `path` into `model`, renaming keys with
/// `remap` (regex, replacement) first. Every model tensor must be found
/// with its shape; extra file tensors are reported, not fatal.
pub fn load_pytorch<M: Module>(
    model: &mut M,
    path: &Path,
    remap: &[(&str, &str)],
) -> Result<ImportReport, PytorchError> {
    load(model, path, remap, PytorchStore::from_file(path))
}

/// [`load_pytorch`] without the classification head (`fc`, `classifier`):
/// for feature extraction, where the head is not used and the weights may
/// have been fine-tuned to another number of classes.
pub fn load_pytorch_backbone<M: Module>(
    model: &mut M,
    path: &Path,
    remap: &[(&str, &str)],
) -> Result<ImportReport, PytorchError> {
    fn not_head(path: &str, _container: &str) -> bool {
        !(path.starts_with("fc.") || path.starts_with("classifier."))
    }
    load(
        model,
        path,
        remap,
        PytorchStore::from_file(path).with_predicate(not_head),
    )
}

fn load<M: Module>(
    model: &mut M,
    path: &Path,
    remap: &[(&str, &str)],
    store: PytorchStore,
) -> Result<ImportReport, PytorchError> {
    std::fs::metadata(path).map_err(|source| PytorchError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    check_sizes(path)?;
    let mut store = store.allow_partial(true).validate(false);
    for (from, to) in remap {
        store = store.with_key_remapping(*from, *to);
    }
    // The pickle reader parses outside data: a panic in it must not take
    // the process down.
    let result =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| model.load_from(&mut store)))
            .map_err(|_| PytorchError::Read {
                path: path.to_path_buf(),
                message: "the reader panicked on this file".into(),
            })?
            .map_err(|e| PytorchError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
    if !result.missing.is_empty() || !result.errors.is_empty() {
        let mut parts: Vec<String> = result
            .missing
            .iter()
            .map(|(name, _)| format!("missing {name}"))
            .collect();
        parts.extend(result.errors.iter().map(|e| e.to_string()));
        parts.truncate(20);
        return Err(PytorchError::Mismatch {
            path: path.to_path_buf(),
            message: parts.join("; "),
        });
    }
    Ok(ImportReport {
        applied: result.applied.len(),
        unused: result.unused,
    })
}
