//! 2-D processing on [`crate::Image`]s and plain `ndarray` buffers.

pub mod color;
pub mod filter;
pub mod fixed;
pub mod geometry;
pub mod integral;
pub mod morphology;
pub mod normalize;
pub mod plane;
pub mod rank;
pub mod threshold;
