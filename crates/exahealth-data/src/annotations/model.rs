//! The annotation model shared by every format: geometries in level-0 pixel
//! coordinates, a name, an optional class and colour.

use super::error::AnnotationError;
use std::borrow::Cow;

/// A position in level-0 pixel coordinates (x to the right, y down).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Point {
    /// Column, in level-0 pixels.
    pub x: f64,
    /// Row, in level-0 pixels.
    pub y: f64,
}

impl Point {
    /// The point (`x`, `y`), usable in constants.
    pub const fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }
}

/// A polygon: one exterior ring and any number of holes.
///
/// Rings are stored open: the last vertex is not a repeat of the first (the
/// GeoJSON writer closes them). Each ring has at least 3 vertices.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Polygon {
    /// The outer boundary.
    pub exterior: Vec<Point>,
    /// Boundaries of the areas cut out of the exterior.
    pub holes: Vec<Vec<Point>>,
}

impl Polygon {
    /// A polygon without holes.
    pub fn new(exterior: Vec<Point>) -> Self {
        Polygon {
            exterior,
            holes: Vec::new(),
        }
    }

    /// Area in square level-0 pixels: the exterior's minus the holes'.
    pub fn area(&self) -> f64 {
        let holes: f64 = self.holes.iter().map(|h| ring_area(h)).sum();
        (ring_area(&self.exterior) - holes).max(0.0)
    }
}

/// The shape of an annotation. All coordinates are level-0 pixels.
#[derive(Debug, Clone, PartialEq)]
pub enum Geometry {
    /// One point (ASAP `Dot`, GeoJSON `Point`).
    Point(Point),
    /// A set of points (ASAP `PointSet`, GeoJSON `MultiPoint`).
    Points(Vec<Point>),
    /// An axis-aligned rectangle from `min` (top left) to `max` (bottom right).
    Rectangle {
        /// Top-left corner.
        min: Point,
        /// Bottom-right corner.
        max: Point,
    },
    /// A polygon, possibly with holes.
    Polygon(Polygon),
    /// Several polygons (GeoJSON `MultiPolygon`).
    MultiPolygon(Vec<Polygon>),
    /// A closed spline through these control points (ASAP `Spline`). It is
    /// approximated as a polygon (see [`spline_to_polygon`]) for
    /// rasterisation, areas and GeoJSON output.
    Spline(Vec<Point>),
    /// An open polyline (GeoJSON `LineString`, ASAP `Measurement` when it has
    /// two vertices). Has no area: never rasterised.
    Polyline(Vec<Point>),
}

/// The kind of a [`Geometry`], for summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GeometryKind {
    /// [`Geometry::Point`].
    Point,
    /// [`Geometry::Points`].
    Points,
    /// [`Geometry::Rectangle`].
    Rectangle,
    /// [`Geometry::Polygon`].
    Polygon,
    /// [`Geometry::MultiPolygon`].
    MultiPolygon,
    /// [`Geometry::Spline`].
    Spline,
    /// [`Geometry::Polyline`].
    Polyline,
}

impl GeometryKind {
    /// Lower-case name used in summaries and JSON output.
    pub fn name(self) -> &'static str {
        match self {
            GeometryKind::Point => "point",
            GeometryKind::Points => "points",
            GeometryKind::Rectangle => "rectangle",
            GeometryKind::Polygon => "polygon",
            GeometryKind::MultiPolygon => "multipolygon",
            GeometryKind::Spline => "spline",
            GeometryKind::Polyline => "polyline",
        }
    }
}

impl Geometry {
    /// Which variant this is, without its coordinates.
    pub fn kind(&self) -> GeometryKind {
        match self {
            Geometry::Point(_) => GeometryKind::Point,
            Geometry::Points(_) => GeometryKind::Points,
            Geometry::Rectangle { .. } => GeometryKind::Rectangle,
            Geometry::Polygon(_) => GeometryKind::Polygon,
            Geometry::MultiPolygon(_) => GeometryKind::MultiPolygon,
            Geometry::Spline(_) => GeometryKind::Spline,
            Geometry::Polyline(_) => GeometryKind::Polyline,
        }
    }

    /// The areas this geometry covers, as polygons: rectangles become
    /// 4-vertex polygons, splines their approximation; points and polylines
    /// cover nothing (empty).
    pub fn regions(&self) -> Cow<'_, [Polygon]> {
        match self {
            Geometry::Polygon(p) => Cow::Borrowed(std::slice::from_ref(p)),
            Geometry::MultiPolygon(ps) => Cow::Borrowed(ps),
            Geometry::Rectangle { min, max } => {
                Cow::Owned(vec![Polygon::new(rectangle_ring(*min, *max).to_vec())])
            }
            Geometry::Spline(c) => Cow::Owned(vec![Polygon::new(spline_to_polygon(c))]),
            Geometry::Point(_) | Geometry::Points(_) | Geometry::Polyline(_) => Cow::Borrowed(&[]),
        }
    }

    /// Calls `f` on every vertex (spline control points, not the curve).
    pub fn for_each_vertex(&self, mut f: impl FnMut(Point)) {
        match self {
            Geometry::Point(p) => f(*p),
            Geometry::Rectangle { min, max } => {
                f(*min);
                f(*max);
            }
            Geometry::Points(v) | Geometry::Spline(v) | Geometry::Polyline(v) => {
                v.iter().copied().for_each(f)
            }
            Geometry::Polygon(p) => polygon_vertices(p, &mut f),
            Geometry::MultiPolygon(ps) => ps.iter().for_each(|p| polygon_vertices(p, &mut f)),
        }
    }

    /// Number of stored vertices.
    pub fn vertex_count(&self) -> usize {
        let mut n = 0;
        self.for_each_vertex(|_| n += 1);
        n
    }

    /// Area in square level-0 pixels (0 for points and polylines).
    pub fn area(&self) -> f64 {
        self.regions().iter().map(Polygon::area).sum()
    }

    /// Checks the invariants every reader guarantees: finite coordinates,
    /// at least 3 vertices per ring and spline, 2 per polyline, 1 per point
    /// set, `min <= max` for rectangles.
    pub fn check(&self) -> Result<(), String> {
        let mut bad = None;
        self.for_each_vertex(|p| {
            if bad.is_none() && !(p.x.is_finite() && p.y.is_finite()) {
                bad = Some(p);
            }
        });
        if let Some(p) = bad {
            return Err(format!(
                "coordinate ({}, {}) is not a finite number",
                p.x, p.y
            ));
        }
        match self {
            Geometry::Point(_) => Ok(()),
            Geometry::Points(v) => at_least(v.len(), 1, "a point set"),
            Geometry::Polyline(v) => at_least(v.len(), 2, "a polyline"),
            Geometry::Spline(v) => at_least(v.len(), 3, "a spline"),
            Geometry::Rectangle { min, max } => {
                if min.x <= max.x && min.y <= max.y {
                    Ok(())
                } else {
                    Err("rectangle has min above max".into())
                }
            }
            Geometry::Polygon(p) => check_polygon(p),
            Geometry::MultiPolygon(ps) => {
                if ps.is_empty() {
                    return Err("multipolygon has no polygons".into());
                }
                ps.iter().try_for_each(check_polygon)
            }
        }
    }
}

fn polygon_vertices(p: &Polygon, f: &mut impl FnMut(Point)) {
    p.exterior.iter().copied().for_each(&mut *f);
    p.holes.iter().flatten().copied().for_each(f);
}

fn at_least(n: usize, min: usize, what: &str) -> Result<(), String> {
    if n >= min {
        Ok(())
    } else {
        Err(format!("{what} needs at least {min} vertices, found {n}"))
    }
}

fn check_polygon(p: &Polygon) -> Result<(), String> {
    at_least(p.exterior.len(), 3, "a polygon")?;
    for h in &p.holes {
        at_least(h.len(), 3, "a polygon hole")?;
    }
    Ok(())
}

/// A user-defined class of annotations (ASAP `Group`, QuPath classification).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Group {
    /// The class name annotations refer to in [`Annotation::class`].
    pub name: String,
    /// The group this group belongs to (ASAP `PartOfGroup`), if any.
    pub parent: Option<String>,
    /// Display colour, RGB.
    pub color: Option<[u8; 3]>,
}

/// One annotated object.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Free-text name; may be empty.
    pub name: String,
    /// The class: ASAP `PartOfGroup` (`None` for "None"), GeoJSON
    /// `properties.classification.name`.
    pub class: Option<String>,
    /// Display colour of this annotation.
    pub color: Option<[u8; 3]>,
    /// The shape, in level-0 pixels.
    pub geometry: Geometry,
}

/// The annotations of one slide, with their groups (classes).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnnotationSet {
    /// The objects, in file order.
    pub annotations: Vec<Annotation>,
    /// The classes declared by the file, in file order; annotations may name
    /// classes not listed here.
    pub groups: Vec<Group>,
}

impl AnnotationSet {
    /// Checks every geometry (see [`Geometry::check`]). Writers and the
    /// rasteriser call this first; readers only produce valid sets.
    pub fn validate(&self) -> Result<(), AnnotationError> {
        for (index, a) in self.annotations.iter().enumerate() {
            a.geometry
                .check()
                .map_err(|message| AnnotationError::InvalidGeometry {
                    index,
                    name: a.name.clone(),
                    message,
                })?;
        }
        Ok(())
    }

    /// The colour of a class: its group's, else the first annotation's of
    /// that class.
    pub fn class_color(&self, class: &str) -> Option<[u8; 3]> {
        self.groups
            .iter()
            .find(|g| g.name == class)
            .and_then(|g| g.color)
            .or_else(|| {
                self.annotations
                    .iter()
                    .filter(|a| a.class.as_deref() == Some(class))
                    .find_map(|a| a.color)
            })
    }
}

/// Corners of a rectangle, clockwise on screen from the top left.
pub(crate) fn rectangle_ring(min: Point, max: Point) -> [Point; 4] {
    [min, Point::new(max.x, min.y), max, Point::new(min.x, max.y)]
}

/// If these 4 points are the corners of an axis-aligned rectangle walked
/// around its edge (in either direction, from any corner), its min and max.
pub(crate) fn as_rectangle(pts: &[Point]) -> Option<(Point, Point)> {
    if pts.len() != 4 {
        return None;
    }
    let min = Point::new(
        pts.iter().map(|p| p.x).fold(f64::INFINITY, f64::min),
        pts.iter().map(|p| p.y).fold(f64::INFINITY, f64::min),
    );
    let max = Point::new(
        pts.iter().map(|p| p.x).fold(f64::NEG_INFINITY, f64::max),
        pts.iter().map(|p| p.y).fold(f64::NEG_INFINITY, f64::max),
    );
    let corner = |p: &Point| (p.x == min.x || p.x == max.x) && (p.y == min.y || p.y == max.y);
    if !pts.iter().all(corner) {
        return None;
    }
    let all_corners = rectangle_ring(min, max).iter().all(|c| pts.contains(c));
    let along_edges = (0..4).all(|i| {
        let (a, b) = (pts[i], pts[(i + 1) % 4]);
        a.x == b.x || a.y == b.y
    });
    (all_corners && along_edges).then_some((min, max))
}

/// Vertices per control-point span in [`spline_to_polygon`].
pub const SPLINE_STEPS: usize = 16;

/// Approximates the closed spline ASAP draws through `control` as a polygon:
/// a uniform Catmull-Rom curve, closed, sampled [`SPLINE_STEPS`] times per
/// span. The control points themselves lie on the result.
pub fn spline_to_polygon(control: &[Point]) -> Vec<Point> {
    let n = control.len();
    if n < 3 {
        return control.to_vec();
    }
    let mut out = Vec::with_capacity(n.saturating_mul(SPLINE_STEPS));
    for i in 0..n {
        let p0 = control[(i + n - 1) % n];
        let p1 = control[i];
        let p2 = control[(i + 1) % n];
        let p3 = control[(i + 2) % n];
        out.push(p1);
        for s in 1..SPLINE_STEPS {
            let t = s as f64 / SPLINE_STEPS as f64;
            let c = |a: f64, b: f64, c: f64, d: f64| {
                0.5 * (2.0 * b
                    + (c - a) * t
                    + (2.0 * a - 5.0 * b + 4.0 * c - d) * t * t
                    + (3.0 * b - a - 3.0 * c + d) * t * t * t)
            };
            out.push(Point::new(
                c(p0.x, p1.x, p2.x, p3.x),
                c(p0.y, p1.y, p2.y, p3.y),
            ));
        }
    }
    out
}

/// Vertices of the polygon that stands for an ellipse (Sedeen, Halo).
pub(crate) const ELLIPSE_VERTICES: usize = 64;

/// A polygon approximating the ellipse inscribed in the box `min`..`max`.
pub(crate) fn ellipse_polygon(min: Point, max: Point) -> Vec<Point> {
    let (cx, cy) = ((min.x + max.x) / 2.0, (min.y + max.y) / 2.0);
    let (rx, ry) = ((max.x - min.x) / 2.0, (max.y - min.y) / 2.0);
    (0..ELLIPSE_VERTICES)
        .map(|i| {
            let a = std::f64::consts::TAU * i as f64 / ELLIPSE_VERTICES as f64;
            Point::new(cx + rx * a.cos(), cy + ry * a.sin())
        })
        .collect()
}

/// Bounding box of a point list.
pub(crate) fn bounds_of(pts: &[Point]) -> (Point, Point) {
    let mut min = Point::new(f64::INFINITY, f64::INFINITY);
    let mut max = Point::new(f64::NEG_INFINITY, f64::NEG_INFINITY);
    for p in pts {
        min.x = min.x.min(p.x);
        min.y = min.y.min(p.y);
        max.x = max.x.max(p.x);
        max.y = max.y.max(p.y);
    }
    (min, max)
}

/// Unsigned area of a ring (shoelace formula).
fn ring_area(ring: &[Point]) -> f64 {
    let n = ring.len();
    let mut twice = 0.0;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        twice += a.x * b.y - b.x * a.y;
    }
    (twice / 2.0).abs()
}

/// Whether `p` is inside `ring` (even-odd rule).
pub(crate) fn ring_contains(ring: &[Point], p: Point) -> bool {
    let n = ring.len();
    let mut inside = false;
    for i in 0..n {
        let (a, b) = (ring[i], ring[(i + 1) % n]);
        if (a.y <= p.y) != (b.y <= p.y) {
            let x = a.x + (p.y - a.y) * (b.x - a.x) / (b.y - a.y);
            if p.x < x {
                inside = !inside;
            }
        }
    }
    inside
}
