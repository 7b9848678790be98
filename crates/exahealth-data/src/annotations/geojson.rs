//! QuPath GeoJSON: a `FeatureCollection`, a single `Feature`, or a bare
//! array of features.
//!
//! Read: geometries `Point`, `MultiPoint`, `LineString`, `Polygon`,
//! `MultiPolygon`; `properties.name`; `properties.classification` as
//! `{name, color: [r, g, b]}`, `{name, colorRGB: <packed int>}` or a plain
//! string; `properties.color`. Other members (measurements, `objectType`,
//! `nucleusGeometry`, ids) are ignored.
//!
//! Write: a `FeatureCollection` of QuPath annotation objects. Shapes GeoJSON
//! lacks travel as their polygon plus a hint QuPath ignores,
//! `properties.exahealth = {"type": "Rectangle"}` or `{"type": "Spline",
//! "vertices": [[x, y], ...]}`, so a round trip through GeoJSON gives back
//! the rectangle or spline (unless the polygon was edited meanwhile).

use super::error::{AnnotationError, Location};
use super::model::{
    as_rectangle, rectangle_ring, spline_to_polygon, Annotation, AnnotationSet, Geometry, Group,
    Point, Polygon,
};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Nested GeoJSON coordinate arrays, parsed without knowing the geometry
/// type yet (`type` may come after `coordinates`). A position is stored
/// inline, without an allocation of its own; z and m values are dropped.
#[derive(Debug)]
enum Nested {
    Num(f64),
    Pos(Point),
    List(Vec<Nested>),
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Nested;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or an array of coordinates")
            }
            fn visit_f64<E>(self, v: f64) -> Result<Nested, E> {
                Ok(Nested::Num(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Nested, E> {
                Ok(Nested::Num(v as f64))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Nested, E> {
                Ok(Nested::Num(v as f64))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Nested, A::Error> {
                match seq.next_element::<Nested>()? {
                    None => Ok(Nested::List(Vec::new())),
                    Some(Nested::Num(x)) => {
                        let y = seq.next_element::<f64>()?.ok_or_else(|| {
                            de::Error::custom("a position needs 2 numbers, found 1")
                        })?;
                        while seq.next_element::<f64>()?.is_some() {}
                        Ok(Nested::Pos(Point::new(x, y)))
                    }
                    Some(first) => {
                        // No capacity from the size hint: it is not trusted.
                        let mut v = vec![first];
                        while let Some(e) = seq.next_element::<Nested>()? {
                            v.push(e);
                        }
                        Ok(Nested::List(v))
                    }
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct RawTop {
    #[serde(rename = "type")]
    ty: Option<String>,
    features: Option<Vec<RawFeature>>,
    #[serde(default, deserialize_with = "present")]
    geometry: Option<Option<RawGeometry>>,
    properties: Option<RawProperties>,
    coordinates: Option<Nested>,
}

#[derive(Deserialize)]
struct RawFeature {
    #[serde(rename = "type")]
    ty: Option<String>,
    geometry: Option<RawGeometry>,
    properties: Option<RawProperties>,
}

#[derive(Deserialize)]
struct RawGeometry {
    #[serde(rename = "type")]
    ty: String,
    coordinates: Option<Nested>,
}

#[derive(Deserialize, Default)]
struct RawProperties {
    name: Option<String>,
    classification: Option<RawClassification>,
    color: Option<Vec<f64>>,
    exahealth: Option<RawHint>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawClassification {
    Name(String),
    Object {
        name: Option<String>,
        color: Option<Vec<f64>>,
        #[serde(rename = "colorRGB")]
        color_rgb: Option<i64>,
    },
}

#[derive(Deserialize)]
struct RawHint {
    #[serde(rename = "type")]
    ty: Option<String>,
    vertices: Option<Nested>,
}

/// Tells a `"geometry": null` member from an absent one.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Parses QuPath GeoJSON. `file` names the source in errors.
pub fn parse_geojson(bytes: &[u8], file: &str) -> Result<AnnotationSet, AnnotationError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let json_error = |e: serde_json::Error| AnnotationError::Json {
        file: file.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let features: Vec<RawFeature> = if first == Some(b'[') {
        serde_json::from_slice(bytes).map_err(json_error)?
    } else {
        let top: RawTop = serde_json::from_slice(bytes).map_err(json_error)?;
        match (top.ty.as_deref(), top.features) {
            (Some("FeatureCollection") | None, Some(f)) => f,
            (Some("Feature"), None) => vec![RawFeature {
                ty: top.ty,
                geometry: top.geometry.flatten(),
                properties: top.properties,
            }],
            (Some(t), None) if top.coordinates.is_some() && top.geometry.is_none() => {
                // A bare geometry object.
                vec![RawFeature {
                    ty: None,
                    geometry: Some(RawGeometry {
                        ty: t.to_owned(),
                        coordinates: top.coordinates,
                    }),
                    properties: None,
                }]
            }
            (t, _) => {
                return Err(AnnotationError::invalid(
                    file,
                    Location::File,
                    format!(
                        "expected a FeatureCollection, a Feature or an array of features, \
                         found type {:?}",
                        t.unwrap_or("(none)")
                    ),
                ))
            }
        }
    };
    let mut set = AnnotationSet::default();
    for (i, f) in features.into_iter().enumerate() {
        let invalid = |m: String| AnnotationError::invalid(file, Location::Feature(i), m);
        let annotation = feature(f, &mut set.groups).map_err(invalid)?;
        set.annotations.push(annotation);
    }
    Ok(set)
}

fn feature(f: RawFeature, groups: &mut Vec<Group>) -> Result<Annotation, String> {
    if let Some(t) = f.ty.as_deref() {
        if t != "Feature" {
            return Err(format!("expected type \"Feature\", found {t:?}"));
        }
    }
    let g = f
        .geometry
        .ok_or("the feature has no geometry (null or missing)")?;
    let props = f.properties.unwrap_or_default();
    let mut geometry = geometry(&g)?;
    if let Some(hint) = &props.exahealth {
        geometry = apply_hint(geometry, hint);
    }
    geometry.check()?;

    let color = props.color.as_deref().map(rgb).transpose()?;
    let (class, class_color) = match props.classification {
        None => (None, None),
        Some(RawClassification::Name(n)) => (Some(n), None),
        Some(RawClassification::Object {
            name,
            color,
            color_rgb,
        }) => {
            let c = match (color, color_rgb) {
                (Some(c), _) => Some(rgb(&c)?),
                (None, Some(packed)) => {
                    let v = packed as u32;
                    Some([(v >> 16) as u8, (v >> 8) as u8, v as u8])
                }
                (None, None) => None,
            };
            (name, c)
        }
    };
    let class = class.filter(|c| !c.is_empty());
    if let Some(c) = &class {
        match groups.iter_mut().find(|g| &g.name == c) {
            Some(g) => g.color = g.color.or(class_color),
            None => groups.push(Group {
                name: c.clone(),
                parent: None,
                color: class_color,
            }),
        }
    }
    Ok(Annotation {
        name: props.name.unwrap_or_default(),
        class,
        color: color.or(class_color),
        geometry,
    })
}

fn rgb(c: &[f64]) -> Result<[u8; 3], String> {
    let byte = |v: f64| {
        if (0.0..=255.0).contains(&v) && v.fract() == 0.0 {
            Ok(v as u8)
        } else {
            Err(format!(
                "colour component {v} is not a whole number 0..=255"
            ))
        }
    };
    match c {
        [r, g, b] | [r, g, b, _] => Ok([byte(*r)?, byte(*g)?, byte(*b)?]),
        _ => Err(format!("a colour needs 3 components, found {}", c.len())),
    }
}

fn position(n: &Nested) -> Result<Point, String> {
    match n {
        Nested::Pos(p) => Ok(*p),
        _ => Err("expected a position [x, y]".into()),
    }
}

fn positions(n: &Nested) -> Result<Vec<Point>, String> {
    match n {
        Nested::List(v) => v.iter().map(position).collect(),
        Nested::Pos(_) => Err("expected an array of positions, found one position".into()),
        Nested::Num(_) => Err("expected an array of positions, found a number".into()),
    }
}

/// A ring without its closing vertex.
fn ring(n: &Nested) -> Result<Vec<Point>, String> {
    let mut pts = positions(n)?;
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    if pts.len() < 3 {
        return Err(format!(
            "a polygon ring needs at least 3 distinct vertices, found {}",
            pts.len()
        ));
    }
    Ok(pts)
}

fn polygon(n: &Nested) -> Result<Polygon, String> {
    let Nested::List(rings) = n else {
        return Err("expected an array of rings".into());
    };
    let mut rings = rings.iter().map(ring);
    let exterior = rings.next().ok_or("a polygon has no rings")??;
    Ok(Polygon {
        exterior,
        holes: rings.collect::<Result<_, _>>()?,
    })
}

fn geometry(g: &RawGeometry) -> Result<Geometry, String> {
    let c = g
        .coordinates
        .as_ref()
        .ok_or_else(|| format!("the {} geometry has no coordinates", g.ty))?;
    Ok(match g.ty.as_str() {
        "Point" => Geometry::Point(position(c)?),
        "MultiPoint" => Geometry::Points(positions(c)?),
        "LineString" => Geometry::Polyline(positions(c)?),
        "Polygon" => Geometry::Polygon(polygon(c)?),
        "MultiPolygon" => {
            let Nested::List(ps) = c else {
                return Err("expected an array of polygons".into());
            };
            Geometry::MultiPolygon(ps.iter().map(polygon).collect::<Result<_, _>>()?)
        }
        t => {
            return Err(format!(
                "geometry type {t:?} is not supported (Point, MultiPoint, LineString, \
                 Polygon and MultiPolygon are)"
            ))
        }
    })
}

/// Restores a rectangle or spline from the writer's hint when the polygon
/// still is what the hint describes.
fn apply_hint(g: Geometry, hint: &RawHint) -> Geometry {
    let Geometry::Polygon(p) = &g else {
        return g;
    };
    if !p.holes.is_empty() {
        return g;
    }
    match hint.ty.as_deref() {
        Some("Rectangle") => {
            if let Some((min, max)) = as_rectangle(&p.exterior) {
                return Geometry::Rectangle { min, max };
            }
        }
        Some("Spline") => {
            if let Some(Ok(control)) = hint.vertices.as_ref().map(positions) {
                if control.len() >= 3 && same_ring(&spline_to_polygon(&control), &p.exterior) {
                    return Geometry::Spline(control);
                }
            }
        }
        _ => {}
    }
    tracing::debug!("exahealth shape hint does not match the geometry; kept the polygon");
    g
}

fn same_ring(a: &[Point], b: &[Point]) -> bool {
    let close = |u: f64, v: f64| (u - v).abs() <= 1e-6 * (1.0 + u.abs().max(v.abs()));
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(p, q)| close(p.x, q.x) && close(p.y, q.y))
}

// ---------------------------------------------------------------- writing

struct Pos(Point);

impl Serialize for Pos {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.0.x, self.0.y].serialize(s)
    }
}

/// A list of positions; `closed` repeats the first at the end.
struct Line<'a> {
    pts: &'a [Point],
    closed: bool,
}

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let extra = usize::from(self.closed && !self.pts.is_empty());
        let mut seq = s.serialize_seq(Some(self.pts.len() + extra))?;
        for p in self.pts {
            seq.serialize_element(&Pos(*p))?;
        }
        if extra == 1 {
            seq.serialize_element(&Pos(self.pts[0]))?;
        }
        seq.end()
    }
}

struct PolygonOut<'a>(&'a Polygon);

impl Serialize for PolygonOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let p = self.0;
        let mut seq = s.serialize_seq(Some(1 + p.holes.len()))?;
        for r in std::iter::once(&p.exterior).chain(&p.holes) {
            seq.serialize_element(&Line {
                pts: r,
                closed: true,
            })?;
        }
        seq.end()
    }
}

struct MultiPolygonOut<'a>(&'a [Polygon]);

impl Serialize for MultiPolygonOut<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(PolygonOut))
    }
}

#[derive(Serialize)]
#[serde(tag = "type")]
enum GeometryOut<'a> {
    Point { coordinates: Pos },
    MultiPoint { coordinates: Line<'a> },
    LineString { coordinates: Line<'a> },
    Polygon { coordinates: PolygonOut<'a> },
    MultiPolygon { coordinates: MultiPolygonOut<'a> },
}

#[derive(Serialize)]
struct ClassificationOut<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<[u8; 3]>,
}

#[derive(Serialize)]
struct HintOut<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vertices: Option<Line<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PropertiesOut<'a> {
    object_type: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    classification: Option<ClassificationOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    color: Option<[u8; 3]>,
    is_locked: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    exahealth: Option<HintOut<'a>>,
}

#[derive(Serialize)]
struct FeatureOut<'a> {
    #[serde(rename = "type")]
    ty: &'static str,
    geometry: GeometryOut<'a>,
    properties: PropertiesOut<'a>,
}

/// Writes an annotation set as QuPath-compatible GeoJSON: a
/// `FeatureCollection`, one feature per line, each an `annotation` object
/// with `name`, `classification {name, color}` and `color`. Rectangles and
/// splines are written as polygons with a hint (see the module docs).
pub fn to_geojson_string(set: &AnnotationSet) -> Result<String, AnnotationError> {
    set.validate()?;
    let mut out = String::from("{\"type\":\"FeatureCollection\",\"features\":[");
    for (i, a) in set.annotations.iter().enumerate() {
        let ring;
        let spline;
        let (geometry, hint) = match &a.geometry {
            Geometry::Point(p) => (
                GeometryOut::Point {
                    coordinates: Pos(*p),
                },
                None,
            ),
            Geometry::Points(v) => (
                GeometryOut::MultiPoint {
                    coordinates: Line {
                        pts: v,
                        closed: false,
                    },
                },
                None,
            ),
            Geometry::Polyline(v) => (
                GeometryOut::LineString {
                    coordinates: Line {
                        pts: v,
                        closed: false,
                    },
                },
                None,
            ),
            Geometry::Polygon(p) => (
                GeometryOut::Polygon {
                    coordinates: PolygonOut(p),
                },
                None,
            ),
            Geometry::MultiPolygon(ps) => (
                GeometryOut::MultiPolygon {
                    coordinates: MultiPolygonOut(ps),
                },
                None,
            ),
            Geometry::Rectangle { min, max } => {
                ring = Polygon::new(rectangle_ring(*min, *max).to_vec());
                (
                    GeometryOut::Polygon {
                        coordinates: PolygonOut(&ring),
                    },
                    Some(HintOut {
                        ty: "Rectangle",
                        vertices: None,
                    }),
                )
            }
            Geometry::Spline(control) => {
                spline = Polygon::new(spline_to_polygon(control));
                (
                    GeometryOut::Polygon {
                        coordinates: PolygonOut(&spline),
                    },
                    Some(HintOut {
                        ty: "Spline",
                        vertices: Some(Line {
                            pts: control,
                            closed: false,
                        }),
                    }),
                )
            }
        };
        let feature = FeatureOut {
            ty: "Feature",
            geometry,
            properties: PropertiesOut {
                object_type: "annotation",
                name: &a.name,
                classification: a.class.as_deref().map(|c| ClassificationOut {
                    name: c,
                    color: set.class_color(c),
                }),
                color: a.color,
                is_locked: false,
                exahealth: hint,
            },
        };
        out.push_str(if i == 0 { "\n" } else { ",\n" });
        let json =
            serde_json::to_string(&feature).map_err(|e| AnnotationError::InvalidGeometry {
                index: i,
                name: a.name.clone(),
                message: e.to_string(),
            })?;
        out.push_str(&json);
    }
    out.push_str("\n]}\n");
    Ok(out)
}
