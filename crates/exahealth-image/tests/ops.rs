//! Processing operations against results computed independently here:
//! hand-written arrays, brute force, and round trips.

use exahealth_image::ops::color::{
    convert_color, gray_to_rgb, hed_to_rgb, hsv_to_rgb, lab_to_rgb, rgb_to_gray, rgb_to_hed,
    rgb_to_hsv, rgb_to_lab, rgb_to_ycbcr, ycbcr_to_rgb,
};
use exahealth_image::ops::filter::{
    filter2d, gaussian_blur, gaussian_kernel, separable_filter, Border,
};
use exahealth_image::ops::geometry::{
    crop, crop_image, flip, flip_image, mirror, mirror_image, pad, remap, resize, resize_image,
    rotate, rotate_image, transpose, transpose_image, Interpolation,
};
use exahealth_image::ops::integral::IntegralImage;
use exahealth_image::ops::normalize::{
    mean_std_per_channel, normalize_per_channel_image, scale_from_to, scale_to,
};
use exahealth_image::{Axis, ColorType, DataType, Image, ImageData};
use ndarray::{array, Array2, Array3, IxDyn};
use rand::{Rng, SeedableRng};

fn rng(seed: u64) -> rand_chacha::ChaCha8Rng {
    rand_chacha::ChaCha8Rng::seed_from_u64(seed)
}

/// A 1-channel [h, w, 1] array from rows.
fn gray(rows: &[&[f32]]) -> Array3<f32> {
    let (h, w) = (rows.len(), rows[0].len());
    Array3::from_shape_fn((h, w, 1), |(y, x, _)| rows[y][x])
}

fn random_array(h: usize, w: usize, c: usize, seed: u64) -> Array3<f32> {
    let mut r = rng(seed);
    Array3::from_shape_simple_fn((h, w, c), || r.random_range(0.0..255.0f32))
}

fn max_abs_diff(a: &Array3<f32>, b: &Array3<f32>) -> f32 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn flip_mirror_transpose_match_hand_written_arrays() {
    let a = gray(&[&[1., 2., 3.], &[4., 5., 6.]]);
    assert_eq!(flip(&a), gray(&[&[4., 5., 6.], &[1., 2., 3.]]));
    assert_eq!(mirror(&a), gray(&[&[3., 2., 1.], &[6., 5., 4.]]));
    assert_eq!(transpose(&a), gray(&[&[1., 4.], &[2., 5.], &[3., 6.]]));
}

#[test]
fn image_rearrangements_keep_dtype_and_values_exactly() {
    // u16 values above f32's exact range would survive too: no float trip.
    let px: Vec<u16> = vec![1, 2, 3, 4, 5, 65535];
    let a = ndarray::ArrayD::from_shape_vec(IxDyn(&[2, 3]), px).unwrap();
    let mut img = Image::new(ImageData::U16(a), "xy", ColorType::Gray).unwrap();
    img.set_spacing(Axis::X, 0.5);
    img.set_spacing(Axis::Y, 2.0);
    let f = flip_image(&img).unwrap();
    assert_eq!(f.dtype(), DataType::U16);
    match f.data() {
        ImageData::U16(a) => assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            vec![4, 5, 65535, 1, 2, 3]
        ),
        _ => panic!("dtype changed"),
    }
    let m = mirror_image(&img).unwrap();
    match m.data() {
        ImageData::U16(a) => assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            vec![3, 2, 1, 65535, 5, 4]
        ),
        _ => panic!("dtype changed"),
    }
    let t = transpose_image(&img).unwrap();
    assert_eq!(t.dims(), vec![1, 2, 3]); // c=1, x=2, y=3
    assert_eq!(t.spacing_of(Axis::X), 2.0);
    assert_eq!(t.spacing_of(Axis::Y), 0.5);
    match t.data() {
        ImageData::U16(a) => assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            vec![1, 4, 2, 5, 3, 65535]
        ),
        _ => panic!("dtype changed"),
    }
    let c = crop_image(&img, 1, 0, 2, 2).unwrap();
    match c.data() {
        ImageData::U16(a) => {
            assert_eq!(a.iter().copied().collect::<Vec<_>>(), vec![2, 3, 5, 65535])
        }
        _ => panic!("dtype changed"),
    }
    assert!(crop_image(&img, 2, 0, 2, 2).is_err());
}

#[test]
fn resize_nearest_matches_hand_computed_indices() {
    // Upscale 2x3 -> 4x6: each source pixel becomes a 2x2 block.
    let a = gray(&[&[1., 2., 3.], &[4., 5., 6.]]);
    let r = resize(&a, 4, 6, Interpolation::Nearest).unwrap();
    let want = gray(&[
        &[1., 1., 2., 2., 3., 3.],
        &[1., 1., 2., 2., 3., 3.],
        &[4., 4., 5., 5., 6., 6.],
        &[4., 4., 5., 5., 6., 6.],
    ]);
    assert_eq!(r, want);
    // Downscale 1x4 -> 1x2 picks floor(d * 2): columns 0 and 2.
    let b = gray(&[&[10., 20., 30., 40.]]);
    assert_eq!(
        resize(&b, 1, 2, Interpolation::Nearest).unwrap(),
        gray(&[&[10., 30.]])
    );
}

#[test]
fn resize_linear_and_area_match_opencv_conventions() {
    // 1x2 -> 1x4 linear: source positions -0.25, 0.25, 0.75, 1.25 (edges clamp).
    let a = gray(&[&[0., 10.]]);
    let r = resize(&a, 1, 4, Interpolation::Linear).unwrap();
    assert!(
        max_abs_diff(&r, &gray(&[&[0., 2.5, 7.5, 10.]])) < 1e-5,
        "{r:?}"
    );
    // Area 1x4 -> 1x2 is the mean of pairs; 1x3 -> 1x2 weights 1 and 0.5.
    let b = gray(&[&[1., 3., 5., 7.]]);
    assert!(
        max_abs_diff(
            &resize(&b, 1, 2, Interpolation::Area).unwrap(),
            &gray(&[&[2., 6.]])
        ) < 1e-5
    );
    let c = gray(&[&[3., 6., 9.]]);
    let want = gray(&[&[(3. + 0.5 * 6.) / 1.5, (0.5 * 6. + 9.) / 1.5]]);
    assert!(max_abs_diff(&resize(&c, 1, 2, Interpolation::Area).unwrap(), &want) < 1e-5);
    // A constant image stays constant under every interpolation.
    let k = Array3::from_elem((5, 7, 3), 42.0f32);
    for i in [
        Interpolation::Nearest,
        Interpolation::Linear,
        Interpolation::Area,
        Interpolation::Cubic,
        Interpolation::Lanczos4,
    ] {
        let r = resize(&k, 11, 3, i).unwrap();
        assert_eq!(r.dim(), (11, 3, 3));
        assert!(r.iter().all(|v| (v - 42.0).abs() < 1e-3), "{i:?}");
    }
    // A linear ramp is reproduced exactly by linear upsampling away from
    // the clamped edges.
    let ramp = Array3::from_shape_fn((1, 8, 1), |(_, x, _)| x as f32);
    let r = resize(&ramp, 1, 16, Interpolation::Linear).unwrap();
    for d in 2..14 {
        let s = (d as f32 + 0.5) * 0.5 - 0.5;
        assert!(
            (r[[0, d, 0]] - s).abs() < 1e-4,
            "linear at {d}: {}",
            r[[0, d, 0]]
        );
    }
    // Halving samples at half-pixel positions, where the a = -0.75 cubic
    // kernel is symmetric and so reproduces a ramp too: (2d + 0.5).
    let ramp = Array3::from_shape_fn((1, 16, 1), |(_, x, _)| x as f32);
    let r = resize(&ramp, 1, 8, Interpolation::Cubic).unwrap();
    for d in 1..7 {
        assert!(
            (r[[0, d, 0]] - (2.0 * d as f32 + 0.5)).abs() < 1e-4,
            "cubic at {d}: {}",
            r[[0, d, 0]]
        );
    }
    // OpenCV's cubic weights at f = 0.75: (-0.03515625, 0.26171875, 0.87890625, -0.10546875).
    let step = Array3::from_shape_fn((1, 4, 1), |(_, x, _)| if x == 2 { 1.0 } else { 0.0 });
    let r = resize(&step, 1, 8, Interpolation::Cubic).unwrap();
    // Output 3 samples source 1.25 (f = 0.25 from 1), output 4 samples 1.75.
    assert!((r[[0, 4, 0]] - 0.878_906_25).abs() < 1e-5, "{r:?}");
    assert!((r[[0, 3, 0]] - 0.261_718_75).abs() < 1e-5, "{r:?}");
    assert!(resize(&k, 0, 3, Interpolation::Linear).is_err());
}

#[test]
fn resize_image_keeps_dtype_and_physical_size() {
    let px: Vec<u8> = (0..48).map(|v| (v * 5) as u8).collect();
    let mut img = Image::from_hwc_u8(4, 4, 3, px, ColorType::Rgb).unwrap();
    img.set_spacing(Axis::X, 0.25);
    let r = resize_image(&img, 8, 2, Interpolation::Linear).unwrap();
    assert_eq!(r.dtype(), DataType::U8);
    assert_eq!(r.color(), ColorType::Rgb);
    assert_eq!(
        (r.len_of(Axis::X), r.len_of(Axis::Y), r.len_of(Axis::C)),
        (8, 2, 3)
    );
    assert!((r.spacing_of(Axis::X) - 0.125).abs() < 1e-12);
    assert!((r.spacing_of(Axis::Y) - 2.0).abs() < 1e-12);
}

#[test]
fn rotation_by_right_angles_is_a_permutation() {
    let a = random_array(9, 9, 2, 1);
    // 90 degrees clockwise: new[y][x] = old[h-1-x][y] = mirror(transpose).
    let want = mirror(&transpose(&a));
    for interp in [
        Interpolation::Nearest,
        Interpolation::Linear,
        Interpolation::Cubic,
    ] {
        let r = rotate(&a, 90.0, None, 1.0, interp, Border::Constant(0.0));
        assert!(max_abs_diff(&r, &want) < 1e-2, "{interp:?}");
    }
    let r180 = rotate(
        &a,
        180.0,
        None,
        1.0,
        Interpolation::Linear,
        Border::Constant(0.0),
    );
    assert!(max_abs_diff(&r180, &flip(&mirror(&a))) < 1e-2);
    // Rotating a non-square image leaves corners empty (constant border).
    let b = Array3::from_elem((4, 8, 1), 7.0f32);
    let r = rotate(
        &b,
        90.0,
        None,
        1.0,
        Interpolation::Nearest,
        Border::Constant(0.0),
    );
    assert_eq!(r[[0, 0, 0]], 0.0);
    assert_eq!(r[[2, 4, 0]], 7.0);
    // Border replicate fills those corners from the edge instead.
    let r = rotate(
        &b,
        90.0,
        None,
        1.0,
        Interpolation::Nearest,
        Border::Replicate,
    );
    assert_eq!(r[[0, 0, 0]], 7.0);
    // Transparent keeps the original pixels where the source is outside.
    let c = random_array(4, 8, 1, 12);
    let r = rotate(
        &c,
        90.0,
        None,
        1.0,
        Interpolation::Nearest,
        Border::Transparent,
    );
    assert_eq!(r[[0, 0, 0]], c[[0, 0, 0]]);
    assert_eq!(r[[3, 7, 0]], c[[3, 7, 0]]);
    // A u8 image keeps its type.
    let img = Image::from_hwc_u8(3, 3, 1, (0..9).collect(), ColorType::Gray).unwrap();
    let r = rotate_image(
        &img,
        90.0,
        None,
        1.0,
        Interpolation::Nearest,
        Border::Constant(0.0),
    )
    .unwrap();
    match r.data() {
        // old rows 0 1 2 / 3 4 5 / 6 7 8 -> clockwise 6 3 0 / 7 4 1 / 8 5 2
        ImageData::U8(a) => assert_eq!(
            a.iter().copied().collect::<Vec<_>>(),
            vec![6, 3, 0, 7, 4, 1, 8, 5, 2]
        ),
        _ => panic!("dtype changed"),
    }
}

#[test]
fn remap_identity_and_shift() {
    let a = random_array(6, 5, 3, 2);
    let (h, w, _) = a.dim();
    let mx = Array2::from_shape_fn((h, w), |(_, x)| x as f32);
    let my = Array2::from_shape_fn((h, w), |(y, _)| y as f32);
    let r = remap(&a, &mx, &my, Interpolation::Cubic, Border::Reflect101).unwrap();
    assert!(max_abs_diff(&r, &a) < 1e-3);
    // Shift by one column with wrap-around.
    let mx1 = mx.mapv(|v| v + 1.0);
    let r = remap(&a, &mx1, &my, Interpolation::Linear, Border::Wrap).unwrap();
    for y in 0..h {
        for x in 0..w {
            assert!((r[[y, x, 0]] - a[[y, (x + 1) % w, 0]]).abs() < 1e-3);
        }
    }
}

#[test]
fn crop_and_pad_follow_border_modes() {
    let a = gray(&[&[1., 2., 3., 4.]]);
    let p = pad(&a, 0, 0, 2, 2, Border::Reflect101);
    assert_eq!(p, gray(&[&[3., 2., 1., 2., 3., 4., 3., 2.]]));
    let p = pad(&a, 0, 0, 2, 2, Border::Reflect);
    assert_eq!(p, gray(&[&[2., 1., 1., 2., 3., 4., 4., 3.]]));
    let p = pad(&a, 0, 0, 1, 1, Border::Wrap);
    assert_eq!(p, gray(&[&[4., 1., 2., 3., 4., 1.]]));
    let p = pad(&a, 1, 0, 0, 1, Border::Constant(9.0));
    assert_eq!(p, gray(&[&[9., 9., 9., 9., 9.], &[1., 2., 3., 4., 9.]]));
    let c = crop(&a, 1, 0, 2, 1, Border::Constant(0.0));
    assert_eq!(c, gray(&[&[2., 3.]]));
}

#[test]
fn gaussian_blur_of_a_delta_is_the_normalised_kernel() {
    let sigma = 1.5;
    let k = gaussian_kernel(sigma);
    assert_eq!(k.len(), 2 * 5 + 1); // radius ceil(4.5) = 5
    let sum: f32 = k.iter().sum();
    assert!((sum - 1.0).abs() < 1e-6);
    // Independent Gaussian: exp(-x^2 / 2 sigma^2) normalised.
    let raw: Vec<f64> = (-5..=5)
        .map(|i: i32| (-(i * i) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = raw.iter().sum();
    for (a, b) in k.iter().zip(&raw) {
        assert!((*a as f64 - b / total).abs() < 1e-6);
    }
    let n = 21;
    let mut delta = Array3::<f32>::zeros((n, n, 1));
    delta[[10, 10, 0]] = 1.0;
    let out = gaussian_blur(&delta, sigma, sigma, Border::Constant(0.0));
    for y in 0..n {
        for x in 0..n {
            let (dy, dx) = (y as isize - 10, x as isize - 10);
            let want = if dy.abs() <= 5 && dx.abs() <= 5 {
                k[(dy + 5) as usize] * k[(dx + 5) as usize]
            } else {
                0.0
            };
            assert!((out[[y, x, 0]] - want).abs() < 1e-6, "({y},{x})");
        }
    }
    // Blur preserves the mean of a periodic image (wrap border).
    let r = random_array(16, 16, 3, 3);
    let b = gaussian_blur(&r, 2.0, 0.5, Border::Wrap);
    let (m0, _) = mean_std_per_channel(&r);
    let (m1, _) = mean_std_per_channel(&b);
    for c in 0..3 {
        assert!((m0[c] - m1[c]).abs() < 1e-2);
    }
}

#[test]
fn filter2d_is_a_correlation_and_matches_brute_force() {
    // An asymmetric kernel on a delta appears mirrored about the anchor.
    let k = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let mut d = Array3::<f32>::zeros((5, 5, 1));
    d[[2, 2, 0]] = 1.0;
    let out = filter2d(&d, &k, Border::Constant(0.0));
    // anchor (1, 1): out[2 - (i - 1), 2 - (j - 1)] = k[i, j]
    for i in 0..2 {
        for j in 0..3 {
            assert_eq!(out[[3 - i, 3 - j, 0]], k[[i, j]]);
        }
    }
    // Random image and kernel against a direct sum with replicate border.
    let a = random_array(7, 6, 2, 4);
    let mut r = rng(5);
    let k = Array2::from_shape_simple_fn((3, 5), || r.random_range(-1.0..1.0f32));
    let out = filter2d(&a, &k, Border::Replicate);
    for y in 0..7 {
        for x in 0..6 {
            for c in 0..2 {
                let mut s = 0f32;
                for i in 0..3 {
                    for j in 0..5 {
                        let sy = (y as isize + i as isize - 1).clamp(0, 6) as usize;
                        let sx = (x as isize + j as isize - 2).clamp(0, 5) as usize;
                        s += k[[i, j]] * a[[sy, sx, c]];
                    }
                }
                assert!((out[[y, x, c]] - s).abs() < 1e-3);
            }
        }
    }
    // A separable kernel equals the 2-D outer product.
    let kx = [0.25f32, 0.5, 0.25];
    let ky = [1.0f32, -1.0, 0.5];
    let outer = Array2::from_shape_fn((3, 3), |(i, j)| ky[i] * kx[j]);
    let s = separable_filter(&a, &kx, &ky, Border::Reflect101);
    let f = filter2d(&a, &outer, Border::Reflect101);
    assert!(max_abs_diff(&s, &f) < 1e-3);
}

#[test]
fn integral_box_sums_equal_brute_force() {
    let a = random_array(13, 17, 2, 6);
    let ii = IntegralImage::new(a.view());
    assert_eq!(ii.table().dim(), (14, 18, 2));
    let mut r = rng(7);
    for _ in 0..200 {
        let (x, y) = (r.random_range(0..20), r.random_range(0..16));
        let (w, h) = (r.random_range(0..20), r.random_range(0..16));
        let c = r.random_range(0..2);
        let mut s = 0f64;
        for yy in y..(y + h).min(13) {
            for xx in x..(x + w).min(17) {
                s += a[[yy, xx, c]] as f64;
            }
        }
        assert!(
            (ii.box_sum(x, y, w, h, c) - s).abs() < 1e-6 * (1.0 + s.abs()),
            "box {x},{y} {w}x{h}"
        );
    }
    let u = Array3::from_elem((3, 3, 1), 2u8);
    let iu = IntegralImage::new(u.view());
    assert_eq!(iu.box_sum(0, 0, 3, 3, 0), 18.0);
    assert_eq!(iu.box_mean(1, 1, 5, 5, 0), 2.0);
}

#[test]
fn color_conversions_round_trip_and_hit_known_values() {
    let red = gray_like_rgb(&[
        [255., 0., 0.],
        [0., 255., 0.],
        [0., 0., 255.],
        [128., 128., 128.],
    ]);
    let hsv = rgb_to_hsv(&red).unwrap();
    let want = [
        [0., 1., 255.],
        [120., 1., 255.],
        [240., 1., 255.],
        [0., 0., 128.],
    ];
    for (i, w) in want.iter().enumerate() {
        for c in 0..3 {
            assert!((hsv[[0, i, c]] - w[c]).abs() < 1e-4, "pixel {i}");
        }
    }
    let g = rgb_to_gray(&red).unwrap();
    assert!((g[[0, 0, 0]] - 0.299 * 255.0).abs() < 1e-3);
    assert!(max_abs_diff(&rgb_to_gray(&gray_to_rgb(&g).unwrap()).unwrap(), &g) < 1e-3);
    let a = random_array(8, 8, 3, 8);
    assert!(max_abs_diff(&hsv_to_rgb(&rgb_to_hsv(&a).unwrap()).unwrap(), &a) < 1e-3);
    assert!(
        max_abs_diff(
            &ycbcr_to_rgb(&rgb_to_ycbcr(&a, 255.0).unwrap(), 255.0).unwrap(),
            &a
        ) < 1e-2
    );
    assert!(
        max_abs_diff(
            &lab_to_rgb(&rgb_to_lab(&a, 255.0).unwrap(), 255.0).unwrap(),
            &a
        ) < 0.05
    );
    // HED: the round trip is exact where no sample is 0 (OD floors at 1).
    let b = a.mapv(|v| v.max(1.0));
    assert!(max_abs_diff(&hed_to_rgb(&rgb_to_hed(&b).unwrap()).unwrap(), &b) < 0.05);
    // Known Lab values: white is L=100, a=b=0; sRGB red is about (53.24, 80.09, 67.20).
    let lab = rgb_to_lab(&gray_like_rgb(&[[255., 255., 255.], [255., 0., 0.]]), 255.0).unwrap();
    assert!((lab[[0, 0, 0]] - 100.0).abs() < 0.01 && lab[[0, 0, 1]].abs() < 0.01);
    assert!(
        (lab[[0, 1, 0]] - 53.24).abs() < 0.05
            && (lab[[0, 1, 1]] - 80.09).abs() < 0.1
            && (lab[[0, 1, 2]] - 67.20).abs() < 0.1
    );
    // YCbCr of white is (255, 128, 128) for 8-bit.
    let y = rgb_to_ycbcr(&gray_like_rgb(&[[255., 255., 255.]]), 255.0).unwrap();
    assert!((y[[0, 0, 0]] - 255.0).abs() < 1e-3 && (y[[0, 0, 1]] - 128.0).abs() < 1e-3);
}

fn gray_like_rgb(px: &[[f32; 3]]) -> Array3<f32> {
    Array3::from_shape_fn((1, px.len(), 3), |(_, x, c)| px[x][c])
}

#[test]
fn image_colour_conversion_round_trips_in_u8() {
    let px: Vec<u8> = (0..75).map(|v| (v * 3 + 7) as u8).collect();
    let img = Image::from_hwc_u8(5, 5, 3, px, ColorType::Rgb).unwrap();
    for to in [ColorType::Hsv, ColorType::YCbCr, ColorType::Rgba] {
        let c = convert_color(&img, to).unwrap();
        assert_eq!(c.color(), to);
        assert_eq!(c.dtype(), DataType::U8);
        let back = convert_color(&c, ColorType::Rgb).unwrap();
        let d = max_abs_diff(&back.to_hwc_f32().unwrap(), &img.to_hwc_f32().unwrap());
        // 8-bit storage of hue/chroma costs a couple of levels at most.
        assert!(d <= 3.0, "{to:?}: {d}");
    }
    let g = convert_color(&img, ColorType::Gray).unwrap();
    assert_eq!(g.len_of(Axis::C), 1);
}

#[test]
fn normalisation_and_scaling() {
    let a = random_array(10, 10, 3, 9);
    let (m, s) = mean_std_per_channel(&a);
    let img = Image::from_hwc_f32(a.clone(), ColorType::Rgb).unwrap();
    let n = normalize_per_channel_image(&img, &m, &s).unwrap();
    let (m2, s2) = mean_std_per_channel(&n.to_hwc_f32().unwrap());
    for c in 0..3 {
        assert!(m2[c].abs() < 1e-4 && (s2[c] - 1.0).abs() < 1e-4);
    }
    assert!(normalize_per_channel_image(&img, &m[..2], &s[..2]).is_err());
    let mut b = a.clone();
    scale_to(&mut b, -1.0, 1.0);
    let (lo, hi) = b
        .iter()
        .fold((f32::MAX, f32::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    assert!((lo + 1.0).abs() < 1e-6 && (hi - 1.0).abs() < 1e-6);
    let mut c = gray(&[&[0., 127.5, 255.]]);
    scale_from_to(&mut c, 0.0, 255.0, -1.0, 1.0).unwrap();
    assert!(max_abs_diff(&c, &gray(&[&[-1., 0., 1.]])) < 1e-6);
    assert!(scale_from_to(&mut c, 1.0, 1.0, 0.0, 1.0).is_err());
}

#[test]
fn subpixel_remap_is_bilinear_inside_and_at_the_edges() {
    let a = random_array(7, 9, 3, 5);
    let (h, w, c) = a.dim();
    let mx = Array2::from_shape_fn((h, w), |(_, x)| x as f32 + 0.25);
    let my = Array2::from_shape_fn((h, w), |(y, _)| y as f32 + 0.5);
    let r = remap(&a, &mx, &my, Interpolation::Linear, Border::Replicate).unwrap();
    let at = |y: usize, x: usize, ch: usize| a[[y.min(h - 1), x.min(w - 1), ch]];
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                // Weights 0.75/0.25 across, 0.5/0.5 down; the last row and
                // column replicate (the general path) and the rest read
                // directly (the fast path): both must agree with this.
                let top = 0.75 * at(y, x, ch) + 0.25 * at(y, x + 1, ch);
                let bottom = 0.75 * at(y + 1, x, ch) + 0.25 * at(y + 1, x + 1, ch);
                let want = 0.5 * top + 0.5 * bottom;
                assert!((r[[y, x, ch]] - want).abs() < 1e-4, "({x}, {y}, {ch})");
            }
        }
    }
}

#[test]
fn flips_return_row_major_buffers() {
    // Later steps (and the 8-bit kernels) read buffers as row-major slices;
    // a reversed-stride copy would send them down slow paths.
    let a = random_array(5, 7, 3, 9);
    assert!(flip(&a).is_standard_layout());
    assert!(mirror(&a).is_standard_layout());
    let img = Image::from_hwc_u8(7, 5, 3, (0..105).collect(), ColorType::Rgb).unwrap();
    for out in [flip_image(&img).unwrap(), mirror_image(&img).unwrap()] {
        let (bytes, dims) = out.hwc_u8_slice().expect("row-major 8-bit image");
        assert_eq!(dims, (5, 7, 3));
        assert_eq!(bytes.len(), 105);
    }
    let m = mirror_image(&img).unwrap();
    let (bytes, _) = m.hwc_u8_slice().unwrap();
    // First pixel of the mirrored first row is the last pixel of the original's.
    assert_eq!(&bytes[..3], &[18, 19, 20]);
}

#[test]
fn warps_give_the_border_value_at_non_finite_coordinates() {
    let a = random_array(4, 4, 1, 3);
    let mut mx = Array2::from_shape_fn((4, 4), |(_, x)| x as f32 + 0.5);
    let my = Array2::from_shape_fn((4, 4), |(y, _)| y as f32);
    mx[[1, 1]] = f32::NAN;
    mx[[2, 2]] = f32::INFINITY;
    for interp in [Interpolation::Nearest, Interpolation::Linear] {
        let r = remap(&a, &mx, &my, interp, Border::Constant(5.0)).unwrap();
        assert_eq!(r[[1, 1, 0]], 5.0, "{interp:?} at NaN");
        assert_eq!(r[[2, 2, 0]], 5.0, "{interp:?} at infinity");
        assert!(r.iter().all(|v| v.is_finite()));
    }
}
