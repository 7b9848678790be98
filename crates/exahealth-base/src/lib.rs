//! What every exahealth crate shares, and nothing else.
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
