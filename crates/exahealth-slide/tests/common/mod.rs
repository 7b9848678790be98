//! Shared helpers for the slide tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/testdata` next to the repository, or `None` (with a printed
/// reason) so the calling test can skip.
pub fn testdata() -> Option<PathBuf> {
    exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR"))
}

pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mse: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        / a.len() as f64;
    if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}

/// Mean of each RGB channel over opaque pixels.
pub fn mean_rgb(rgba: &[u8]) -> [f64; 3] {
    let mut s = [0.0; 3];
    let mut n = 0.0f64;
    for p in rgba.chunks_exact(4) {
        if p[3] == 255 {
            for c in 0..3 {
                s[c] += f64::from(p[c]);
            }
            n += 1.0;
        }
    }
    s.map(|v| v / n.max(1.0))
}
