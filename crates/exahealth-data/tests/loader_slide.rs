//! Slide patches through a patch plan's `patches.csv`: what the loader
//! yields must equal a direct `read_region` of the same slide.

use exahealth_data::loader::*;
use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};
use exahealth_slide::Slide;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const REAL: &str = "wsi/aperio/CMU-1-Small-Region.svs";

fn real_slide() -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), REAL)
}

fn write_csv(path: &Path, rows: &[(i64, i64, usize, u32, u32, &str)]) {
    let mut s = String::from(PATCHES_CSV_HEADER);
    s.push('\n');
    for (x, y, level, w, h, label) in rows {
        s.push_str(&format!("{x},{y},{level},{w},{h},0.75,{label}\n"));
    }
    std::fs::write(path, s).unwrap();
}

fn synthetic(dir: &Path) -> PathBuf {
    let p = dir.join("synth.tiff");
    write_synthetic_slide(&p, &SynthOptions::new(2048, 1536)).unwrap();
    p
}

/// Each loaded patch equals the RGB of `read_region` at its row.
fn assert_matches_read_region(slide_path: &Path, rows: &[(i64, i64, usize, u32, u32, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("patches.csv");
    write_csv(&csv, rows);
    let size = rows[0].3;
    let classes = vec!["stroma".to_string(), "tumor".to_string()];
    let mut src = SlidePatchSource::new(size, classes).unwrap();
    src.add_plan(slide_path, &csv).unwrap();
    assert_eq!(src.len(), rows.len());
    let reference = Slide::open(slide_path).unwrap();
    let l = Loader::new(
        Arc::new(src),
        LoaderConfig {
            batch_size: 2,
            workers: 2,
            prefetch: 2,
            shuffle: true,
            seed: 5,
            drop_last: false,
        },
    )
    .unwrap();
    let mut seen = 0;
    for b in l.epoch(0) {
        let b = b.unwrap();
        let Labels::Classes(labels) = &b.labels else {
            panic!("{:?}", b.labels)
        };
        for (k, &i) in b.samples.iter().enumerate() {
            let (x, y, level, w, h, label) = rows[i];
            let direct = rgba_to_rgb_f32(&reference.read_region(x, y, level, w, h).unwrap());
            let got = b
                .images
                .index_axis(ndarray::Axis(0), k)
                .permuted_axes([1, 2, 0])
                .to_owned();
            assert_eq!(got, direct, "patch {i} at ({x}, {y}) level {level}");
            assert_eq!(labels[k], if label == "tumor" { 1 } else { 0 });
            seen += 1;
        }
    }
    assert_eq!(seen, rows.len());
}

#[test]
fn synthetic_slide_patches_match_read_region() {
    let dir = tempfile::tempdir().unwrap();
    let slide = synthetic(dir.path());
    let levels = Slide::open(&slide).unwrap().level_count();
    assert!(levels >= 2, "the synthetic slide has a pyramid");
    assert_matches_read_region(
        &slide,
        &[
            (0, 0, 0, 64, 64, "tumor"),
            (700, 300, 0, 64, 64, "stroma"),
            // Crossing tile borders, at level 1 (x, y are level-0 pixels).
            (480, 200, 1, 64, 64, "tumor"),
            // Partly outside the slide: transparent reads as black.
            (2000, 1500, 0, 64, 64, "stroma"),
            (1024, 1024, 1, 64, 64, "tumor"),
        ],
    );
}

#[test]
fn real_slide_patches_match_read_region() {
    let Some(slide) = real_slide() else { return };
    assert_matches_read_region(
        &slide,
        &[
            (0, 0, 0, 256, 256, "tumor"),
            (1000, 1200, 0, 256, 256, "stroma"),
            (1963, 2710, 0, 256, 256, "tumor"),
            (230, 470, 0, 256, 256, "stroma"),
        ],
    );
}

#[test]
fn larger_regions_are_resized_to_the_patch_size() {
    let dir = tempfile::tempdir().unwrap();
    let slide = synthetic(dir.path());
    let csv = dir.path().join("patches.csv");
    write_csv(&csv, &[(256, 256, 0, 128, 128, ""), (0, 0, 0, 64, 64, "")]);
    let mut src = SlidePatchSource::new(64, vec![]).unwrap();
    src.add_plan(&slide, &csv).unwrap();
    let s = src.load(0).unwrap();
    assert_eq!(s.image.dim(), (64, 64, 3));
    assert_eq!(s.target, Target::None);
    // A 2x reduction averages 2x2 blocks of the direct read.
    let direct = rgba_to_rgb_f32(
        &Slide::open(&slide)
            .unwrap()
            .read_region(256, 256, 0, 128, 128)
            .unwrap(),
    );
    for (y, x) in [(0, 0), (10, 37), (63, 63)] {
        for c in 0..3 {
            let avg = (direct[[2 * y, 2 * x, c]]
                + direct[[2 * y, 2 * x + 1, c]]
                + direct[[2 * y + 1, 2 * x, c]]
                + direct[[2 * y + 1, 2 * x + 1, c]])
                / 4.0;
            assert!((s.image[[y, x, c]] - avg).abs() < 1e-5, "({y}, {x}, {c})");
        }
    }
}

#[test]
fn plans_with_unknown_labels_or_levels_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let slide = synthetic(dir.path());
    let csv = dir.path().join("patches.csv");
    write_csv(
        &csv,
        &[(0, 0, 0, 64, 64, "tumor"), (0, 0, 0, 64, 64, "necrosis")],
    );
    let mut src = SlidePatchSource::new(64, vec!["tumor".into()]).unwrap();
    let msg = src.add_plan(&slide, &csv).unwrap_err().to_string();
    assert!(
        msg.contains("patches.csv:3") && msg.contains("necrosis"),
        "{msg}"
    );
    write_csv(&csv, &[(0, 0, 42, 64, 64, "tumor")]);
    let msg = src.add_plan(&slide, &csv).unwrap_err().to_string();
    assert!(
        msg.contains("patches.csv:2") && msg.contains("level 42"),
        "{msg}"
    );
    assert!(src.is_empty(), "nothing added from refused plans");
    // The slide error names the file; the loader's step says what failed.
    let e = src
        .add_plan(&dir.path().join("missing.svs"), &csv)
        .unwrap_err();
    let cause = std::error::Error::source(&e).map(ToString::to_string);
    assert_eq!(e.to_string(), "cannot open the slide");
    assert!(cause.is_some_and(|c| c.contains("missing.svs")), "{e:?}");
}

#[test]
fn several_slides_share_one_source() {
    let Some(real) = real_slide() else { return };
    let dir = tempfile::tempdir().unwrap();
    let synth = synthetic(dir.path());
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    write_csv(&a, &[(0, 0, 0, 32, 32, "x"), (32, 0, 0, 32, 32, "x")]);
    write_csv(&b, &[(100, 100, 0, 32, 32, "y")]);
    let mut src = SlidePatchSource::new(32, vec!["x".into(), "y".into()]).unwrap();
    src.add_plan(&synth, &a).unwrap();
    src.add_plan(&real, &b).unwrap();
    assert_eq!(src.len(), 3);
    let (s, r) = src.patch(2).unwrap();
    assert_eq!(s.path(), real.as_path());
    assert_eq!((r.x, r.y), (100, 100));
    assert_eq!(src.load(2).unwrap().target, Target::Class(1));
    let direct = rgba_to_rgb_f32(
        &Slide::open(&real)
            .unwrap()
            .read_region(100, 100, 0, 32, 32)
            .unwrap(),
    );
    assert_eq!(src.load(2).unwrap().image, direct);
}

#[test]
fn patches_planned_by_the_planner_load_like_read_region() {
    use exahealth_data::plan::{plan_slide, PlanParams, Resolution, PATCHES_FILE};
    let dir = tempfile::tempdir().unwrap();
    let slide_path = synthetic(dir.path());
    let slide = Slide::open(&slide_path).unwrap();
    // 0.5 µm from the 0.25 µm slide: 32-pixel patches read at level 1.
    let mut params = PlanParams::new(Resolution::Mpp(0.5), 32);
    params.mask_max_size = 256;
    let planned = plan_slide(&slide, &params, None).unwrap();
    let out = dir.path().join("plan");
    planned.plan.save(&out).unwrap();
    let mut src = SlidePatchSource::new(32, vec![]).unwrap();
    src.add_plan(&slide_path, &out.join(PATCHES_FILE)).unwrap();
    assert_eq!(src.len(), planned.plan.patches.len());
    assert!(!src.is_empty(), "the synthetic slide has tissue");
    let mut compared = 0;
    for i in [0, src.len() / 2, src.len() - 1] {
        let p = &planned.plan.patches[i];
        let (_, r) = src.patch(i).unwrap();
        assert_eq!((r.x, r.y, r.level), (p.x as i64, p.y as i64, p.level));
        let s = src.load(i).unwrap();
        assert_eq!(s.image.dim(), (32, 32, 3));
        if (p.width, p.height) == (32, 32) {
            let direct = rgba_to_rgb_f32(
                &slide
                    .read_region(p.x as i64, p.y as i64, p.level, 32, 32)
                    .unwrap(),
            );
            assert_eq!(s.image, direct, "patch {i}");
            compared += 1;
        }
    }
    assert_eq!(
        compared, 3,
        "level 1 holds 0.5 µm: regions are the patch size"
    );
}
