//! Photometric augmentations: they change intensities of the image only
//! (the mask is untouched) and keep its element type (integer results are
//! rounded and saturated).

use ndarray::{s, Array3, Axis as NdAxis};
use rand::Rng;

use super::{chance, indent_str, AugRng, Augmentation, Range};
use crate::ops::color::nominal_max;
use crate::ops::filter::{gaussian_blur, Border};
use crate::{DataType, Image, ImageError};

/// Runs `f` on the image's samples as `[h, w, c]` floats.
fn on_image<F>(img: &mut Image, f: F) -> Result<(), ImageError>
where
    F: FnOnce(&mut Array3<f32>) -> Result<(), ImageError>,
{
    let mut a = img.to_hwc_f32()?;
    f(&mut a)?;
    *img = img.with_hwc_f32(a, img.dtype());
    Ok(())
}

/// The intensity range a "white"/"black" pixel means for `dtype`: the
/// type's range for integers, `0..1` for floats.
fn intensity_range(dtype: DataType) -> (f32, f32) {
    match dtype {
        DataType::F32 | DataType::F64 => (0.0, 1.0),
        t => (t.range().0 as f32, t.range().1 as f32),
    }
}

/// Gaussian blur with `sigma` (pixels) drawn from the range; reflect-101
/// border. One draw.
#[derive(Debug, Clone, PartialEq)]
pub struct AugGaussianBlur {
    /// The range the standard deviation (pixels) is drawn from.
    pub sigma: Range,
}

impl Augmentation for AugGaussianBlur {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let sigma = self.sigma.sample(rng);
        on_image(img, |a| {
            *a = gaussian_blur(a, sigma, sigma, Border::Reflect101);
            Ok(())
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugGaussianBlur sigma={}\n",
            indent_str(indent),
            self.sigma.text()
        ));
    }
}

/// Adds zero-mean Laplace noise whose standard deviation `std_dev` is drawn
/// from the range (ECVL suggests about `255 * 0.05` for 8-bit images), one
/// independent value per sample. Draws: `std_dev`, then one per sample in
/// row-major, channel-fastest order.
#[derive(Debug, Clone, PartialEq)]
pub struct AugAdditiveLaplaceNoise {
    /// The range the noise's standard deviation is drawn from.
    pub std_dev: Range,
}

impl Augmentation for AugAdditiveLaplaceNoise {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        // Laplace(0, b) has standard deviation b * sqrt(2).
        let b = self.std_dev.sample(rng) / std::f64::consts::SQRT_2;
        on_image(img, |a| {
            for v in a.iter_mut() {
                let u = rng.random::<f64>() - 0.5;
                let n = -b * u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln();
                *v += n as f32;
            }
            Ok(())
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugAdditiveLaplaceNoise std_dev={}\n",
            indent_str(indent),
            self.std_dev.text()
        ));
    }
}

/// One Poisson(`lambda`) sample: Knuth's product method below 30, a
/// rounded normal approximation above (where it is accurate to well under
/// one count).
fn poisson(lambda: f64, rng: &mut AugRng) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda < 30.0 {
        let l = (-lambda).exp();
        let mut k = 0u32;
        let mut p = 1.0;
        loop {
            p *= rng.random::<f64>();
            if p <= l {
                return k as f64;
            }
            k += 1;
        }
    }
    // Box-Muller.
    let (u1, u2) = (
        rng.random::<f64>().max(f64::MIN_POSITIVE),
        rng.random::<f64>(),
    );
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (lambda + lambda.sqrt() * z).round().max(0.0)
}

/// Adds Poisson(`lambda`) noise (as imgaug and ECVL: the counts themselves,
/// so the image also brightens by `lambda` on average), `lambda` drawn from
/// the range (ECVL suggests 0 to 10). Draws: `lambda`, then per sample.
#[derive(Debug, Clone, PartialEq)]
pub struct AugAdditivePoissonNoise {
    /// The range the Poisson mean is drawn from.
    pub lambda: Range,
}

impl Augmentation for AugAdditivePoissonNoise {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let lambda = self.lambda.sample(rng);
        on_image(img, |a| {
            for v in a.iter_mut() {
                *v += poisson(lambda, rng) as f32;
            }
            Ok(())
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugAdditivePoissonNoise lambda={}\n",
            indent_str(indent),
            self.lambda.text()
        ));
    }
}

/// Gamma contrast `max * (v / max)^gamma` (ECVL: `255 * (X/255)^gamma` for
/// 8-bit), generalised to the element type's range (`0..1` for floats),
/// `gamma` drawn from the range (0.5 to 2 is typical). One draw.
#[derive(Debug, Clone, PartialEq)]
pub struct AugGammaContrast {
    /// The range the exponent is drawn from.
    pub gamma: Range,
}

impl Augmentation for AugGammaContrast {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let gamma = self.gamma.sample(rng) as f32;
        let (lo, hi) = intensity_range(img.dtype());
        on_image(img, |a| {
            a.par_mapv_inplace(|v| {
                lo + (hi - lo) * ((v - lo) / (hi - lo)).clamp(0.0, 1.0).powf(gamma)
            });
            Ok(())
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugGammaContrast gamma={}\n",
            indent_str(indent),
            self.gamma.text()
        ));
    }
}

/// Divides the image into rectangles of `drop_size` (fraction of width and
/// height, drawn) and sets each to zero with probability `p` (drawn); with
/// probability `per_channel` the decision is taken per channel rather than
/// for all channels at once. Draws: `p`, `drop_size`, the per-channel coin,
/// then one per rectangle (per channel when per-channel), row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct AugCoarseDropout {
    /// The range the drop probability of each rectangle is drawn from.
    pub p: Range,
    /// The range the rectangle size (a fraction of width and height) is drawn from.
    pub drop_size: Range,
    /// The probability of deciding per channel rather than per pixel.
    pub per_channel: f64,
}

impl Augmentation for AugCoarseDropout {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let p = self.p.sample(rng);
        let size = self.drop_size.sample(rng);
        let per_channel = chance(self.per_channel, rng);
        on_image(img, |a| {
            let (h, w, c) = a.dim();
            let rw = ((w as f64 * size).ceil() as usize).clamp(1, w.max(1));
            let rh = ((h as f64 * size).ceil() as usize).clamp(1, h.max(1));
            for y0 in (0..h).step_by(rh) {
                for x0 in (0..w).step_by(rw) {
                    let (y1, x1) = ((y0 + rh).min(h), (x0 + rw).min(w));
                    if per_channel {
                        for ch in 0..c {
                            if chance(p, rng) {
                                a.slice_mut(s![y0..y1, x0..x1, ch]).fill(0.0);
                            }
                        }
                    } else if chance(p, rng) {
                        a.slice_mut(s![y0..y1, x0..x1, ..]).fill(0.0);
                    }
                }
            }
            Ok(())
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugCoarseDropout p={} drop_size={} per_channel={}\n",
            indent_str(indent),
            self.p.text(),
            self.drop_size.text(),
            self.per_channel
        ));
    }
}

/// Adds `beta` (drawn; ECVL suggests 0 to 100 for 8-bit) to every sample.
/// One draw.
#[derive(Debug, Clone, PartialEq)]
pub struct AugBrightness {
    /// The range the offset is drawn from.
    pub beta: Range,
}

impl Augmentation for AugBrightness {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let beta = self.beta.sample(rng) as f32;
        on_image(img, |a| {
            a.par_mapv_inplace(|v| v + beta);
            Ok(())
        })
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugBrightness beta={}\n",
            indent_str(indent),
            self.beta.text()
        ));
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Speckle {
    Salt,
    Pepper,
    Both,
}

/// Sets pixels to white (the element type's maximum, 1 for floats) or
/// black (0) with probability `p`; per channel or whole pixels.
fn speckle(
    img: &mut Image,
    kind: Speckle,
    p: f64,
    per_channel: bool,
    rng: &mut AugRng,
) -> Result<(), ImageError> {
    let white = nominal_max(img.dtype());
    on_image(img, |a| {
        let c = a.dim().2;
        for mut px in a.lanes_mut(NdAxis(2)) {
            let pick = |rng: &mut AugRng| -> Option<f32> {
                if !chance(p, rng) {
                    return None;
                }
                Some(match kind {
                    Speckle::Salt => white,
                    Speckle::Pepper => 0.0,
                    Speckle::Both => {
                        if rng.random::<bool>() {
                            white
                        } else {
                            0.0
                        }
                    }
                })
            };
            if per_channel {
                for ch in 0..c {
                    if let Some(v) = pick(rng) {
                        px[ch] = v;
                    }
                }
            } else if let Some(v) = pick(rng) {
                px.fill(v);
            }
        }
        Ok(())
    })
}

macro_rules! speckle_aug {
    ($name:ident, $kind:expr, $doc:literal) => {
        #[doc = $doc]
        ///
        /// `p` is drawn from its range; with probability `per_channel` each
        /// channel is decided on its own, else whole pixels. Draws: `p`, the
        /// per-channel coin, then per pixel (per channel) in row-major order.
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            /// The range the probability of each pixel (or sample) is drawn from.
            pub p: Range,
            /// The probability of deciding per channel rather than per pixel.
            pub per_channel: f64,
        }

        impl Augmentation for $name {
            fn apply(
                &self,
                img: &mut Image,
                _mask: Option<&mut Image>,
                rng: &mut AugRng,
            ) -> Result<(), ImageError> {
                let p = self.p.sample(rng);
                let per_channel = chance(self.per_channel, rng);
                speckle(img, $kind, p, per_channel, rng)
            }

            fn write_config(&self, indent: usize, out: &mut String) {
                out.push_str(&format!(
                    "{}{} p={} per_channel={}\n",
                    indent_str(indent),
                    stringify!($name),
                    self.p.text(),
                    self.per_channel
                ));
            }
        }
    };
}

speckle_aug!(
    AugSalt,
    Speckle::Salt,
    "Salt noise: random pixels become white."
);
speckle_aug!(
    AugPepper,
    Speckle::Pepper,
    "Pepper noise: random pixels become black."
);
speckle_aug!(
    AugSaltAndPepper,
    Speckle::Both,
    "Salt-and-pepper noise: random pixels become white or black (even odds)."
);

/// exahealth's addition for H&E pathology: HED stain jitter (Tellez et al.
/// 2018). The RGB image is colour-deconvolved into haematoxylin, eosin and
/// DAB; each channel is multiplied by a factor drawn from
/// `[1 - sigma, 1 + sigma]` and shifted by an offset drawn from
/// `[-bias, bias]`, then recomposed. Config: `AugHedJitter sigma=0.05
/// bias=0.05` (`bias` defaults to `sigma`). Draws: three factors, then three
/// offsets (H, E, D).
#[derive(Debug, Clone, PartialEq)]
pub struct AugHedJitter {
    /// The largest relative change of each stain's concentration.
    pub sigma: f64,
    /// The largest offset added to each stain's concentration.
    pub bias: f64,
}

impl Augmentation for AugHedJitter {
    fn apply(
        &self,
        img: &mut Image,
        _mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError> {
        let mut alpha = [1f32; 3];
        let mut beta = [0f32; 3];
        for a in &mut alpha {
            *a = (1.0 + self.sigma * (2.0 * rng.random::<f64>() - 1.0)) as f32;
        }
        for b in &mut beta {
            *b = (self.bias * (2.0 * rng.random::<f64>() - 1.0)) as f32;
        }
        *img = crate::stain::hed_jitter_image(img, alpha, beta)?;
        Ok(())
    }

    fn write_config(&self, indent: usize, out: &mut String) {
        out.push_str(&format!(
            "{}AugHedJitter sigma={} bias={}\n",
            indent_str(indent),
            self.sigma,
            self.bias
        ));
    }
}
