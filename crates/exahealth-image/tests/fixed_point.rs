//! The 8-bit fixed-point kernels against the float reference paths: every
//! sample within one grey level (two for cubic, whose weights are
//! quantised twice), flat images exactly flat, and the `Image` wrappers
//! routing 8-bit images through them.

use exahealth_image::ops::filter::{gaussian_blur, Border};
use exahealth_image::ops::fixed::{
    gaussian_blur_u8, histogram_u8, resize_u8, rgb_to_gray_u8, threshold_u8,
};
use exahealth_image::ops::geometry::{resize, resize_image, Interpolation};
use exahealth_image::ops::plane::{morphology_image, otsu_image, threshold_image, Morphology};
use exahealth_image::ops::{color, morphology::Element, threshold};
use exahealth_image::{ColorType, Image, ImageData};
use ndarray::{Array2, Array3};
use rand::{Rng, SeedableRng};

/// Smooth gradients plus noise: both the structure interpolation sees and
/// the extremes that test rounding and saturation.
fn test_image(h: usize, w: usize, c: usize, seed: u64) -> Vec<u8> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut v = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let base = ((x * 7 + y * 3 + ch * 50) % 256) as i32;
                let noise: i32 = rng.random_range(-40..=40);
                v.push((base + noise).clamp(0, 255) as u8);
            }
        }
    }
    v
}

fn as_f32(v: &[u8], h: usize, w: usize, c: usize) -> Array3<f32> {
    Array3::from_shape_vec((h, w, c), v.iter().map(|&b| f32::from(b)).collect()).unwrap()
}

fn max_diff(fixed: &[u8], float: &Array3<f32>) -> f32 {
    fixed
        .iter()
        .zip(float.iter())
        .map(|(&a, &b)| (f32::from(a) - b.round().clamp(0.0, 255.0)).abs())
        .fold(0.0, f32::max)
}

#[test]
fn resize_matches_the_float_path() {
    let cases = [
        (37, 53, 3, 19, 29),   // odd shrink
        (64, 64, 3, 32, 32),   // exact half: box path for linear and area
        (60, 90, 1, 20, 30),   // integer factor 3: box path for area
        (40, 40, 4, 97, 71),   // enlarge
        (45, 61, 4, 30, 20),   // four-channel shrink: per-tap rows, then blend
        (33, 17, 3, 33, 40),   // one axis unchanged
        (50, 70, 2, 23, 61),   // two channels: generic horizontal loop
        (200, 150, 3, 41, 67), // strong shrink: many area taps
    ];
    for (i, &(h, w, c, oh, ow)) in cases.iter().enumerate() {
        let src = test_image(h, w, c, i as u64);
        let reference = as_f32(&src, h, w, c);
        for interp in [
            Interpolation::Nearest,
            Interpolation::Linear,
            Interpolation::Area,
            Interpolation::Cubic,
        ] {
            let fixed = resize_u8(&src, (h, w, c), (oh, ow), interp)
                .unwrap()
                .expect("8-bit path covers this interpolation");
            assert_eq!(fixed.len(), oh * ow * c);
            let float = resize(&reference, oh, ow, interp).unwrap();
            let tol = if interp == Interpolation::Cubic {
                2.0
            } else {
                1.0
            };
            let d = max_diff(&fixed, &float);
            assert!(
                d <= tol,
                "{interp:?} {w}x{h}x{c} -> {ow}x{oh}: max difference {d} > {tol}"
            );
        }
    }
}

#[test]
fn resize_keeps_flat_images_flat_and_defers_lanczos() {
    for interp in [
        Interpolation::Linear,
        Interpolation::Area,
        Interpolation::Cubic,
    ] {
        let src = vec![201u8; 31 * 29 * 3];
        let out = resize_u8(&src, (31, 29, 3), (13, 44), interp)
            .unwrap()
            .unwrap();
        assert!(
            out.iter().all(|&v| v == 201),
            "{interp:?} changed a flat image"
        );
    }
    let src = vec![0u8; 8 * 8];
    assert!(resize_u8(&src, (8, 8, 1), (4, 4), Interpolation::Lanczos4)
        .unwrap()
        .is_none());
    // Heavy non-integer area shrinks go to the float path; a 4096-pixel
    // block is too many for 16-bit column sums.
    let wide = vec![7u8; 1000];
    assert!(resize_u8(&wide, (1, 1000, 1), (1, 7), Interpolation::Area)
        .unwrap()
        .is_none());
    assert!(
        resize_u8(&wide[..512], (1, 512, 1), (1, 1), Interpolation::Area)
            .unwrap()
            .is_none()
    );
    assert!(resize_u8(&src, (8, 8, 1), (0, 4), Interpolation::Linear).is_err());
    assert!(resize_u8(&src[..10], (8, 8, 1), (4, 4), Interpolation::Linear).is_err());
}

#[test]
fn gaussian_matches_the_float_path_for_every_border() {
    for (i, &(h, w, c, sx, sy)) in [
        (41, 57, 3, 1.0, 1.0),
        (30, 20, 1, 2.5, 0.7),
        (16, 100, 4, 3.0, 3.0),
        (60, 70, 3, 4.0, 0.3), // the widest kernel the 8-bit path takes
        (5, 4, 3, 1.5, 1.5),   // kernel wider than the image
    ]
    .iter()
    .enumerate()
    {
        let src = test_image(h, w, c, 100 + i as u64);
        let reference = as_f32(&src, h, w, c);
        for border in [
            Border::Reflect101,
            Border::Reflect,
            Border::Replicate,
            Border::Wrap,
            Border::Constant(77.0),
        ] {
            let fixed = gaussian_blur_u8(&src, (h, w, c), sx, sy, border)
                .unwrap()
                .expect("sigma within the 8-bit path's range");
            let float = gaussian_blur(&reference, sx, sy, border);
            let d = max_diff(&fixed, &float);
            assert!(
                d <= 1.0,
                "{border:?} {w}x{h}x{c} sigma ({sx}, {sy}): max difference {d}"
            );
        }
    }
    for v in [9u8, 255] {
        let flat = vec![v; 20 * 20 * 3];
        let out = gaussian_blur_u8(&flat, (20, 20, 3), 4.0, 4.0, Border::Reflect101);
        assert_eq!(out.unwrap().unwrap(), flat, "a flat {v} image changed");
    }
    // Wider kernels would lose their tails in 8-bit weights: float path.
    let src = test_image(8, 8, 1, 3);
    assert!(
        gaussian_blur_u8(&src, (8, 8, 1), 10.0, 1.0, Border::Reflect101)
            .unwrap()
            .is_none()
    );
    assert!(gaussian_blur_u8(&src[..5], (8, 8, 1), 1.0, 1.0, Border::Reflect101).is_err());
}

#[test]
fn gray_histogram_and_threshold_match_the_reference() {
    let (h, w) = (123, 77);
    let src = test_image(h, w, 3, 7);
    let gray = rgb_to_gray_u8(&src, 3).unwrap();
    let float = color::rgb_to_gray(&as_f32(&src, h, w, 3)).unwrap();
    assert!(max_diff(&gray, &float) <= 1.0);
    assert!(rgb_to_gray_u8(&src, 2).is_none());

    let plane = Array2::from_shape_vec((h, w), gray.clone()).unwrap();
    assert_eq!(histogram_u8(&gray), threshold::histogram(plane.view()));
    let t = threshold::otsu(plane.view());
    assert_eq!(
        threshold_u8(&gray, t),
        threshold::threshold(plane.view(), t)
            .into_raw_vec_and_offset()
            .0
    );
}

fn rgb_image(h: usize, w: usize, seed: u64) -> Image {
    Image::from_hwc_u8(w, h, 3, test_image(h, w, 3, seed), ColorType::Rgb).unwrap()
}

#[test]
fn image_wrappers_take_the_8_bit_path_and_keep_metadata() {
    let img = rgb_image(64, 48, 3);
    let small = resize_image(&img, 24, 37, Interpolation::Linear).unwrap();
    assert_eq!(small.dims(), vec![3, 24, 37]);
    assert_eq!(small.color(), ColorType::Rgb);
    // The wrappers' samples are exactly the 8-bit kernels' (the float path
    // rounds differently, so equality shows which path ran).
    let (bytes, dims) = img.hwc_u8_slice().unwrap();
    let direct = resize_u8(bytes, dims, (37, 24), Interpolation::Linear)
        .unwrap()
        .unwrap();
    assert_eq!(small.hwc_u8_slice().unwrap().0, &direct[..]);
    let blurred = exahealth_image::ops::filter::gaussian_blur_image(&img, 1.5, 1.5).unwrap();
    let direct = gaussian_blur_u8(bytes, dims, 1.5, 1.5, Border::Reflect101)
        .unwrap()
        .unwrap();
    assert_eq!(blurred.hwc_u8_slice().unwrap().0, &direct[..]);
    let gray = color::convert_color(&img, ColorType::Gray).unwrap();
    assert_eq!(
        gray.hwc_u8_slice().unwrap().0,
        &rgb_to_gray_u8(bytes, 3).unwrap()[..]
    );

    let (t, mask) = otsu_image(&img).unwrap();
    assert_eq!(mask.color(), ColorType::Gray);
    let ImageData::U8(m) = mask.data() else {
        panic!("mask is not 8-bit")
    };
    let above = m.iter().filter(|&&v| v == 255).count();
    assert!(m.iter().all(|&v| v == 0 || v == 255));
    assert!(above > 0 && above < m.len(), "Otsu at {t} split nothing");
    assert_eq!(threshold_image(&img, t).unwrap().data(), mask.data());

    // Closing a mask never removes foreground; opening never adds it.
    let closed = morphology_image(&mask, Morphology::Close, Element::Square(3)).unwrap();
    let opened = morphology_image(&mask, Morphology::Open, Element::Square(3)).unwrap();
    let (ImageData::U8(c), ImageData::U8(o)) = (closed.data(), opened.data()) else {
        panic!("morphology changed the element type")
    };
    for ((&mv, &cv), &ov) in m.iter().zip(c.iter()).zip(o.iter()) {
        assert!(cv >= mv && ov <= mv);
    }

    let floats = img.cast(exahealth_image::DataType::F32);
    assert!(
        otsu_image(&floats).is_err(),
        "Otsu on floats must ask for a cast"
    );
}
