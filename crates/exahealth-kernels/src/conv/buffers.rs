//! Matrix views over flat buffers, and the per-thread scratch buffers the
//! passes reuse across calls: fresh multi-megabyte buffers cost a page
//! fault per 4 KiB on every convolution.

use std::cell::RefCell;

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::geometry::KernelError;

pub(super) fn view(
    rows: usize,
    cols: usize,
    data: &[f32],
) -> Result<ArrayView2<'_, f32>, KernelError> {
    ArrayView2::from_shape((rows, cols), data).map_err(|_| KernelError::Length {
        what: "matrix",
        actual: data.len(),
        expected: rows * cols,
    })
}

pub(super) fn view_mut(
    rows: usize,
    cols: usize,
    data: &mut [f32],
) -> Result<ArrayViewMut2<'_, f32>, KernelError> {
    let actual = data.len();
    ArrayViewMut2::from_shape((rows, cols), data).map_err(|_| KernelError::Length {
        what: "matrix",
        actual,
        expected: rows * cols,
    })
}

/// A thread's reusable buffers: the column matrix and a staging matrix
/// for outputs or output gradients of a multi-image tile.
#[derive(Default)]
pub(super) struct Scratch {
    pub columns: Vec<f32>,
    pub staging: Vec<f32>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers (fresh ones if they are in
/// use further up this thread's stack).
pub(super) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => f(&mut scratch),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// The first `len` elements of `buffer`, grown if needed. Contents are
/// stale: callers overwrite what they read.
pub(super) fn prefix(buffer: &mut Vec<f32>, len: usize) -> &mut [f32] {
    if buffer.len() < len {
        buffer.resize(len, 0.0);
    }
    &mut buffer[..len]
}
