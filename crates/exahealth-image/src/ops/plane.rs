//! [`Image`] wrappers for the 8-bit single-plane operations (thresholds,
//! Otsu, morphology, hole filling): colour images go through luma first,
//! and results are gray 8-bit images with the input's spacing.

use ndarray::Array2;

use super::morphology::{self, Element};
use super::threshold;
use crate::{ColorType, Image, ImageData, ImageError};

/// An 8-bit 2-D image as one `[height, width]` plane: gray images as they
/// are, RGB and RGBA through BT.601 luma. Other element types and channel
/// counts are refused (cast or convert first).
pub fn gray_plane(img: &Image) -> Result<Array2<u8>, ImageError> {
    let gray = match img.color() {
        ColorType::Rgb | ColorType::Rgba => super::color::convert_color(img, ColorType::Gray)?,
        _ => img.clone(),
    };
    if gray.dtype() != crate::DataType::U8 {
        return Err(ImageError::Unsupported(format!(
            "this operation needs 8-bit samples, the image holds {}; cast it first",
            img.dtype().name()
        )));
    }
    let (h, w, c) = (
        gray.len_of(crate::Axis::Y),
        gray.len_of(crate::Axis::X),
        gray.len_of(crate::Axis::C),
    );
    if c != 1 {
        return Err(ImageError::Unsupported(format!(
            "this operation needs one channel (or RGB/RGBA), the image has {c}"
        )));
    }
    // Stored y-major already (what the luma conversion returns): take the
    // buffer as it is rather than copying it.
    let stored = gray.hwc_u8_slice().is_some();
    let data = if stored {
        gray.into_data()
    } else {
        gray.to_hwc_data()?
    };
    let ImageData::U8(a) = data else {
        return Err(ImageError::Unsupported("8-bit plane expected".into()));
    };
    a.into_shape_with_order((h, w))
        .map_err(|e| ImageError::Unsupported(format!("plane re-layout failed: {e}")))
}

/// A `[height, width]` plane as a gray image carrying `like`'s spacing and metadata.
fn plane_image(like: &Image, plane: Array2<u8>) -> Result<Image, ImageError> {
    let (h, w) = plane.dim();
    let data = plane
        .into_shape_with_order((h, w, 1))
        .map_err(|e| ImageError::Unsupported(format!("plane re-layout failed: {e}")))?;
    let mut out = like.with_hwc_data(ImageData::U8(data.into_dyn()))?;
    out.set_color(ColorType::Gray);
    Ok(out)
}

/// Binary mask (255 where the plane is above `t`, else 0).
pub fn threshold_image(img: &Image, t: u8) -> Result<Image, ImageError> {
    let plane = gray_plane(img)?;
    let mask = bytes_to_plane(&plane, |s| super::fixed::threshold_u8(s, t))?;
    plane_image(img, mask)
}

/// Otsu's threshold of the plane and the binary mask it gives.
pub fn otsu_image(img: &Image) -> Result<(u8, Image), ImageError> {
    let plane = gray_plane(img)?;
    let t = threshold::otsu_from_histogram(&histogram(&plane));
    let mask = bytes_to_plane(&plane, |s| super::fixed::threshold_u8(s, t))?;
    Ok((t, plane_image(img, mask)?))
}

/// Multi-Otsu thresholds of the plane and its class map (0..classes).
pub fn multi_otsu_image(img: &Image, classes: usize) -> Result<(Vec<u8>, Image), ImageError> {
    let plane = gray_plane(img)?;
    let t = threshold::multi_otsu_from_histogram(&histogram(&plane), classes)?;
    let labels = threshold::apply_thresholds(plane.view(), &t);
    Ok((t, plane_image(img, labels)?))
}

/// Which morphological operation [`morphology_image`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Morphology {
    /// Minimum over the structuring element: shrinks foreground.
    Erode,
    /// Maximum over the structuring element: grows foreground.
    Dilate,
    /// Erode then dilate: removes specks.
    Open,
    /// Dilate then erode: fills small holes.
    Close,
}

/// Erosion, dilation, opening or closing of the plane with `element`.
pub fn morphology_image(
    img: &Image,
    op: Morphology,
    element: Element,
) -> Result<Image, ImageError> {
    let plane = gray_plane(img)?;
    let v = plane.view();
    let out = match op {
        Morphology::Erode => morphology::erode(v, element),
        Morphology::Dilate => morphology::dilate(v, element),
        Morphology::Open => morphology::open(v, element),
        Morphology::Close => morphology::close(v, element),
    };
    plane_image(img, out)
}

/// Holes of a binary plane (nonzero = foreground) filled.
pub fn fill_holes_image(img: &Image) -> Result<Image, ImageError> {
    let plane = gray_plane(img)?;
    plane_image(img, morphology::fill_holes(plane.view()))
}

fn histogram(plane: &Array2<u8>) -> [u64; 256] {
    match plane.as_slice() {
        Some(s) => super::fixed::histogram_u8(s),
        None => threshold::histogram(plane.view()),
    }
}

fn bytes_to_plane(
    plane: &Array2<u8>,
    f: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<Array2<u8>, ImageError> {
    let bytes = super::filter::contiguous(plane);
    Array2::from_shape_vec(plane.dim(), f(&bytes))
        .map_err(|e| ImageError::Unsupported(format!("mask re-layout failed: {e}")))
}
