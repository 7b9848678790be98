//! Stain tools for H&E histopathology: HED colour jitter (augmentation)
//! and stain normalisation by Macenko and by Reinhard, each fitted on a
//! reference image and applied to others.
//!
//! Arrays are RGB `[height, width, 3]` `f32` on the 8-bit scale `0..=255`;
//! the [`Image`] methods rescale other element types through
//! [`crate::ops::color::nominal_max`] and keep the input's element type.
//!
//! - Macenko et al., "A method for normalizing histology slides for
//!   quantitative analysis", ISBI 2009: stain vectors are the extreme
//!   angles of tissue optical densities projected on their two main axes.
//! - Reinhard et al., "Color transfer between images", 2001: match each
//!   channel's mean and standard deviation in a perceptual colour space
//!   (here CIE L*a*b*).
//! - HED jitter (Tellez et al., 2018): scale and shift each channel of the
//!   colour-deconvolved haematoxylin/eosin/DAB image.

use ndarray::{Array3, Axis as NdAxis, Zip};
use thiserror::Error;

use crate::ops::color::{hed_to_rgb, lab_to_rgb, nominal_max, rgb_to_hed, rgb_to_lab};
use crate::{ColorType, Image, ImageError};

/// Why a stain model could not be fitted or applied.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StainError {
    #[error(transparent)]
    /// The image could not be read or converted.
    Image(#[from] ImageError),
    /// Too few pixels pass the optical-density threshold to estimate stains.
    #[error("only {found} tissue pixels (optical density above {beta} in every channel); need at least {needed}: is this a background patch?")]
    NotEnoughTissue {
        /// Pixels above the threshold.
        found: usize,
        /// Pixels the fit needs.
        needed: usize,
        /// The optical-density threshold used.
        beta: f32,
    },
    /// The fitted model is degenerate (e.g. a single-stain image).
    #[error("degenerate stain estimate: {0}")]
    Degenerate(String),
}

fn rgb_of(img: &Image) -> Result<(Array3<f32>, f32), ImageError> {
    let max = nominal_max(img.dtype());
    let mut a = img.to_hwc_f32()?;
    if a.dim().2 < 3 {
        return Err(ImageError::Unsupported(format!(
            "stain tools need an RGB image, this one has {} channel(s)",
            a.dim().2
        )));
    }
    if a.dim().2 > 3 {
        a = a.slice(ndarray::s![.., .., 0..3]).to_owned();
    }
    if max != 255.0 {
        let k = 255.0 / max;
        a.mapv_inplace(|v| v * k);
    }
    Ok((a, max))
}

fn back_to_image(img: &Image, mut rgb: Array3<f32>, max: f32) -> Image {
    if max != 255.0 {
        let k = max / 255.0;
        rgb.mapv_inplace(|v| v * k);
    }
    let mut out = img.with_hwc_f32(rgb, img.dtype());
    out.set_color(ColorType::Rgb);
    out
}

/// Multiplies each HED channel by `alpha[c]` and adds `beta[c]`, then goes
/// back to RGB (clamped to `0..=255`).
pub fn hed_jitter(
    rgb: &Array3<f32>,
    alpha: [f32; 3],
    beta: [f32; 3],
) -> Result<Array3<f32>, ImageError> {
    let mut hed = rgb_to_hed(rgb)?;
    for mut px in hed.lanes_mut(NdAxis(2)) {
        for c in 0..3 {
            px[c] = px[c] * alpha[c] + beta[c];
        }
    }
    let mut out = hed_to_rgb(&hed)?;
    out.mapv_inplace(|v| v.clamp(0.0, 255.0));
    Ok(out)
}

/// [`hed_jitter`] on an RGB(A) image, element type kept.
pub fn hed_jitter_image(img: &Image, alpha: [f32; 3], beta: [f32; 3]) -> Result<Image, ImageError> {
    let (rgb, max) = rgb_of(img)?;
    Ok(back_to_image(img, hed_jitter(&rgb, alpha, beta)?, max))
}

/// The `q`-th quantile (0..=1) of `v` (nearest rank; `v` is reordered).
fn quantile(v: &mut [f32], q: f64) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(k, |a, b| a.total_cmp(b));
    *x
}

/// Eigen-decomposition of a symmetric 3x3 matrix by cyclic Jacobi
/// rotations: eigenvalues descending, eigenvectors as columns.
fn symmetric_eigen3(mut a: [[f64; 3]; 3]) -> ([f64; 3], [[f64; 3]; 3]) {
    let mut v = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for _ in 0..64 {
        let off = a[0][1].abs() + a[0][2].abs() + a[1][2].abs();
        if off < 1e-15 {
            break;
        }
        for (p, q) in [(0, 1), (0, 2), (1, 2)] {
            if a[p][q].abs() < 1e-300 {
                continue;
            }
            let theta = (a[q][q] - a[p][p]) / (2.0 * a[p][q]);
            let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
            let t = if theta == 0.0 { 1.0 } else { t };
            let c = 1.0 / (t * t + 1.0).sqrt();
            let s = t * c;
            // A <- J^T A J with J the rotation in the (p, q) plane.
            for row in a.iter_mut() {
                let (akp, akq) = (row[p], row[q]);
                row[p] = c * akp - s * akq;
                row[q] = s * akp + c * akq;
            }
            let (rp, rq) = (a[p], a[q]);
            a[p] = [0, 1, 2].map(|k| c * rp[k] - s * rq[k]);
            a[q] = [0, 1, 2].map(|k| s * rp[k] + c * rq[k]);
            for row in v.iter_mut() {
                let (vp, vq) = (row[p], row[q]);
                row[p] = c * vp - s * vq;
                row[q] = s * vp + c * vq;
            }
        }
    }
    let mut idx = [0usize, 1, 2];
    idx.sort_by(|&i, &j| a[j][j].total_cmp(&a[i][i]));
    let vals = idx.map(|i| a[i][i]);
    let mut vecs = [[0.0; 3]; 3];
    for (col, &i) in idx.iter().enumerate() {
        for r in 0..3 {
            vecs[r][col] = v[r][i];
        }
    }
    (vals, vecs)
}

/// Settings of Macenko's method (the published defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacenkoParams {
    /// Background (transmitted light) intensity on the 0..255 scale.
    pub i0: f32,
    /// Pixels with optical density below this in any channel are
    /// background and do not shape the stain vectors.
    pub beta: f32,
    /// Percentile (0..50) of the angle distribution taken as the extreme
    /// stain directions (robust min/max).
    pub alpha: f64,
    /// Percentile of the concentrations taken as the stain's maximum.
    pub max_percentile: f64,
}

impl Default for MacenkoParams {
    fn default() -> Self {
        MacenkoParams {
            i0: 240.0,
            beta: 0.15,
            alpha: 1.0,
            max_percentile: 99.0,
        }
    }
}

/// A fitted Macenko stain model: two unit stain vectors in optical density
/// (haematoxylin first) and each stain's robust maximum concentration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacenkoStains {
    /// Rows: haematoxylin, eosin; columns: R, G, B optical density.
    pub vectors: [[f32; 3]; 2],
    /// The `max_percentile` concentration of each stain.
    pub max_concentration: [f32; 2],
    /// The parameters the stains were fitted with.
    pub params: MacenkoParams,
}

const MIN_TISSUE_PIXELS: usize = 100;

fn od_pixels(rgb: &Array3<f32>, i0: f32) -> Vec<[f32; 3]> {
    rgb.lanes(NdAxis(2))
        .into_iter()
        .map(|p| [0, 1, 2].map(|c| -((p[c].max(0.0) + 1.0) / i0).ln()))
        .collect()
}

/// Least-squares concentrations of the two stains for one OD pixel.
struct Unmixer {
    v: [[f32; 3]; 2],
    inv: [[f32; 2]; 2],
}

impl Unmixer {
    fn new(v: [[f32; 3]; 2]) -> Result<Unmixer, StainError> {
        let dot = |a: &[f32; 3], b: &[f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        let (a, b, d) = (dot(&v[0], &v[0]), dot(&v[0], &v[1]), dot(&v[1], &v[1]));
        let det = a * d - b * b;
        if det.abs() < 1e-6 {
            return Err(StainError::Degenerate(
                "the two stain vectors are parallel".into(),
            ));
        }
        Ok(Unmixer {
            v,
            inv: [[d / det, -b / det], [-b / det, a / det]],
        })
    }

    fn concentrations(&self, od: &[f32; 3]) -> [f32; 2] {
        let dot = |a: &[f32; 3]| a[0] * od[0] + a[1] * od[1] + a[2] * od[2];
        let (p, q) = (dot(&self.v[0]), dot(&self.v[1]));
        [
            self.inv[0][0] * p + self.inv[0][1] * q,
            self.inv[1][0] * p + self.inv[1][1] * q,
        ]
    }
}

impl MacenkoStains {
    /// Estimates stain vectors and maximum concentrations from an RGB array
    /// (0..255).
    pub fn fit(rgb: &Array3<f32>, params: MacenkoParams) -> Result<MacenkoStains, StainError> {
        if rgb.dim().2 != 3 {
            return Err(ImageError::Unsupported("Macenko needs 3 channels".into()).into());
        }
        let od = od_pixels(rgb, params.i0);
        let tissue: Vec<[f32; 3]> = od
            .iter()
            .copied()
            .filter(|p| p.iter().all(|v| *v >= params.beta))
            .collect();
        if tissue.len() < MIN_TISSUE_PIXELS {
            return Err(StainError::NotEnoughTissue {
                found: tissue.len(),
                needed: MIN_TISSUE_PIXELS,
                beta: params.beta,
            });
        }
        // Covariance of the tissue ODs.
        let n = tissue.len() as f64;
        let mut mean = [0f64; 3];
        for p in &tissue {
            for c in 0..3 {
                mean[c] += p[c] as f64 / n;
            }
        }
        let mut cov = [[0f64; 3]; 3];
        for p in &tissue {
            let d = [0, 1, 2].map(|c| p[c] as f64 - mean[c]);
            for i in 0..3 {
                for j in 0..3 {
                    cov[i][j] += d[i] * d[j] / (n - 1.0).max(1.0);
                }
            }
        }
        let (_, vecs) = symmetric_eigen3(cov);
        // The plane of the two largest axes; orient both along positive OD
        // (eigenvectors carry an arbitrary sign).
        let mut e = [
            [vecs[0][0], vecs[1][0], vecs[2][0]],
            [vecs[0][1], vecs[1][1], vecs[2][1]],
        ];
        for ev in &mut e {
            if ev.iter().sum::<f64>() < 0.0 {
                for v in ev.iter_mut() {
                    *v = -*v;
                }
            }
        }
        let mut phi: Vec<f32> = tissue
            .iter()
            .map(|p| {
                let t0: f64 = (0..3).map(|c| p[c] as f64 * e[0][c]).sum();
                let t1: f64 = (0..3).map(|c| p[c] as f64 * e[1][c]).sum();
                t1.atan2(t0) as f32
            })
            .collect();
        let lo = quantile(&mut phi, params.alpha / 100.0) as f64;
        let hi = quantile(&mut phi, 1.0 - params.alpha / 100.0) as f64;
        let dir = |a: f64| -> [f32; 3] {
            let v = [0, 1, 2].map(|c| e[0][c] * a.cos() + e[1][c] * a.sin());
            let norm = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
            v.map(|x| (x / norm) as f32)
        };
        let (v_lo, v_hi) = (dir(lo), dir(hi));
        // Haematoxylin absorbs more red than eosin does.
        let vectors = if v_lo[0] > v_hi[0] {
            [v_lo, v_hi]
        } else {
            [v_hi, v_lo]
        };
        let unmix = Unmixer::new(vectors)?;
        let (mut c0, mut c1): (Vec<f32>, Vec<f32>) = od
            .iter()
            .map(|p| {
                let c = unmix.concentrations(p);
                (c[0], c[1])
            })
            .unzip();
        let q = params.max_percentile / 100.0;
        let max_concentration = [quantile(&mut c0, q), quantile(&mut c1, q)];
        if max_concentration.iter().any(|m| m.is_nan() || *m <= 1e-6) {
            return Err(StainError::Degenerate(format!(
                "maximum stain concentrations {max_concentration:?} are not positive"
            )));
        }
        Ok(MacenkoStains {
            vectors,
            max_concentration,
            params,
        })
    }

    /// [`MacenkoStains::fit`] on an RGB(A) image of any element type.
    pub fn fit_image(img: &Image, params: MacenkoParams) -> Result<MacenkoStains, StainError> {
        let (rgb, _) = rgb_of(img)?;
        MacenkoStains::fit(&rgb, params)
    }

    /// Per-pixel stain concentrations `[height, width, 2]` (H, E).
    pub fn concentrations(&self, rgb: &Array3<f32>) -> Result<Array3<f32>, StainError> {
        let unmix = Unmixer::new(self.vectors)?;
        let (h, w, _) = rgb.dim();
        let mut out = Array3::<f32>::zeros((h, w, 2));
        let i0 = self.params.i0;
        Zip::from(out.lanes_mut(NdAxis(2)))
            .and(rgb.lanes(NdAxis(2)))
            .par_for_each(|mut o, p| {
                let od = [0, 1, 2].map(|c| -((p[c].max(0.0) + 1.0) / i0).ln());
                let c = unmix.concentrations(&od);
                o[0] = c[0];
                o[1] = c[1];
            });
        Ok(out)
    }

    /// Re-colours `rgb` (0..255) with this (target) model: its own stains
    /// are estimated, concentrations rescaled to the target maxima and
    /// recombined with the target vectors. Errors on patches with too
    /// little tissue to estimate from; for tiles of a slide, fit the
    /// source once (e.g. on a thumbnail) and use [`MacenkoStains::transfer`].
    pub fn normalize(&self, rgb: &Array3<f32>) -> Result<Array3<f32>, StainError> {
        let src = MacenkoStains::fit(rgb, self.params)?;
        self.transfer(&src, rgb)
    }

    /// Re-colours `rgb`, whose stains are described by `source`, with this
    /// (target) model. Works on any patch, background included.
    pub fn transfer(
        &self,
        source: &MacenkoStains,
        rgb: &Array3<f32>,
    ) -> Result<Array3<f32>, StainError> {
        if rgb.dim().2 != 3 {
            return Err(ImageError::Unsupported("Macenko needs 3 channels".into()).into());
        }
        let conc = source.concentrations(rgb)?;
        let k = [0, 1].map(|s| self.max_concentration[s] / source.max_concentration[s]);
        let (h, w, _) = rgb.dim();
        let mut out = Array3::<f32>::zeros((h, w, 3));
        let (v, i0) = (self.vectors, self.params.i0);
        Zip::from(out.lanes_mut(NdAxis(2)))
            .and(conc.lanes(NdAxis(2)))
            .par_for_each(|mut o, c| {
                let (c0, c1) = (c[0] * k[0], c[1] * k[1]);
                for ch in 0..3 {
                    let od = v[0][ch] * c0 + v[1][ch] * c1;
                    // OD was taken of (I + 1), so undo the offset.
                    o[ch] = (i0 * (-od).exp() - 1.0).clamp(0.0, 255.0);
                }
            });
        Ok(out)
    }

    /// [`MacenkoStains::normalize`] on an RGB(A) image, element type kept.
    pub fn normalize_image(&self, img: &Image) -> Result<Image, StainError> {
        let (rgb, max) = rgb_of(img)?;
        Ok(back_to_image(img, self.normalize(&rgb)?, max))
    }
}

/// Reinhard colour statistics: per-channel mean and standard deviation in
/// CIE L*a*b*.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReinhardStats {
    /// Mean of L*, a*, b*.
    pub mean: [f64; 3],
    /// Standard deviation of L*, a*, b*.
    pub std: [f64; 3],
}

fn lab_stats(lab: &Array3<f32>) -> ReinhardStats {
    let (m, s) = crate::ops::normalize::mean_std_per_channel(lab);
    ReinhardStats {
        mean: [m[0], m[1], m[2]],
        std: [s[0], s[1], s[2]],
    }
}

impl ReinhardStats {
    /// The L*a*b* statistics of an RGB array (0..255).
    pub fn fit(rgb: &Array3<f32>) -> Result<ReinhardStats, StainError> {
        Ok(lab_stats(&rgb_to_lab(rgb, 255.0)?))
    }

    /// [`ReinhardStats::fit`] on an RGB(A) image.
    pub fn fit_image(img: &Image) -> Result<ReinhardStats, StainError> {
        let (rgb, _) = rgb_of(img)?;
        ReinhardStats::fit(&rgb)
    }

    /// Maps `rgb` so that its L*a*b* means and standard deviations become
    /// this (target) model's; results clamp to the RGB gamut.
    pub fn normalize(&self, rgb: &Array3<f32>) -> Result<Array3<f32>, StainError> {
        let mut lab = rgb_to_lab(rgb, 255.0)?;
        let src = lab_stats(&lab);
        if src.std.iter().any(|s| s.is_nan() || *s <= 1e-9) {
            return Err(StainError::Degenerate(
                "the image is flat in some L*a*b* channel".into(),
            ));
        }
        let k = [0, 1, 2].map(|c| (self.std[c] / src.std[c]) as f32);
        for mut px in lab.lanes_mut(NdAxis(2)) {
            for c in 0..3 {
                px[c] = (px[c] - src.mean[c] as f32) * k[c] + self.mean[c] as f32;
            }
        }
        Ok(lab_to_rgb(&lab, 255.0)?)
    }

    /// [`ReinhardStats::normalize`] on an RGB(A) image, element type kept.
    pub fn normalize_image(&self, img: &Image) -> Result<Image, StainError> {
        let (rgb, max) = rgb_of(img)?;
        Ok(back_to_image(img, self.normalize(&rgb)?, max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_recovers_known_eigenvectors() {
        // diag(3, 2, 1) rotated 30 degrees about z.
        let (s, c) = (0.5f64, 3f64.sqrt() / 2.0);
        let r = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]];
        let d = [2.0, 3.0, 1.0];
        let mut a = [[0.0; 3]; 3];
        for i in 0..3 {
            for j in 0..3 {
                a[i][j] = (0..3).map(|k| r[i][k] * d[k] * r[j][k]).sum();
            }
        }
        let (vals, vecs) = symmetric_eigen3(a);
        assert!(
            (vals[0] - 3.0).abs() < 1e-9
                && (vals[1] - 2.0).abs() < 1e-9
                && (vals[2] - 1.0).abs() < 1e-9
        );
        // Largest eigenvector is r's second column, up to sign.
        let dot: f64 = (0..3).map(|i| vecs[i][0] * r[i][1]).sum();
        assert!((dot.abs() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn quantile_is_nearest_rank() {
        let mut v: Vec<f32> = (0..101).rev().map(|x| x as f32).collect();
        assert_eq!(quantile(&mut v, 0.0), 0.0);
        assert_eq!(quantile(&mut v, 0.99), 99.0);
        assert_eq!(quantile(&mut v, 1.0), 100.0);
    }
}
