//! Geometric augmentations: the same transform on image and mask (mask
//! sampled with `gt_interp`, nearest by default).

use rand::Rng;

use super::{chance, check_mask, indent_str, AugRng, Augmentation, Range};
use crate::ops::geometry::{
    crop, flip_image, mirror_image, resize, rotate, transpose_image, Border, Interpolation,
};
use crate::{Axis, Image, ImageError};

/// Runs `f` on the image (as `[h, w, c]` floats, `is_mask = false`) and,
/// after checking alignment, on the mask (`is_mask = true`); element types
/// are kept.
pub(super) fn on_both<F>(img: &mut Image, mask: Option<&mut Image>, f: F) -> Result<(), ImageError>
where
    F: Fn(&ndarray::Array3<f32>, bool) -> Result<ndarray::Array3<f32>, ImageError>,
{
    if let Some(m) = mask {
        check_mask(img, m)?;
        let a = m.to_hwc_f32()?;
        *m = m.with_hwc_f32(f(&a, true)?, m.dtype());
    }
    let a = img.to_hwc_f32()?;
    *img = img.with_hwc_f32(f(&a, false)?, img.dtype());
    Ok(())
}

/// Exact rearrangements (flip, mirror, transpose) on image and mask.
fn rearrange_both(
    img: &mut Image,
    mask: Option<&mut Image>,
    f: fn(&Image) -> Result<Image, ImageError>,
) -> Result<(), ImageError> {
    if let Some(m) = mask {
        check_mask(img, m)?;
        *m = f(m)?;
    }
    *img = f(img)?;
    Ok(())
}

fn size_of(img: &Image) -> (usize, usize) {
    (img.len_of(Axis::X), img.len_of(Axis::Y))
}

/// Rotation by a random angle (degrees, clockwise, ECVL's `Rotate2D`)
/// drawn from `angle`, about `center` (default: image centre), zoomed by
/// `scale`; pixels from outside are 0. One draw: the angle.
#[derive(Debug, Clone, PartialEq)]
pub struct AugRotate {
    /// The range the angle (degrees, clockwise) is drawn from.
    pub angle: Range,
    /// The centre of rotation (x, y) in pixels; `None` is the image centre.
    pub center: Option<(f64, f64)>,
    /// The zoom applied with the rotation (1 is none).
    pub scale: f64,
    /// How the image is resampled (default linear).
    pub interp: Interpolation,
    /// How the mask is resampled (default nearest).
    pub gt_interp: Interpolation,
}

impl AugRotate {
    /// A rotation about the image centre, no zoom, linear for the image and nearest for the mask.
    pub fn new(angle: Range) -> AugRotate {
        AugRotate {
            angle,
            center: None,
            scale: 1.0,
            interp: Interpolation::Linear,
            gt_interp: Interpolation::Nearest,
        }
    }
}

impl Augmentation for AugRotate {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let angle = self.angle.sample(rng);
        on_both(img, mask, |a, is_mask| {
            let interp = if is_mask { self.gt_interp } else { self.interp };
            Ok(rotate(
                a,
                angle,
                self.center,
                self.scale,
                interp,
                Border::Constant(0.0),
            ))
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugRotate angle={}",
            indent_str(indent),
            self.angle.text()
        ));
        if let Some((x, y)) = self.center {
            out.push_str(&format!(" center=({x},{y})"));
        }
        out.push_str(&format!(
            " scale={} interp=\"{}\" gt_interp=\"{}\"\n",
            self.scale,
            self.interp.name(),
            self.gt_interp.name()
        ));
    }
}

/// Resize to fixed `dims` = (width, height). No draws.
#[derive(Debug, Clone, PartialEq)]
pub struct AugResizeDim {
    /// The output size (width, height).
    pub dims: (usize, usize),
    /// How the image is resampled.
    pub interp: Interpolation,
    /// How the mask is resampled.
    pub gt_interp: Interpolation,
}

impl Augmentation for AugResizeDim {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = self.dims;
        on_both(img, mask, |a, is_mask| {
            resize(a, h, w, if is_mask { self.gt_interp } else { self.interp })
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugResizeDim dims=({},{}) interp=\"{}\" gt_interp=\"{}\"\n",
            indent_str(indent),
            self.dims.0,
            self.dims.1,
            self.interp.name(),
            self.gt_interp.name()
        ));
    }
}

/// Resize by factors `scale` = (x, y); new sizes round to the nearest
/// pixel (at least 1). No draws.
#[derive(Debug, Clone, PartialEq)]
pub struct AugResizeScale {
    /// The factors (x, y) the width and height are multiplied by.
    pub scale: (f64, f64),
    /// How the image is resampled.
    pub interp: Interpolation,
    /// How the mask is resampled.
    pub gt_interp: Interpolation,
}

impl Augmentation for AugResizeScale {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = size_of(img);
        let nw = ((w as f64 * self.scale.0).round() as usize).max(1);
        let nh = ((h as f64 * self.scale.1).round() as usize).max(1);
        if nw.saturating_mul(nh) > super::MAX_OUTPUT_PIXELS {
            return Err(ImageError::Unsupported(format!(
                "AugResizeScale would make a {nw}x{nh} image"
            )));
        }
        on_both(img, mask, |a, is_mask| {
            resize(
                a,
                nh,
                nw,
                if is_mask { self.gt_interp } else { self.interp },
            )
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugResizeScale scale=({},{}) interp=\"{}\" gt_interp=\"{}\"\n",
            indent_str(indent),
            self.scale.0,
            self.scale.1,
            self.interp.name(),
            self.gt_interp.name()
        ));
    }
}

macro_rules! prob_aug {
    ($name:ident, $op:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            /// The probability of applying the flip.
            pub p: f64,
        }

        impl Default for $name {
            fn default() -> Self {
                $name { p: 0.5 }
            }
        }

        impl Augmentation for $name {
            fn apply(
                &self,
                img: &mut Image,
                mask: Option<&mut Image>,
                rng: &mut AugRng,
            ) -> Result<(), ImageError> {
                if chance(self.p, rng) {
                    rearrange_both(img, mask, $op)?;
                }
                Ok(())
            }

            fn write_config(&self, indent: usize, out: &mut String) {
                out.push_str(&format!(
                    "{}{} p={}\n",
                    indent_str(indent),
                    stringify!($name),
                    self.p
                ));
            }
        }
    };
}

prob_aug!(
    AugFlip,
    flip_image,
    "Upside-down flip (ECVL's `Flip2D`) with probability `p` (default 0.5). One draw."
);
prob_aug!(
    AugMirror,
    mirror_image,
    "Left-right mirror (ECVL's `Mirror2D`) with probability `p` (default 0.5). One draw."
);
prob_aug!(
    AugTranspose,
    transpose_image,
    "Swap rows and columns with probability `p` (default 0.5). One draw."
);

/// The centred `size` = (width, height) window; errors if the image is
/// smaller. No draws.
#[derive(Debug, Clone, PartialEq)]
pub struct AugCenterCrop {
    /// The window size (width, height).
    pub size: (usize, usize),
}

impl Augmentation for AugCenterCrop {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = size_of(img);
        let (cw, ch) = self.size;
        if cw > w || ch > h || cw == 0 || ch == 0 {
            return Err(ImageError::Unsupported(format!(
                "AugCenterCrop to {cw}x{ch} on a {w}x{h} image"
            )));
        }
        let (x, y) = ((w - cw) / 2, (h - ch) / 2);
        on_both(img, mask, |a, _| {
            Ok(crop(
                a,
                x as isize,
                y as isize,
                cw,
                ch,
                Border::Constant(0.0),
            ))
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugCenterCrop size=({},{})\n",
            indent_str(indent),
            self.size.0,
            self.size.1
        ));
    }
}

/// A `size` = (width, height) window at a random position. Where the image
/// is smaller than the window it is placed at a random position inside it
/// and the rest comes from `border` (constant `border_value` by default;
/// masks get 0 for constant borders). Draws: x offset, then y offset.
#[derive(Debug, Clone, PartialEq)]
pub struct AugRandomCrop {
    /// The window size (width, height).
    pub size: (usize, usize),
    /// Where the pixels of a window larger than the image come from (default constant 0).
    pub border: Border,
}

impl AugRandomCrop {
    /// A random crop with a constant 0 border.
    pub fn new(size: (usize, usize)) -> AugRandomCrop {
        AugRandomCrop {
            size,
            border: Border::Constant(0.0),
        }
    }
}

fn random_offset(n: usize, window: usize, rng: &mut AugRng) -> isize {
    if n >= window {
        rng.random_range(0..=(n - window)) as isize
    } else {
        -(rng.random_range(0..=(window - n)) as isize)
    }
}

impl Augmentation for AugRandomCrop {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = size_of(img);
        let (cw, ch) = self.size;
        if cw == 0 || ch == 0 {
            return Err(ImageError::Unsupported(
                "AugRandomCrop to an empty size".into(),
            ));
        }
        let x = random_offset(w, cw, rng);
        let y = random_offset(h, ch, rng);
        on_both(img, mask, |a, is_mask| {
            let border = match self.border {
                Border::Constant(_) if is_mask => Border::Constant(0.0),
                b => b,
            };
            Ok(crop(a, x, y, cw, ch, border))
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugRandomCrop size=({},{}) border_type=\"{}\" border_value={}\n",
            indent_str(indent),
            self.size.0,
            self.size.1,
            super::config::border_name(self.border),
            self.border.value()
        ));
    }
}
