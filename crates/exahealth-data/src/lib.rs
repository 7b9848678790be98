//! Data for exahealth: between files on disk and batches for training.
//!
//! ```no_run
//! use exahealth_data::dataset::read_dataset;
//! use exahealth_data::loader::{DatasetSource, ImageOptions, Loader, LoaderConfig};
//! use exahealth_data::plan::{plan_slide, PlanParams, Resolution};
//! use exahealth_slide::Slide;
//! use std::path::Path;
//! use std::sync::Arc;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // 256-pixel patches at 0.5 microns per pixel over the slide's tissue.
//!     let slide = Slide::open("CMU-1.svs")?;
//!     let planned = plan_slide(&slide, &PlanParams::new(Resolution::Mpp(0.5), 256), None)?;
//!     println!("{} of {} grid positions kept", planned.plan.summary.patches, planned.plan.summary.candidates);
//!     planned.plan.save(Path::new("plans/CMU-1"))?; // plan.json + patches.csv
//!
//!     // A DeepHealth dataset's training split, in batches of 224 x 224 RGB images.
//!     let dataset = read_dataset(Path::new("skin/dataset.yml"))?;
//!     let options = ImageOptions { size: Some((224, 224)), ..ImageOptions::default() };
//!     let source = DatasetSource::new(dataset, Some("training"), options)?;
//!     let loader = Loader::new(Arc::new(source), LoaderConfig::default())?;
//!     for batch in loader.epoch(0) {
//!         let batch = batch?;
//!         println!("{:?}", batch.images.shape()); // [32, 3, 224, 224], NCHW
//!     }
//!     Ok(())
//! }
//! ```
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
