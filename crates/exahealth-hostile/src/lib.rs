//! Crafted hostile inputs, built in code, never copied from anywhere.
//!
//! Each function returns the bytes of one small file of a class that once
//! crashed or exhausted a reader (issue 14): a TIFF whose tags all point at
//! one large block, a tiled level almost 2^32 pixels wide, Philips metadata
//! cut in the wrong place, a spreadsheet whose two cells span the whole
//! sheet, DICOM frames that promise gigabytes, a basic offset table over a
//! million fragments. Tests of every layer (library calls, the CLI under
//! `ulimit -v`) and the fuzz seeds use this one catalogue, so a class is
//! described once. The builders ([`tiff`], [`dicom`], [`xlsx`], [`zip`]) are small
//! writers of just enough of each format.
//!
//! ```no_run
//! use exahealth_hostile::tiff::{self, TiffBuilder, Val};
//!
//! fn main() -> std::io::Result<()> {
//!     // A catalogued class, ready to hand to a reader under test.
//!     std::fs::write("tag-bomb.tiff", exahealth_hostile::tiff_tag_bomb())?;
//!
//!     // Or a new one: a 16 x 16 tiled RGB level in one uncompressed tile.
//!     let mut t = TiffBuilder::new();
//!     let pixels = t.block(vec![0; 16 * 16 * 3]);
//!     let at = Val::Inline(t.offset_of(pixels));
//!     t.ifd(tiff::tiled_rgb_level((16, 16), (16, 16), 1, at, Val::Inline(768)));
//!     std::fs::write("one-tile.tiff", t.build())?;
//!     Ok(())
//! }
//! ```

#![forbid(unsafe_code)]

pub mod catalogue;
pub mod dicom;
pub mod tiff;
pub mod xlsx;
pub mod zip;

pub use catalogue::*;
