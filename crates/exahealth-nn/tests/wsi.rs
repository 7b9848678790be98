//! Whole-slide prediction through a patch plan on a generated slide.

use std::sync::Arc;

use exahealth_data::loader::{read_patches_csv, SlidePatchSource};
use exahealth_nn::cpu_device;
use exahealth_nn::models::SmallCnnConfig;
use exahealth_nn::sources::SampleBatches;
use exahealth_nn::wsi::{colour, heatmap, predict_patches, slide_score, write_scores_csv};
use exahealth_slide::writer::{write_pyramid, PyramidOptions, TileCompression};
use exahealth_slide::Slide;

#[test]
fn a_patch_plan_gives_scores_a_heatmap_tiff_and_an_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let slide_path = dir.path().join("slide.tiff");
    // 1024 x 768, left half bright, right half dark.
    let options = PyramidOptions {
        tile_size: 256,
        compression: TileCompression::Deflate,
        ..Default::default()
    };
    write_pyramid(&slide_path, 1024, 768, &options, |level, col, _| {
        let v = if level == 0 && col < 2 { 230 } else { 40 };
        Arc::new(vec![v; 256 * 256 * 3])
    })
    .unwrap();
    let mut csv = String::from("x,y,level,width,height,tissue_fraction,label\n");
    for y in (0..768).step_by(256) {
        for x in (0..1024).step_by(256) {
            csv.push_str(&format!("{x},{y},0,256,256,1,\n"));
        }
    }
    let plan = dir.path().join("patches.csv");
    std::fs::write(&plan, csv).unwrap();

    let mut source = SlidePatchSource::new(32, vec![]).unwrap();
    source.add_plan(&slide_path, &plan).unwrap();
    let batches = SampleBatches::new(source, 2);
    let device = cpu_device();
    device.seed(1);
    let model = SmallCnnConfig::new().init(&device);
    let mut calls = Vec::new();
    let scores = predict_patches(&model, &batches, 5, &device, &mut |done, total| {
        calls.push((done, total))
    })
    .unwrap();
    assert_eq!(scores.len(), 12);
    assert_eq!(calls.last(), Some(&(12, 12)));
    assert_eq!(calls.len(), 3);
    for s in &scores {
        assert!((s.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    // Identical patches score identically; the two halves differ.
    let left = &scores[0].probabilities;
    let right = &scores[3].probabilities;
    assert!((left[0] - scores[4].probabilities[0]).abs() < 1e-6);
    assert!((left[0] - right[0]).abs() > 1e-6);

    let summary = slide_score(&scores, 1).unwrap();
    let p1: Vec<f32> = scores.iter().map(|s| s.probabilities[1]).collect();
    assert_eq!(summary.max, p1.iter().cloned().fold(f32::MIN, f32::max));
    assert!((summary.mean - p1.iter().sum::<f32>() / 12.0).abs() < 1e-6);
    assert!(slide_score(&scores, 5).is_err());

    let table = dir.path().join("scores.csv");
    write_scores_csv(&table, &scores, &["normal".into(), "tumor".into()]).unwrap();
    let text = std::fs::read_to_string(&table).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "x,y,level,width,height,tissue_fraction,label,p_normal,p_tumor,predicted"
    );
    assert_eq!(lines.count(), 12);
    // The table's plan columns read back as a plan.
    assert_eq!(read_patches_csv(&plan).unwrap().len(), 12);

    let slide = Slide::open(&slide_path).unwrap();
    let map = heatmap(&slide, &scores, 1, 32).unwrap();
    assert_eq!((map.width, map.height), (32, 24));
    let tiff = dir.path().join("heatmap.tiff");
    map.write_tiff(&tiff, None).unwrap();
    let heat = Slide::open(&tiff).unwrap();
    assert_eq!(heat.level_dimensions()[0], (32, 24));
    let px = heat.read_region(3, 3, 0, 1, 1).unwrap().pixel(0, 0);
    let expected = colour(1 + (p1[0] * 254.0).round() as u8);
    assert_eq!([px[0], px[1], px[2]], expected);
    let px = heat.read_region(31, 23, 0, 1, 1).unwrap().pixel(0, 0);
    let expected = colour(1 + (p1[11] * 254.0).round() as u8);
    assert_eq!([px[0], px[1], px[2]], expected);

    let png_path = dir.path().join("overlay.png");
    map.write_overlay_png(&png_path, &slide, 256).unwrap();
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png_path).unwrap(),
    ));
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    assert_eq!((info.width, info.height), (256, 192));
}
