//! Non-rigid distortions (grid, elastic, optical), after the
//! albumentations transforms ECVL follows. Each builds one pair of sampling
//! maps and remaps image and mask with it, so they stay aligned.

use ndarray::{Array2, Array3};
use rand::Rng;

use super::geometric::on_both;
use super::{indent_str, AugRng, Augmentation, Range};
use crate::ops::filter::gaussian_blur;
use crate::ops::geometry::{remap, Border, Interpolation};
use crate::{Axis, Image, ImageError};

fn remap_both(
    img: &mut Image,
    mask: Option<&mut Image>,
    maps: &(Array2<f32>, Array2<f32>),
    interp: Interpolation,
    border: Border,
) -> Result<(), ImageError> {
    on_both(img, mask, |a, is_mask| {
        let (i, b) = if is_mask {
            (
                Interpolation::Nearest,
                match border {
                    Border::Constant(_) => Border::Constant(0.0),
                    b => b,
                },
            )
        } else {
            (interp, border)
        };
        remap(a, &maps.0, &maps.1, i, b)
    })
}

fn config_tail(interp: Interpolation, border: Border) -> String {
    format!(
        " interp=\"{}\" border_type=\"{}\" border_value={}\n",
        interp.name(),
        super::config::border_name(border),
        border.value()
    )
}

/// Splits each side into `num_steps` cells (drawn from the range, integer)
/// and stretches or shrinks each cell by `1 + d`, `d` drawn from
/// `distort_limit` per cell. Draws: the step count, then one `d` per column
/// cell, then one per row cell.
#[derive(Debug, Clone, PartialEq)]
pub struct AugGridDistortion {
    /// The range the number of cells per side is drawn from (rounded to an integer).
    pub num_steps: Range,
    /// The range each cell's stretch `d` is drawn from.
    pub distort_limit: Range,
    /// How the image is resampled (default linear); masks use nearest.
    pub interp: Interpolation,
    /// Where samples outside the image come from (default reflect-101).
    pub border: Border,
}

impl AugGridDistortion {
    /// A grid distortion with linear interpolation and reflect-101 borders.
    pub fn new(num_steps: Range, distort_limit: Range) -> AugGridDistortion {
        AugGridDistortion {
            num_steps,
            distort_limit,
            interp: Interpolation::Linear,
            border: Border::Reflect101,
        }
    }
}

/// Source coordinate for every destination coordinate along one axis.
fn grid_axis(n: usize, steps: usize, d: &[f64]) -> Vec<f32> {
    let step = n as f64 / steps as f64;
    let mut out = Vec::with_capacity(n);
    let mut prev = 0f64;
    for (i, di) in d.iter().enumerate() {
        let start = (i as f64 * step).round() as usize;
        let end = if i + 1 == steps {
            n
        } else {
            ((i as f64 + 1.0) * step).round() as usize
        };
        let len = (end - start) as f64;
        let cur = if i + 1 == steps {
            n as f64
        } else {
            prev + step * (1.0 + di)
        };
        for k in 0..(end - start) {
            out.push((prev + (cur - prev) * k as f64 / len.max(1.0)) as f32);
        }
        prev = cur;
    }
    out.truncate(n);
    out
}

impl Augmentation for AugGridDistortion {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = (img.len_of(Axis::X), img.len_of(Axis::Y));
        let lo = self.num_steps.min.round().max(1.0) as usize;
        let hi = (self.num_steps.max.round() as usize).max(lo);
        let steps = rng.random_range(lo..=hi);
        let dx: Vec<f64> = (0..steps).map(|_| self.distort_limit.sample(rng)).collect();
        let dy: Vec<f64> = (0..steps).map(|_| self.distort_limit.sample(rng)).collect();
        let gx = grid_axis(w, steps, &dx);
        let gy = grid_axis(h, steps, &dy);
        let map_x = Array2::from_shape_fn((h, w), |(_, x)| gx[x]);
        let map_y = Array2::from_shape_fn((h, w), |(y, _)| gy[y]);
        remap_both(img, mask, &(map_x, map_y), self.interp, self.border)
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugGridDistortion num_steps={} distort_limit={}{}",
            indent_str(indent),
            self.num_steps.text(),
            self.distort_limit.text(),
            config_tail(self.interp, self.border)
        ));
    }
}

/// Elastic deformation (Simard et al. 2003): two fields of uniform noise in
/// `[-1, 1]` per pixel, Gaussian-smoothed with `sigma` and scaled by
/// `alpha`, displace every pixel. Draws: `alpha`, `sigma`, then the x field
/// and the y field in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct AugElasticTransform {
    /// The range the displacement scale is drawn from.
    pub alpha: Range,
    /// The range the Gaussian smoothing's standard deviation is drawn from.
    pub sigma: Range,
    /// How the image is resampled (default linear); masks use nearest.
    pub interp: Interpolation,
    /// Where samples outside the image come from (default reflect-101).
    pub border: Border,
}

impl AugElasticTransform {
    /// An elastic transform with linear interpolation and reflect-101 borders.
    pub fn new(alpha: Range, sigma: Range) -> AugElasticTransform {
        AugElasticTransform {
            alpha,
            sigma,
            interp: Interpolation::Linear,
            border: Border::Reflect101,
        }
    }
}

impl Augmentation for AugElasticTransform {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = (img.len_of(Axis::X), img.len_of(Axis::Y));
        let alpha = self.alpha.sample(rng) as f32;
        let sigma = self.sigma.sample(rng);
        let mut field = || {
            let noise = Array3::from_shape_simple_fn((h, w, 1), || rng.random::<f32>() * 2.0 - 1.0);
            gaussian_blur(&noise, sigma, sigma, Border::Reflect101)
        };
        let fx = field();
        let fy = field();
        let map_x = Array2::from_shape_fn((h, w), |(y, x)| x as f32 + alpha * fx[[y, x, 0]]);
        let map_y = Array2::from_shape_fn((h, w), |(y, x)| y as f32 + alpha * fy[[y, x, 0]]);
        remap_both(img, mask, &(map_x, map_y), self.interp, self.border)
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugElasticTransform alpha={} sigma={}{}",
            indent_str(indent),
            self.alpha.text(),
            self.sigma.text(),
            config_tail(self.interp, self.border)
        ));
    }
}

/// Barrel (k < 0) or pincushion (k > 0) lens distortion: with the optical
/// centre shifted by (`dx`, `dy`) pixels (drawn from `shift_limit`, rounded)
/// and focal lengths equal to the image width and height, destination
/// pixel at normalised radius `r` samples the source at radius
/// `r (1 + k r^2 + k r^4)`, `k` drawn from `distort_limit` (OpenCV's
/// undistortion map with coefficients `[k, k, 0, 0, 0]`, as albumentations).
/// Draws: `k`, `dx`, `dy`.
#[derive(Debug, Clone, PartialEq)]
pub struct AugOpticalDistortion {
    /// The range the distortion coefficient `k` is drawn from.
    pub distort_limit: Range,
    /// The range the centre shifts `dx`, `dy` are drawn from.
    pub shift_limit: Range,
    /// How the image is resampled (default linear); masks use nearest.
    pub interp: Interpolation,
    /// Where samples outside the image come from (default reflect-101).
    pub border: Border,
}

impl AugOpticalDistortion {
    /// An optical distortion with linear interpolation and reflect-101 borders.
    pub fn new(distort_limit: Range, shift_limit: Range) -> AugOpticalDistortion {
        AugOpticalDistortion {
            distort_limit,
            shift_limit,
            interp: Interpolation::Linear,
            border: Border::Reflect101,
        }
    }
}

impl Augmentation for AugOpticalDistortion {
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let (w, h) = (img.len_of(Axis::X), img.len_of(Axis::Y));
        let k = self.distort_limit.sample(rng);
        let dx = self.shift_limit.sample(rng).round();
        let dy = self.shift_limit.sample(rng).round();
        let (fx, fy) = (w as f64, h as f64);
        let (cx, cy) = (w as f64 * 0.5 + dx, h as f64 * 0.5 + dy);
        let mut map_x = Array2::<f32>::zeros((h, w));
        let mut map_y = Array2::<f32>::zeros((h, w));
        for y in 0..h {
            for x in 0..w {
                let (nx, ny) = ((x as f64 - cx) / fx, (y as f64 - cy) / fy);
                let r2 = nx * nx + ny * ny;
                let f = 1.0 + k * r2 + k * r2 * r2;
                map_x[[y, x]] = (nx * f * fx + cx) as f32;
                map_y[[y, x]] = (ny * f * fy + cy) as f32;
            }
        }
        remap_both(img, mask, &(map_x, map_y), self.interp, self.border)
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugOpticalDistortion distort_limit={} shift_limit={}{}",
            indent_str(indent),
            self.distort_limit.text(),
            self.shift_limit.text(),
            config_tail(self.interp, self.border)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undistorted_grid_is_identity() {
        let g = grid_axis(10, 5, &[0.0; 5]);
        let want: Vec<f32> = (0..10).map(|v| v as f32).collect();
        assert_eq!(g, want);
    }
}
