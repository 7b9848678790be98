//! Slide annotations: the real files in shared/testdata, round trips between
//! ASAP XML and GeoJSON, exact rasterisation, and typed errors for bad input.

use exahealth_data::annotations::*;
use std::path::PathBuf;

fn testdata(name: &str) -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(
        env!("CARGO_MANIFEST_DIR"),
        &format!("annotations/{name}"),
    )
}

fn p(x: f64, y: f64) -> Point {
    Point::new(x, y)
}

fn kinds(set: &AnnotationSet) -> Vec<(&'static str, usize)> {
    set.summary().by_geometry.into_iter().collect()
}

fn annotation(name: &str, class: Option<&str>, geometry: Geometry) -> Annotation {
    Annotation {
        name: name.into(),
        class: class.map(Into::into),
        color: Some([200, 10, 10]),
        geometry,
    }
}

// ------------------------------------------------------------ real files

#[test]
fn asap1_has_every_asap_type() {
    let Some(path) = testdata("asap1.xml") else {
        return;
    };
    let (set, format) = read_with_format(&path).unwrap();
    assert_eq!(format, Format::Asap);
    assert_eq!(set.annotations.len(), 5);
    assert!(set.groups.is_empty());
    assert_eq!(
        kinds(&set),
        [
            ("point", 1),
            ("polygon", 1),
            ("polyline", 1),
            ("rectangle", 1),
            ("spline", 1)
        ]
    );
    assert!(set.annotations.iter().all(|a| a.class.is_none()));
    assert!(set
        .annotations
        .iter()
        .all(|a| a.color == Some([0xF4, 0xFA, 0x58])));
    assert_eq!(set.annotations[0].name, "Annotation 0");
    assert_eq!(
        set.annotations[0].geometry,
        Geometry::Point(p(4803.69434, 22946.5723))
    );
    assert_eq!(
        set.annotations[1].geometry,
        Geometry::Rectangle {
            min: p(5954.99219, 24058.1719),
            max: p(8336.99023, 26360.7676)
        }
    );
    assert_eq!(set.annotations[2].geometry.vertex_count(), 5);
    assert_eq!(set.annotations[3].geometry.vertex_count(), 4);
    let s = set.summary();
    assert_eq!(s.vertices, 1 + 2 + 5 + 4 + 2);
    assert_eq!(s.by_class.len(), 1);
    assert_eq!(s.by_class[0].class, None);
    assert_eq!(s.by_class[0].count, 5);
    let b = s.bounds.unwrap();
    assert_eq!((b.min_x, b.max_x), (4803.69434, 13378.8838));
    assert!(
        b.min_y < 20048.4746,
        "the spline's curve bulges past its control points"
    );
    assert_eq!(b.max_y, 27789.9668);
}

#[test]
fn sedeen_is_not_asap_but_is_read() {
    let Some(path) = testdata("sedeen1.xml") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    match parse_asap(&bytes, "sedeen1.xml") {
        Err(AnnotationError::NotAsap { root, dialect, .. }) => {
            assert_eq!(root, "session");
            assert_eq!(dialect, Some("Sedeen"));
        }
        other => panic!("expected NotAsap, got {other:?}"),
    }
    let (set, format) = read_with_format(&path).unwrap();
    assert_eq!(format, Format::Sedeen);
    // 9 graphics; the text box is skipped; the ellipse is a polygon;
    // polyline, ruler and arrow are polylines; the 3 points a point set.
    assert_eq!(set.annotations.len(), 8);
    assert_eq!(
        kinds(&set),
        [
            ("points", 1),
            ("polygon", 3),
            ("polyline", 3),
            ("rectangle", 1)
        ]
    );
    assert_eq!(set.annotations[0].name, "Region 0");
    assert_eq!(set.annotations[0].geometry.vertex_count(), 5);
    assert_eq!(
        set.annotations[1].geometry,
        Geometry::Rectangle {
            min: p(10709.0, 24842.0),
            max: p(13461.0, 26954.0)
        }
    );
    assert_eq!(set.annotations[3].geometry.vertex_count(), 84);
    assert_eq!(set.annotations[4].geometry.vertex_count(), 53);
    assert!(set.annotations.iter().all(|a| a.color == Some([0, 255, 0])));
    assert!(set.annotations.iter().all(|a| a.class.is_none()));
}

#[test]
fn halo_is_not_asap_but_is_read() {
    let Some(path) = testdata("luna_halo_annotation.xml") else {
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    assert!(matches!(
        parse_asap(&bytes, "halo.xml"),
        Err(AnnotationError::NotAsap {
            dialect: Some("Halo"),
            ..
        })
    ));
    let (set, format) = read_with_format(&path).unwrap();
    assert_eq!(format, Format::Halo);
    assert_eq!(set.annotations.len(), 2);
    let rect = &set.annotations[0];
    assert_eq!(rect.class.as_deref(), Some("Layer 1"));
    assert_eq!(rect.color, Some([255, 255, 0]), "LineColor 65535 is yellow");
    assert_eq!(
        rect.geometry,
        Geometry::Rectangle {
            min: p(1.0, 1.0),
            max: p(10.0, 40.0)
        }
    );
    let tumour = &set.annotations[1];
    assert_eq!(tumour.class.as_deref(), Some("Tumor"));
    assert_eq!(tumour.color, Some([255, 0, 0]));
    assert_eq!(tumour.geometry.kind(), GeometryKind::Polygon);
    assert_eq!(tumour.geometry.vertex_count(), 8);
    let groups: Vec<_> = set.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(groups, ["Layer 1", "Tumor"]);
}

#[test]
fn qupath_annotations() {
    let Some(path) = testdata("qupath05.geojson") else {
        return;
    };
    let (set, format) = read_with_format(&path).unwrap();
    assert_eq!(format, Format::GeoJson);
    let names: Vec<_> = set.annotations.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["UT", "I", "I"]);
    assert_eq!(kinds(&set), [("polygon", 3)]);
    let vertices: Vec<_> = set
        .annotations
        .iter()
        .map(|a| a.geometry.vertex_count())
        .collect();
    assert_eq!(vertices, [163, 115, 118], "closing vertices are dropped");
    assert!(set.annotations.iter().all(|a| a.color == Some([255, 0, 0])));
    assert!(set.annotations.iter().all(|a| a.class.is_none()));
    let s = set.summary();
    assert!(s.by_class[0].area > 1000.0);
}

#[test]
fn qupath_cell_detections() {
    let Some(path) = testdata("luna_test_cell_detections.geojson") else {
        return;
    };
    let set = read(&path).unwrap();
    assert_eq!(set.annotations.len(), 2);
    assert!(set
        .annotations
        .iter()
        .all(|a| a.class.as_deref() == Some("Other") && a.color == Some([0, 128, 128])));
    assert_eq!(
        set.groups,
        [Group {
            name: "Other".into(),
            parent: None,
            color: Some([0, 128, 128])
        }]
    );
    assert_eq!(
        set.annotations[0].geometry,
        Geometry::Polygon(Polygon::new(vec![
            p(1024.0, 512.0),
            p(1024.0, 1024.0),
            p(512.0, 1024.0),
            p(512.0, 512.0)
        ]))
    );
    assert_eq!(set.annotations[1].geometry.vertex_count(), 3);
    let s = set.summary();
    assert_eq!(s.by_class[0].count, 2);
    assert_eq!(s.by_class[0].area, 512.0 * 512.0 + 512.0 * 512.0 / 2.0);
}

#[test]
fn every_readable_test_file_survives_geojson_and_asap() {
    for name in [
        "asap1.xml",
        "sedeen1.xml",
        "luna_halo_annotation.xml",
        "qupath05.geojson",
        "luna_test_cell_detections.geojson",
    ] {
        let Some(path) = testdata(name) else {
            return;
        };
        let set = read(&path).unwrap();
        let back = parse_geojson(to_geojson_string(&set).unwrap().as_bytes(), name).unwrap();
        assert_eq!(back.annotations, set.annotations, "{name} through GeoJSON");
        // Polylines of more than 2 vertices have no ASAP form.
        if !set
            .annotations
            .iter()
            .any(|a| matches!(&a.geometry, Geometry::Polyline(v) if v.len() > 2))
        {
            let back = parse_asap(to_asap_string(&set).unwrap().as_bytes(), name).unwrap();
            // ASAP annotations always have a name: unnamed ones get one.
            let mut want = set.annotations.clone();
            for (i, a) in want.iter_mut().enumerate() {
                if a.name.is_empty() {
                    a.name = format!("Annotation {i}");
                }
            }
            assert_eq!(back.annotations, want, "{name} through ASAP");
        }
    }
}

// ------------------------------------------------------------ round trips

fn classified_set() -> AnnotationSet {
    let triangle = Polygon::new(vec![p(0.5, 0.25), p(100.0, 0.0), p(50.0, 80.125)]);
    AnnotationSet {
        annotations: vec![
            annotation("dot", Some("Tumor"), Geometry::Point(p(1.5, 2.5))),
            annotation(
                "cells",
                Some("Lymphocyte"),
                Geometry::Points(vec![p(1.0, 2.0), p(3.0, 4.0)]),
            ),
            annotation(
                "box",
                None,
                Geometry::Rectangle {
                    min: p(10.0, 20.0),
                    max: p(30.5, 40.25),
                },
            ),
            annotation("tri", Some("Tumor"), Geometry::Polygon(triangle)),
            annotation(
                "curve",
                Some("Stroma & <fat>"),
                Geometry::Spline(vec![
                    p(0.0, 0.0),
                    p(100.0, 0.0),
                    p(100.0, 100.0),
                    p(0.0, 90.0),
                ]),
            ),
            annotation(
                "ruler",
                None,
                Geometry::Polyline(vec![p(0.0, 0.0), p(1e6 / 3.0, 7.0)]),
            ),
        ],
        groups: vec![
            Group {
                name: "Tumor".into(),
                parent: None,
                color: Some([255, 0, 0]),
            },
            Group {
                name: "Lymphocyte".into(),
                parent: None,
                color: Some([0, 0, 255]),
            },
        ],
    }
}

#[test]
fn asap_geojson_asap_round_trip_keeps_geometry_and_classes() {
    let set = classified_set();
    let asap = to_asap_string(&set).unwrap();
    let from_asap = parse_asap(asap.as_bytes(), "a.xml").unwrap();
    assert_eq!(from_asap.annotations, set.annotations);
    let geojson = to_geojson_string(&from_asap).unwrap();
    let from_geojson = parse_geojson(geojson.as_bytes(), "a.geojson").unwrap();
    assert_eq!(from_geojson.annotations, set.annotations);
    let again = parse_asap(to_asap_string(&from_geojson).unwrap().as_bytes(), "b.xml").unwrap();
    assert_eq!(again.annotations, set.annotations);
    let mut names: Vec<_> = again.groups.iter().map(|g| g.name.clone()).collect();
    names.sort();
    assert_eq!(names, ["Lymphocyte", "Stroma & <fat>", "Tumor"]);
    let tumour = again.groups.iter().find(|g| g.name == "Tumor").unwrap();
    assert_eq!(
        tumour.color,
        Some([255, 0, 0]),
        "group colours travel as class colours"
    );
}

#[test]
fn real_asap_file_round_trips_through_geojson() {
    let Some(path) = testdata("asap1.xml") else {
        return;
    };
    let set = read(&path).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let geojson = dir.path().join("a.geojson");
    let xml = dir.path().join("b.xml");
    let (_, from, to) = convert(&path, &geojson).unwrap();
    assert_eq!((from, to), (Format::Asap, Format::GeoJson));
    let (_, from, to) = convert(&geojson, &xml).unwrap();
    assert_eq!((from, to), (Format::GeoJson, Format::Asap));
    let back = read(&xml).unwrap();
    assert_eq!(back, set);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn geojson_output_is_qupath_shaped() {
    let json = to_geojson_string(&classified_set()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["type"], "FeatureCollection");
    let f = &v["features"][3];
    assert_eq!(f["type"], "Feature");
    assert_eq!(f["geometry"]["type"], "Polygon");
    let ring = f["geometry"]["coordinates"][0].as_array().unwrap();
    assert_eq!(ring.len(), 4, "rings are closed");
    assert_eq!(ring[0], ring[3]);
    assert_eq!(f["properties"]["objectType"], "annotation");
    assert_eq!(f["properties"]["name"], "tri");
    assert_eq!(f["properties"]["classification"]["name"], "Tumor");
    assert_eq!(
        f["properties"]["classification"]["color"],
        serde_json::json!([255, 0, 0])
    );
    assert_eq!(v["features"][0]["geometry"]["type"], "Point");
    assert_eq!(v["features"][1]["geometry"]["type"], "MultiPoint");
    assert_eq!(v["features"][5]["geometry"]["type"], "LineString");
}

#[test]
fn geojson_variants_are_read() {
    let single = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2,3]},
        "properties":{"classification":{"name":"T","colorRGB":-65536}}}"#;
    let set = parse_geojson(single.as_bytes(), "one.json").unwrap();
    assert_eq!(set.annotations[0].geometry, Geometry::Point(p(1.0, 2.0)));
    assert_eq!(set.annotations[0].class.as_deref(), Some("T"));
    assert_eq!(set.annotations[0].color, Some([255, 0, 0]));

    let array = r#"[{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":
        [[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[2,1],[2,2],[1,1]]],[[[9,9],[10,9],[10,10]]]]},
        "properties":{"classification":"Stroma","name":"m"}},
        {"type":"Feature","geometry":{"type":"LineString","coordinates":[[0,0],[1,1],[2,0]]}}]"#;
    let set = parse_geojson(array.as_bytes(), "many.json").unwrap();
    let Geometry::MultiPolygon(ps) = &set.annotations[0].geometry else {
        panic!("expected a multipolygon");
    };
    assert_eq!(ps.len(), 2);
    assert_eq!(ps[0].holes.len(), 1);
    assert_eq!(ps[0].holes[0].len(), 3);
    assert_eq!(ps[1].exterior.len(), 3, "unclosed rings are accepted");
    assert_eq!(set.annotations[0].class.as_deref(), Some("Stroma"));
    assert_eq!(set.annotations[1].geometry.kind(), GeometryKind::Polyline);
    assert_eq!(set.annotations[1].name, "");
}

#[test]
fn edited_spline_polygon_stays_a_polygon() {
    let set = classified_set();
    let json = to_geojson_string(&set).unwrap();
    // Move one vertex of the spline's polygon as an editor would.
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["features"][4]["geometry"]["coordinates"][0][3][0] = serde_json::json!(-5.0);
    let back = parse_geojson(v.to_string().as_bytes(), "edited.json").unwrap();
    assert_eq!(back.annotations[4].geometry.kind(), GeometryKind::Polygon);
    assert_eq!(
        back.annotations[4].geometry.vertex_count(),
        4 * SPLINE_STEPS
    );
}

#[test]
fn asap_writer_splits_multipolygons_and_refuses_holes() {
    let square = |o: f64| Polygon::new(vec![p(o, o), p(o + 1.0, o), p(o + 1.0, o + 1.0)]);
    let set = AnnotationSet {
        annotations: vec![annotation(
            "two",
            Some("T"),
            Geometry::MultiPolygon(vec![square(0.0), square(5.0)]),
        )],
        groups: vec![],
    };
    let back = parse_asap(to_asap_string(&set).unwrap().as_bytes(), "x").unwrap();
    assert_eq!(back.annotations.len(), 2);
    assert_eq!(back.annotations[1].geometry, Geometry::Polygon(square(5.0)));
    assert_eq!(back.groups.len(), 1, "a group is made for the class");

    let mut holed = square(0.0);
    holed
        .holes
        .push(vec![p(0.2, 0.2), p(0.3, 0.2), p(0.3, 0.3)]);
    let set = AnnotationSet {
        annotations: vec![annotation("h", None, Geometry::Polygon(holed))],
        groups: vec![],
    };
    assert!(matches!(
        to_asap_string(&set),
        Err(AnnotationError::Unrepresentable { index: 0, .. })
    ));
    // GeoJSON keeps holes.
    let back = parse_geojson(to_geojson_string(&set).unwrap().as_bytes(), "h").unwrap();
    assert_eq!(back.annotations, set.annotations);
}

#[test]
fn asap_with_comma_decimals_and_out_of_order_coordinates() {
    let xml = r##"<?xml version="1.0"?>
<ASAP_Annotations><Annotations>
<Annotation Name="a &amp; b" Type="Polygon" PartOfGroup="_0" Color="#ff0000">
<Coordinates>
<Coordinate Order="2" X="3,5" Y="4,25"/>
<Coordinate Order="0" X="1,5" Y="2"/>
<Coordinate Order="1" X="2.5" Y="2"/>
</Coordinates></Annotation></Annotations>
<AnnotationGroups><Group Name="_0" PartOfGroup="None" Color="#00FF00"><Attributes/></Group>
</AnnotationGroups></ASAP_Annotations>"##;
    let set = parse_asap(xml.as_bytes(), "comma.xml").unwrap();
    let a = &set.annotations[0];
    assert_eq!(a.name, "a & b");
    assert_eq!(a.class.as_deref(), Some("_0"));
    assert_eq!(a.color, Some([255, 0, 0]));
    assert_eq!(
        a.geometry,
        Geometry::Polygon(Polygon::new(vec![p(1.5, 2.0), p(2.5, 2.0), p(3.5, 4.25)]))
    );
    assert_eq!(set.groups[0].color, Some([0, 255, 0]));
}

#[test]
fn writes_are_atomic_and_formats_follow_extensions() {
    let dir = tempfile::tempdir().unwrap();
    let set = classified_set();
    let out = dir.path().join("set.GeoJSON");
    assert_eq!(write(&set, &out).unwrap(), Format::GeoJson);
    std::fs::write(dir.path().join("set.xml"), "stale").unwrap();
    assert_eq!(
        write(&set, &dir.path().join("set.xml")).unwrap(),
        Format::Asap
    );
    assert_eq!(
        read(&dir.path().join("set.xml")).unwrap().annotations,
        set.annotations
    );
    assert!(matches!(
        write(&set, &dir.path().join("set.txt")),
        Err(AnnotationError::UnknownFormat { .. })
    ));
    let missing = dir.path().join("no/such/dir/set.xml");
    assert!(matches!(
        write(&set, &missing),
        Err(AnnotationError::Io { .. })
    ));
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names.len(), 2, "only the outputs remain: {names:?}");
}

// ------------------------------------------------------------ rasterising

fn one(geometry: Geometry) -> AnnotationSet {
    AnnotationSet {
        annotations: vec![annotation("a", Some("T"), geometry)],
        groups: vec![],
    }
}

fn label_all(_: Option<&str>) -> Option<u8> {
    Some(1)
}

/// The set pixels of a mask, as (x, y).
fn pixels(mask: &[u8], width: usize) -> Vec<(usize, usize)> {
    mask.iter()
        .enumerate()
        .filter(|(_, &v)| v != 0)
        .map(|(i, _)| (i % width, i / width))
        .collect()
}

fn expected(
    width: usize,
    height: usize,
    inside: impl Fn(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for y in 0..height {
        for x in 0..width {
            if inside(x, y) {
                v.push((x, y));
            }
        }
    }
    v
}

#[test]
fn rectangle_pixels_at_downsample_1_and_4() {
    let set = one(Geometry::Rectangle {
        min: p(10.0, 10.0),
        max: p(20.0, 20.0),
    });
    let mask = rasterize(&set, 32, 32, 1.0, &label_all).unwrap();
    assert_eq!(
        pixels(&mask, 32),
        expected(32, 32, |x, y| (10..20).contains(&x)
            && (10..20).contains(&y))
    );
    // Centres at 2, 6, 10, 14, 18, 22: the one on the left/top edge (10)
    // is inside, none reaches 20.
    let mask = rasterize(&set, 8, 8, 4.0, &label_all).unwrap();
    assert_eq!(
        pixels(&mask, 8),
        expected(8, 8, |x, y| (2..5).contains(&x) && (2..5).contains(&y))
    );
}

#[test]
fn triangle_pixels_at_downsample_1_and_4() {
    let tri = |s: f64| {
        one(Geometry::Polygon(Polygon::new(vec![
            p(0.0, 0.0),
            p(s, 0.0),
            p(0.0, s),
        ])))
    };
    // Centre (x + .5, y + .5) is inside when x + y + 1 < 8; centres on the
    // hypotenuse (a right edge) are outside.
    let mask = rasterize(&tri(8.0), 10, 10, 1.0, &label_all).unwrap();
    let want = expected(10, 10, |x, y| x + y < 7);
    assert_eq!(want.len(), 28);
    assert_eq!(pixels(&mask, 10), want);
    // At downsample 4 the centres are 4x + 2: inside when 4(x + y) + 4 < 30.
    let mask = rasterize(&tri(30.0), 10, 10, 4.0, &label_all).unwrap();
    assert_eq!(pixels(&mask, 10), expected(10, 10, |x, y| x + y <= 6));
}

#[test]
fn square_with_square_hole_at_downsample_1_and_4() {
    let holed = |s: f64| {
        let sq = |a: f64, b: f64| vec![p(a, a), p(b, a), p(b, b), p(a, b)];
        let mut hole = sq(5.0 * s, 9.0 * s);
        hole.reverse(); // winding does not matter with even-odd
        one(Geometry::Polygon(Polygon {
            exterior: sq(2.0 * s, 12.0 * s),
            holes: vec![hole],
        }))
    };
    let mask = rasterize(&holed(1.0), 16, 16, 1.0, &label_all).unwrap();
    let ring = |x: usize, y: usize| {
        let inner = (5..9).contains(&x) && (5..9).contains(&y);
        (2..12).contains(&x) && (2..12).contains(&y) && !inner
    };
    let want = expected(16, 16, ring);
    assert_eq!(want.len(), 84);
    assert_eq!(pixels(&mask, 16), want);

    // Exterior 8..48, hole 20..36 at downsample 4: centres 4i + 2.
    let mask = rasterize(&holed(4.0), 16, 16, 4.0, &label_all).unwrap();
    let want = expected(16, 16, |x, y| {
        let inner = (5..9).contains(&x) && (5..9).contains(&y);
        (2..12).contains(&x) && (2..12).contains(&y) && !inner
    });
    assert_eq!(pixels(&mask, 16), want);
}

#[test]
fn labels_overwrite_in_order_and_holes_show_what_is_below() {
    let sq = |a: f64, b: f64| vec![p(a, a), p(b, a), p(b, b), p(a, b)];
    let set = AnnotationSet {
        annotations: vec![
            annotation(
                "tissue",
                Some("Tissue"),
                Geometry::Polygon(Polygon::new(sq(0.0, 10.0))),
            ),
            annotation(
                "tumour",
                Some("Tumor"),
                Geometry::Polygon(Polygon {
                    exterior: sq(2.0, 8.0),
                    holes: vec![sq(4.0, 6.0)],
                }),
            ),
            annotation(
                "ignored",
                Some("Other"),
                Geometry::Polygon(Polygon::new(sq(0.0, 10.0))),
            ),
            annotation("dot", Some("Tumor"), Geometry::Point(p(0.5, 0.5))),
            annotation(
                "line",
                Some("Tumor"),
                Geometry::Polyline(vec![p(0.0, 0.5), p(9.0, 0.5)]),
            ),
        ],
        groups: vec![],
    };
    let labels = |c: Option<&str>| match c {
        Some("Tissue") => Some(1),
        Some("Tumor") => Some(2),
        _ => None,
    };
    let mask = rasterize(&set, 10, 10, 1.0, &labels).unwrap();
    assert_eq!(mask[0], 1, "points and polylines are not drawn");
    assert_eq!(mask[3 * 10 + 3], 2);
    assert_eq!(mask[5 * 10 + 5], 1, "the hole shows the tissue below");
    assert_eq!(mask.iter().filter(|&&v| v == 2).count(), 36 - 4);
    assert_eq!(mask.iter().filter(|&&v| v == 1).count(), 100 - 32);
}

#[test]
fn region_rasterising_matches_the_whole_mask() {
    let set = classified_set();
    let full = rasterize(&set, 64, 64, 2.0, &label_all).unwrap();
    let part = rasterize_region(&set, p(20.0, 30.0), 16, 8, 2.0, &label_all).unwrap();
    for y in 0..8 {
        for x in 0..16 {
            assert_eq!(
                part[y * 16 + x],
                full[(y + 15) * 64 + (x + 10)],
                "({x}, {y})"
            );
        }
    }
}

/// Reference: a per-pixel crossing-number test with the same edge rules.
fn reference(poly: &Polygon, w: usize, h: usize, ds: f64) -> Vec<u8> {
    let mut mask = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let c = p((x as f64 + 0.5) * ds, (y as f64 + 0.5) * ds);
            let mut inside = false;
            for ring in std::iter::once(&poly.exterior).chain(&poly.holes) {
                for i in 0..ring.len() {
                    let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
                    if a.y == b.y {
                        continue;
                    }
                    let (t, u) = if a.y < b.y { (a, b) } else { (b, a) };
                    if t.y <= c.y && c.y < u.y {
                        let xi = t.x + (c.y - t.y) * ((u.x - t.x) / (u.y - t.y));
                        if xi <= c.x {
                            inside = !inside;
                        }
                    }
                }
            }
            mask[y * w + x] = u8::from(inside);
        }
    }
    mask
}

#[test]
fn scanline_fill_agrees_with_a_per_pixel_reference() {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move |n: f64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 1_000_000) as f64 / 1_000_000.0 * n
    };
    for case in 0..60 {
        let ds = [1.0, 2.5, 4.0][case % 3];
        let n = 3 + case % 9;
        // Half-integer and random vertices, self-intersecting at times.
        let ring: Vec<Point> = (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    p(
                        (rnd(80.0) * 2.0).round() / 2.0,
                        (rnd(80.0) * 2.0).round() / 2.0,
                    )
                } else {
                    p(rnd(80.0) - 5.0, rnd(80.0))
                }
            })
            .collect();
        let hole: Vec<Point> = (0..3).map(|_| p(rnd(60.0), rnd(60.0))).collect();
        let poly = Polygon {
            exterior: ring,
            holes: vec![hole],
        };
        let (w, h) = (80usize.div_ceil(ds as usize), 70);
        let mask = rasterize(&one(Geometry::Polygon(poly.clone())), w, h, ds, &label_all).unwrap();
        assert_eq!(mask, reference(&poly, w, h, ds), "case {case}: {poly:?}");
    }
}

#[test]
fn rasteriser_rejects_bad_requests() {
    let set = classified_set();
    assert!(matches!(
        rasterize(&set, 1 << 16, (1 << 15) + 1, 1.0, &label_all),
        Err(AnnotationError::MaskTooLarge { .. })
    ));
    assert!(matches!(
        rasterize(&set, usize::MAX, 2, 1.0, &label_all),
        Err(AnnotationError::MaskTooLarge { .. })
    ));
    for ds in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            rasterize(&set, 4, 4, ds, &label_all),
            Err(AnnotationError::InvalidDownsample(_))
        ));
    }
    let nan = one(Geometry::Polygon(Polygon::new(vec![
        p(0.0, 0.0),
        p(f64::NAN, 1.0),
        p(1.0, 1.0),
    ])));
    assert!(matches!(
        rasterize(&nan, 4, 4, 1.0, &label_all),
        Err(AnnotationError::InvalidGeometry { index: 0, .. })
    ));
    assert!(rasterize(&set, 0, 0, 1.0, &label_all).unwrap().is_empty());
    // Far-away and huge coordinates are clipped, not iterated.
    let huge = one(Geometry::Rectangle {
        min: p(-1e300, -1e300),
        max: p(1e300, 1e300),
    });
    assert!(rasterize(&huge, 64, 64, 1.0, &label_all)
        .unwrap()
        .iter()
        .all(|&v| v == 1));
}

// ------------------------------------------------------------ bad input

fn asap_polygon(coords: &str) -> String {
    format!(
        "<ASAP_Annotations>\n<Annotations>\n<Annotation Name=\"x\" Type=\"Polygon\" \
         PartOfGroup=\"None\" Color=\"#F4FA58\">\n<Coordinates>\n{coords}</Coordinates>\n\
         </Annotation>\n</Annotations>\n</ASAP_Annotations>\n"
    )
}

#[test]
fn truncated_xml_is_a_typed_error() {
    let xml = asap_polygon(
        "<Coordinate Order=\"0\" X=\"1\" Y=\"1\"/>\n<Coordinate Order=\"1\" X=\"2\" Y=\"1\"/>\n\
         <Coordinate Order=\"2\" X=\"2\" Y=\"2\"/>\n",
    );
    assert!(parse_asap(xml.as_bytes(), "ok.xml").is_ok());
    for cut in [xml.len() / 2, xml.len() - 20, 30, 10] {
        match parse_asap(&xml.as_bytes()[..cut], "cut.xml") {
            Err(AnnotationError::Xml { file, line, .. }) => {
                assert_eq!(file, "cut.xml");
                assert!(line >= 1);
            }
            other => panic!("cut at {cut}: expected an XML error, got {other:?}"),
        }
    }
    let mismatched = "<ASAP_Annotations>\n<Annotations>\n</Annotation>\n</ASAP_Annotations>";
    match parse_asap(mismatched.as_bytes(), "m.xml") {
        Err(AnnotationError::Xml { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected an XML error, got {other:?}"),
    }
    assert!(matches!(
        parse_asap(b"", "empty.xml"),
        Err(AnnotationError::Xml { .. })
    ));
    assert!(matches!(
        parse_asap(b"\xff\xfe<\x00", "utf16.xml"),
        Err(AnnotationError::Xml { .. })
    ));
}

#[test]
fn nan_and_bad_numbers_in_asap_name_the_line() {
    for bad in ["NaN", "inf", "1e999", "abc", "1,2,3", ""] {
        let xml = asap_polygon(&format!(
            "<Coordinate Order=\"0\" X=\"1\" Y=\"1\"/>\n<Coordinate Order=\"1\" X=\"{bad}\" Y=\"1\"/>\n\
             <Coordinate Order=\"2\" X=\"2\" Y=\"2\"/>\n"
        ));
        match parse_asap(xml.as_bytes(), "nan.xml") {
            Err(e @ AnnotationError::Invalid { .. }) => {
                let AnnotationError::Invalid { at, .. } = &e else {
                    unreachable!()
                };
                assert_eq!(*at, Location::Line(6), "{bad:?}: {e}");
                assert!(e.to_string().starts_with("nan.xml:6: X:"), "{e}");
            }
            other => panic!("{bad:?}: expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn degenerate_shapes_are_typed_errors() {
    let two = asap_polygon(
        "<Coordinate Order=\"0\" X=\"1\" Y=\"1\"/>\n<Coordinate Order=\"1\" X=\"2\" Y=\"1\"/>\n",
    );
    match parse_asap(two.as_bytes(), "two.xml") {
        Err(
            e @ AnnotationError::Invalid {
                at: Location::Line(3),
                ..
            },
        ) => {
            assert!(
                e.to_string().contains("at least 3 vertices, found 2"),
                "{e}"
            )
        }
        other => panic!("expected Invalid at line 3, got {other:?}"),
    }
    let unknown = two.replace("Polygon", "Hexagon");
    assert!(matches!(
        parse_asap(unknown.as_bytes(), "u.xml"),
        Err(AnnotationError::Invalid { .. })
    ));
    let bad_color = asap_polygon("").replace("#F4FA58", "yellow");
    assert!(matches!(
        parse_asap(bad_color.as_bytes(), "c.xml"),
        Err(AnnotationError::Invalid { .. })
    ));
    let not_asap = b"<?xml version=\"1.0\"?><svg><rect/></svg>";
    assert!(matches!(
        parse_asap(not_asap, "s.svg"),
        Err(AnnotationError::NotAsap { dialect: None, .. })
    ));
    assert!(matches!(
        detect_format(not_asap, "s.svg"),
        Err(AnnotationError::NotAsap { .. })
    ));

    let feature = |geometry: &str| {
        format!(
            r#"{{"type":"FeatureCollection","features":[
{{"type":"Feature","geometry":{{"type":"Point","coordinates":[0,0]}}}},
{{"type":"Feature","geometry":{geometry}}}]}}"#
        )
    };
    for (geometry, needle) in [
        (
            r#"{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,0]]]}"#,
            "at least 3 distinct vertices, found 2",
        ),
        (r#"{"type":"Polygon","coordinates":[]}"#, "no rings"),
        (
            r#"{"type":"LineString","coordinates":[[0,0]]}"#,
            "at least 2 vertices",
        ),
        (r#"{"type":"MultiPolygon","coordinates":[]}"#, "no polygons"),
        (r#"{"type":"Circle","coordinates":[0,0]}"#, "not supported"),
        (r#"{"type":"Point","coordinates":[[0,0]]}"#, "position"),
        (r#"{"type":"Point"}"#, "no coordinates"),
        ("null", "no geometry"),
    ] {
        match parse_geojson(feature(geometry).as_bytes(), "f.geojson") {
            Err(
                e @ AnnotationError::Invalid {
                    at: Location::Feature(1),
                    ..
                },
            ) => {
                assert!(e.to_string().contains(needle), "{geometry}: {e}");
                assert!(e.to_string().starts_with("f.geojson: feature 1: "), "{e}");
            }
            other => panic!("{geometry}: expected Invalid at feature 1, got {other:?}"),
        }
    }
}

#[test]
fn wrong_json_is_a_typed_error() {
    for (text, line) in [
        ("{\"type\":\"FeatureCollection\",\n\"features\":[", 2),
        ("{\"type\":\"FeatureCollection\",\"features\":[{\"geometry\":\n{\"type\":\"Point\",\"coordinates\":[NaN, 1]}}]}", 2),
        ("{\"type\":\"FeatureCollection\",\"features\":{}}", 1),
        ("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1]}}", 1),
        ("{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[1e400, 1]}}", 1),
        ("[1, 2]", 1),
        ("", 1),
    ] {
        match parse_geojson(text.as_bytes(), "bad.json") {
            Err(AnnotationError::Json { line: l, file, .. }) => {
                assert_eq!((l, file.as_str()), (line, "bad.json"), "{text}")
            }
            other => panic!("{text}: expected a JSON error, got {other:?}"),
        }
    }
    for text in [r#"{"type":"Topology"}"#, r#"{"hello": 1}"#] {
        assert!(
            matches!(
                parse_geojson(text.as_bytes(), "t.json"),
                Err(AnnotationError::Invalid {
                    at: Location::File,
                    ..
                })
            ),
            "{text}"
        );
    }
    let bad_color = r#"{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},
        "properties":{"color":[300,0,0]}}"#;
    assert!(matches!(
        parse_geojson(bad_color.as_bytes(), "c.json"),
        Err(AnnotationError::Invalid {
            at: Location::Feature(0),
            ..
        })
    ));
}

#[test]
fn writers_reject_invalid_sets() {
    let bad = one(Geometry::Polygon(Polygon::new(vec![
        p(0.0, 0.0),
        p(1.0, f64::NAN),
        p(1.0, 1.0),
    ])));
    assert!(matches!(
        to_geojson_string(&bad),
        Err(AnnotationError::InvalidGeometry { .. })
    ));
    assert!(matches!(
        to_asap_string(&bad),
        Err(AnnotationError::InvalidGeometry { .. })
    ));
    let long_line = one(Geometry::Polyline(vec![
        p(0.0, 0.0),
        p(1.0, 0.0),
        p(2.0, 1.0),
    ]));
    assert!(matches!(
        to_asap_string(&long_line),
        Err(AnnotationError::Unrepresentable { .. })
    ));
}

#[test]
fn missing_files_and_unknown_content() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        read(&dir.path().join("absent.xml")),
        Err(AnnotationError::Io { .. })
    ));
    let odd = dir.path().join("notes.txt");
    std::fs::write(&odd, "hello").unwrap();
    assert!(matches!(
        read(&odd),
        Err(AnnotationError::UnknownFormat { .. })
    ));
    let json_named_txt = dir.path().join("cells.txt");
    std::fs::write(
        &json_named_txt,
        r#"{"type":"FeatureCollection","features":[]}"#,
    )
    .unwrap();
    assert!(read(&json_named_txt).unwrap().annotations.is_empty());
}
