//! Data for exahealth: between files on disk and batches for training.
//!
//! - [`dataset`]: the DeepHealth dataset YAML exactly as ECVL reads it: read,
//!   validate with errors naming line and field, write back, generate from
//!   folder trees.
//! - [`annotations`]: slide annotations in ASAP XML and QuPath/GeoJSON, read,
//!   written, converted and rasterised to label masks.
//!
//! Depends on no deep-learning crate; loaders yield plain buffers.

pub mod annotations;
pub mod dataset;
