//! CPU kernels for convolutional networks on batched NCHW `f32` data, with
//! their backward passes: 2-D convolution, max-pooling (a fast 2x2 path
//! and any kernel, stride and padding) and batch normalisation.
//!
//! ```no_run
//! use exahealth_kernels::{conv2d, max_pool_2x2, ConvGeometry};
//!
//! fn main() -> Result<(), exahealth_kernels::KernelError> {
//!     // 8 RGB images of 32x32, 16 filters of 3x3, stride 1, padding 1 ("same").
//!     let g = ConvGeometry::new(8, 3, [32, 32], 16, [3, 3], [1, 1], [(1, 1), (1, 1)])?;
//!     let input = vec![0.5f32; g.input_len()]; // NCHW
//!     let weight = vec![0.01f32; g.weight_len()]; // [out, in, kh, kw]
//!     let output = conv2d(&input, &weight, &g)?; // [8, 16, 32, 32]
//!     assert_eq!(g.out_size, [32, 32]);
//!
//!     // Then a 2x2 max-pool over each of the 8 x 16 output planes.
//!     let pooled = max_pool_2x2(&output, g.batch * g.out_channels, g.out_size)?;
//!     assert_eq!(pooled.len(), 8 * 16 * 16 * 16);
//!     Ok(())
//! }
//! ```
//!
//! A convolution lowers each image to a column matrix (im2col: one row per
//! input channel and kernel offset, one column per output pixel) and
//! multiplies it by the weights with a GEMM; the input gradient goes back
//! through the transpose (col2im). Images run in parallel on rayon's pool,
//! each with its own column buffer, so the GEMMs themselves stay
//! single-threaded and cache-sized. With fewer images than threads, each
//! image's work is shared instead: output rows for the forward pass and the
//! weight gradient, input channels for the input gradient.
//!
//! Why this exists: Burn's Flex backend convolves and pools 2-D data
//! through its general 3-D paths; on the small CNN about half of the
//! convolution time went to that path's index arithmetic and copies around
//! the GEMM (see `docs/benchmarks.md`). Here the gather is a row copy per
//! kernel offset and output row. `exahealth-nn` plugs these kernels into
//! Burn as a backend extension; this crate knows nothing of Burn, so it
//! builds and tests in seconds.
#![deny(unsafe_code)] // not forbid: ndarray's `s!` expands to `#[allow(unsafe_code)]`

mod conv;
mod geometry;
mod im2col;
mod norm;
mod pool;
mod pool_general;

pub use conv::{conv2d, conv2d_input_grad, conv2d_weight_grad};
pub use geometry::{ConvGeometry, KernelError};
pub use norm::{
    batch_norm_stats, batch_norm_train_grad, channel_affine, norm_affine, BatchNormGrads, NormShape,
};
pub use pool::{max_pool_2x2, max_pool_2x2_grad};
pub use pool_general::{max_pool2d, max_pool2d_grad, PoolGeometry};
