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

#![forbid(unsafe_code)]

pub mod catalogue;
pub mod dicom;
pub mod tiff;
pub mod xlsx;
pub mod zip;

pub use catalogue::*;
