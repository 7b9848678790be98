//! Data for exahealth: between files on disk and batches for training.
//!
//! - [`dataset`]: the DeepHealth dataset YAML exactly as ECVL reads it: read,
//!   validate with errors naming line and field, write back, generate from
//!   folder trees.
//! - [`annotations`]: slide annotations in ASAP XML and QuPath/GeoJSON, read,
//!   written, converted and rasterised to label masks.
//! - [`plan`]: patch plans for slides: tissue mask on a low-resolution
//!   level, patch coordinates at a target resolution with tissue fractions
//!   and annotation labels, saved as `plan.json` + `patches.csv`.
//! - [`loader`]: parallel, bounded-memory batch loaders over dataset splits
//!   and slide patch plans, with seeded shuffling and per-sample transforms.
//! - [`bench`]: loader throughput against a sequential `read_region` loop.
//!
//! Depends on no deep-learning crate; loaders yield plain buffers.
#![forbid(unsafe_code)]

pub mod annotations;
pub mod bench;
pub mod dataset;
pub mod loader;
pub mod plan;
