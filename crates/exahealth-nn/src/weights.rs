//! A module's weights as one safetensors file, the format of a model
//! folder's weights: written durably, read back into a network of the
//! same architecture with every tensor checked.

use std::path::Path;

use burn::module::Module;
use burn::store::{ModuleSnapshot, SafetensorsStore};

use crate::atomic::write_atomic;
use crate::error::{NnError, Result};

/// The weights file of a model folder, as training writes it.
pub const WEIGHTS_FILE: &str = "model.safetensors";

/// Writes `model`'s weights as safetensors, atomically.
pub fn save_weights<M: Module>(model: &M, path: &Path) -> Result<()> {
    let mut store = SafetensorsStore::from_bytes(None);
    model
        .save_into(&mut store)
        .map_err(|e| NnError::record(path, e))?;
    let bytes = store.get_bytes().map_err(|e| NnError::record(path, e))?;
    write_atomic(path, &bytes)
}

/// Loads safetensors weights written by [`save_weights`] into `model`
/// (built with the same architecture); every tensor must match.
pub fn load_weights<M: Module>(mut model: M, path: &Path) -> Result<M> {
    let bytes =
        exahealth_base::budget::read_file(path, u64::MAX).map_err(|e| NnError::io(path, e))?;
    let mut store = SafetensorsStore::from_bytes(Some(bytes));
    let result = model
        .load_from(&mut store)
        .map_err(|e| NnError::record(path, e))?;
    if !result.errors.is_empty() || !result.missing.is_empty() {
        return Err(NnError::record(
            path,
            format!(
                "weights do not fit the model: {} errors, missing {:?}",
                result.errors.len(),
                result
                    .missing
                    .iter()
                    .map(|m| &m.0)
                    .take(5)
                    .collect::<Vec<_>>()
            ),
        ));
    }
    Ok(model)
}
