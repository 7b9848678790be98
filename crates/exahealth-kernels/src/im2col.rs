//! Lowering one image to its column matrix and back.
//!
//! Row `(c * kh + ky) * kw + kx` of the column matrix holds, for every
//! output pixel `(oy, ox)`, the input sample under kernel tap `(ky, kx)` of
//! channel `c`, or 0 where the tap falls in the padding. That row order is
//! the weights' `[out, in, kh, kw]` order, so the forward pass is one GEMM.
//! For each tap and output row the samples inside the image form one run,
//! found once, so the inner loop is a copy (a `memcpy` at stride 1).

use crate::geometry::ConvGeometry;

/// The output positions `lo..hi` along one axis whose tap `k` lands inside
/// an input of `in_len` samples (`position * stride + k - pad` in range).
fn inside(out_len: usize, in_len: usize, k: usize, stride: usize, pad: usize) -> (usize, usize) {
    let lo = if k >= pad {
        0
    } else {
        (pad - k).div_ceil(stride)
    };
    let hi = if in_len + pad <= k {
        0
    } else {
        ((in_len - 1 + pad - k) / stride + 1).min(out_len)
    };
    (lo.min(hi), hi)
}

/// One tap's place in the input: its channel plane, offsets and the output
/// ranges it covers.
struct Tap {
    plane: usize,
    ky: usize,
    kx: usize,
    rows: (usize, usize),
    cols: (usize, usize),
}

fn taps(g: &ConvGeometry) -> impl Iterator<Item = Tap> + '_ {
    let [kh, kw] = g.kernel;
    (0..g.col_rows()).map(move |r| {
        let kx = r % kw;
        let ky = (r / kw) % kh;
        Tap {
            plane: r / (kw * kh),
            ky,
            kx,
            rows: inside(g.out_size[0], g.in_size[0], ky, g.stride[0], g.pad_start[0]),
            cols: inside(g.out_size[1], g.in_size[1], kx, g.stride[1], g.pad_start[1]),
        }
    })
}

/// Where one image's columns sit in a column matrix that may hold several
/// images side by side, or only some of one image's output rows: the
/// block holds output rows `rows.0..rows.1`, and row `r` of the block is
/// `col[r * stride + offset..][..(rows.1 - rows.0) * out_w]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Block {
    pub stride: usize,
    pub offset: usize,
    pub rows: (usize, usize),
}

impl Block {
    /// All output rows of an image, at `offset` in rows of `stride`.
    pub fn whole(g: &ConvGeometry, stride: usize, offset: usize) -> Self {
        Block {
            stride,
            offset,
            rows: (0, g.out_size[0]),
        }
    }

    /// A column matrix of this image alone.
    #[cfg(test)]
    pub fn alone(g: &ConvGeometry) -> Self {
        Self::whole(g, g.out_pixels(), 0)
    }

    fn len(&self, g: &ConvGeometry) -> usize {
        (self.rows.1 - self.rows.0) * g.out_size[1]
    }

    /// The output rows `lo..hi` a tap covers, clipped to the block.
    fn clip(&self, (lo, hi): (usize, usize)) -> (usize, usize) {
        let (r0, r1) = self.rows;
        (lo.clamp(r0, r1), hi.clamp(r0, r1))
    }
}

/// Writes the column matrix (`col_rows x out_pixels`) of one image
/// (`in_channels x h x w`) into `block` of `col`.
pub(crate) fn im2col(image: &[f32], g: &ConvGeometry, col: &mut [f32], block: Block) {
    let [h, w] = g.in_size;
    let [sy, sx] = g.stride;
    let [py, px] = g.pad_start;
    let ow = g.out_size[1];
    let first = block.rows.0;
    let rows = col
        .chunks_mut(block.stride)
        .map(|r| &mut r[block.offset..block.offset + block.len(g)]);
    for (row, tap) in rows.zip(taps(g)) {
        let plane = &image[tap.plane * h * w..(tap.plane + 1) * h * w];
        let (y_lo, y_hi) = block.clip(tap.rows);
        let (x_lo, x_hi) = tap.cols;
        row[..(y_lo - first) * ow].fill(0.0);
        row[(y_hi - first) * ow..].fill(0.0);
        for oy in y_lo..y_hi {
            let iy = oy * sy + tap.ky - py;
            let src = &plane[iy * w..(iy + 1) * w];
            let dst = &mut row[(oy - first) * ow..(oy - first + 1) * ow];
            dst[..x_lo].fill(0.0);
            dst[x_hi..].fill(0.0);
            if x_lo == x_hi {
                continue;
            }
            let ix = x_lo * sx + tap.kx - px;
            if sx == 1 {
                dst[x_lo..x_hi].copy_from_slice(&src[ix..ix + x_hi - x_lo]);
            } else {
                for (d, s) in dst[x_lo..x_hi].iter_mut().zip(src[ix..].iter().step_by(sx)) {
                    *d = *s;
                }
            }
        }
    }
}

/// Adds `block` of a column matrix back onto one image's gradient: the
/// transpose of [`im2col`] (padding taps are dropped).
pub(crate) fn col2im_add(col: &[f32], g: &ConvGeometry, block: Block, image: &mut [f32]) {
    let [h, w] = g.in_size;
    let [sy, sx] = g.stride;
    let [py, px] = g.pad_start;
    let ow = g.out_size[1];
    let first = block.rows.0;
    let rows = col
        .chunks(block.stride)
        .map(|r| &r[block.offset..block.offset + block.len(g)]);
    for (row, tap) in rows.zip(taps(g)) {
        let plane = &mut image[tap.plane * h * w..(tap.plane + 1) * h * w];
        let (x_lo, x_hi) = tap.cols;
        if x_lo == x_hi {
            continue;
        }
        let (y_lo, y_hi) = block.clip(tap.rows);
        for oy in y_lo..y_hi {
            let iy = oy * sy + tap.ky - py;
            let dst = &mut plane[iy * w..(iy + 1) * w];
            let local = (oy - first) * ow;
            let src = &row[local + x_lo..local + x_hi];
            let ix = x_lo * sx + tap.kx - px;
            if sx == 1 {
                for (d, s) in dst[ix..ix + src.len()].iter_mut().zip(src) {
                    *d += *s;
                }
            } else {
                for (d, s) in dst[ix..].iter_mut().step_by(sx).zip(src) {
                    *d += *s;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column matrix by its definition, one element at a time.
    fn naive_im2col(image: &[f32], g: &ConvGeometry) -> Vec<f32> {
        let [h, w] = g.in_size;
        let [kh, kw] = g.kernel;
        let [oh, ow] = g.out_size;
        let mut col = Vec::new();
        for c in 0..g.in_channels {
            for ky in 0..kh {
                for kx in 0..kw {
                    for oy in 0..oh {
                        for ox in 0..ow {
                            let iy = (oy * g.stride[0] + ky) as isize - g.pad_start[0] as isize;
                            let ix = (ox * g.stride[1] + kx) as isize - g.pad_start[1] as isize;
                            let inside =
                                (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix);
                            col.push(if inside {
                                image[c * h * w + iy as usize * w + ix as usize]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        col
    }

    fn geometries() -> Vec<ConvGeometry> {
        let pad = |t, b, l, r| [(t, b), (l, r)];
        [
            (2, [5, 7], [3, 3], [1, 1], pad(1, 1, 1, 1)),
            (3, [7, 6], [3, 3], [2, 2], pad(1, 1, 1, 1)),
            (1, [9, 9], [7, 7], [2, 2], pad(3, 3, 3, 3)),
            (2, [4, 5], [1, 1], [2, 2], pad(0, 0, 0, 0)),
            (1, [3, 3], [5, 5], [1, 1], pad(4, 4, 4, 4)), // taps wholly in padding
            (2, [6, 5], [2, 3], [1, 3], pad(0, 1, 2, 0)),
        ]
        .into_iter()
        .map(|(c, size, k, s, p)| ConvGeometry::new(1, c, size, 1, k, s, p).unwrap())
        .collect()
    }

    fn ramp(n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (i as f32 * 0.37).sin() + i as f32 * 0.01)
            .collect()
    }

    #[test]
    fn im2col_equals_its_definition() {
        for g in geometries() {
            let image = ramp(g.image_len());
            let mut col = vec![f32::NAN; g.col_rows() * g.out_pixels()];
            im2col(&image, &g, &mut col, Block::alone(&g));
            assert_eq!(col, naive_im2col(&image, &g), "{g:?}");
        }
    }

    #[test]
    fn images_side_by_side_fill_their_own_blocks() {
        for g in geometries() {
            let (a, b) = (ramp(g.image_len()), ramp(g.image_len() + 5)[5..].to_vec());
            let (rows, n) = (g.col_rows(), g.out_pixels());
            let mut col = vec![f32::NAN; rows * 2 * n];
            im2col(&a, &g, &mut col, Block::whole(&g, 2 * n, 0));
            im2col(&b, &g, &mut col, Block::whole(&g, 2 * n, n));
            let (na, nb) = (naive_im2col(&a, &g), naive_im2col(&b, &g));
            for r in 0..rows {
                assert_eq!(
                    col[r * 2 * n..r * 2 * n + n],
                    na[r * n..(r + 1) * n],
                    "{g:?}"
                );
                assert_eq!(
                    col[r * 2 * n + n..(r + 1) * 2 * n],
                    nb[r * n..(r + 1) * n],
                    "{g:?}"
                );
            }
            let mut back = vec![0.0; g.image_len()];
            col2im_add(&col, &g, Block::whole(&g, 2 * n, n), &mut back);
            let mut alone = vec![0.0; g.image_len()];
            col2im_add(&nb, &g, Block::alone(&g), &mut alone);
            assert_eq!(back, alone, "{g:?}");
        }
    }

    #[test]
    fn row_blocks_are_slices_of_the_whole() {
        for g in geometries() {
            let image = ramp(g.image_len());
            let (rows, ow, oh) = (g.col_rows(), g.out_size[1], g.out_size[0]);
            let whole = naive_im2col(&image, &g);
            let mut back_whole = vec![0.0; g.image_len()];
            col2im_add(&whole, &g, Block::alone(&g), &mut back_whole);
            let mut back = vec![0.0; g.image_len()];
            for (r0, r1) in [(0, oh / 2), (oh / 2, oh)] {
                let n = (r1 - r0) * ow;
                let mut col = vec![f32::NAN; rows * n];
                let block = Block {
                    stride: n,
                    offset: 0,
                    rows: (r0, r1),
                };
                im2col(&image, &g, &mut col, block);
                for r in 0..rows {
                    let expected = &whole[r * oh * ow + r0 * ow..r * oh * ow + r1 * ow];
                    assert_eq!(&col[r * n..(r + 1) * n], expected, "{g:?} rows {r0}..{r1}");
                }
                col2im_add(&col, &g, block, &mut back);
            }
            for (a, b) in back.iter().zip(&back_whole) {
                assert!((a - b).abs() < 1e-4, "{g:?}");
            }
        }
    }

    #[test]
    fn col2im_is_the_transpose_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x and c.
        for g in geometries() {
            let x = ramp(g.image_len());
            let c: Vec<f32> = ramp(g.col_rows() * g.out_pixels() + 3)[3..].to_vec();
            let mut col = vec![0.0; c.len()];
            im2col(&x, &g, &mut col, Block::alone(&g));
            let lhs: f64 = col.iter().zip(&c).map(|(a, b)| *a as f64 * *b as f64).sum();
            let mut back = vec![0.0; x.len()];
            col2im_add(&c, &g, Block::alone(&g), &mut back);
            let rhs: f64 = x
                .iter()
                .zip(&back)
                .map(|(a, b)| *a as f64 * *b as f64)
                .sum();
            assert!(
                (lhs - rhs).abs() < 1e-3 * lhs.abs().max(1.0),
                "{g:?}: {lhs} vs {rhs}"
            );
        }
    }
}
