//! exahealth-image: what a medical deep-learning pipeline does to an image
//! before a network sees it.
//!
//! - [`Image`]: an N-D array with an element type ([`DataType`]), an axis
//!   layout in ECVL's vocabulary (`x y z c t`), voxel spacing, a colour type
//!   and a metadata map.
//! - [`bench`]: the 8-bit kernels timed best-of-N, for comparison with
//!   OpenCV in the same run.
//!
//! The crate knows nothing about whole-slide formats (that is
//! `exahealth-slide`) and nothing about Burn: conversions to tensors live in
//! `exahealth-nn`.
//!
//! Every reader treats its input as hostile: malformed files give a typed
//! [`ImageError`], never a panic, and buffers sized by header fields are held
//! to the process memory budget (`exahealth_base::budget`).

// Denied rather than forbidden: one audited FFI call (madvise, in
// ops/fixed/buffer.rs) carries its own `allow`.
#![deny(unsafe_code)]

pub mod augment;
pub mod bench;
mod error;
mod image;
pub mod io;
pub mod ops;
pub mod stain;
pub mod tissue;

pub use error::ImageError;
pub use image::{Axis, ColorType, DataType, Hwc, Image, ImageData};
