//! Morphology on 8-bit images (grayscale, or binary masks as 0/255):
//! erode, dilate, open, close with square or disk elements; hole filling;
//! connected components with statistics.
//!
//! Borders follow OpenCV's default: pixels outside the image never win, so
//! eroding does not eat in from the edge and dilating does not grow from it.
//! Dilation is by the element's reflection (the textbook definition), so
//! with an even-sized square (anchored at `size / 2`, like OpenCV) opening
//! and closing leave straight edges where they were; OpenCV, which dilates
//! by the element itself, shifts them by a pixel.
//! Erosion and dilation cost O(pixels x element height): each element row is
//! a horizontal run, done with the van Herk / Gil-Werman running min/max.

use std::collections::VecDeque;

use ndarray::{Array2, ArrayView2};

/// A flat structuring element centred on its middle pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Element {
    /// A `size` x `size` square. An even size is anchored like OpenCV's
    /// (the centre is pixel `size / 2`), so a 4x4 close is possible.
    Square(usize),
    /// A disk of this radius: offsets with dx^2 + dy^2 <= r^2 (radius 1 is a
    /// plus-shaped cross, as in scikit-image's `disk(1)`).
    Disk(usize),
}

impl Element {
    /// For each row offset dy, the columns [dx0, dx1] the element covers.
    fn rows(self) -> Vec<(isize, isize, isize)> {
        match self {
            Element::Square(0) | Element::Disk(0) => vec![(0, 0, 0)],
            Element::Square(s) => {
                let lo = -((s / 2) as isize);
                let hi = lo + s as isize - 1;
                (lo..=hi).map(|dy| (dy, lo, hi)).collect()
            }
            Element::Disk(r) => {
                let r = r as isize;
                (-r..=r)
                    .map(|dy| {
                        let mut w = 0;
                        while (w + 1) * (w + 1) + dy * dy <= r * r {
                            w += 1;
                        }
                        (dy, -w, w)
                    })
                    .collect()
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Op {
    Min,
    Max,
}

impl Op {
    fn neutral(self) -> u8 {
        match self {
            Op::Min => u8::MAX,
            Op::Max => 0,
        }
    }
    fn apply(self, a: u8, b: u8) -> u8 {
        match self {
            Op::Min => a.min(b),
            Op::Max => a.max(b),
        }
    }
}

/// Running min/max over windows [x + dx0, x + dx1] of one row, with
/// out-of-row positions neutral (van Herk / Gil-Werman: 3 ops per pixel).
fn running(row: &[u8], dx0: isize, dx1: isize, op: Op, out: &mut [u8], scratch: &mut Scratch) {
    let n = row.len() as isize;
    let k = (dx1 - dx0 + 1) as usize;
    // Padded row covering positions dx0 .. n - 1 + dx1.
    let len = (n + dx1 - dx0) as usize;
    let padded = &mut scratch.padded;
    padded.clear();
    padded.extend((0..len as isize).map(|i| {
        let x = i + dx0;
        if (0..n).contains(&x) {
            row[x as usize]
        } else {
            op.neutral()
        }
    }));
    let g = &mut scratch.g;
    let h = &mut scratch.h;
    g.clear();
    g.resize(len, 0);
    h.clear();
    h.resize(len, 0);
    for i in 0..len {
        g[i] = if i % k == 0 {
            padded[i]
        } else {
            op.apply(g[i - 1], padded[i])
        };
    }
    for i in (0..len).rev() {
        h[i] = if i % k == k - 1 || i == len - 1 {
            padded[i]
        } else {
            op.apply(h[i + 1], padded[i])
        };
    }
    for (x, o) in out.iter_mut().enumerate() {
        *o = op.apply(h[x], g[x + k - 1]);
    }
}

#[derive(Default)]
struct Scratch {
    padded: Vec<u8>,
    g: Vec<u8>,
    h: Vec<u8>,
}

fn morph(image: ArrayView2<'_, u8>, element: Element, op: Op) -> Array2<u8> {
    let (h, w) = image.dim();
    let mut out = Array2::from_elem((h, w), op.neutral());
    if h == 0 || w == 0 {
        return out;
    }
    let image = image.as_standard_layout();
    // Dilation takes the reflected element (max over x - b), so that close
    // and open with an even-sized square do not shift edges.
    let rows: Vec<(isize, isize, isize)> = match op {
        Op::Min => element.rows(),
        Op::Max => element
            .rows()
            .into_iter()
            .map(|(dy, a, b)| (-dy, -b, -a))
            .collect(),
    };
    // One horizontal pass per distinct column span, shared by every dy.
    let mut spans: Vec<(isize, isize)> = rows.iter().map(|&(_, a, b)| (a, b)).collect();
    spans.sort_unstable();
    spans.dedup();
    let mut scratch = Scratch::default();
    let mut line = vec![0u8; w];
    for &(dx0, dx1) in &spans {
        let mut pass = Array2::<u8>::zeros((h, w));
        for y in 0..h {
            let src = image.row(y);
            let src = src.as_slice().unwrap_or(&[]);
            running(src, dx0, dx1, op, &mut line, &mut scratch);
            if let Some(dst) = pass.row_mut(y).into_slice() {
                dst.copy_from_slice(&line);
            }
        }
        for &(dy, a, b) in &rows {
            if (a, b) != (dx0, dx1) {
                continue;
            }
            for y in 0..h as isize {
                let sy = y + dy;
                if sy < 0 || sy >= h as isize {
                    continue;
                }
                let src = pass.row(sy as usize);
                let mut dst = out.row_mut(y as usize);
                for (d, &s) in dst.iter_mut().zip(src.iter()) {
                    *d = op.apply(*d, s);
                }
            }
        }
    }
    out
}

/// Grayscale erosion: each pixel becomes the minimum under the element.
pub fn erode(image: ArrayView2<'_, u8>, element: Element) -> Array2<u8> {
    morph(image, element, Op::Min)
}

/// Grayscale dilation: each pixel becomes the maximum under the reflected
/// element (the same as under the element for squares of odd size and disks).
pub fn dilate(image: ArrayView2<'_, u8>, element: Element) -> Array2<u8> {
    morph(image, element, Op::Max)
}

/// Opening (erode, then dilate): removes bright details smaller than the element.
pub fn open(image: ArrayView2<'_, u8>, element: Element) -> Array2<u8> {
    dilate(erode(image, element).view(), element)
}

/// Closing (dilate, then erode): fills dark gaps smaller than the element.
pub fn close(image: ArrayView2<'_, u8>, element: Element) -> Array2<u8> {
    erode(dilate(image, element).view(), element)
}

/// Pixel connectivity for components.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connectivity {
    /// Edge neighbours only.
    Four,
    /// Edge and corner neighbours.
    Eight,
}

impl Connectivity {
    fn offsets(self) -> &'static [(isize, isize)] {
        match self {
            Connectivity::Four => &[(0, -1), (-1, 0), (1, 0), (0, 1)],
            Connectivity::Eight => &[
                (-1, -1),
                (0, -1),
                (1, -1),
                (-1, 0),
                (1, 0),
                (-1, 1),
                (0, 1),
                (1, 1),
            ],
        }
    }
}

/// Fills holes of a binary mask (nonzero = foreground): background regions
/// that do not reach the image border (4-connected, the complement of an
/// 8-connected foreground) become 255. Other foreground pixels become 255 too.
pub fn fill_holes(mask: ArrayView2<'_, u8>) -> Array2<u8> {
    let (h, w) = mask.dim();
    // 0: unvisited background, 1: outside (reached from the border), 2: foreground.
    let mut state = mask.mapv(|v| if v != 0 { 2u8 } else { 0 });
    let mut queue = VecDeque::new();
    for y in 0..h {
        for x in 0..w {
            if (y == 0 || x == 0 || y + 1 == h || x + 1 == w) && state[(y, x)] == 0 {
                state[(y, x)] = 1;
                queue.push_back((y, x));
            }
        }
    }
    while let Some((y, x)) = queue.pop_front() {
        for &(dx, dy) in Connectivity::Four.offsets() {
            let (ny, nx) = (y as isize + dy, x as isize + dx);
            if ny < 0 || nx < 0 || ny >= h as isize || nx >= w as isize {
                continue;
            }
            let (ny, nx) = (ny as usize, nx as usize);
            if state[(ny, nx)] == 0 {
                state[(ny, nx)] = 1;
                queue.push_back((ny, nx));
            }
        }
    }
    state.mapv(|s| if s == 1 { 0 } else { 255 })
}

/// Statistics of one connected component.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentStats {
    /// The component's label in [`Components::labels`] (1-based).
    pub label: u32,
    /// Pixels in the component.
    pub area: u64,
    /// Bounding box: left, top, width, height in pixels.
    pub bbox: (usize, usize, usize, usize),
    /// Mean (x, y) of the component's pixels.
    pub centroid: (f64, f64),
}

/// A labelling of a binary mask's components (OpenCV's
/// `connectedComponentsWithStats`).
#[derive(Debug, Clone)]
pub struct Components {
    /// 0 for background, else the component's label (1-based), numbered
    /// in raster order of each component's first pixel.
    pub labels: Array2<u32>,
    /// `stats[i]` describes label `i + 1`.
    pub stats: Vec<ComponentStats>,
}

/// Labels the connected components of the nonzero pixels of `mask`.
pub fn connected_components(mask: ArrayView2<'_, u8>, connectivity: Connectivity) -> Components {
    let (h, w) = mask.dim();
    let mut labels = Array2::<u32>::zeros((h, w));
    let mut stats = Vec::new();
    let mut stack = Vec::new();
    for y0 in 0..h {
        for x0 in 0..w {
            if mask[(y0, x0)] == 0 || labels[(y0, x0)] != 0 {
                continue;
            }
            let label = stats.len() as u32 + 1;
            labels[(y0, x0)] = label;
            stack.push((y0, x0));
            let (mut area, mut sx, mut sy) = (0u64, 0f64, 0f64);
            let (mut minx, mut miny, mut maxx, mut maxy) = (x0, y0, x0, y0);
            while let Some((y, x)) = stack.pop() {
                area += 1;
                sx += x as f64;
                sy += y as f64;
                minx = minx.min(x);
                maxx = maxx.max(x);
                miny = miny.min(y);
                maxy = maxy.max(y);
                for &(dx, dy) in connectivity.offsets() {
                    let (ny, nx) = (y as isize + dy, x as isize + dx);
                    if ny < 0 || nx < 0 || ny >= h as isize || nx >= w as isize {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    if mask[(ny, nx)] != 0 && labels[(ny, nx)] == 0 {
                        labels[(ny, nx)] = label;
                        stack.push((ny, nx));
                    }
                }
            }
            stats.push(ComponentStats {
                label,
                area,
                bbox: (minx, miny, maxx - minx + 1, maxy - miny + 1),
                centroid: (sx / area as f64, sy / area as f64),
            });
        }
    }
    Components { labels, stats }
}
