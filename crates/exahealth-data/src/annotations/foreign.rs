//! Read-only support for two other tools' XML: Sedeen sessions and Halo
//! annotation layers. Both are simple enough to read into the same model;
//! neither is written.

use super::error::{AnnotationError, Location};
use super::model::{
    as_rectangle, bounds_of, ellipse_polygon, ring_contains, Annotation, AnnotationSet, Geometry,
    Group, Point, Polygon,
};
use super::xml::{self, Flow, XmlEvent};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Graphic,
    Point,
    Other,
}

struct SedeenGraphic {
    kind: String,
    name: String,
    color: Option<[u8; 3]>,
    line: u64,
    points: Vec<Point>,
}

/// Parses a Sedeen session (`<session>` .. `<graphic type=".." name="..">`
/// with `<point>x,y</point>` lists in level-0 pixels).
///
/// `polygon` becomes a polygon, `rectangle` a rectangle, `ellipse` a
/// 64-vertex polygon, `polyline`, `ruler` and `arrow` polylines, `point` a
/// point or point set. `text` boxes are skipped (logged). Sedeen has no
/// classes: `class` is `None`.
pub fn parse_sedeen(bytes: &[u8], file: &str) -> Result<AnnotationSet, AnnotationError> {
    let src = xml::decode(bytes, file)?;
    let mut set = AnnotationSet::default();
    let mut stack: Vec<Tag> = Vec::new();
    let mut graphic: Option<SedeenGraphic> = None;
    let mut point_line = 0;
    xml::walk(src, file, |event| {
        match event {
            XmlEvent::Open(el) => {
                if stack.is_empty() && !el.is("session") {
                    return Err(el.invalid(format!(
                        "not a Sedeen session: the root element is <{}>",
                        el.name_lossy()
                    )));
                }
                let tag = if el.is("graphic") && graphic.is_none() {
                    graphic = Some(SedeenGraphic {
                        kind: el.required_attr("type")?.trim().to_ascii_lowercase(),
                        name: el.attr("name")?.map(|n| n.into_owned()).unwrap_or_default(),
                        color: None,
                        line: el.line,
                        points: Vec::new(),
                    });
                    Tag::Graphic
                } else if let Some(g) = graphic.as_mut() {
                    if el.is("pen") && g.color.is_none() {
                        if let Some(c) = el.attr("color")? {
                            g.color = xml::parse_hex_color(&c).map_err(|m| el.invalid(m))?;
                        }
                    }
                    if el.is("point") {
                        point_line = el.line;
                        Tag::Point
                    } else {
                        Tag::Other
                    }
                } else {
                    Tag::Other
                };
                stack.push(tag);
            }
            XmlEvent::Text(text) => {
                if stack.last() == Some(&Tag::Point) {
                    let invalid =
                        |m: String| AnnotationError::invalid(file, Location::Line(point_line), m);
                    let (x, y) = text
                        .split_once(',')
                        .ok_or_else(|| invalid(format!("point {text:?} is not \"x,y\"")))?;
                    let p = Point::new(
                        xml::parse_number(x).map_err(invalid)?,
                        xml::parse_number(y).map_err(invalid)?,
                    );
                    if let Some(g) = graphic.as_mut() {
                        g.points.push(p);
                    }
                }
            }
            XmlEvent::Close => {
                if stack.pop() == Some(Tag::Graphic) {
                    if let Some(g) = graphic.take() {
                        if let Some(a) = sedeen_annotation(g, file)? {
                            set.annotations.push(a);
                        }
                    }
                }
            }
        }
        Ok(Flow::Continue)
    })?;
    Ok(set)
}

fn sedeen_annotation(g: SedeenGraphic, file: &str) -> Result<Option<Annotation>, AnnotationError> {
    let invalid = |m: String| AnnotationError::invalid(file, Location::Line(g.line), m);
    let pts = g.points;
    let geometry = match g.kind.as_str() {
        "polygon" => Geometry::Polygon(Polygon::new(pts)),
        "rectangle" => match as_rectangle(&pts) {
            Some((min, max)) => Geometry::Rectangle { min, max },
            None => Geometry::Polygon(Polygon::new(pts)),
        },
        "ellipse" => {
            if pts.len() < 2 {
                return Err(invalid(format!(
                    "an ellipse needs its bounding box (2 or more points), found {}",
                    pts.len()
                )));
            }
            let (min, max) = bounds_of(&pts);
            Geometry::Polygon(Polygon::new(ellipse_polygon(min, max)))
        }
        "polyline" | "ruler" | "arrow" => Geometry::Polyline(pts),
        "point" => match pts.as_slice() {
            [p] => Geometry::Point(*p),
            _ => Geometry::Points(pts),
        },
        "text" => {
            tracing::warn!(file, line = g.line, name = %g.name, "skipped a Sedeen text box");
            return Ok(None);
        }
        other => {
            return Err(invalid(format!(
                "unknown Sedeen graphic type {other:?}; known: polygon, rectangle, ellipse, \
                 polyline, ruler, arrow, point, text"
            )))
        }
    };
    geometry
        .check()
        .map_err(|m| invalid(format!("{} {:?}: {m}", g.kind, g.name)))?;
    Ok(Some(Annotation {
        name: g.name,
        class: None,
        color: g.color,
        geometry,
    }))
}

struct HaloRegion {
    kind: String,
    negative: bool,
    line: u64,
    points: Vec<Point>,
}

struct HaloLayer {
    name: String,
    color: Option<[u8; 3]>,
    regions: Vec<HaloRegion>,
}

/// Parses a Halo annotation export (`<Annotations>` of layers
/// `<Annotation Name=".." LineColor="..">` holding `<Region Type="..">`
/// with `<V X=".." Y=".."/>` vertices in level-0 pixels).
///
/// Each layer is a class (its name is the class and each annotation's
/// name); `LineColor` is a Windows colour (0x00BBGGRR). `Polygon`,
/// `Rectangle`, `Ellipse` (a 64-vertex polygon), `Ruler` (a polyline) and
/// `Pin` (a point) are read. A `NegativeROA="1"` region becomes a hole in
/// the region of its layer that contains it.
pub fn parse_halo(bytes: &[u8], file: &str) -> Result<AnnotationSet, AnnotationError> {
    let src = xml::decode(bytes, file)?;
    let mut set = AnnotationSet::default();
    let mut depth = 0usize;
    let mut layer: Option<(HaloLayer, usize)> = None;
    let mut region: Option<(HaloRegion, usize)> = None;
    xml::walk(src, file, |event| {
        match event {
            XmlEvent::Open(el) => {
                depth += 1;
                if depth == 1 && !el.is("Annotations") {
                    return Err(el.invalid(format!(
                        "not a Halo export: the root element is <{}>",
                        el.name_lossy()
                    )));
                }
                if depth == 2 && el.is("Annotation") {
                    let color = match el.attr("LineColor")? {
                        Some(c) => {
                            let v: u32 = c.trim().parse().map_err(|_| {
                                el.invalid(format!("LineColor {c:?} is not a whole number"))
                            })?;
                            Some([v as u8, (v >> 8) as u8, (v >> 16) as u8])
                        }
                        None => None,
                    };
                    let layer_name = el.attr("Name")?.map(|n| n.into_owned()).unwrap_or_default();
                    layer = Some((
                        HaloLayer {
                            name: layer_name,
                            color,
                            regions: Vec::new(),
                        },
                        depth,
                    ));
                } else if el.is("Region") && layer.is_some() && region.is_none() {
                    let negative = el
                        .attr("NegativeROA")?
                        .is_some_and(|v| v.trim() == "1" || v.trim().eq_ignore_ascii_case("true"));
                    region = Some((
                        HaloRegion {
                            kind: el.required_attr("Type")?.trim().to_ascii_lowercase(),
                            negative,
                            line: el.line,
                            points: Vec::new(),
                        },
                        depth,
                    ));
                } else if el.is("V") {
                    if let Some((r, _)) = region.as_mut() {
                        r.points
                            .push(Point::new(el.coord_attr("X")?, el.coord_attr("Y")?));
                    }
                }
            }
            XmlEvent::Close => {
                if region.as_ref().is_some_and(|(_, d)| *d == depth) {
                    if let (Some((r, _)), Some((l, _))) = (region.take(), layer.as_mut()) {
                        l.regions.push(r);
                    }
                } else if layer.as_ref().is_some_and(|(_, d)| *d == depth) {
                    if let Some((l, _)) = layer.take() {
                        halo_layer(l, file, &mut set)?;
                    }
                }
                depth -= 1;
            }
            XmlEvent::Text(_) => {}
        }
        Ok(Flow::Continue)
    })?;
    Ok(set)
}

fn halo_layer(l: HaloLayer, file: &str, set: &mut AnnotationSet) -> Result<(), AnnotationError> {
    let class = (!l.name.is_empty()).then(|| l.name.clone());
    let mut shapes: Vec<(Geometry, u64)> = Vec::new();
    let mut negatives: Vec<(Vec<Point>, u64)> = Vec::new();
    for r in l.regions {
        let invalid = |m: String| AnnotationError::invalid(file, Location::Line(r.line), m);
        let n = r.points.len();
        let geometry = match r.kind.as_str() {
            "polygon" => Geometry::Polygon(Polygon::new(r.points)),
            "rectangle" | "ellipse" => {
                if n < 2 {
                    return Err(invalid(format!(
                        "a {} needs 2 corner vertices, found {n}",
                        r.kind
                    )));
                }
                let (min, max) = bounds_of(&r.points);
                if r.kind == "rectangle" {
                    Geometry::Rectangle { min, max }
                } else {
                    Geometry::Polygon(Polygon::new(ellipse_polygon(min, max)))
                }
            }
            "ruler" => Geometry::Polyline(r.points),
            "pin" => match r.points.as_slice() {
                [p] => Geometry::Point(*p),
                _ => Geometry::Points(r.points),
            },
            other => {
                return Err(invalid(format!(
                    "unknown Halo region type {other:?}; known: Polygon, Rectangle, Ellipse, \
                     Ruler, Pin"
                )))
            }
        };
        geometry.check().map_err(&invalid)?;
        if r.negative {
            match geometry.regions().first() {
                Some(p) => negatives.push((p.exterior.clone(), r.line)),
                None => return Err(invalid("a negative region must enclose an area".into())),
            }
        } else {
            shapes.push((geometry, r.line));
        }
    }
    for (hole, line) in negatives {
        let host = shapes.iter_mut().find(|(g, _)| {
            g.regions()
                .first()
                .is_some_and(|p| ring_contains(&p.exterior, hole[0]))
        });
        let Some((g, _)) = host else {
            return Err(AnnotationError::invalid(
                file,
                Location::Line(line),
                format!(
                    "negative region is not inside any region of layer {:?}",
                    l.name
                ),
            ));
        };
        let mut p = g.regions().first().cloned().unwrap_or_default();
        p.holes.push(hole);
        *g = Geometry::Polygon(p);
    }
    if let Some(c) = &class {
        if !set.groups.iter().any(|g| &g.name == c) {
            set.groups.push(Group {
                name: c.clone(),
                parent: None,
                color: l.color,
            });
        }
    }
    for (geometry, _) in shapes {
        set.annotations.push(Annotation {
            name: l.name.clone(),
            class: class.clone(),
            color: l.color,
            geometry,
        });
    }
    Ok(())
}
