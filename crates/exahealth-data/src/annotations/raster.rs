//! Annotations to label masks at any pyramid level, by scanline filling.

use super::error::AnnotationError;
use super::model::{AnnotationSet, Point, Polygon};

/// The largest mask [`rasterize`] makes, in pixels (2^31).
pub const MAX_MASK_PIXELS: u64 = 1 << 31;

/// Rasterises `set` into a `width` x `height` row-major label mask whose
/// pixels are `downsample` level-0 pixels wide (1 for level 0, 4 for a level
/// downsampled 4 times...). Same as [`rasterize_region`] from the origin.
pub fn rasterize(
    set: &AnnotationSet,
    width: usize,
    height: usize,
    downsample: f64,
    class_to_label: &dyn Fn(Option<&str>) -> Option<u8>,
) -> Result<Vec<u8>, AnnotationError> {
    rasterize_region(
        set,
        Point::new(0.0, 0.0),
        width,
        height,
        downsample,
        class_to_label,
    )
}

/// Rasterises `set` into a `width` x `height` row-major label mask covering
/// the level-0 region whose top-left corner is `origin`, each mask pixel
/// `downsample` level-0 pixels wide. Use it for a patch's mask without a
/// whole-slide mask in memory.
///
/// Rules:
/// - Mask pixel (x, y) is inside a shape when its centre,
///   `origin + ((x + 0.5) * downsample, (y + 0.5) * downsample)` in level-0
///   coordinates, is. A centre exactly on a left or top edge is inside, on a
///   right or bottom edge outside, so shapes that share an edge never both
///   claim a pixel.
/// - Each polygon (exterior and holes together) is filled with the
///   **even-odd** rule: holes are not painted, and keep whatever was under
///   them (background 0 or an earlier annotation's label); a
///   self-intersecting ring's doubly covered parts are left out too. The
///   parts of a multipolygon are filled one by one (their union).
/// - Rectangles are filled as polygons, splines as their approximating
///   polygon; points, point sets and polylines are not drawn.
/// - `class_to_label` maps an annotation's class to its label; `None` skips
///   the annotation. Annotations are drawn in order: later ones overwrite
///   earlier ones.
///
/// Cost: O(rows x edges crossing them) per polygon, with no per-pixel
/// polygon tests. Errors: a downsample that is not finite and above 0, a
/// mask over [`MAX_MASK_PIXELS`], an invalid geometry (NaN...).
pub fn rasterize_region(
    set: &AnnotationSet,
    origin: Point,
    width: usize,
    height: usize,
    downsample: f64,
    class_to_label: &dyn Fn(Option<&str>) -> Option<u8>,
) -> Result<Vec<u8>, AnnotationError> {
    if !(downsample.is_finite() && downsample > 0.0) {
        return Err(AnnotationError::InvalidDownsample(downsample));
    }
    let too_large = AnnotationError::MaskTooLarge {
        width,
        height,
        limit: MAX_MASK_PIXELS,
    };
    let pixels = (width as u64)
        .checked_mul(height as u64)
        .filter(|&n| n <= MAX_MASK_PIXELS)
        .ok_or(too_large)?;
    if !(origin.x.is_finite() && origin.y.is_finite()) {
        return Err(AnnotationError::InvalidGeometry {
            index: 0,
            name: String::new(),
            message: "the mask origin is not finite".into(),
        });
    }
    set.validate()?;
    let mut mask = vec![0u8; pixels as usize];
    let grid = Grid {
        origin,
        downsample,
        width,
        height,
    };
    let mut scratch = Scratch::default();
    for a in &set.annotations {
        let Some(label) = class_to_label(a.class.as_deref()) else {
            continue;
        };
        for polygon in a.geometry.regions().iter() {
            fill_polygon(&mut mask, &grid, polygon, label, &mut scratch);
        }
    }
    Ok(mask)
}

struct Grid {
    origin: Point,
    downsample: f64,
    width: usize,
    height: usize,
}

/// The smallest index i in 0..=n whose pixel centre
/// `origin + (i + 0.5) * ds` is at or after `t` (n if none is).
fn first_centre_at_or_after(t: f64, origin: f64, ds: f64, n: usize) -> usize {
    let centre = |i: usize| origin + (i as f64 + 0.5) * ds;
    // An estimate (clamped so huge coordinates stay cheap), then exact steps.
    let guess = ((t - origin) / ds - 0.5).ceil().clamp(0.0, n as f64);
    let mut i = guess as usize;
    while i > 0 && centre(i - 1) >= t {
        i -= 1;
    }
    while i < n && centre(i) < t {
        i += 1;
    }
    i
}

/// A non-horizontal edge, oriented downwards.
#[derive(Clone, Copy)]
struct Edge {
    y_top: f64,
    y_bottom: f64,
    x_top: f64,
    slope: f64,
}

#[derive(Default)]
struct Scratch {
    edges: Vec<Edge>,
    active: Vec<Edge>,
    crossings: Vec<f64>,
}

fn fill_polygon(mask: &mut [u8], grid: &Grid, polygon: &Polygon, label: u8, s: &mut Scratch) {
    s.edges.clear();
    for ring in std::iter::once(&polygon.exterior).chain(&polygon.holes) {
        let n = ring.len();
        for i in 0..n {
            let (a, b) = (ring[i], ring[(i + 1) % n]);
            if a.y == b.y {
                continue;
            }
            let (top, bottom) = if a.y < b.y { (a, b) } else { (b, a) };
            s.edges.push(Edge {
                y_top: top.y,
                y_bottom: bottom.y,
                x_top: top.x,
                slope: (bottom.x - top.x) / (bottom.y - top.y),
            });
        }
    }
    if s.edges.is_empty() {
        return;
    }
    s.edges.sort_by(|e, f| e.y_top.total_cmp(&f.y_top));
    let y_min = s.edges[0].y_top;
    let y_max = s.edges.iter().map(|e| e.y_bottom).fold(f64::MIN, f64::max);
    let (oy, ds) = (grid.origin.y, grid.downsample);
    // Rows whose centre cy has y_min <= cy < y_max.
    let row_start = first_centre_at_or_after(y_min, oy, ds, grid.height);
    let row_end = first_centre_at_or_after(y_max, oy, ds, grid.height);
    s.active.clear();
    let mut next = 0;
    for row in row_start..row_end {
        let cy = oy + (row as f64 + 0.5) * ds;
        while next < s.edges.len() && s.edges[next].y_top <= cy {
            s.active.push(s.edges[next]);
            next += 1;
        }
        // An edge crosses the row's centre line when y_top <= cy < y_bottom.
        s.active.retain(|e| e.y_bottom > cy);
        s.crossings.clear();
        s.crossings
            .extend(s.active.iter().map(|e| e.x_top + (cy - e.y_top) * e.slope));
        s.crossings.sort_by(f64::total_cmp);
        let line = &mut mask[row * grid.width..(row + 1) * grid.width];
        for pair in s.crossings.chunks_exact(2) {
            let x0 = first_centre_at_or_after(pair[0], grid.origin.x, ds, grid.width);
            let x1 = first_centre_at_or_after(pair[1], grid.origin.x, ds, grid.width);
            if x0 < x1 {
                line[x0..x1].fill(label);
            }
        }
    }
}
