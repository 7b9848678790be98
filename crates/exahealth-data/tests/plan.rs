//! Patch plans on generated slides (whose tissue layout is known) and on a
//! real slide.

use std::path::{Path, PathBuf};

use exahealth_data::annotations::{self, Annotation, AnnotationSet, Geometry, Point};
use exahealth_data::plan::{
    file_identity, plan_slide, AnnotationParams, Plan, PlanError, PlanParams, Resolution,
    BACKGROUND, PATCHES_FILE, PATCHES_HEADER, PLAN_FILE,
};
use exahealth_slide::synth::{write_synthetic_slide, SynthOptions, Tissue};
use exahealth_slide::Slide;

const SIDE: u64 = 2048;

/// The slide with mpp is made once per test process and shared.
fn synth(dir: &Path, mpp: bool) -> PathBuf {
    static SHARED: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    if mpp {
        return SHARED
            .get_or_init(|| {
                let d = tempfile::tempdir().unwrap();
                let p = make(d.path(), true);
                (d, p)
            })
            .1
            .clone();
    }
    make(dir, mpp)
}

fn make(dir: &Path, mpp: bool) -> PathBuf {
    let path = dir.join(if mpp { "synth.tiff" } else { "nompp.tiff" });
    let mut o = SynthOptions::new(SIDE, SIDE);
    if !mpp {
        o.writer.mpp = None;
        o.writer.description = Some("synthetic slide without resolution".into());
    }
    write_synthetic_slide(&path, &o).unwrap();
    path
}

fn params(mpp: f64, size: u32) -> PlanParams {
    let mut p = PlanParams::new(Resolution::Mpp(mpp), size);
    p.mask_max_size = 512;
    p
}

#[test]
fn grid_level_and_tissue_follow_the_slide() {
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    assert_eq!(slide.mpp(), Some((0.25, 0.25)));
    let mut p = params(0.5, 64);
    p.stride = 48;
    p.min_tissue = 0.75;
    let planned = plan_slide(&slide, &p, None).unwrap();
    let plan = &planned.plan;
    // 0.5 µm from 0.25 µm: downsample 2, read from level 1 at 64 pixels.
    assert_eq!(plan.target.downsample, 2.0);
    assert_eq!(plan.target.level, 1);
    assert_eq!(plan.target.read_size, 64);
    assert_eq!(plan.target.mpp, Some(0.5));
    // The mask comes from the 512-pixel level, never level 0.
    assert_eq!(plan.mask.level, Some(2));
    assert_eq!((plan.mask.width, plan.mask.height), (512, 512));
    let per_axis = (SIDE - 128) / 96 + 1;
    assert_eq!(plan.summary.candidates, per_axis * per_axis);
    assert!(
        plan.summary.patches > 30,
        "{} patches",
        plan.summary.patches
    );
    assert!(plan.summary.patches < plan.summary.candidates);
    assert_eq!(plan.summary.patches as usize, plan.patches.len());

    let truth = Tissue::new(1);
    let mut centre_in_tissue = 0;
    for q in &plan.patches {
        assert_eq!(q.x % 96, 0, "x {} off the 96-pixel stride grid", q.x);
        assert_eq!(q.y % 96, 0, "y {} off the stride grid", q.y);
        assert!(
            q.x + 128 <= SIDE && q.y + 128 <= SIDE,
            "patch leaves the slide"
        );
        assert_eq!((q.level, q.width, q.height), (1, 64, 64));
        assert!(q.tissue_fraction >= 0.75 && q.tissue_fraction <= 1.0);
        assert_eq!(q.label, "");
        let (u, v) = (
            (q.x + 64) as f64 / SIDE as f64,
            (q.y + 64) as f64 / SIDE as f64,
        );
        centre_in_tissue += usize::from(truth.contains(u, v));
    }
    let share = centre_in_tissue as f64 / plan.patches.len() as f64;
    assert!(share > 0.97, "only {share} of patches are on true tissue");
    // And the reverse: grid positions deep inside true tissue are kept.
    let kept: std::collections::HashSet<(u64, u64)> =
        plan.patches.iter().map(|q| (q.x, q.y)).collect();
    let mut deep = 0;
    let mut deep_kept = 0;
    for j in 0..per_axis {
        for i in 0..per_axis {
            let (x, y) = (i * 96, j * 96);
            let inside = [(0, 0), (128, 0), (0, 128), (128, 128), (64, 64)]
                .iter()
                .all(|&(dx, dy)| {
                    truth.contains((x + dx) as f64 / SIDE as f64, (y + dy) as f64 / SIDE as f64)
                });
            if inside {
                deep += 1;
                deep_kept += usize::from(kept.contains(&(x, y)));
            }
        }
    }
    assert!(deep > 30);
    assert!(
        deep_kept as f64 / deep as f64 > 0.97,
        "{deep_kept} of {deep} tissue positions kept"
    );
    // Tissue area: the mask's share of the slide, in mm² at 0.25 µm.
    let mm2 = plan.mask.tissue_area_mm2.unwrap();
    let slide_mm2 = (SIDE as f64 * 0.25 / 1000.0).powi(2);
    assert!((mm2 / slide_mm2 - plan.mask.tissue_fraction).abs() < 1e-9);
    assert!(plan.mask.tissue_fraction > 0.05 && plan.mask.tissue_fraction < 0.9);
}

#[test]
fn min_tissue_zero_keeps_every_position_and_one_keeps_only_full_patches() {
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    let mut p = params(1.0, 64);
    p.min_tissue = 0.0;
    let all = plan_slide(&slide, &p, None).unwrap().plan;
    assert_eq!(all.summary.patches, all.summary.candidates);
    assert_eq!(all.summary.candidates, 8 * 8);
    assert_eq!(all.target.level, 2);
    p.min_tissue = 1.0;
    let full = plan_slide(&slide, &p, None).unwrap().plan;
    assert!(full.patches.iter().all(|q| q.tissue_fraction == 1.0));
    assert!(!full.patches.is_empty() && full.patches.len() < all.patches.len());
}

#[test]
fn labels_come_from_a_rectangle_annotation() {
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    // A rectangle over the middle of the slide, class Tumor.
    let (r0, r1) = (512.0, 1536.0);
    let set = AnnotationSet {
        annotations: vec![Annotation {
            name: "box".into(),
            class: Some("Tumor".into()),
            color: None,
            geometry: Geometry::Rectangle {
                min: Point::new(r0, r0),
                max: Point::new(r1, r1),
            },
        }],
        groups: vec![],
    };
    let ann = dir.path().join("ann.geojson");
    annotations::write(&set, &ann).unwrap();
    let read = annotations::read(&ann).unwrap();
    let mut p = params(0.5, 64);
    p.min_tissue = 0.0;
    p.annotations = Some(AnnotationParams {
        path: ann.display().to_string(),
        quick_hash: file_identity(&ann).unwrap().2,
        min_fraction: 0.5,
    });
    let plan = plan_slide(&slide, &p, Some(&read)).unwrap().plan;
    assert_eq!(plan.classes, vec!["Tumor".to_string()]);
    let mut tumor = 0;
    for q in &plan.patches {
        let (x0, y0) = (q.x as f64, q.y as f64);
        let (x1, y1) = (x0 + 128.0, y0 + 128.0);
        let inside = x0 >= r0 && y0 >= r0 && x1 <= r1 && y1 <= r1;
        let outside = x1 <= r0 || y1 <= r0 || x0 >= r1 || y0 >= r1;
        if inside {
            assert_eq!(q.label, "Tumor", "patch at ({}, {})", q.x, q.y);
            tumor += 1;
        } else if outside {
            assert_eq!(q.label, BACKGROUND, "patch at ({}, {})", q.x, q.y);
        }
    }
    // 1024 / 128 = 8 patches a side inside the box.
    assert_eq!(tumor, 8 * 8);
    assert_eq!(plan.summary.per_label["Tumor"], 8 * 8);
    assert_eq!(
        plan.summary.per_label[BACKGROUND],
        plan.summary.patches - 8 * 8
    );
    // Labels without annotation parameters are refused.
    p.annotations = None;
    assert!(matches!(
        plan_slide(&slide, &p, Some(&read)),
        Err(PlanError::InvalidParams(_))
    ));
}

#[test]
fn save_load_round_trip_and_currency() {
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    let p = params(0.5, 96);
    let plan = plan_slide(&slide, &p, None).unwrap().plan;
    let out = dir.path().join("out");
    plan.save(&out).unwrap();
    let csv = std::fs::read_to_string(out.join(PATCHES_FILE)).unwrap();
    assert_eq!(csv.lines().next(), Some(PATCHES_HEADER));
    assert_eq!(csv.lines().count(), plan.patches.len() + 1);
    let back = Plan::load(&out).unwrap();
    assert_eq!(back, plan);
    assert!(Plan::is_current(&out, &p, &plan.slide));
    let mut other = p.clone();
    other.stride = 48;
    assert!(!Plan::is_current(&out, &other, &plan.slide));
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn load_reports_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    let plan = plan_slide(&slide, &params(0.5, 128), None).unwrap().plan;
    let out = dir.path().join("out");
    assert!(matches!(Plan::load(&out), Err(PlanError::Io { .. })));
    plan.save(&out).unwrap();

    let csv_path = out.join(PATCHES_FILE);
    let good = std::fs::read_to_string(&csv_path).unwrap();
    let mut lines: Vec<&str> = good.lines().collect();
    lines[2] = "12,abc,1,64,64,0.5,";
    std::fs::write(&csv_path, lines.join("\n")).unwrap();
    match Plan::load(&out) {
        Err(PlanError::Csv { line, message, .. }) => {
            assert_eq!(line, 3);
            assert!(message.contains("y"), "{message}");
        }
        other => panic!("expected a CSV error, got {other:?}"),
    }
    std::fs::write(
        &csv_path,
        good.lines().take(2).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    assert!(matches!(
        Plan::load(&out),
        Err(PlanError::Inconsistent { .. })
    ));
    std::fs::write(&csv_path, good.replace("tissue_fraction", "tissue")).unwrap();
    assert!(matches!(
        Plan::load(&out),
        Err(PlanError::Csv { line: 1, .. })
    ));
    std::fs::write(&csv_path, &good).unwrap();

    let json_path = out.join(PLAN_FILE);
    let json = std::fs::read_to_string(&json_path).unwrap();
    std::fs::write(
        &json_path,
        json.replacen("\"version\": 1", "\"version\": 99", 1),
    )
    .unwrap();
    assert!(matches!(
        Plan::load(&out),
        Err(PlanError::UnsupportedVersion { found: 99, .. })
    ));
    std::fs::write(&json_path, &json[..json.len() / 2]).unwrap();
    assert!(matches!(Plan::load(&out), Err(PlanError::Json { .. })));
}

#[test]
fn slide_without_mpp_needs_a_level_or_downsample() {
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), false)).unwrap();
    assert_eq!(slide.mpp(), None);
    let err = plan_slide(&slide, &params(0.5, 64), None).unwrap_err();
    assert!(matches!(err, PlanError::NoMpp { .. }));
    assert!(err.to_string().contains("--downsample"), "{err}");
    let mut p = params(0.5, 64);
    p.resolution = Resolution::Downsample(4.0);
    let plan = plan_slide(&slide, &p, None).unwrap().plan;
    assert_eq!((plan.target.level, plan.target.read_size), (2, 64));
    assert_eq!(plan.target.mpp, None);
    assert_eq!(plan.mask.tissue_area_mm2, None);
    p.resolution = Resolution::Level(1);
    let plan = plan_slide(&slide, &p, None).unwrap().plan;
    assert_eq!((plan.target.level, plan.target.downsample), (1, 2.0));
    p.resolution = Resolution::Level(9);
    assert!(matches!(
        plan_slide(&slide, &p, None),
        Err(PlanError::InvalidParams(_))
    ));
}

#[test]
fn real_slide_tissue_and_plan() {
    let Some(path) = exahealth_base::testdata::shared_file(
        env!("CARGO_MANIFEST_DIR"),
        "wsi/aperio/CMU-1-Small-Region.svs",
    ) else {
        return;
    };
    let slide = Slide::open(&path).unwrap();
    let mut p = PlanParams::new(Resolution::Mpp(1.0), 128);
    p.min_tissue = 0.5;
    let planned = plan_slide(&slide, &p, None).unwrap();
    let plan = &planned.plan;
    let f = plan.mask.tissue_fraction;
    // A piece of skin on white glass: most of the image, not all of it.
    assert!(f > 0.2 && f < 0.9, "tissue fraction {f}");
    let mask = &planned.tissue.mask;
    let (h, w) = mask.dim();
    // The slide's corners are glass.
    for &(y, x) in &[(5, 5), (5, w - 6), (h - 6, 5), (h - 6, w - 6)] {
        assert_eq!(mask[(y, x)], 0, "corner ({x}, {y}) taken for tissue");
    }
    // The Otsu split lies between glass (near-grey) and stain saturation.
    assert!(plan.mask.threshold > 8 && plan.mask.threshold < 120);
    assert!(plan.summary.patches > 0);
    assert!(plan.patches.iter().all(|q| q.tissue_fraction >= 0.5));
}

#[test]
fn patches_are_read_at_the_planned_level_resized_and_resumed() {
    use exahealth_data::plan::{patch_file_name, write_patches, PatchFormat};
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    // Downsample 3: read 48 px at level 1 (downsample 2), resized to 32.
    let mut p = params(0.5, 32);
    p.resolution = Resolution::Downsample(3.0);
    p.min_tissue = 0.9;
    let plan = plan_slide(&slide, &p, None).unwrap().plan;
    assert_eq!((plan.target.level, plan.target.read_size), (1, 48));
    assert!(!plan.patches.is_empty());
    let out = dir.path().join("patches");
    let count = std::sync::atomic::AtomicU64::new(0);
    let tick = || {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };
    let r = write_patches(&slide, &plan, &out, PatchFormat::Png, &tick).unwrap();
    assert_eq!(r.written, plan.patches.len() as u64);
    assert_eq!(r.skipped, 0);
    assert_eq!(count.into_inner(), plan.patches.len() as u64);

    let q = &plan.patches[plan.patches.len() / 2];
    let file = out.join(patch_file_name(q, PatchFormat::Png));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&file).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0u8; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (32, 32));
    assert_eq!(info.color_type, png::ColorType::Rgb);
    // The patch shows tissue (pink/purple, saturated), not white glass.
    let px = &buf[..info.buffer_size()];
    let mean_sat: f64 = px
        .chunks_exact(3)
        .map(|c| {
            let max = *c.iter().max().unwrap() as f64;
            let min = *c.iter().min().unwrap() as f64;
            (max - min) / max.max(1.0)
        })
        .sum::<f64>()
        / 1024.0;
    assert!(mean_sat > 0.15, "mean saturation {mean_sat}");
    // Its content is the region read at level 1, area-averaged to 32 px.
    let region = slide
        .read_region(q.x as i64, q.y as i64, 1, 48, 48)
        .unwrap()
        .resize_area(32, 32)
        .to_rgb_on_white();
    assert_eq!(px, region.as_slice());

    // A second call keeps every file; a removed one is rewritten.
    std::fs::remove_file(&file).unwrap();
    let again = write_patches(&slide, &plan, &out, PatchFormat::Png, &|| {}).unwrap();
    assert_eq!(again.written, 1);
    assert_eq!(again.skipped, plan.patches.len() as u64 - 1);
    assert!(file.is_file());
    // JPEG patches decode to the patch size.
    let jpg_dir = dir.path().join("jpg");
    write_patches(
        &slide,
        &plan,
        &jpg_dir,
        PatchFormat::Jpeg { quality: 80 },
        &|| {},
    )
    .unwrap();
    let jpg =
        std::fs::read(jpg_dir.join(patch_file_name(q, PatchFormat::Jpeg { quality: 80 }))).unwrap();
    let mut d = zune_jpeg::JpegDecoder::new(&jpg);
    d.decode_headers().unwrap();
    assert_eq!(d.dimensions(), Some((32, 32)));
}

#[test]
fn a_replan_with_other_parameters_never_keeps_stale_patches() {
    use exahealth_data::plan::{patch_file_name, write_patches, PatchFormat, PATCH_STAMP_FILE};
    let dir = tempfile::tempdir().unwrap();
    let slide = Slide::open(synth(dir.path(), true)).unwrap();
    let out = dir.path().join("patches");
    let mut p = params(0.5, 32);
    p.min_tissue = 0.9;
    let first = plan_slide(&slide, &p, None).unwrap().plan;
    write_patches(&slide, &first, &out, PatchFormat::Png, &|| {}).unwrap();
    let q = first.patches[0].clone();
    let file = out.join(patch_file_name(&q, PatchFormat::Png));
    let old_bytes = std::fs::read(&file).unwrap();
    // A user's own file in the folder is never touched.
    std::fs::write(out.join("notes.txt"), b"mine").unwrap();
    // An empty patch, as a crash of a non-durable writer left it, is redone.
    std::fs::write(&file, b"").unwrap();
    let again = write_patches(&slide, &first, &out, PatchFormat::Png, &|| {}).unwrap();
    assert_eq!(again.written, 1);
    assert_eq!(std::fs::read(&file).unwrap(), old_bytes);

    // Same corners, another patch size: every old name must be recut.
    let mut p2 = p.clone();
    p2.patch_size = 16;
    p2.stride = 32;
    let second = plan_slide(&slide, &p2, None).unwrap().plan;
    assert!(second.patches.iter().any(|r| (r.x, r.y) == (q.x, q.y)));
    let r = write_patches(&slide, &second, &out, PatchFormat::Png, &|| {}).unwrap();
    assert_eq!((r.written, r.skipped), (second.patches.len() as u64, 0));
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&file).unwrap()));
    let info = decoder.read_info().unwrap().info().clone();
    assert_eq!((info.width, info.height), (16, 16));
    // Only the second plan's patches remain, beside the stamp and the user's file.
    let names: std::collections::BTreeSet<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut want: std::collections::BTreeSet<String> = second
        .patches
        .iter()
        .map(|r| patch_file_name(r, PatchFormat::Png))
        .collect();
    want.insert(PATCH_STAMP_FILE.into());
    want.insert("notes.txt".into());
    assert_eq!(names, want);
}

#[test]
fn plan_or_resume_plans_once_resumes_and_replans_on_a_change() {
    use exahealth_data::plan::{
        annotation_file_for, plan_or_resume, slide_stem, PatchFormat, TileJob, TileProgress,
        TileStatus, OVERLAY_FILE, PATCH_STAMP_FILE,
    };
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let slide_path = synth(dir.path(), true);
    assert_eq!(slide_stem(&slide_path), "synth");
    let out = dir.path().join("tiles").join(slide_stem(&slide_path));
    let mut p = params(0.5, 32);
    p.min_tissue = 0.9;
    let queued = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let progress = |e: TileProgress| match e {
        TileProgress::PatchesQueued(n) => {
            queued.fetch_add(n, Ordering::Relaxed);
        }
        TileProgress::PatchDone => {
            done.fetch_add(1, Ordering::Relaxed);
        }
        _ => {}
    };
    let job = TileJob {
        slide: &slide_path,
        out: &out,
        params: &p,
        annotations: None,
        label_fraction: 0.5,
        patches: Some(PatchFormat::Png),
    };

    // First call: planned, saved with its QC images, every patch written.
    let first = plan_or_resume(&job, &progress).unwrap();
    assert_eq!(first.status, TileStatus::Planned);
    assert_eq!(first.status.as_str(), "planned");
    let n = first.plan.patches.len() as u64;
    assert!(n > 0);
    assert_eq!(first.plan.summary.patches, n);
    let w = first.written.unwrap();
    assert_eq!((w.written, w.skipped), (n, 0));
    assert_eq!(queued.load(Ordering::Relaxed), n);
    assert_eq!(done.load(Ordering::Relaxed), n);
    for f in [PLAN_FILE, PATCHES_FILE, OVERLAY_FILE] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    assert!(out.join("patches").join(PATCH_STAMP_FILE).is_file());
    let plan_written = std::fs::metadata(out.join(PLAN_FILE))
        .unwrap()
        .modified()
        .unwrap();

    // Second call with the same job: the saved plan is reused, not remade,
    // and the patch files are kept.
    let second = plan_or_resume(&job, &progress).unwrap();
    assert_eq!(second.status, TileStatus::Resumed);
    assert_eq!(second.plan, first.plan);
    let w = second.written.unwrap();
    assert_eq!((w.written, w.skipped), (0, n));
    let modified = std::fs::metadata(out.join(PLAN_FILE))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(modified, plan_written, "plan.json was rewritten on resume");

    // Coordinates only: still resumed, no patch files touched.
    let coords = TileJob {
        patches: None,
        ..job
    };
    let third = plan_or_resume(&coords, &|_| {}).unwrap();
    assert_eq!(third.status, TileStatus::Resumed);
    assert!(third.written.is_none());

    // Another stride: the plan is made again and saved with it.
    let mut p2 = p.clone();
    p2.stride = 64;
    let changed = TileJob { params: &p2, ..job };
    let replanned = plan_or_resume(&changed, &|_| {}).unwrap();
    assert_eq!(replanned.status, TileStatus::Planned);
    assert_eq!(replanned.plan.params.stride, 64);
    assert_eq!(Plan::load(&out).unwrap().params.stride, 64);
    let w = replanned.written.unwrap();
    assert_eq!(w.written, replanned.plan.patches.len() as u64);
    assert_eq!(w.skipped, 0);
    assert!(replanned.plan.patches.len() < first.plan.patches.len());

    // An annotation file is a parameter too: adding one re-plans with labels.
    let ann = dir.path().join("ann");
    std::fs::create_dir(&ann).unwrap();
    let set = AnnotationSet {
        annotations: vec![Annotation {
            name: "box".into(),
            class: Some("Tumor".into()),
            color: None,
            geometry: Geometry::Rectangle {
                min: Point::new(0.0, 0.0),
                max: Point::new(1024.0, 1024.0),
            },
        }],
        groups: vec![],
    };
    annotations::write(&set, &ann.join("synth.geojson")).unwrap();
    let ann_file = annotation_file_for(&ann, &slide_path).unwrap();
    assert_eq!(ann_file, ann.join("synth.geojson"));
    assert_eq!(annotation_file_for(&ann, Path::new("other.svs")), None);
    let labelled = TileJob {
        params: &p2,
        annotations: Some(&ann_file),
        patches: None,
        ..job
    };
    let r = plan_or_resume(&labelled, &|_| {}).unwrap();
    assert_eq!(r.status, TileStatus::Planned);
    assert_eq!(r.plan.classes, vec!["Tumor".to_string()]);
    assert_eq!(
        plan_or_resume(&labelled, &|_| {}).unwrap().status,
        TileStatus::Resumed
    );

    // A slide that is not there is a typed error naming it.
    let missing = dir.path().join("absent.svs");
    let gone = TileJob {
        slide: &missing,
        ..job
    };
    let e = plan_or_resume(&gone, &|_| {}).unwrap_err();
    assert!(matches!(e, PlanError::SlideOpen { .. }), "{e:?}");
    // The slide error, its source, names the file; the step says what failed.
    assert_eq!(e.to_string(), "cannot open the slide");
    let cause = std::error::Error::source(&e).map(ToString::to_string);
    assert!(cause.is_some_and(|c| c.contains("absent.svs")), "{e:?}");
}
