//! What every exahealth crate shares, and nothing else.
//!
//! ```no_run
//! use exahealth_base::{budget, durable};
//! use std::io::Write;
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // A header promises a 40,000 x 30,000 RGB frame: ask before allocating.
//!     let (width, height) = (40_000u64, 30_000u64);
//!     let len = budget::bytes_for(format!("a {width} x {height} RGB frame"), &[width, height], 3)?;
//!     let pixels = vec![0u8; len];
//!
//!     // Readers see the old file or the new one, never half of it.
//!     durable::write("frame.rgb".as_ref(), &pixels)?;
//!
//!     // Or stream into the file and commit at the end.
//!     let mut out = durable::DurableFile::create("frame.txt".as_ref())?;
//!     writeln!(out, "{width} {height}")?;
//!     out.commit()?;
//!     Ok(())
//! }
//! ```
//!
//! - [`durable`]: the workspace's one way to write a file that matters
//!   (unique temporary created with `create_new`, fsync, rename, fsync of
//!   the folder), so a reader sees the old file or the new one, never a torn
//!   one, even after a power cut.
//! - [`budget`]: the most memory any single decode may allocate. Every
//!   decoder computes its output size from header fields with checked
//!   arithmetic and asks the budget before it allocates, so a few-kilobyte
//!   file cannot ask for gigabytes.
//! - [`testdata`]: where the shared real-file test data lives, and whether a
//!   test may skip without it (never under CI).
//!
//! No dependencies beyond `thiserror` and `tracing`; no `unsafe`.

#![forbid(unsafe_code)]

pub mod budget;
pub mod durable;
pub mod testdata;

pub use budget::BudgetError;
