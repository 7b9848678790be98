//! Tissue detection on generated thumbnails (the real-slide check is in
//! exahealth-data's tests, which can open slides).

use exahealth_image::tissue::{detect_tissue, trace_polygons, TissueParams, TissueThreshold};
use ndarray::{Array2, Array3};

const BACKGROUND: [u8; 3] = [240, 238, 242];
const TISSUE: [u8; 3] = [200, 120, 170];

/// A thumbnail with an annulus of tissue (with a 20x20 hole in the middle),
/// a small speck and a lone small hole in the annulus.
fn synthetic() -> Array3<u8> {
    Array3::from_shape_fn((200, 300, 3), |(y, x, c)| {
        let (dx, dy) = (x as f64 - 100.0, y as f64 - 100.0);
        let r = (dx * dx + dy * dy).sqrt();
        let big_hole = (90..110).contains(&x) && (90..110).contains(&y);
        let in_ring = r < 70.0 && !big_hole;
        let small_hole = (140..142).contains(&x) && (100..102).contains(&y);
        let speck = (250..252).contains(&x) && (20..22).contains(&y);
        // Texture so the median and close have something to do.
        let grain = ((x * 7 + y * 13) % 5) as u8;
        if (in_ring && !small_hole) || speck {
            TISSUE[c] - grain
        } else {
            BACKGROUND[c] + grain / 2
        }
    })
}

#[test]
fn finds_the_tissue_drops_specks_fills_small_holes_keeps_big_ones() {
    let img = synthetic();
    let params = TissueParams {
        min_tissue_area: 50.0,
        min_hole_area: 50.0,
        ..TissueParams::default()
    };
    let t = detect_tissue(img.view(), &params).unwrap();
    assert!(
        t.threshold > 8 && t.threshold < 100,
        "threshold {}",
        t.threshold
    );
    assert_eq!(t.mask[(100, 60)], 255, "inside the ring");
    assert_eq!(t.mask[(100, 100)], 0, "the big hole stays");
    assert_eq!(t.mask[(100, 140)], 255, "the 2x2 hole is filled");
    assert_eq!(t.mask[(20, 250)], 0, "the speck is dropped");
    assert_eq!(t.mask[(5, 5)], 0, "background");
    assert_eq!(t.polygons.len(), 1);
    let p = &t.polygons[0];
    assert_eq!(p.holes.len(), 1);
    // The median and the close round the hole's corners; the hole stays
    // within its square and covers most of it.
    let hole = &p.holes[0];
    assert!(hole
        .iter()
        .all(|&(x, y)| (89.0..=111.0).contains(&x) && (89.0..=111.0).contains(&y)));
    // Without blur and close, the hole's ring is the square, corner by corner.
    let raw = TissueParams {
        median_ksize: 1,
        close_size: 0,
        ..params.clone()
    };
    let exact = detect_tissue(img.view(), &raw).unwrap();
    let mut hole = exact.polygons[0].holes[0].clone();
    hole.sort_by(|a, b| a.partial_cmp(b).unwrap());
    assert_eq!(
        hole,
        vec![(90.0, 90.0), (90.0, 110.0), (110.0, 90.0), (110.0, 110.0)]
    );
    // Tissue area: a disk of radius 70 less the 20x20 hole.
    let expected = std::f64::consts::PI * 70.0 * 70.0 - 400.0;
    let got = t.tissue_pixels() as f64;
    assert!(
        (got - expected).abs() / expected < 0.03,
        "{got} vs {expected}"
    );
    assert_eq!(p.area_px, t.tissue_pixels());
    // Scaled to level 0 with downsample 32.
    let s = exact.polygons[0].scaled(32.0, 32.0);
    assert!(s.holes[0].contains(&(90.0 * 32.0, 110.0 * 32.0)));
}

#[test]
fn fixed_threshold_and_transparent_background() {
    let mut img = Array3::<u8>::zeros((50, 50, 4));
    for y in 0..50 {
        for x in 0..50 {
            let px: [u8; 4] = if (10..30).contains(&x) && (10..30).contains(&y) {
                [180, 90, 160, 255]
            } else if x >= 40 {
                // Saturated but transparent: outside the scanned area.
                [255, 0, 0, 0]
            } else {
                [250, 250, 250, 255]
            };
            for c in 0..4 {
                img[(y, x, c)] = px[c];
            }
        }
    }
    let params = TissueParams {
        threshold: TissueThreshold::Fixed(20),
        median_ksize: 1,
        close_size: 0,
        min_tissue_area: 10.0,
        ..TissueParams::default()
    };
    let t = detect_tissue(img.view(), &params).unwrap();
    assert_eq!(t.threshold, 20);
    assert_eq!(t.tissue_pixels(), 400);
    assert!((t.tissue_fraction() - 400.0 / 2500.0).abs() < 1e-12);
    let ring = &t.polygons[0].exterior;
    assert_eq!(ring.len(), 4);
    assert!(ring.contains(&(10.0, 10.0)) && ring.contains(&(30.0, 30.0)));
}

#[test]
fn blank_thumbnail_has_no_tissue() {
    let img = Array3::from_shape_fn((64, 64, 3), |(y, x, _)| 235 + ((x + y) % 3) as u8);
    let t = detect_tissue(img.view(), &TissueParams::default()).unwrap();
    assert_eq!(t.tissue_pixels(), 0);
    assert!(t.polygons.is_empty());
}

#[test]
fn diagonal_pixels_trace_as_one_ring() {
    let mut m = Array2::<u8>::zeros((4, 4));
    m[(1, 1)] = 255;
    m[(2, 2)] = 255;
    let p = trace_polygons(&m);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].exterior.len(), 8, "{:?}", p[0].exterior);
    assert!(p[0].holes.is_empty());
}
