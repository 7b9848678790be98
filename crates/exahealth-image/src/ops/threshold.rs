//! Global thresholds on 8-bit images: fixed, Otsu and multi-Otsu.
//!
//! Conventions follow scikit-image (`threshold_otsu`,
//! `threshold_multiotsu`): a threshold `t` splits values into `<= t` and
//! `> t`, so `image > t` is the foreground.

use ndarray::{Array2, ArrayView2};

use crate::ImageError;

/// The 256-bin histogram of an 8-bit image.
pub fn histogram(image: ArrayView2<'_, u8>) -> [u64; 256] {
    let mut h = [0u64; 256];
    for &v in image.iter() {
        h[v as usize] += 1;
    }
    h
}

/// A binary mask: 255 where `image > t`, else 0.
pub fn threshold(image: ArrayView2<'_, u8>, t: u8) -> Array2<u8> {
    image.mapv(|v| if v > t { 255 } else { 0 })
}

/// Otsu's threshold of an 8-bit image: the `t` that maximises the variance
/// between the classes `<= t` and `> t`. A constant image returns its value.
pub fn otsu(image: ArrayView2<'_, u8>) -> u8 {
    otsu_from_histogram(&histogram(image))
}

/// Otsu's threshold from a 256-bin histogram. Where several thresholds tie
/// (a gap of empty bins between the modes), the middle of the tied range is
/// returned, so a two-valued image splits halfway between its values.
pub fn otsu_from_histogram(hist: &[u64; 256]) -> u8 {
    let total: f64 = hist.iter().map(|&c| c as f64).sum();
    if total == 0.0 {
        return 0;
    }
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(v, &c)| v as f64 * c as f64)
        .sum();
    let (mut w0, mut sum0) = (0.0f64, 0.0f64);
    let mut best = -1.0f64;
    let (mut first, mut last) = (0usize, 0usize);
    for (t, &count) in hist.iter().enumerate().take(255) {
        w0 += count as f64;
        sum0 += t as f64 * count as f64;
        let w1 = total - w0;
        if w0 == 0.0 || w1 == 0.0 {
            continue;
        }
        let m0 = sum0 / w0;
        let m1 = (sum_all - sum0) / w1;
        let between = w0 * w1 * (m0 - m1) * (m0 - m1);
        // Relative tolerance: equal splits computed by different sums.
        if between > best * (1.0 + 1e-12) {
            best = between;
            first = t;
            last = t;
        } else if (between - best).abs() <= best * 1e-12 {
            last = t;
        }
    }
    if best < 0.0 {
        // One value only: every threshold is as good as any other.
        return hist.iter().position(|&c| c > 0).unwrap_or(0) as u8;
    }
    ((first + last) / 2) as u8
}

/// Multi-Otsu: the `classes - 1` thresholds (ascending) that maximise the
/// between-class variance of `classes` classes, class k holding the values
/// in `(t[k-1], t[k]]`. Exact search by dynamic programming over the
/// histogram, O(classes x 256^2). `classes` must be 2 to 8, and the image
/// must hold at least `classes` distinct values.
pub fn multi_otsu(image: ArrayView2<'_, u8>, classes: usize) -> Result<Vec<u8>, ImageError> {
    multi_otsu_from_histogram(&histogram(image), classes)
}

/// [`multi_otsu`] from a 256-bin histogram.
pub fn multi_otsu_from_histogram(hist: &[u64; 256], classes: usize) -> Result<Vec<u8>, ImageError> {
    if !(2..=8).contains(&classes) {
        return Err(ImageError::Unsupported(format!(
            "multi-Otsu takes 2 to 8 classes, not {classes}"
        )));
    }
    let distinct = hist.iter().filter(|&&c| c > 0).count();
    if distinct < classes {
        return Err(ImageError::Unsupported(format!(
            "multi-Otsu with {classes} classes needs at least {classes} distinct values; the image has {distinct}"
        )));
    }
    // Only occupied bins matter: a class boundary inside a run of empty bins
    // changes nothing, so search over the occupied values and place each
    // threshold at the last value of its class.
    let values: Vec<usize> = (0..256).filter(|&v| hist[v] > 0).collect();
    let n = values.len();
    let mut cw = vec![0.0f64; n + 1];
    let mut cs = vec![0.0f64; n + 1];
    for (i, &v) in values.iter().enumerate() {
        cw[i + 1] = cw[i] + hist[v] as f64;
        cs[i + 1] = cs[i] + v as f64 * hist[v] as f64;
    }
    // Score of a class holding occupied values a..b: (sum)^2 / weight. The
    // between-class variance is the total of these minus a constant.
    let score = |a: usize, b: usize| {
        let w = cw[b] - cw[a];
        let s = cs[b] - cs[a];
        s * s / w
    };
    // best[k][j]: best total score of the first j occupied values in k+1 classes.
    let mut best = vec![vec![f64::NEG_INFINITY; n + 1]; classes];
    let mut from = vec![vec![0usize; n + 1]; classes];
    for (j, b) in best[0].iter_mut().enumerate().skip(1) {
        *b = score(0, j);
    }
    for k in 1..classes {
        for j in (k + 1)..=n {
            for i in k..j {
                let s = best[k - 1][i] + score(i, j);
                if s > best[k][j] {
                    best[k][j] = s;
                    from[k][j] = i;
                }
            }
        }
    }
    let mut cuts = Vec::with_capacity(classes - 1);
    let mut j = n;
    for k in (1..classes).rev() {
        let i = from[k][j];
        cuts.push(values[i - 1] as u8);
        j = i;
    }
    cuts.reverse();
    Ok(cuts)
}

/// Labels each pixel with its multi-Otsu class: 0 for `<= t[0]`, 1 for
/// `(t[0], t[1]]`, ... (`np.digitize` with scikit-image's thresholds).
pub fn apply_thresholds(image: ArrayView2<'_, u8>, thresholds: &[u8]) -> Array2<u8> {
    image.mapv(|v| thresholds.iter().filter(|&&t| v > t).count() as u8)
}
