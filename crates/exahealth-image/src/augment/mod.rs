//! Data augmentation with ECVL's names, parameters and semantics, plus
//! ECVL's text configuration syntax.
//!
//! Every augmentation implements [`Augmentation`]: it changes an image in
//! place and, when given one, its ground-truth mask. Geometric augmentations
//! (rotate, resize, flip, mirror, transpose, crops, grid/elastic/optical
//! distortion) apply the *same* transform to image and mask, the mask always
//! with nearest-neighbour sampling so labels stay labels (ECVL's
//! `gt_interp`); photometric ones (blur, noise, gamma, brightness, dropout,
//! salt/pepper, normalisation, stain jitter) leave the mask alone.
//! [`AugToFloat32`] and [`AugDivBy255`] convert both, as in ECVL.
//!
//! # Randomness and reproducibility
//!
//! All randomness comes from the [`AugRng`] passed to `apply`: a ChaCha8
//! generator from `rand_chacha` 0.9, whose output for a given seed is fixed
//! across platforms and releases. The same seed, pipeline and input give
//! bit-identical output. [`rng_for_sample`] derives an independent stream
//! per (seed, epoch, sample) so parallel loaders reproduce whatever the
//! thread scheduling. Ranges `[min, max]` are sampled uniformly; each
//! augmentation documents the order of its draws.
//!
//! # Configuration text
//!
//! [`parse_config`] reads ECVL's syntax, one augmentation per line,
//! containers closed by `end`:
//!
//! ```text
//! SequentialAugmentationContainer
//!     AugRotate angle=[-5,5] center=(0,0) interp="linear"
//!     OneOfAugmentationContainer p=0.5
//!         AugGammaContrast gamma=[0.5,1.5]
//!         AugBrightness beta=[0,30]
//!     end
//!     AugToFloat32 divisor=255
//! end
//! ```
//!
//! Parameter values are ranges `[a,b]`, vectors `(a,b,...)`, strings
//! `"..."` or numbers; `#` starts a comment. [`to_config`] writes a
//! pipeline back in the same syntax. Errors name the line.
//!
//! exahealth adds `AugHedJitter` (HED stain jitter for H&E pathology,
//! see [`AugHedJitter`]), usable in the same containers.

mod config;
mod container;
mod convert;
mod distort;
mod geometric;
mod photometric;

use rand::{Rng, SeedableRng};

pub use config::{parse_config, to_config, ConfigError};
pub use container::{OneOfAugmentationContainer, SequentialAugmentationContainer};
pub use convert::{AugDivBy255, AugNormalize, AugScaleFromTo, AugScaleTo, AugToFloat32};
pub use distort::{AugElasticTransform, AugGridDistortion, AugOpticalDistortion};
pub use geometric::{
    AugCenterCrop, AugFlip, AugMirror, AugRandomCrop, AugResizeDim, AugResizeScale, AugRotate,
    AugTranspose,
};
pub use photometric::{
    AugAdditiveLaplaceNoise, AugAdditivePoissonNoise, AugBrightness, AugCoarseDropout,
    AugGammaContrast, AugGaussianBlur, AugHedJitter, AugPepper, AugSalt, AugSaltAndPepper,
};

use crate::{Axis, Image, ImageError};

/// The largest image (width x height) an augmentation will create, so a
/// typo in a configuration cannot exhaust memory (16384 x 16384).
pub const MAX_OUTPUT_PIXELS: usize = 1 << 28;

/// The random generator every augmentation draws from (ChaCha8, seedable,
/// portable).
pub type AugRng = rand_chacha::ChaCha8Rng;

/// A generator seeded with `seed`.
pub fn rng_from_seed(seed: u64) -> AugRng {
    AugRng::seed_from_u64(seed)
}

/// An independent generator for sample `index` of `epoch` under `seed`:
/// same inputs, same stream, regardless of which thread asks.
///
/// The 256-bit ChaCha key holds `seed` and `epoch` verbatim and the stream
/// number is `index`, so distinct triples never share a stream.
pub fn rng_for_sample(seed: u64, epoch: u64, index: u64) -> AugRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&epoch.to_le_bytes());
    let mut rng = AugRng::from_seed(key);
    rng.set_stream(index);
    rng
}

/// One augmentation (or a container of them).
pub trait Augmentation: Send + Sync + std::fmt::Debug {
    /// Augments `img` in place and, for geometric augmentations, `mask`
    /// identically. Errors for images the augmentation cannot take (e.g. 3-D
    /// volumes, or a mask whose size differs from the image's).
    fn apply(
        &self,
        img: &mut Image,
        mask: Option<&mut Image>,
        rng: &mut AugRng,
    ) -> Result<(), ImageError>;

    /// Appends this augmentation in ECVL's configuration syntax, indented by
    /// `indent` levels, ending with a newline.
    fn write_config(&self, indent: usize, out: &mut String);
}

/// A uniformly sampled parameter range `[min, max]` (ECVL's
/// `AugmentationParam`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// The smallest value drawn.
    pub min: f64,
    /// The largest value drawn.
    pub max: f64,
}

impl Range {
    /// `[min, max]`; errors when `min > max` or a bound is not finite.
    pub fn new(min: f64, max: f64) -> Result<Range, ImageError> {
        if !(min.is_finite() && max.is_finite() && min <= max) {
            return Err(ImageError::Unsupported(format!(
                "bad range [{min}, {max}]: need finite min <= max"
            )));
        }
        Ok(Range { min, max })
    }

    /// One uniform draw.
    pub fn sample(&self, rng: &mut AugRng) -> f64 {
        self.min + (self.max - self.min) * rng.random::<f64>()
    }

    fn text(&self) -> String {
        format!("[{},{}]", self.min, self.max)
    }
}

/// True with probability `p` (one draw).
fn chance(p: f64, rng: &mut AugRng) -> bool {
    rng.random::<f64>() < p
}

/// Errors unless `mask` covers the same pixels as `img`.
fn check_mask(img: &Image, mask: &Image) -> Result<(), ImageError> {
    let (iw, ih) = (img.len_of(Axis::X), img.len_of(Axis::Y));
    let (mw, mh) = (mask.len_of(Axis::X), mask.len_of(Axis::Y));
    if (iw, ih) != (mw, mh) {
        return Err(ImageError::Unsupported(format!(
            "the mask is {mw}x{mh} but the image is {iw}x{ih}; a geometric augmentation needs them aligned"
        )));
    }
    Ok(())
}

fn indent_str(indent: usize) -> String {
    "    ".repeat(indent)
}
