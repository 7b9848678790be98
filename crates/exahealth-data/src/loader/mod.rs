//! Parallel loaders that feed training: N worker threads, a bounded window
//! of prefetched batches, seeded shuffling per epoch, `drop_last`,
//! per-sample transforms, and one interface ([`SampleSource`]) for images
//! of a DeepHealth dataset split ([`DatasetSource`]) and for patches read
//! on the fly from slides through patch plans ([`SlidePatchSource`]).
//!
//! Batches are `ndarray` arrays: images `N x C x H x W` (NCHW) `f32`,
//! labels class indices, multi-hot rows or `N x H x W` masks
//! ([`Batch`], [`Labels`]). Their contents depend only on the source,
//! the configuration and the epoch, never on the number of workers.
//!
//! ```no_run
//! use exahealth_data::dataset::read_dataset;
//! use exahealth_data::loader::{DatasetSource, ImageOptions, Loader, LoaderConfig};
//! use std::sync::Arc;
//!
//! let ds = read_dataset("skin.yml".as_ref())?;
//! let opts = ImageOptions { size: Some((224, 224)), ..ImageOptions::default() };
//! let train = DatasetSource::new(ds, Some("training"), opts)?;
//! let loader = Loader::new(Arc::new(train), LoaderConfig::default())?
//!     .with_transform(exahealth_data::loader::flip_rotate_jitter(0.1, 0.1));
//! for epoch in 0..10 {
//!     for batch in loader.epoch(epoch) {
//!         let batch = batch?;
//!         // batch.images: [N, 3, 224, 224]
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod augment;
mod dataset_source;
mod decode;
mod ecvl;
mod engine;
mod error;
mod patches;
mod sample;
mod slide_source;
mod source;

pub use augment::{flip_rotate_jitter, SampleRng, Transform, TransformError};
pub use dataset_source::{DatasetSource, ImageOptions, LabelMode};
pub use decode::pixel_max;
pub use ecvl::ecvl_transform;
pub use engine::{sample_rng, Epoch, Loader, LoaderConfig};
pub use error::LoaderError;
pub use patches::{
    parse_patches_csv, read_patches_csv, PatchRecord, MAX_PATCH_SIDE, PATCHES_CSV_HEADER,
};
pub use sample::{Batch, Labels, Sample, Target};
pub use slide_source::{rgba_to_rgb_f32, SlidePatchSource};
pub use source::SampleSource;
