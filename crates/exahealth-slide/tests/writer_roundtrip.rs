//! The pyramidal TIFF writer, read back by our own reader.

mod common;

use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};
use exahealth_slide::writer::{pyramid_levels, write_pyramid, PyramidOptions, TileCompression};
use exahealth_slide::Slide;
use std::sync::Arc;

/// A deterministic test pattern at level-0 pixel (x, y).
fn pattern(x: u64, y: u64) -> [u8; 3] {
    [
        (x * 7 % 256) as u8,
        (y * 5 % 256) as u8,
        ((x ^ y) % 256) as u8,
    ]
}

#[test]
fn deflate_pyramid_is_lossless_at_level_zero() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.tiff");
    let (w, h, ts) = (700u64, 530u64, 128u32);
    let opts = PyramidOptions {
        tile_size: ts,
        compression: TileCompression::Deflate,
        mpp: Some(0.5),
        ..Default::default()
    };
    let report = write_pyramid(&path, w, h, &opts, |level, col, row| {
        let f = 1u64 << level;
        let mut px = Vec::new();
        for y in 0..u64::from(ts) {
            for x in 0..u64::from(ts) {
                px.extend_from_slice(&pattern(
                    (col * u64::from(ts) + x) * f,
                    (row * u64::from(ts) + y) * f,
                ));
            }
        }
        Arc::new(px)
    })
    .unwrap();
    assert_eq!(report.levels, pyramid_levels(w, h, ts));
    assert_eq!(
        report.levels,
        vec![(700, 530), (350, 265), (175, 133), (88, 67)]
    );
    let s = Slide::open(&path).unwrap();
    assert_eq!(s.vendor(), "generic-tiff");
    assert_eq!(s.level_dimensions(), report.levels);
    assert!((s.mpp().unwrap().0 - 0.5).abs() < 1e-3);
    let r = s.read_region(0, 0, 0, w as u32, h as u32).unwrap();
    for y in 0..h as u32 {
        for x in 0..w as u32 {
            let [a, b, c] = pattern(u64::from(x), u64::from(y));
            assert_eq!(r.pixel(x, y), [a, b, c, 255], "pixel ({x}, {y})");
        }
    }
    // Level 2 pixel (10, 20) was rendered from level-0 pixel (40, 80).
    let r2 = s.read_region(0, 0, 2, 16, 32).unwrap();
    let [a, b, c] = pattern(40, 80);
    assert_eq!(r2.pixel(10, 20), [a, b, c, 255]);
}

#[test]
fn jpeg_pyramid_is_close_to_its_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.tiff");
    let ts = 256u32;
    let smooth = |x: u64, y: u64| [(100 + x / 8 % 100) as u8, (80 + y / 8 % 100) as u8, 150u8];
    let opts = PyramidOptions {
        tile_size: ts,
        compression: TileCompression::Jpeg { quality: 95 },
        ..Default::default()
    };
    write_pyramid(&path, 600, 400, &opts, |level, col, row| {
        let f = 1u64 << level;
        let mut px = Vec::new();
        for y in 0..u64::from(ts) {
            for x in 0..u64::from(ts) {
                px.extend_from_slice(&smooth(
                    (col * u64::from(ts) + x) * f,
                    (row * u64::from(ts) + y) * f,
                ));
            }
        }
        Arc::new(px)
    })
    .unwrap();
    let s = Slide::open(&path).unwrap();
    let r = s.read_region(0, 0, 0, 600, 400).unwrap();
    let mut want = Vec::new();
    for y in 0..400 {
        for x in 0..600 {
            let [a, b, c] = smooth(x, y);
            want.extend_from_slice(&[a, b, c, 255]);
        }
    }
    let p = common::psnr(&r.data, &want);
    assert!(p > 35.0, "PSNR {p}");
}

#[test]
fn virtual_gigapixel_slide_is_small_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.tiff");
    let report = write_synthetic_slide(&path, &SynthOptions::new(100_000, 100_000)).unwrap();
    let bytes = std::fs::metadata(&path).unwrap().len();
    assert!(bytes < 30_000_000, "virtual slide is {bytes} bytes");
    assert!(report.unique_tiles < report.tiles / 20, "{report:?}");
    let s = Slide::open(&path).unwrap();
    assert_eq!(s.level_dimensions()[0], (100_000, 100_000));
    assert_eq!(s.level_count(), report.levels.len());
    // Reads anywhere, including far corners and mid-tissue, are fine.
    for &(x, y) in &[
        (0i64, 0i64),
        (99_800, 99_800),
        (50_000, 50_000),
        (-100, 99_950),
    ] {
        let r = s.read_region(x, y, 0, 256, 256).unwrap();
        assert_eq!((r.width, r.height), (256, 256));
    }
    // The thumbnail shows tissue (pink) on background.
    let t = s.thumbnail(256).unwrap();
    let pinkish = t
        .data
        .chunks_exact(4)
        .filter(|p| u16::from(p[0]) > u16::from(p[1]) + 30)
        .count();
    assert!(
        pinkish > 256 * 256 / 50,
        "thumbnail has too little tissue: {pinkish}"
    );
}

#[test]
fn cache_stays_within_its_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.tiff");
    write_synthetic_slide(&path, &SynthOptions::new(4096, 4096)).unwrap();
    let budget = 2 << 20;
    let s = Slide::open_with(
        &path,
        exahealth_slide::OpenOptions {
            cache_bytes: Some(budget),
            ..Default::default()
        },
    )
    .unwrap();
    for i in 0..16 {
        s.read_region(i * 256, i * 256, 0, 512, 512).unwrap();
    }
    assert!(s.cache().used_bytes() <= budget, "{:?}", s.cache());
    assert!(s.cache().used_bytes() > 0);
}

#[test]
fn writer_rejects_bad_requests() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.tiff");
    let opts = PyramidOptions {
        tile_size: 100,
        ..Default::default()
    };
    assert!(write_pyramid(&path, 10, 10, &opts, |_, _, _| Arc::new(vec![])).is_err());
    let opts = PyramidOptions {
        tile_size: 16,
        compression: TileCompression::Deflate,
        ..Default::default()
    };
    // A tile of the wrong size is an error, and no partial file is left.
    assert!(write_pyramid(&path, 10, 10, &opts, |_, _, _| Arc::new(vec![0; 5])).is_err());
    assert!(!path.exists());
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "temporary file left behind"
    );
}
