//! Integral images (summed-area tables) and constant-time box sums.

use ndarray::{Array3, ArrayView3};

/// A summed-area table: `table[y, x, c]` is the sum of channel `c` over the
/// source pixels above and left of (`x`, `y`), exclusive, so the table is one
/// row and one column larger than the source (ECVL's and OpenCV's layout).
#[derive(Debug, Clone, PartialEq)]
pub struct IntegralImage {
    table: Array3<f64>,
}

impl IntegralImage {
    /// Builds the table from a `[height, width, channels]` array of any
    /// numeric type convertible to `f64`.
    pub fn new<T: Copy + Into<f64>>(src: ArrayView3<T>) -> IntegralImage {
        let (h, w, c) = src.dim();
        let mut table = Array3::<f64>::zeros((h + 1, w + 1, c));
        for ch in 0..c {
            for y in 0..h {
                let mut row = 0f64;
                for x in 0..w {
                    row += src[[y, x, ch]].into();
                    table[[y + 1, x + 1, ch]] = table[[y, x + 1, ch]] + row;
                }
            }
        }
        IntegralImage { table }
    }

    /// The `[height + 1, width + 1, channels]` table.
    pub fn table(&self) -> &Array3<f64> {
        &self.table
    }

    /// Source width and height.
    pub fn size(&self) -> (usize, usize) {
        let (h, w, _) = self.table.dim();
        (w - 1, h - 1)
    }

    /// Sum of channel `c` over the `w` x `h` box with top-left (`x`, `y`),
    /// clipped to the image (an empty or outside box sums to 0).
    pub fn box_sum(&self, x: usize, y: usize, w: usize, h: usize, c: usize) -> f64 {
        let (iw, ih) = self.size();
        let (x0, y0) = (x.min(iw), y.min(ih));
        let (x1, y1) = (x.saturating_add(w).min(iw), y.saturating_add(h).min(ih));
        if c >= self.table.dim().2 {
            return 0.0;
        }
        let t = &self.table;
        t[[y1, x1, c]] - t[[y0, x1, c]] - t[[y1, x0, c]] + t[[y0, x0, c]]
    }

    /// Mean of channel `c` over the clipped box (0 for an empty box).
    pub fn box_mean(&self, x: usize, y: usize, w: usize, h: usize, c: usize) -> f64 {
        let (iw, ih) = self.size();
        let cw = x.saturating_add(w).min(iw).saturating_sub(x.min(iw));
        let ch = y.saturating_add(h).min(ih).saturating_sub(y.min(ih));
        let n = cw * ch;
        if n == 0 {
            0.0
        } else {
            self.box_sum(x, y, w, h, c) / n as f64
        }
    }
}
