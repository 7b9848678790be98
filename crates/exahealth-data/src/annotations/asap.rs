//! ASAP XML (the annotation format of ASAP and the CAMELYON challenges).
//!
//! ```text
//! <ASAP_Annotations>
//!   <Annotations>
//!     <Annotation Name=".." Type="Polygon" PartOfGroup="Tumor" Color="#F4FA58">
//!       <Coordinates><Coordinate Order="0" X="1.5" Y="2" />...</Coordinates>
//!     </Annotation>
//!   </Annotations>
//!   <AnnotationGroups>
//!     <Group Name="Tumor" PartOfGroup="None" Color="#FF0000"><Attributes /></Group>
//!   </AnnotationGroups>
//! </ASAP_Annotations>
//! ```
//!
//! Types: `Dot`, `PointSet`, `Rectangle`, `Polygon`, `Spline`, and
//! `Measurement` (a 2-point ruler, read as a polyline).

use super::error::{AnnotationError, Location};
use super::model::{as_rectangle, rectangle_ring, Annotation, AnnotationSet, Geometry, Group};
use super::model::{Point, Polygon};
use super::xml::{self, Element, Flow, XmlEvent};
use std::fmt::Write as _;

/// ASAP's value of `PartOfGroup` for "no group".
const NO_GROUP: &str = "None";
/// ASAP's default annotation colour, written when an annotation has none.
const DEFAULT_COLOR: [u8; 3] = [0xF4, 0xFA, 0x58];

/// The tool that writes XML files with this root element, when known.
pub(crate) fn dialect_of_root(root: &str) -> Option<&'static str> {
    match root {
        r if r.eq_ignore_ascii_case("ASAP_Annotations") => Some("ASAP"),
        r if r.eq_ignore_ascii_case("session") => Some("Sedeen"),
        r if r.eq_ignore_ascii_case("Annotations") => Some("Halo"),
        _ => None,
    }
}

/// Where the state machine is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tag {
    Root,
    Annotations,
    Annotation,
    Coordinates,
    Coordinate,
    Groups,
    Group,
    Other,
}

struct Pending {
    name: String,
    kind: String,
    class: Option<String>,
    color: Option<[u8; 3]>,
    line: u64,
    /// (Order, point) in document order.
    coords: Vec<(Option<u64>, Point)>,
}

/// Parses ASAP XML. `file` names the source in errors. An XML file of
/// another tool gives [`AnnotationError::NotAsap`].
pub fn parse_asap(bytes: &[u8], file: &str) -> Result<AnnotationSet, AnnotationError> {
    let src = xml::decode(bytes, file)?;
    let mut set = AnnotationSet::default();
    let mut stack: Vec<Tag> = Vec::new();
    let mut pending: Option<Pending> = None;
    xml::walk(src, file, |event| {
        match event {
            XmlEvent::Open(el) => {
                let parent = stack.last().copied();
                let tag = match parent {
                    None => {
                        if !el.is("ASAP_Annotations") {
                            let root = el.name_lossy();
                            return Err(AnnotationError::NotAsap {
                                file: file.to_owned(),
                                dialect: dialect_of_root(&root),
                                root,
                            });
                        }
                        Tag::Root
                    }
                    Some(Tag::Root) if el.is("Annotations") => Tag::Annotations,
                    Some(Tag::Root) if el.is("AnnotationGroups") => Tag::Groups,
                    Some(Tag::Annotations) if el.is("Annotation") => {
                        pending = Some(open_annotation(&el)?);
                        Tag::Annotation
                    }
                    Some(Tag::Annotation) if el.is("Coordinates") => Tag::Coordinates,
                    Some(Tag::Coordinates) if el.is("Coordinate") => {
                        let order = match el.attr("Order")? {
                            Some(o) => Some(o.trim().parse::<u64>().map_err(|_| {
                                el.invalid(format!("Order {o:?} is not a whole number"))
                            })?),
                            None => None,
                        };
                        let p = Point::new(el.coord_attr("X")?, el.coord_attr("Y")?);
                        if let Some(a) = pending.as_mut() {
                            a.coords.push((order, p));
                        }
                        Tag::Coordinate
                    }
                    Some(Tag::Groups) if el.is("Group") => {
                        set.groups.push(read_group(&el)?);
                        Tag::Group
                    }
                    _ => Tag::Other,
                };
                stack.push(tag);
            }
            XmlEvent::Close => {
                if stack.pop() == Some(Tag::Annotation) {
                    if let Some(p) = pending.take() {
                        set.annotations.push(finish_annotation(p, file)?);
                    }
                }
            }
            XmlEvent::Text(_) => {}
        }
        Ok(Flow::Continue)
    })?;
    Ok(set)
}

fn class_of(part_of_group: Option<&str>) -> Option<String> {
    match part_of_group.map(str::trim) {
        None | Some("") | Some(NO_GROUP) => None,
        Some(g) => Some(g.to_owned()),
    }
}

fn color_attr(el: &Element) -> Result<Option<[u8; 3]>, AnnotationError> {
    match el.attr("Color")? {
        Some(c) => xml::parse_hex_color(&c).map_err(|m| el.invalid(m)),
        None => Ok(None),
    }
}

fn open_annotation(el: &Element) -> Result<Pending, AnnotationError> {
    Ok(Pending {
        name: el.attr("Name")?.map(|n| n.into_owned()).unwrap_or_default(),
        kind: el.required_attr("Type")?.trim().to_owned(),
        class: class_of(el.attr("PartOfGroup")?.as_deref()),
        color: color_attr(el)?,
        line: el.line,
        coords: Vec::new(),
    })
}

fn read_group(el: &Element) -> Result<Group, AnnotationError> {
    Ok(Group {
        name: el.required_attr("Name")?.into_owned(),
        parent: class_of(el.attr("PartOfGroup")?.as_deref()),
        color: color_attr(el)?,
    })
}

fn finish_annotation(mut p: Pending, file: &str) -> Result<Annotation, AnnotationError> {
    let invalid = |m: String| AnnotationError::invalid(file, Location::Line(p.line), m);
    if p.coords.iter().all(|(o, _)| o.is_some()) {
        // Stable: equal orders keep document order.
        p.coords.sort_by_key(|(o, _)| *o);
    }
    let pts: Vec<Point> = p.coords.into_iter().map(|(_, pt)| pt).collect();
    let n = pts.len();
    let kind = p.kind.to_ascii_lowercase();
    let geometry = match kind.as_str() {
        "dot" => match pts.as_slice() {
            [pt] => Geometry::Point(*pt),
            _ => return Err(invalid(format!("a Dot needs 1 coordinate, found {n}"))),
        },
        "pointset" => Geometry::Points(pts),
        "rectangle" => {
            if n != 4 {
                return Err(invalid(format!(
                    "a Rectangle needs 4 coordinates, found {n}"
                )));
            }
            match as_rectangle(&pts) {
                Some((min, max)) => Geometry::Rectangle { min, max },
                // Rotated or out of order: keep the shape as drawn.
                None => Geometry::Polygon(Polygon::new(pts)),
            }
        }
        "polygon" => Geometry::Polygon(Polygon::new(pts)),
        "spline" => Geometry::Spline(pts),
        "measurement" => Geometry::Polyline(pts),
        _ => {
            return Err(invalid(format!(
                "unknown annotation Type {:?}; ASAP types are Dot, PointSet, Rectangle, \
                 Polygon, Spline and Measurement",
                p.kind
            )))
        }
    };
    geometry
        .check()
        .map_err(|m| invalid(format!("{} {:?}: {m}", p.kind, p.name)))?;
    Ok(Annotation {
        name: p.name,
        class: p.class,
        color: p.color,
        geometry,
    })
}

/// Writes an annotation set as ASAP XML.
///
/// ASAP has no holes and no multipolygons: a multipolygon becomes one
/// `Polygon` annotation per part (same name and class); a polygon with
/// holes, or a polyline of more than 2 vertices, is an
/// [`AnnotationError::Unrepresentable`] error. Classes without a group get
/// one (coloured like their first annotation), so ASAP lists them. Unnamed
/// annotations are named "Annotation N" (N: index in the set); annotations
/// without a colour get ASAP's default yellow.
pub fn to_asap_string(set: &AnnotationSet) -> Result<String, AnnotationError> {
    set.validate()?;
    let mut out = String::from("<?xml version=\"1.0\"?>\n<ASAP_Annotations>\n\t<Annotations>\n");
    let mut count = 0usize;
    for (index, a) in set.annotations.iter().enumerate() {
        let unrepresentable = |message: String| AnnotationError::Unrepresentable {
            index,
            name: a.name.clone(),
            format: "ASAP XML",
            message,
        };
        let name = if a.name.is_empty() {
            format!("Annotation {index}")
        } else {
            a.name.clone()
        };
        let mut emit = |kind: &str, pts: &[Point]| {
            write_annotation(&mut out, &name, kind, a, pts);
            count += 1;
        };
        match &a.geometry {
            Geometry::Point(p) => emit("Dot", std::slice::from_ref(p)),
            Geometry::Points(v) => emit("PointSet", v),
            Geometry::Rectangle { min, max } => emit("Rectangle", &rectangle_ring(*min, *max)),
            Geometry::Spline(v) => emit("Spline", v),
            Geometry::Polyline(v) if v.len() == 2 => emit("Measurement", v),
            Geometry::Polyline(v) => {
                return Err(unrepresentable(format!(
                    "a polyline of {} vertices: ASAP only has 2-point measurements; convert to \
                     .geojson to keep it",
                    v.len()
                )))
            }
            Geometry::Polygon(p) => {
                if !p.holes.is_empty() {
                    return Err(unrepresentable(holes_message(p.holes.len())));
                }
                emit("Polygon", &p.exterior)
            }
            Geometry::MultiPolygon(ps) => {
                if let Some(p) = ps.iter().find(|p| !p.holes.is_empty()) {
                    return Err(unrepresentable(holes_message(p.holes.len())));
                }
                for p in ps {
                    emit("Polygon", &p.exterior);
                }
            }
        }
    }
    tracing::debug!(annotations = count, "wrote ASAP annotations");
    out.push_str("\t</Annotations>\n");

    let mut groups = set.groups.clone();
    for a in &set.annotations {
        if let Some(c) = &a.class {
            if !groups.iter().any(|g| &g.name == c) {
                groups.push(Group {
                    name: c.clone(),
                    parent: None,
                    color: set.class_color(c),
                });
            }
        }
    }
    if groups.is_empty() {
        out.push_str("\t<AnnotationGroups />\n");
    } else {
        out.push_str("\t<AnnotationGroups>\n");
        for g in &groups {
            let _ = writeln!(
                out,
                "\t\t<Group Name=\"{}\" PartOfGroup=\"{}\" Color=\"{}\">\n\t\t\t<Attributes />\n\t\t</Group>",
                esc(&g.name),
                esc(g.parent.as_deref().unwrap_or(NO_GROUP)),
                xml::hex_color(g.color.unwrap_or(DEFAULT_COLOR)),
            );
        }
        out.push_str("\t</AnnotationGroups>\n");
    }
    out.push_str("</ASAP_Annotations>\n");
    Ok(out)
}

fn holes_message(n: usize) -> String {
    format!(
        "a polygon with {n} hole(s): ASAP XML has no holes; keep GeoJSON, or remove the \
         holes first"
    )
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(s)
}

fn write_annotation(out: &mut String, name: &str, kind: &str, a: &Annotation, pts: &[Point]) {
    let _ = writeln!(
        out,
        "\t\t<Annotation Name=\"{}\" Type=\"{kind}\" PartOfGroup=\"{}\" Color=\"{}\">\n\t\t\t<Coordinates>",
        esc(name),
        esc(a.class.as_deref().unwrap_or(NO_GROUP)),
        xml::hex_color(a.color.unwrap_or(DEFAULT_COLOR)),
    );
    for (i, p) in pts.iter().enumerate() {
        // `{}` on f64 is the shortest text that reads back to the same value.
        let _ = writeln!(
            out,
            "\t\t\t\t<Coordinate Order=\"{i}\" X=\"{}\" Y=\"{}\" />",
            p.x, p.y
        );
    }
    out.push_str("\t\t\t</Coordinates>\n\t\t</Annotation>\n");
}
