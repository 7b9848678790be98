//! Fixed-point kernels for 8-bit interleaved images (`[height, width,
//! channels]` bytes, row-major): resize, Gaussian blur, RGB to gray,
//! histograms and thresholds.
//!
//! The float paths in [`super::geometry`] and [`super::filter`] convert
//! every sample to `f32` and back; for 8-bit data that costs more than the
//! arithmetic. These kernels keep samples as bytes, compute in 16/32-bit
//! integers with weights quantised to a fixed number of fractional bits
//! (as OpenCV does for 8-bit images), and work in bands of output rows so
//! each band's intermediate rows stay in cache and bands run in parallel.
//! Results match the float paths to within one grey level (two for cubic);
//! the Gaussian equals OpenCV's 8-bit Gaussian exactly.
//!
//! Every sum is bounded to fit its integer type (each kernel says why), so
//! the inner loops use wrapping arithmetic: with overflow checks on (test
//! builds) a checked add per sample would stop them vectorising. Hot
//! loops are compiled for AVX2 and SSE4.1 as well as the baseline and
//! picked at run time (`multiversion`). The resize kernels that must
//! gather (each output pixel reads its own window) are written with
//! explicit AVX2 shuffles and multiply-adds in `resize_avx2`, through
//! pulp's safe wrappers; CPUs without AVX2 run the portable loops.
//!
//! The `*_image` functions in `geometry`, `filter` and `color` route 8-bit
//! images here automatically; call these directly to skip the `Image`
//! wrapper.

use std::borrow::Cow;
use std::collections::VecDeque;

use crate::{Hwc, Image, ImageData, ImageError};

mod buffer;
mod gaussian;
mod gray;
mod resize;
#[cfg(target_arch = "x86_64")]
mod resize_avx2;

pub use gaussian::{gaussian_blur_u8, MAX_SIGMA};
pub use gray::{histogram_u8, rgb_to_gray_u8, threshold_u8};
pub use resize::resize_u8;

/// Interleaved 8-bit samples (borrowed or owned) and their shape.
pub(crate) type ImageBytes<'a> = (Cow<'a, [u8]>, Hwc);

/// An 8-bit 2-D image's samples as interleaved `[height, width, channels]`
/// bytes (borrowed when already stored so), or `None` for other element
/// types.
pub(crate) fn image_bytes(img: &Image) -> Result<Option<ImageBytes<'_>>, ImageError> {
    if img.dtype() != crate::DataType::U8 {
        return Ok(None);
    }
    if let Some((s, dims)) = img.hwc_u8_slice() {
        return Ok(Some((Cow::Borrowed(s), dims)));
    }
    let ImageData::U8(a) = img.to_hwc_data()? else {
        return Ok(None);
    };
    let dims = (a.shape()[0], a.shape()[1], a.shape()[2]);
    Ok(Some((Cow::Owned(a.into_raw_vec_and_offset().0), dims)))
}

/// `bytes` (`[height, width, channels]`) as an 8-bit image with `like`'s
/// spacing, colour and metadata.
pub(crate) fn bytes_image(
    like: &Image,
    bytes: Vec<u8>,
    (h, w, c): (usize, usize, usize),
) -> Result<Image, ImageError> {
    let a = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[h, w, c]), bytes)
        .map_err(|e| ImageError::Unsupported(format!("8-bit kernel produced a bad buffer: {e}")))?;
    like.with_hwc_data(ImageData::U8(a))
}

/// Output rows per parallel band: enough work per task to amortise the
/// band's overlap rows, few enough bands to balance two to 64 cores.
fn band_rows(out_h: usize) -> usize {
    let threads = rayon::current_num_threads().max(1);
    out_h.div_ceil(threads * 8).clamp(8, 256)
}

/// The horizontally filtered source rows a band of output rows reads,
/// each computed once as the band walks down: rows below the window are
/// dropped (their buffers reused), rows above it are computed on demand.
/// Keeps the working set at a few rows, inside the cache.
struct RowWindow<T> {
    rows: VecDeque<(usize, Vec<T>)>,
    spare: Vec<Vec<T>>,
    len: usize,
}

impl<T: Copy + Default> RowWindow<T> {
    fn new(len: usize) -> Self {
        RowWindow {
            rows: VecDeque::new(),
            spare: Vec::new(),
            len,
        }
    }

    /// Makes rows `lo..=hi` available; `lo` and `hi` never decrease from
    /// one call to the next.
    fn advance(&mut self, lo: usize, hi: usize, mut compute: impl FnMut(usize, &mut [T])) {
        while self.rows.front().is_some_and(|(i, _)| *i < lo) {
            if let Some((_, buf)) = self.rows.pop_front() {
                self.spare.push(buf);
            }
        }
        let mut next = self.rows.back().map_or(lo, |(i, _)| i + 1).max(lo);
        while next <= hi {
            let mut buf = self
                .spare
                .pop()
                .unwrap_or_else(|| vec![T::default(); self.len]);
            compute(next, &mut buf);
            self.rows.push_back((next, buf));
            next += 1;
        }
    }

    /// Row `i`, which the last [`RowWindow::advance`] made available.
    fn row(&self, i: usize) -> &[T] {
        let first = self.rows.front().map_or(0, |(f, _)| *f);
        &self.rows[i - first].1
    }
}
