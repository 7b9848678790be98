//! Otsu and multi-Otsu on generated images with known modes.

use exahealth_image::ops::threshold::{
    apply_thresholds, histogram, multi_otsu, otsu, otsu_from_histogram, threshold,
};
use ndarray::Array2;

/// A deterministic pseudo-random value in -spread..=spread.
fn jitter(i: usize, spread: i32) -> i32 {
    let h = (i as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .rotate_left(17)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (h >> 40) as i32 % (spread + 1) * if h & 1 == 0 { 1 } else { -1 }
}

/// Pixels drawn around the given modes, one mode per column band.
fn modal_image(modes: &[u8], spread: i32) -> Array2<u8> {
    let w = 60 * modes.len();
    Array2::from_shape_fn((50, w), |(y, x)| {
        let m = modes[x / 60] as i32;
        (m + jitter(y * w + x, spread)).clamp(0, 255) as u8
    })
}

#[test]
fn otsu_splits_a_bimodal_image_between_its_modes() {
    let img = modal_image(&[60, 180], 25);
    let t = otsu(img.view());
    assert!(
        (85..=155).contains(&t),
        "threshold {t} not between the modes"
    );
    let mask = threshold(img.view(), t);
    // Every pixel of the dark band is background, of the bright band foreground.
    for ((_, x), &v) in mask.indexed_iter() {
        assert_eq!(v, if x < 60 { 0 } else { 255 }, "column {x}");
    }
}

#[test]
fn otsu_of_two_values_is_halfway_and_constant_image_is_its_value() {
    let mut h = [0u64; 256];
    h[10] = 500;
    h[200] = 300;
    let t = otsu_from_histogram(&h);
    assert_eq!(t, 104, "the middle of the empty gap 10..199");
    let flat = Array2::from_elem((8, 8), 77u8);
    assert_eq!(otsu(flat.view()), 77);
    assert_eq!(histogram(flat.view())[77], 64);
}

#[test]
fn otsu_unbalanced_classes() {
    // 90% background near 230, 10% tissue near 120: the threshold still
    // falls between them.
    let img = Array2::from_shape_fn((100, 100), |(y, x)| {
        let j = jitter(y * 100 + x, 10);
        if x < 10 {
            (120 + j) as u8
        } else {
            (230 + j) as u8
        }
    });
    let t = otsu(img.view());
    assert!((131..220).contains(&t), "threshold {t}");
}

#[test]
fn multi_otsu_finds_one_threshold_between_each_pair_of_modes() {
    let img = modal_image(&[30, 110, 200], 15);
    let t = multi_otsu(img.view(), 3).unwrap();
    assert_eq!(t.len(), 2);
    assert!((45..95).contains(&t[0]), "{t:?}");
    assert!((125..185).contains(&t[1]), "{t:?}");
    let classes = apply_thresholds(img.view(), &t);
    for ((_, x), &c) in classes.indexed_iter() {
        assert_eq!(c as usize, x / 60);
    }
}

#[test]
fn multi_otsu_with_two_classes_agrees_with_otsu() {
    let img = modal_image(&[50, 90, 200], 20);
    let single = otsu(img.view());
    let multi = multi_otsu(img.view(), 2).unwrap();
    // Both maximise the same criterion; ties aside they pick the same split.
    let mask_a = threshold(img.view(), single);
    let mask_b = threshold(img.view(), multi[0]);
    assert_eq!(mask_a, mask_b);
}

#[test]
fn multi_otsu_rejects_bad_requests() {
    let img = modal_image(&[30, 200], 0);
    assert!(
        multi_otsu(img.view(), 3).is_err(),
        "two values, three classes"
    );
    assert!(multi_otsu(img.view(), 1).is_err());
    assert!(multi_otsu(img.view(), 9).is_err());
    assert_eq!(multi_otsu(img.view(), 2).unwrap(), vec![30]);
}
