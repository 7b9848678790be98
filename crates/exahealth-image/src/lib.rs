//! exahealth-image: what a medical deep-learning pipeline does to an image
//! before a network sees it: read it (DICOM, NIfTI, PNG, JPEG, TIFF),
//! inspect and convert it, resize, filter and augment it, write it back.
//!
//! ```no_run
//! use exahealth_image::ops::geometry::{resize_image, Interpolation};
//! use exahealth_image::{io, Axis};
//!
//! // A DICOM file or series folder, NIfTI, PNG, JPEG or TIFF: the content
//! // decides, not the extension.
//! let ct = io::read("scan.nii.gz")?;
//! // Layout letters fastest-varying first, e.g. "xyz" [512, 512, 120] int16.
//! println!("{} {:?} {}", ct.layout(), ct.dims(), ct.dtype().name());
//! println!("slice spacing: {} mm", ct.spacing_of(Axis::Z));
//!
//! // One axial slice, windowed to 8 bits, shrunk to 256 x 256, saved as PNG.
//! let slice = ct.index_axis(Axis::Z, ct.len_of(Axis::Z) / 2)?;
//! let picture = io::to_display_u8(&slice, None)?;
//! let small = resize_image(&picture, 256, 256, Interpolation::Area)?;
//! io::write("slice.png", &small)?;
//! # Ok::<(), exahealth_image::ImageError>(())
//! ```
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
