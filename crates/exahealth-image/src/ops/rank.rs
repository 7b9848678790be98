//! Rank filters on 8-bit images: median blur.

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis};

use crate::ImageError;

/// Median of each `ksize` x `ksize` window (OpenCV's `medianBlur`): `ksize`
/// odd and at least 1; borders replicate the edge pixels. Huang's sliding
/// histogram, O(pixels x ksize).
pub fn median_blur(image: ArrayView2<'_, u8>, ksize: usize) -> Result<Array2<u8>, ImageError> {
    if ksize == 0 || ksize % 2 == 0 {
        return Err(ImageError::Unsupported(format!(
            "median blur needs an odd kernel size, not {ksize}"
        )));
    }
    let (h, w) = image.dim();
    let mut out = Array2::<u8>::zeros((h, w));
    if h == 0 || w == 0 || ksize == 1 {
        out.assign(&image);
        return Ok(out);
    }
    let r = (ksize / 2) as isize;
    let half = (ksize * ksize / 2) as u32;
    let clampx = |x: isize| x.clamp(0, w as isize - 1) as usize;
    let clampy = |y: isize| y.clamp(0, h as isize - 1) as usize;
    for y in 0..h {
        let mut hist = [0u32; 256];
        for dy in -r..=r {
            let sy = clampy(y as isize + dy);
            for dx in -r..=r {
                hist[image[(sy, clampx(dx))] as usize] += 1;
            }
        }
        // Running median: `below` counts samples < `m`.
        let mut m = 0usize;
        let mut below = 0u32;
        let settle = |hist: &[u32; 256], m: &mut usize, below: &mut u32| {
            while *below > half {
                *m -= 1;
                *below -= hist[*m];
            }
            while *below + hist[*m] <= half {
                *below += hist[*m];
                *m += 1;
            }
        };
        settle(&hist, &mut m, &mut below);
        out[(y, 0)] = m as u8;
        for x in 1..w {
            let gone = clampx(x as isize - 1 - r);
            let come = clampx(x as isize + r);
            for dy in -r..=r {
                let sy = clampy(y as isize + dy);
                let a = image[(sy, gone)] as usize;
                hist[a] -= 1;
                if a < m {
                    below -= 1;
                }
                let b = image[(sy, come)] as usize;
                hist[b] += 1;
                if b < m {
                    below += 1;
                }
            }
            settle(&hist, &mut m, &mut below);
            out[(y, x)] = m as u8;
        }
    }
    Ok(out)
}

/// [`median_blur`] on each channel of a height x width x channels image.
pub fn median_blur_hwc(image: ArrayView3<'_, u8>, ksize: usize) -> Result<Array3<u8>, ImageError> {
    let mut out = Array3::<u8>::zeros(image.dim());
    for (c, plane) in image.axis_iter(Axis(2)).enumerate() {
        let m = median_blur(plane, ksize)?;
        out.index_axis_mut(Axis(2), c).assign(&m);
    }
    Ok(out)
}
