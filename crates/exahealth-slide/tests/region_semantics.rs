//! read_region's contract, on slides the test writes itself.

use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};
use exahealth_slide::{Slide, SlideError};

fn slide() -> (tempfile::TempDir, Slide) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.tiff");
    let mut o = SynthOptions::new(3000, 2000);
    o.seed = 7;
    write_synthetic_slide(&path, &o).unwrap();
    let s = Slide::open(&path).unwrap();
    (dir, s)
}

#[test]
fn regions_outside_are_transparent_and_inside_opaque() {
    let (_d, s) = slide();
    let r = s.read_region(2900, 1900, 0, 200, 200).unwrap();
    assert_eq!(r.pixel(50, 50)[3], 255);
    assert_eq!(r.pixel(150, 50), [0, 0, 0, 0]);
    assert_eq!(r.pixel(50, 150), [0, 0, 0, 0]);
    let far = s.read_region(-5000, -5000, 0, 10, 10).unwrap();
    assert!(far.data.iter().all(|&b| b == 0));
}

#[test]
fn a_region_is_the_same_however_it_is_cut() {
    let (_d, s) = slide();
    let whole = s.read_region(100, 200, 0, 600, 400).unwrap();
    let left = s.read_region(100, 200, 0, 300, 400).unwrap();
    let right = s.read_region(400, 200, 0, 300, 400).unwrap();
    for y in 0..400 {
        for x in 0..300 {
            assert_eq!(whole.pixel(x, y), left.pixel(x, y));
            assert_eq!(whole.pixel(x + 300, y), right.pixel(x, y));
        }
    }
    // Level-1 coordinates are level-0 coordinates divided by the downsample.
    let l1 = s.read_region(200, 400, 1, 50, 50).unwrap();
    let l1b = s.read_region(202, 402, 1, 49, 49).unwrap();
    assert_eq!(l1.pixel(1, 1), l1b.pixel(0, 0));
}

#[test]
fn bad_arguments_are_explained() {
    let (_d, s) = slide();
    let e = s.read_region(0, 0, 99, 10, 10).unwrap_err();
    assert!(
        matches!(e, SlideError::InvalidArgument(_)) && e.to_string().contains("level 99"),
        "{e}"
    );
    let e = s.read_region(0, 0, 0, 100_000, 100_000).unwrap_err();
    assert!(matches!(e, SlideError::InvalidArgument(_)), "{e}");
    let e = s.read_associated_image("label").unwrap_err();
    assert!(e.to_string().contains("none"), "{e}");
    assert!(s.read_tile(0, 10_000, 0).is_err());
}

#[test]
fn read_tile_matches_read_region() {
    let (_d, s) = slide();
    let t = s.read_tile(0, 2, 1).unwrap().expect("tile present");
    let r = s.read_region(512, 256, 0, 256, 256).unwrap();
    assert_eq!(t.data, r.data);
    let (cols, rows) = s.tile_grid(0).unwrap();
    assert_eq!((cols, rows), (12, 8));
    // The last column is cropped to the level's edge.
    let edge = s.read_tile(0, cols - 1, 0).unwrap().unwrap();
    assert_eq!(edge.width, 3000 - 11 * 256);
}
