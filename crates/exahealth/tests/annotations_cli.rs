//! `exahealth annotations info` (text and --json) and `convert` round trips
//! ASAP XML -> GeoJSON -> ASAP XML and back on the real files in
//! ../shared/testdata/annotations (skipped with a note when absent), plus a
//! generated GeoJSON with classes, so class names are seen to survive.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exahealth"))
}

fn testdata(name: &str) -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(
        env!("CARGO_MANIFEST_DIR"),
        &format!("annotations/{name}"),
    )
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run exahealth");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn info_json(file: &Path) -> Value {
    let out = run_ok(exe().args(["annotations", "info"]).arg(file).arg("--json"));
    serde_json::from_str(&out).expect("info --json prints JSON")
}

fn convert(input: &Path, output: &Path) {
    run_ok(
        exe()
            .args(["annotations", "convert"])
            .arg(input)
            .arg(output),
    );
    assert!(output.exists());
}

/// Counts per geometry type and per class (with areas within rounding).
fn assert_same_summary(a: &Value, b: &Value) {
    assert_eq!(a["annotations"], b["annotations"]);
    assert_eq!(a["by_geometry"], b["by_geometry"]);
    let (ca, cb) = (
        a["by_class"].as_array().unwrap(),
        b["by_class"].as_array().unwrap(),
    );
    assert_eq!(ca.len(), cb.len(), "{ca:?} vs {cb:?}");
    for (x, y) in ca.iter().zip(cb) {
        assert_eq!(x["class"], y["class"]);
        assert_eq!(x["count"], y["count"]);
        let (ax, ay) = (x["area"].as_f64().unwrap(), y["area"].as_f64().unwrap());
        assert!((ax - ay).abs() <= 1e-6 * ax.abs().max(1.0), "{ax} vs {ay}");
    }
}

#[test]
fn info_text_counts_asap_geometries() {
    let Some(f) = testdata("asap1.xml") else {
        return;
    };
    let out = run_ok(exe().args(["annotations", "info"]).arg(&f));
    assert!(out.contains("(ASAP XML): 5 annotations"), "{out}");
    for kind in ["point", "rectangle", "polygon", "spline", "polyline"] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().take(2).eq(["geometry", kind]))
            .unwrap_or_else(|| panic!("no line for {kind}:\n{out}"));
        assert_eq!(line.split_whitespace().last(), Some("1"), "{line}");
    }
    assert!(out.contains("bounds"), "{out}");
}

#[test]
fn info_json_counts_qupath_polygons() {
    let Some(f) = testdata("qupath05.geojson") else {
        return;
    };
    let v = info_json(&f);
    assert_eq!(v["format"], "GeoJSON");
    assert_eq!(v["annotations"], 3);
    assert_eq!(v["by_geometry"]["polygon"], 3);
    let total: u64 = v["by_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 3);
}

#[test]
fn asap_xml_round_trips_through_geojson() {
    let Some(f) = testdata("asap1.xml") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (gj, xml) = (dir.path().join("a.geojson"), dir.path().join("b.xml"));
    convert(&f, &gj);
    convert(&gj, &xml);
    let (orig, mid, back) = (info_json(&f), info_json(&gj), info_json(&xml));
    assert_eq!(mid["format"], "GeoJSON");
    assert_eq!(back["format"], "ASAP XML");
    assert_same_summary(&orig, &mid);
    assert_same_summary(&orig, &back);
    assert_eq!(orig["vertices"], back["vertices"]);
    assert_eq!(orig["bounds"], back["bounds"]);
}

#[test]
fn qupath_geojson_round_trips_through_asap_xml() {
    let Some(f) = testdata("qupath05.geojson") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (xml, gj) = (dir.path().join("q.xml"), dir.path().join("q.json"));
    convert(&f, &xml);
    convert(&xml, &gj);
    let (orig, mid, back) = (info_json(&f), info_json(&xml), info_json(&gj));
    assert_same_summary(&orig, &mid);
    assert_same_summary(&orig, &back);
    assert_eq!(orig["vertices"], back["vertices"]);
}

#[test]
fn classes_survive_a_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("classes.geojson");
    let feature = |geom: &str, class: &str| {
        format!(
            r#"{{"type":"Feature","geometry":{geom},"properties":{{"objectType":"annotation","classification":{{"name":"{class}","color":[200,0,0]}}}}}}"#
        )
    };
    let square = r#"{"type":"Polygon","coordinates":[[[0,0],[100,0],[100,100],[0,100],[0,0]]]}"#;
    let tri = r#"{"type":"Polygon","coordinates":[[[0,0],[50,0],[0,50],[0,0]]]}"#;
    let point = r#"{"type":"Point","coordinates":[10,20]}"#;
    let features = [
        feature(square, "Tumor"),
        feature(tri, "Tumor"),
        feature(square, "Stroma"),
        feature(point, "Lymphocyte"),
    ];
    std::fs::write(
        &src,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            features.join(",")
        ),
    )
    .unwrap();
    let orig = info_json(&src);
    let classes: Vec<(String, u64)> = orig["by_class"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["class"].as_str().unwrap().to_string(),
                c["count"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = classes.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            ("Lymphocyte".into(), 1),
            ("Stroma".into(), 1),
            ("Tumor".into(), 2)
        ]
    );
    let tumor = orig["by_class"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["class"] == "Tumor")
        .unwrap();
    assert_eq!(tumor["area"].as_f64().unwrap(), 10000.0 + 1250.0);
    let (xml, back) = (dir.path().join("c.xml"), dir.path().join("c.geojson"));
    convert(&src, &xml);
    let text = std::fs::read_to_string(&xml).unwrap();
    assert!(text.contains(r#"PartOfGroup="Tumor""#), "{text}");
    convert(&xml, &back);
    assert_same_summary(&orig, &info_json(&xml));
    assert_same_summary(&orig, &info_json(&back));
    // The text report lists the classes too.
    let out = run_ok(exe().args(["annotations", "info"]).arg(&xml));
    assert!(
        out.lines()
            .any(|l| l.split_whitespace().take(3).eq(["class", "Tumor", "2"])),
        "{out}"
    );
}

#[test]
fn unknown_formats_and_missing_files_fail_with_advice() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("a.geojson");
    std::fs::write(&src, r#"{"type":"FeatureCollection","features":[]}"#).unwrap();
    let out = exe()
        .args(["annotations", "convert"])
        .arg(&src)
        .arg(dir.path().join("a.txt"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(".xml") && err.contains(".geojson"), "{err}");
    let out = exe()
        .args(["annotations", "info"])
        .arg(dir.path().join("missing.xml"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("missing.xml"), "{err}");
}
