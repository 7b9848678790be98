//! Counts per geometry kind and per class, areas, bounding box.

use super::model::{AnnotationSet, GeometryKind, Point};
use serde::Serialize;
use std::collections::BTreeMap;

/// What `exahealth annotations info` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Number of annotations.
    pub annotations: usize,
    /// Number of declared groups (classes).
    pub groups: usize,
    /// Stored vertices over all annotations (spline control points).
    pub vertices: usize,
    /// Annotations per geometry kind ("polygon", "point"...), kinds present only.
    pub by_geometry: BTreeMap<&'static str, usize>,
    /// Annotations per class, unclassified (`class: null`) first, then by name.
    pub by_class: Vec<ClassCount>,
    /// Bounding box of every vertex (splines: of their curve), in level-0
    /// pixels; `None` for an empty set.
    pub bounds: Option<Bounds>,
}

/// How many annotations one class has and how much they cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassCount {
    /// The class name; `None` for unclassified annotations.
    pub class: Option<String>,
    /// Annotations of this class.
    pub count: usize,
    /// Covered area in square level-0 pixels (holes subtracted, overlaps
    /// between annotations counted twice).
    pub area: f64,
}

/// An axis-aligned bounding box in level-0 pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Bounds {
    /// Leftmost x.
    pub min_x: f64,
    /// Topmost y.
    pub min_y: f64,
    /// Rightmost x.
    pub max_x: f64,
    /// Bottommost y.
    pub max_y: f64,
}

impl AnnotationSet {
    /// Counts, areas and bounds of the set, for `annotations info`.
    pub fn summary(&self) -> Summary {
        let mut by_geometry: BTreeMap<GeometryKind, usize> = BTreeMap::new();
        let mut by_class: BTreeMap<Option<&str>, (usize, f64)> = BTreeMap::new();
        let mut vertices = 0usize;
        let mut bounds: Option<Bounds> = None;
        let mut include = |p: Point| {
            let b = bounds.get_or_insert(Bounds {
                min_x: p.x,
                min_y: p.y,
                max_x: p.x,
                max_y: p.y,
            });
            b.min_x = b.min_x.min(p.x);
            b.min_y = b.min_y.min(p.y);
            b.max_x = b.max_x.max(p.x);
            b.max_y = b.max_y.max(p.y);
        };
        for a in &self.annotations {
            *by_geometry.entry(a.geometry.kind()).or_default() += 1;
            let entry = by_class.entry(a.class.as_deref()).or_default();
            entry.0 += 1;
            entry.1 += a.geometry.area();
            vertices += a.geometry.vertex_count();
            if a.geometry.kind() == GeometryKind::Spline {
                for p in a.geometry.regions().iter() {
                    p.exterior.iter().copied().for_each(&mut include);
                }
            } else {
                a.geometry.for_each_vertex(&mut include);
            }
        }
        Summary {
            annotations: self.annotations.len(),
            groups: self.groups.len(),
            vertices,
            by_geometry: by_geometry
                .into_iter()
                .map(|(k, n)| (k.name(), n))
                .collect(),
            by_class: by_class
                .into_iter()
                .map(|(c, (count, area))| ClassCount {
                    class: c.map(str::to_owned),
                    count,
                    area,
                })
                .collect(),
            bounds,
        }
    }
}
