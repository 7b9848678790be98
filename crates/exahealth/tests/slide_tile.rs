//! `exahealth slide tile` end to end on generated slides.

use std::path::Path;
use std::process::Command;

fn exahealth() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exahealth"))
}

fn run_json(args: &[&str]) -> serde_json::Value {
    let out = exahealth().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "exahealth {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn synth(path: &Path) {
    let st = exahealth()
        .args(["slide", "synth"])
        .arg(path)
        .args(["--width", "1024", "--height", "1024"])
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap();
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        path.display()
    );
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

#[test]
fn tile_writes_plans_and_pngs_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tiff");
    synth(&a);
    let b = dir.path().join("b.tiff");
    std::fs::copy(&a, &b).unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();
    let args = [
        "slide",
        "tile",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--mpp",
        "0.5",
        "--size",
        "32",
        "--min-tissue",
        "0.9",
        "--min-piece-area",
        "1024",
        "--format",
        "png",
        "--threads",
        "2",
        "--out",
        out_s,
    ];
    let first = run_json(&args);
    let slides = first.as_array().unwrap();
    assert_eq!(slides.len(), 2);
    for s in slides {
        assert_eq!(s["status"], "planned", "{s}");
        let n = s["patches"].as_u64().unwrap();
        assert!(n > 5, "{s}");
        assert_eq!(s["patches_written"].as_u64().unwrap(), n);
        // 1024 px at 0.25 µm is 0.0655 mm²; some of it is tissue.
        let mm2 = s["tissue_area_mm2"].as_f64().unwrap();
        assert!(mm2 > 0.003 && mm2 < 0.0655, "{mm2}");
    }
    let slide_dir = out.join("a");
    for f in [
        "plan.json",
        "patches.csv",
        "tissue.png",
        "tissue_mask.png",
        "tissue.geojson",
    ] {
        assert!(slide_dir.join(f).is_file(), "{f} missing");
    }
    // Tissue outlines come back as level-0 polygons inside the slide.
    let outlines = exahealth_data::annotations::read(&slide_dir.join("tissue.geojson")).unwrap();
    assert!(!outlines.annotations.is_empty());
    let mut area = 0.0;
    for a in &outlines.annotations {
        assert_eq!(a.class.as_deref(), Some("Tissue"));
        a.geometry.for_each_vertex(|p| {
            assert!((0.0..=1024.0).contains(&p.x) && (0.0..=1024.0).contains(&p.y));
        });
        area += a.geometry.area();
    }
    // Their area is the tissue area reported (0.25 µm pixels).
    let mm2 = slides[0]["tissue_area_mm2"].as_f64().unwrap();
    assert!(
        (area * 0.0625 / 1e6 - mm2).abs() < 1e-9 * mm2.max(1.0) + 1e-12,
        "{area} px vs {mm2} mm²"
    );
    assert_eq!(
        png_size(&slide_dir.join("tissue.png")),
        png_size(&slide_dir.join("tissue_mask.png"))
    );
    let csv = std::fs::read_to_string(slide_dir.join("patches.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("x,y,level,width,height,tissue_fraction,label")
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len() as u64, slides[0]["patches"].as_u64().unwrap());
    for r in &rows {
        let (x, y): (u64, u64) = (r[0].parse().unwrap(), r[1].parse().unwrap());
        // 32 px at 0.5 µm from 0.25 µm: 64 level-0 pixels, read 32 px at level 1.
        assert_eq!((x % 64, y % 64), (0, 0));
        assert!(x + 64 <= 1024 && y + 64 <= 1024);
        assert_eq!(
            (r[2].as_str(), r[3].as_str(), r[4].as_str()),
            ("1", "32", "32")
        );
        assert!(r[5].parse::<f64>().unwrap() >= 0.9);
        let png = slide_dir.join("patches").join(format!("{x}_{y}.png"));
        assert_eq!(png_size(&png), (32, 32));
    }

    // Second run: both plans are current and every patch file is kept.
    let again = run_json(&args);
    for s in again.as_array().unwrap() {
        assert_eq!(s["status"], "resumed", "{s}");
        assert_eq!(s["patches_written"], 0);
        assert_eq!(s["patches_skipped"], s["patches"]);
    }
    // A lost patch file is rewritten, and only that one.
    let first_row = &rows[0];
    std::fs::remove_file(
        slide_dir
            .join("patches")
            .join(format!("{}_{}.png", first_row[0], first_row[1])),
    )
    .unwrap();
    let third = run_json(&args);
    assert_eq!(third[0]["patches_written"], 1);
    // New parameters mean a new plan.
    let mut changed = args.to_vec();
    changed[9] = "0.5";
    assert_eq!(changed[8], "--min-tissue");
    let fourth = run_json(&changed);
    assert_eq!(fourth[0]["status"], "planned");
}

#[test]
fn tile_labels_from_annotations_and_explains_errors() {
    let dir = tempfile::tempdir().unwrap();
    let slide = dir.path().join("s.tiff");
    synth(&slide);
    let ann = dir.path().join("s.geojson");
    // One rectangle, class Tumor, over level-0 pixels 256..768.
    std::fs::write(
        &ann,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature",
        "geometry":{"type":"Polygon","coordinates":[[[256,256],[768,256],[768,768],[256,768],[256,256]]]},
        "properties":{"classification":{"name":"Tumor"}}}]}"#,
    )
    .unwrap();
    let out = dir.path().join("out");
    let s = run_json(&[
        "slide",
        "tile",
        slide.to_str().unwrap(),
        "--downsample",
        "4",
        "--size",
        "16",
        "--min-tissue",
        "0",
        "--annotations",
        ann.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let per = &s[0]["per_label"];
    // 512 level-0 pixels of box / 64 per patch = 8 x 8 Tumor patches, of
    // 16 x 16 positions.
    assert_eq!(per["Tumor"], 64, "{s}");
    assert_eq!(per["background"], 256 - 64, "{s}");
    let csv = std::fs::read_to_string(out.join("s").join("patches.csv")).unwrap();
    assert_eq!(csv.lines().filter(|l| l.ends_with(",Tumor")).count(), 64);

    // A folder of annotations is matched by slide stem (s.tiff -> s.geojson).
    let out2 = dir.path().join("out2");
    let s2 = run_json(&[
        "slide",
        "tile",
        slide.to_str().unwrap(),
        "--downsample",
        "4",
        "--size",
        "16",
        "--min-tissue",
        "0",
        "--annotations",
        dir.path().to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert_eq!(s2[0]["per_label"], s[0]["per_label"]);

    // Errors name the problem and what to do.
    let bad = exahealth()
        .args(["slide", "tile"])
        .arg(&slide)
        .args(["--size", "64", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--mpp"));
    let missing = exahealth()
        .args(["slide", "tile"])
        .arg(dir.path().join("absent.svs"))
        .args(["--mpp", "0.5", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(!missing.status.success());
    let text = String::from_utf8_lossy(&missing.stdout).to_string()
        + &String::from_utf8_lossy(&missing.stderr);
    assert!(
        text.contains("absent.svs") && text.contains("failed"),
        "{text}"
    );
}
