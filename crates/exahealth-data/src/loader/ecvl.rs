//! ECVL augmentation pipelines from `exahealth-image` as loader transforms.

use super::augment::{SampleRng, Transform};
use super::{Sample, Target};
use exahealth_image::augment::Augmentation;
use exahealth_image::{ColorType, Image};
use ndarray::{Array3, Axis};
use std::sync::Arc;

/// Runs an ECVL augmentation (or container, e.g. from
/// `exahealth_image::augment::parse_config`) on each sample: geometric
/// steps move image and mask together, photometric ones touch the image
/// only. The loader's images are floats in 0..=1, so photometric parameters
/// are on that scale (e.g. `AugBrightness beta=[-0.1,0.1]`, not 0..100).
pub fn ecvl_transform(aug: Arc<dyn Augmentation>) -> Transform {
    Arc::new(move |s: &mut Sample, rng: &mut SampleRng| {
        let image = std::mem::replace(&mut s.image, Array3::zeros((0, 0, 0)));
        let color = match image.dim().2 {
            1 => ColorType::Gray,
            3 => ColorType::Rgb,
            4 => ColorType::Rgba,
            _ => ColorType::None,
        };
        let mut img = Image::from_hwc_f32(image, color)?;
        match &mut s.target {
            Target::Mask(m) => {
                let taken = std::mem::replace(m, ndarray::Array2::zeros((0, 0)));
                let mut mask = Image::from_hwc_f32(taken.insert_axis(Axis(2)), ColorType::Gray)?;
                aug.apply(&mut img, Some(&mut mask), rng)?;
                *m = mask.to_hwc_f32()?.index_axis_move(Axis(2), 0);
            }
            _ => aug.apply(&mut img, None, rng)?,
        }
        s.image = img.to_hwc_f32()?;
        Ok(())
    })
}
