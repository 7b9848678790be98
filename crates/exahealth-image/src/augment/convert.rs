//! Type and range conversions: float conversion, division by 255,
//! normalisation and linear rescaling. None of them draws random numbers.

use super::{indent_str, AugRng, Augmentation};
use crate::ops::normalize::{
    normalize_image, normalize_per_channel_image, scale_from_to_image, scale_to_image,
};
use crate::{DataType, Image, ImageError};

fn to_f32_divided(img: &Image, divisor: f64) -> Result<Image, ImageError> {
    if divisor == 0.0 || !divisor.is_finite() {
        return Err(ImageError::Unsupported(format!("divide by {divisor}")));
    }
    let mut a = img.to_hwc_f32()?;
    a.par_mapv_inplace(|v| (v as f64 / divisor) as f32);
    Ok(img.with_hwc_f32(a, DataType::F32))
}

/// Converts the image to `float32` dividing by `divisor`, and the mask (if
/// any) dividing by `divisor_gt` (both default 1).
#[derive(Debug, Clone, PartialEq)]
pub struct AugToFloat32 {
    /// What the image's values are divided by.
    pub divisor: f64,
    /// What the mask's values are divided by.
    pub divisor_gt: f64,
}

impl Default for AugToFloat32 {
    fn default() -> Self {
        AugToFloat32 {
            divisor: 1.0,
            divisor_gt: 1.0,
        }
    }
}

impl Augmentation for AugToFloat32 {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        if let Some(m) = mask {
            *m = to_f32_divided(m, self.divisor_gt)?;
        }
        *img = to_f32_divided(img, self.divisor)?;
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugToFloat32 divisor={} divisor_gt={}\n",
            indent_str(indent),
            self.divisor,
            self.divisor_gt
        ));
    }
}

/// Divides image and mask by 255. Integer images become `float32` (ECVL
/// would truncate them to 0 or 1); float images keep their type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AugDivBy255;

fn div255(img: &Image) -> Result<Image, ImageError> {
    let mut a = img.to_hwc_f32()?;
    a.par_mapv_inplace(|v| v / 255.0);
    let t = if img.dtype() == DataType::F64 {
        DataType::F64
    } else {
        DataType::F32
    };
    Ok(img.with_hwc_f32(a, t))
}

impl Augmentation for AugDivBy255 {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        if let Some(m) = mask {
            *m = div255(m)?;
        }
        *img = div255(img)?;
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!("{}AugDivBy255\n", indent_str(indent)));
    }
}

/// `(v - mean) / std`, with one mean and std for all samples or one per
/// channel; image only. Integer images become `float32`.
#[derive(Debug, Clone, PartialEq)]
pub enum AugNormalize {
    /// One mean and standard deviation for every sample.
    Global {
        /// Subtracted from every sample.
        mean: f64,
        /// What the centred samples are divided by.
        std: f64,
    },
    /// One mean and standard deviation per channel.
    PerChannel {
        /// Subtracted from each channel's samples, one per channel.
        mean: Vec<f64>,
        /// What each channel's centred samples are divided by.
        std: Vec<f64>,
    },
}

fn list(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    format!("({})", items.join(","))
}

impl Augmentation for AugNormalize {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        *img = match self {
            AugNormalize::Global { mean, std } => normalize_image(img, *mean, *std)?,
            AugNormalize::PerChannel { mean, std } => normalize_per_channel_image(img, mean, std)?,
        };
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        let body = match self {
            AugNormalize::Global { mean, std } => format!("mean={mean} std={std}"),
            AugNormalize::PerChannel { mean, std } => {
                format!("mean={} std={}", list(mean), list(std))
            }
        };
        out.push_str(&format!("{}AugNormalize {body}\n", indent_str(indent)));
    }
}

/// Min-max rescaling of the image to `new_min..new_max`; image only.
/// Integer images become `float32`.
#[derive(Debug, Clone, PartialEq)]
pub struct AugScaleTo {
    /// The smallest value of the output.
    pub new_min: f64,
    /// The largest value of the output.
    pub new_max: f64,
}

impl Augmentation for AugScaleTo {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        *img = scale_to_image(img, self.new_min, self.new_max)?;
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugScaleTo new_min={} new_max={}\n",
            indent_str(indent),
            self.new_min,
            self.new_max
        ));
    }
}

/// The linear map sending `old_min..old_max` to `new_min..new_max`
/// (e.g. `0, 255, -1, 1`); image only. Integer images become `float32`.
#[derive(Debug, Clone, PartialEq)]
pub struct AugScaleFromTo {
    /// The input value that maps to `new_min`.
    pub old_min: f64,
    /// The input value that maps to `new_max`.
    pub old_max: f64,
    /// What `old_min` becomes.
    pub new_min: f64,
    /// What `old_max` becomes.
    pub new_max: f64,
}

impl Augmentation for AugScaleFromTo {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        _rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        *img = scale_from_to_image(img, self.old_min, self.old_max, self.new_min, self.new_max)?;
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugScaleFromTo old_min={} old_max={} new_min={} new_max={}\n",
            indent_str(indent),
            self.old_min,
            self.old_max,
            self.new_min,
            self.new_max
        ));
    }
}
