//! Whole-slide images for exahealth, in pure Rust.
//!
//! ```no_run
//! use exahealth_slide::Slide;
//!
//! fn main() -> Result<(), exahealth_slide::SlideError> {
//!     let slide = Slide::open("CMU-1.svs")?;
//!     println!("{} levels: {:?}", slide.level_count(), slide.level_dimensions());
//!     if let Some((x, y)) = slide.mpp() {
//!         println!("{x} x {y} microns per pixel at level 0");
//!     }
//!
//!     // 512 x 512 pixels of level 1, its top-left corner given in level-0 pixels.
//!     let region = slide.read_region(10_000, 8_000, 1, 512, 512)?;
//!     assert_eq!(region.data.len(), 512 * 512 * 4); // RGBA
//!
//!     // The whole slide in at most 1024 pixels a side.
//!     slide.thumbnail(1024)?.save_png("thumbnail.png".as_ref())?;
//!     Ok(())
//! }
//! ```
//!
//! Reads Aperio SVS (JPEG and JPEG 2000 tiles), generic tiled pyramidal TIFF
//! and BigTIFF (JPEG, deflate, LZW, zstd, uncompressed), Philips and OME TIFF,
//! Hamamatsu NDPI, QPTIFF fluorescence and DICOM WSI through one API shaped
//! like OpenSlide's: [`Slide::open`], [`Slide::level_dimensions`],
//! [`Slide::read_region`] in level-0 coordinates returning RGBA, properties
//! with the `openslide.*` keys, and associated images. A `Slide` is
//! `Send + Sync`; tiles decode in parallel (rayon) into a cache bounded in
//! bytes ([`TileCache`]).
//!
//! It also writes pyramidal tiled TIFF ([`writer`]), including "virtual"
//! gigapixel slides whose tiles repeat a few encoded blocks ([`synth`]), and
//! measures read throughput ([`bench`]).
//!
//! No system libraries are needed: JPEG is zune-jpeg, JPEG 2000 is
//! hayro-jpeg2000, JPEG-LS is exahealth-codec, DICOM metadata is dicom-rs.
//!
//! Files are untrusted: every size a header declares is checked against
//! the file and against the memory budget ([`exahealth_base::budget`])
//! before anything is allocated for it, and a file that asks for more fails
//! with [`SlideError::Budget`].

#![forbid(unsafe_code)]

pub mod bench;
pub mod cache;
mod codec;
pub mod error;
mod formats;
pub mod image;
mod parts;
mod slide;
pub mod source;
pub mod synth;
pub mod tiff;
pub mod tiff_tags;
pub mod writer;

pub use cache::TileCache;
pub use error::{Result, SlideError};
pub use formats::{detect_vendor, parse_frame_index, FrameIndex};
pub use image::RgbaImage;
pub use parts::OpenOptions;
pub use slide::{Slide, MAX_REGION_PIXELS};

/// Compile-time proof that a slide can be shared across threads.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Slide>();
};
