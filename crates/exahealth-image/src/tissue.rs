//! Tissue detection on slide thumbnails, CLAM-style.
//!
//! The steps of CLAM's `segmentTissue` (Lu et al., 2021): the HSV
//! saturation channel (stained tissue is coloured, glass and background are
//! grey or white), a median blur, a global threshold (Otsu, or a fixed
//! value), a morphological close, then area filters: tissue components
//! smaller than `min_tissue_area` are dropped, holes smaller than
//! `min_hole_area` are filled and only the `max_holes` largest holes of a
//! component are kept. The result is a mask and one polygon per tissue
//! component (exterior plus holes), traced along pixel edges, in thumbnail
//! pixels; [`TissuePolygon::scaled`] maps them to level-0 pixels.
//!
//! Transparent pixels (alpha 0, e.g. outside a slide's scanned area) are
//! background whatever their colour.

use std::collections::HashMap;

use ndarray::{Array2, ArrayView3};

use crate::ops::morphology::{self, Connectivity, Element};
use crate::ops::{rank, threshold};
use crate::ImageError;

/// How the saturation channel is split into tissue and background.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TissueThreshold {
    /// Otsu's threshold of the blurred saturation (CLAM's `use_otsu`).
    Otsu,
    /// Saturation above this value (0-255) is tissue (CLAM's `sthresh`, 8 by default).
    Fixed(u8),
}

/// Parameters of [`detect_tissue`]; areas are in thumbnail pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct TissueParams {
    /// Median blur kernel (odd; CLAM's `mthresh`, default 7). 1 disables it.
    pub median_ksize: usize,
    /// How the saturation threshold is chosen.
    pub threshold: TissueThreshold,
    /// Otsu can split pure background into two classes on a slide with no
    /// tissue; a threshold below this floor is raised to it (default 8).
    pub min_otsu: u8,
    /// Side of the square closing element (CLAM's `close`, default 4); 0 disables it.
    pub close_size: usize,
    /// Tissue components with fewer pixels than this are dropped.
    pub min_tissue_area: f64,
    /// Holes with fewer pixels than this are filled.
    pub min_hole_area: f64,
    /// At most this many holes (the largest) are kept per component (CLAM's `max_n_holes`, 8).
    pub max_holes: usize,
}

impl Default for TissueParams {
    fn default() -> Self {
        Self {
            median_ksize: 7,
            threshold: TissueThreshold::Otsu,
            min_otsu: 8,
            close_size: 4,
            min_tissue_area: 64.0,
            min_hole_area: 16.0,
            max_holes: 8,
        }
    }
}

/// A point in pixel coordinates (x right, y down), on pixel corners.
pub type Vertex = (f64, f64);

/// One tissue component: its outer ring and its holes. Rings are closed
/// implicitly (the last vertex joins the first) and list corners only.
#[derive(Debug, Clone, PartialEq)]
pub struct TissuePolygon {
    /// The outer ring.
    pub exterior: Vec<Vertex>,
    /// The rings of the holes inside it.
    pub holes: Vec<Vec<Vertex>>,
    /// Tissue pixels of the component in the mask (holes excluded).
    pub area_px: u64,
}

impl TissuePolygon {
    /// The polygon with x multiplied by `sx` and y by `sy` (for level 0:
    /// the thumbnail's downsample on each axis).
    pub fn scaled(&self, sx: f64, sy: f64) -> TissuePolygon {
        let s = |r: &Vec<Vertex>| r.iter().map(|&(x, y)| (x * sx, y * sy)).collect();
        TissuePolygon {
            exterior: s(&self.exterior),
            holes: self.holes.iter().map(s).collect(),
            area_px: self.area_px,
        }
    }
}

/// What [`detect_tissue`] found.
#[derive(Debug, Clone)]
pub struct TissueMask {
    /// height x width; 255 tissue, 0 background.
    pub mask: Array2<u8>,
    /// One polygon per tissue component.
    pub polygons: Vec<TissuePolygon>,
    /// The saturation threshold used (after the Otsu floor).
    pub threshold: u8,
}

impl TissueMask {
    /// The number of tissue pixels in the mask.
    pub fn tissue_pixels(&self) -> u64 {
        self.mask.iter().filter(|&&v| v != 0).count() as u64
    }

    /// Fraction of the mask that is tissue (0 for an empty mask).
    pub fn tissue_fraction(&self) -> f64 {
        let n = self.mask.len();
        if n == 0 {
            0.0
        } else {
            self.tissue_pixels() as f64 / n as f64
        }
    }
}

/// HSV saturation as OpenCV computes it for 8-bit images:
/// `255 * (max - min) / max`, 0 for black and for transparent pixels.
fn saturation(rgb: ArrayView3<'_, u8>) -> Array2<u8> {
    let (h, w, c) = rgb.dim();
    Array2::from_shape_fn((h, w), |(y, x)| {
        if c == 4 && rgb[(y, x, 3)] == 0 {
            return 0;
        }
        let (r, g, b) = (rgb[(y, x, 0)], rgb[(y, x, 1)], rgb[(y, x, 2)]);
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        if max == 0 {
            0
        } else {
            ((255 * u32::from(max - min) + u32::from(max) / 2) / u32::from(max)) as u8
        }
    })
}

/// Detects tissue on an RGB or RGBA thumbnail given as height x width x
/// channels.
pub fn detect_tissue(
    rgb: ArrayView3<'_, u8>,
    params: &TissueParams,
) -> Result<TissueMask, ImageError> {
    let c = rgb.dim().2;
    if c != 3 && c != 4 {
        return Err(ImageError::Unsupported(format!(
            "tissue detection takes RGB or RGBA, not {c} channels"
        )));
    }
    let sat = saturation(rgb);
    let blurred = rank::median_blur(sat.view(), params.median_ksize.max(1))?;
    let t = match params.threshold {
        TissueThreshold::Otsu => threshold::otsu(blurred.view()).max(params.min_otsu),
        TissueThreshold::Fixed(t) => t,
    };
    let mut mask = threshold::threshold(blurred.view(), t);
    if params.close_size > 0 {
        mask = morphology::close(mask.view(), Element::Square(params.close_size));
    }
    let mask = filter_areas(mask, params);
    let polygons = trace_polygons(&mask);
    Ok(TissueMask {
        mask,
        polygons,
        threshold: t,
    })
}

/// Drops small components and fills small (or surplus) holes.
fn filter_areas(mask: Array2<u8>, params: &TissueParams) -> Array2<u8> {
    let fg = morphology::connected_components(mask.view(), Connectivity::Eight);
    let background = mask.mapv(|v| if v == 0 { 255 } else { 0 });
    let bg = morphology::connected_components(background.view(), Connectivity::Four);
    let (h, w) = mask.dim();
    // Each hole (a background component off the border) belongs to the
    // component above its first pixel in raster order: that pixel lies on
    // the hole's outer boundary.
    let mut holes_of: HashMap<u32, Vec<(u32, u64)>> = HashMap::new();
    for s in &bg.stats {
        let (x, y, bw, bh) = s.bbox;
        if x == 0 || y == 0 || x + bw == w || y + bh == h {
            continue;
        }
        let Some(first) = (x..x + bw).find(|&xx| bg.labels[(y, xx)] == s.label) else {
            continue;
        };
        let owner = fg.labels[(y - 1, first)];
        holes_of.entry(owner).or_default().push((s.label, s.area));
    }
    let mut keep_fg = vec![false; fg.stats.len() + 1];
    let mut fill_bg = vec![false; bg.stats.len() + 1];
    for s in &fg.stats {
        let mut holes = holes_of.remove(&s.label).unwrap_or_default();
        holes.sort_by_key(|&(_, area)| std::cmp::Reverse(area));
        let mut kept = 0usize;
        let mut filled_area = 0u64;
        for &(label, area) in &holes {
            if (area as f64) < params.min_hole_area || kept >= params.max_holes {
                fill_bg[label as usize] = true;
                filled_area += area;
            } else {
                kept += 1;
            }
        }
        // CLAM compares the component's area net of its kept holes.
        if (s.area + filled_area) as f64 >= params.min_tissue_area {
            keep_fg[s.label as usize] = true;
        } else {
            for &(label, _) in &holes {
                fill_bg[label as usize] = false;
            }
        }
    }
    Array2::from_shape_fn((h, w), |p| {
        let f = fg.labels[p];
        let b = bg.labels[p];
        if (f != 0 && keep_fg[f as usize]) || (b != 0 && fill_bg[b as usize]) {
            255
        } else {
            0
        }
    })
}

/// Directed pixel edges by start corner.
type EdgeMap = HashMap<(i64, i64), Vec<(i64, i64)>>;

/// Traces every 8-connected component of `mask` into a polygon along pixel
/// edges, holes included.
pub fn trace_polygons(mask: &Array2<u8>) -> Vec<TissuePolygon> {
    let comps = morphology::connected_components(mask.view(), Connectivity::Eight);
    let (h, w) = mask.dim();
    let label = |x: isize, y: isize| -> u32 {
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0
        } else {
            comps.labels[(y as usize, x as usize)]
        }
    };
    // Directed edges with the component on the right (x right, y down),
    // keyed by start corner; at most two leave a corner (a diagonal pinch).
    let mut edges: Vec<EdgeMap> = vec![HashMap::new(); comps.stats.len()];
    for y in 0..h as isize {
        for x in 0..w as isize {
            let l = label(x, y);
            if l == 0 {
                continue;
            }
            let e = &mut edges[l as usize - 1];
            let (cx, cy) = (x as i64, y as i64);
            let mut add = |a: (i64, i64), b: (i64, i64)| e.entry(a).or_default().push(b);
            if label(x, y - 1) != l {
                add((cx, cy), (cx + 1, cy));
            }
            if label(x + 1, y) != l {
                add((cx + 1, cy), (cx + 1, cy + 1));
            }
            if label(x, y + 1) != l {
                add((cx + 1, cy + 1), (cx, cy + 1));
            }
            if label(x - 1, y) != l {
                add((cx, cy + 1), (cx, cy));
            }
        }
    }
    comps
        .stats
        .iter()
        .zip(edges)
        .map(|(s, mut e)| {
            let mut rings = Vec::new();
            // Deterministic order: start from the smallest corner left.
            let mut starts: Vec<(i64, i64)> = e.keys().copied().collect();
            starts.sort_unstable_by_key(|&(x, y)| (y, x));
            for start in starts {
                while let Some(ring) = take_ring(&mut e, start) {
                    rings.push(ring);
                }
            }
            // The exterior encloses the most area; the others are holes.
            let areas: Vec<f64> = rings.iter().map(|r| signed_area(r)).collect();
            let outer = (0..rings.len())
                .max_by(|&a, &b| areas[a].abs().total_cmp(&areas[b].abs()))
                .unwrap_or(0);
            let mut exterior = Vec::new();
            let mut holes = Vec::new();
            for (i, r) in rings.into_iter().enumerate() {
                let r: Vec<Vertex> = r.into_iter().map(|(x, y)| (x as f64, y as f64)).collect();
                if i == outer {
                    exterior = r;
                } else {
                    holes.push(r);
                }
            }
            TissuePolygon {
                exterior,
                holes,
                area_px: s.area,
            }
        })
        .collect()
}

/// Follows edges from `start` until the ring closes; returns its corners
/// (collinear runs merged). At a pinch corner it turns towards the
/// diagonal neighbour (a left turn with the component on the right), which
/// keeps 8-connected pixels in one ring.
fn take_ring(edges: &mut EdgeMap, start: (i64, i64)) -> Option<Vec<(i64, i64)>> {
    let first = pop_edge(edges, start, None)?;
    let mut path = vec![start];
    let (mut prev, mut cur) = (start, first);
    loop {
        let dir = (cur.0 - prev.0, cur.1 - prev.1);
        if cur == start {
            // Back at the start: go on only if the start is a pinch whose
            // other edge this ring takes (the turn rule picks it).
            let left = (dir.1, -dir.0);
            let more = edges
                .get(&cur)
                .is_some_and(|v| v.iter().any(|&(x, y)| (x - cur.0, y - cur.1) == left));
            if !more {
                break;
            }
        } else {
            path.push(cur);
        }
        let Some(next) = pop_edge(edges, cur, Some(dir)) else {
            break;
        };
        if cur == start {
            path.push(cur);
        }
        prev = cur;
        cur = next;
    }
    // Keep corners only.
    let n = path.len();
    let corners: Vec<(i64, i64)> = (0..n)
        .filter(|&i| {
            let a = path[(i + n - 1) % n];
            let b = path[i];
            let c = path[(i + 1) % n];
            (b.0 - a.0, b.1 - a.1) != (c.0 - b.0, c.1 - b.1)
        })
        .map(|i| path[i])
        .collect();
    Some(corners)
}

fn pop_edge(
    edges: &mut EdgeMap,
    at: (i64, i64),
    incoming: Option<(i64, i64)>,
) -> Option<(i64, i64)> {
    let outs = edges.get_mut(&at)?;
    if outs.is_empty() {
        return None;
    }
    let idx = match (incoming, outs.len()) {
        (Some((dx, dy)), n) if n > 1 => {
            // Left turn of (dx, dy) in y-down coordinates is (dy, -dx).
            let left = (dy, -dx);
            outs.iter()
                .position(|&(x, y)| (x - at.0, y - at.1) == left)
                .unwrap_or(0)
        }
        _ => 0,
    };
    Some(outs.swap_remove(idx))
}

fn signed_area(ring: &[(i64, i64)]) -> f64 {
    let n = ring.len();
    let mut s = 0i64;
    for i in 0..n {
        let (x0, y0) = ring[i];
        let (x1, y1) = ring[(i + 1) % n];
        s += x0 * y1 - x1 * y0;
    }
    s as f64 / 2.0
}
