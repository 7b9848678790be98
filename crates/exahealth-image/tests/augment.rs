//! Augmentations: shapes and types as promised, masks aligned with images,
//! seeded reproducibility, golden values for deterministic ones, and the
//! ECVL configuration syntax.

use exahealth_image::augment::*;
use exahealth_image::ops::geometry::{Border, Interpolation};
use exahealth_image::{Axis, ColorType, DataType, Image, ImageData};
use ndarray::{Array3, ArrayD, IxDyn};

const W: usize = 64;
const H: usize = 48;

/// An RGB u8 image with a bright square on a dark textured background,
/// and a u8 mask labelling the square 1.
fn square_pair() -> (Image, Image) {
    let (x0, x1, y0, y1) = (20, 40, 14, 32);
    let inside = |x: usize, y: usize| (x0..x1).contains(&x) && (y0..y1).contains(&y);
    let mut px = Vec::with_capacity(W * H * 3);
    let mut m = Vec::with_capacity(W * H);
    for y in 0..H {
        for x in 0..W {
            for c in 0..3 {
                px.push(if inside(x, y) {
                    230
                } else {
                    ((x * 3 + y * 5 + c * 7) % 40) as u8
                });
            }
            m.push(u8::from(inside(x, y)));
        }
    }
    let img = Image::from_hwc_u8(W, H, 3, px, ColorType::Rgb).unwrap();
    let mask = Image::from_hwc_u8(W, H, 1, m, ColorType::Gray).unwrap();
    (img, mask)
}

fn size(img: &Image) -> (usize, usize) {
    (img.len_of(Axis::X), img.len_of(Axis::Y))
}

fn parse(text: &str) -> Box<dyn Augmentation> {
    parse_config(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Fraction of agreement between "image is bright" and "mask is labelled",
/// as intersection over union.
fn bright_vs_label_iou(img: &Image, mask: &Image) -> f64 {
    let a = img.to_hwc_f32().unwrap();
    let m = mask.to_hwc_f32().unwrap();
    let (h, w, _) = a.dim();
    assert_eq!((h, w), (m.dim().0, m.dim().1));
    let bright_level = match img.dtype() {
        DataType::F32 | DataType::F64 => 130.0 / 255.0,
        _ => 130.0,
    };
    let (mut inter, mut uni) = (0usize, 0usize);
    for y in 0..h {
        for x in 0..w {
            let b = a[[y, x, 0]] > bright_level;
            let l = m[[y, x, 0]] > 0.5;
            inter += usize::from(b && l);
            uni += usize::from(b || l);
        }
    }
    if uni == 0 {
        1.0
    } else {
        inter as f64 / uni as f64
    }
}

/// Every geometric augmentation, as config lines that make it act.
const GEOMETRIC: &[&str] = &[
    "AugRotate angle=[-40,40]",
    "AugRotate angle=[10,30] center=(30,20) scale=1.2 interp=\"cubic\"",
    "AugFlip p=1",
    "AugMirror p=1",
    "AugTranspose p=1",
    "AugResizeDim dims=(50,70) interp=\"linear\"",
    "AugResizeScale scale=(1.5,0.75) interp=\"area\"",
    "AugCenterCrop size=(40,30)",
    "AugRandomCrop size=(36,28)",
    "AugRandomCrop size=(80,60) border_type=\"constant\" border_value=0",
    "AugGridDistortion num_steps=[3,6] distort_limit=[-0.3,0.3]",
    "AugElasticTransform alpha=[200,300] sigma=[5,7]",
    "AugOpticalDistortion distort_limit=[-0.4,0.4] shift_limit=[-5,5]",
];

/// Photometric ones (mask must come back untouched).
const PHOTOMETRIC: &[&str] = &[
    "AugGaussianBlur sigma=[0.5,1.5]",
    "AugAdditiveLaplaceNoise std_dev=[5,15]",
    "AugAdditivePoissonNoise lambda=[1,5]",
    "AugGammaContrast gamma=[0.5,2]",
    "AugCoarseDropout p=[0.2,0.4] drop_size=[0.05,0.1] per_channel=0.5",
    "AugBrightness beta=[10,40]",
    "AugSalt p=[0.05,0.1] per_channel=0",
    "AugPepper p=[0.05,0.1] per_channel=1",
    "AugSaltAndPepper p=[0.05,0.1] per_channel=0.5",
    "AugHedJitter sigma=0.1",
    "AugNormalize mean=100 std=50",
    "AugNormalize mean=(100,110,120) std=(50,55,60)",
    "AugScaleTo new_min=0 new_max=1",
    "AugScaleFromTo old_min=0 old_max=255 new_min=-1 new_max=1",
];

#[test]
fn geometric_augmentations_keep_mask_aligned() {
    for line in GEOMETRIC {
        let aug = parse(line);
        for seed in 0..4 {
            let (mut img, mut mask) = square_pair();
            let mut rng = rng_from_seed(seed);
            aug.apply(&mut img, Some(&mut mask), &mut rng).unwrap();
            assert_eq!(size(&img), size(&mask), "{line}");
            assert_eq!(img.dtype(), DataType::U8, "{line}");
            assert_eq!(mask.dtype(), DataType::U8, "{line}");
            // Mask stays a label image: nearest sampling invents no values.
            let m = mask.to_hwc_f32().unwrap();
            assert!(
                m.iter().all(|v| *v == 0.0 || *v == 1.0),
                "{line}: mask values changed"
            );
            let iou = bright_vs_label_iou(&img, &mask);
            assert!(iou > 0.85, "{line} seed {seed}: bright/label IoU {iou}");
        }
    }
}

#[test]
fn geometric_shapes_are_as_promised() {
    let cases: &[(&str, (usize, usize))] = &[
        ("AugResizeDim dims=(50,70)", (50, 70)),
        ("AugResizeScale scale=(1.5,0.75)", (96, 36)),
        ("AugCenterCrop size=(40,30)", (40, 30)),
        ("AugRandomCrop size=(36,28)", (36, 28)),
        ("AugRandomCrop size=(80,60)", (80, 60)),
        ("AugTranspose p=1", (H, W)),
        ("AugRotate angle=[0,90]", (W, H)),
        ("AugElasticTransform alpha=[30,40] sigma=[4,5]", (W, H)),
    ];
    for (line, want) in cases {
        let (mut img, mut mask) = square_pair();
        parse(line)
            .apply(&mut img, Some(&mut mask), &mut rng_from_seed(1))
            .unwrap();
        assert_eq!(size(&img), *want, "{line}");
        assert_eq!(img.len_of(Axis::C), 3, "{line}");
        assert_eq!(img.color(), ColorType::Rgb, "{line}");
        assert_eq!(size(&mask), *want, "{line}");
    }
    // A centre crop larger than the image is refused, as in ECVL.
    let (mut img, _) = square_pair();
    assert!(parse("AugCenterCrop size=(100,10)")
        .apply(&mut img, None, &mut rng_from_seed(0))
        .is_err());
}

#[test]
fn misaligned_mask_is_an_error() {
    let (mut img, _) = square_pair();
    let mut small = Image::from_hwc_u8(10, 10, 1, vec![0; 100], ColorType::Gray).unwrap();
    let err = parse("AugFlip p=1").apply(&mut img, Some(&mut small), &mut rng_from_seed(0));
    assert!(err.is_err());
}

#[test]
fn photometric_augmentations_leave_the_mask_alone() {
    for line in PHOTOMETRIC {
        let aug = parse(line);
        let (mut img, mut mask) = square_pair();
        let (orig_img, orig_mask) = (img.clone(), mask.clone());
        aug.apply(&mut img, Some(&mut mask), &mut rng_from_seed(3))
            .unwrap();
        assert_eq!(mask, orig_mask, "{line}");
        assert_eq!(size(&img), (W, H), "{line}");
        assert_ne!(img, orig_img, "{line} did nothing");
        let float_out = line.starts_with("AugNormalize") || line.starts_with("AugScale");
        let want = if float_out {
            DataType::F32
        } else {
            DataType::U8
        };
        assert_eq!(img.dtype(), want, "{line}");
    }
}

#[test]
fn same_seed_same_output_different_seed_different_output() {
    let random: Vec<&str> = GEOMETRIC
        .iter()
        .chain(PHOTOMETRIC)
        .copied()
        .filter(|l| {
            !(l.contains("p=1")
                || l.contains("AugResize")
                || l.contains("AugCenterCrop")
                || l.contains("AugNormalize")
                || l.contains("AugScale"))
        })
        .collect();
    assert!(random.len() >= 15);
    for line in random {
        let aug = parse(line);
        let run = |seed: u64| {
            let (mut img, mut mask) = square_pair();
            aug.apply(&mut img, Some(&mut mask), &mut rng_from_seed(seed))
                .unwrap();
            (img, mask)
        };
        assert_eq!(run(11), run(11), "{line}: same seed differs");
        // Some seed among a few must give a different result.
        let base = run(11);
        assert!(
            (12..16).any(|s| run(s) != base),
            "{line}: seed has no effect"
        );
    }
    // Per-sample streams: independent of order of use.
    let aug = parse("AugRotate angle=[-90,90]");
    let one = |idx: u64| {
        let (mut img, _) = square_pair();
        aug.apply(&mut img, None, &mut rng_for_sample(7, 2, idx))
            .unwrap();
        img
    };
    let (a5, a6) = (one(5), one(6));
    assert_eq!(one(6), a6);
    assert_eq!(one(5), a5);
    assert_ne!(a5, a6);
}

#[test]
fn deterministic_augmentations_match_golden_values() {
    let px: Vec<u8> = vec![0, 64, 128, 255, 10, 200];
    let img = Image::from_hwc_u8(3, 2, 1, px.clone(), ColorType::Gray).unwrap();
    let get = |img: &Image| {
        img.to_hwc_f32()
            .unwrap()
            .iter()
            .copied()
            .collect::<Vec<f32>>()
    };
    let run = |text: &str| {
        let mut i = img.clone();
        parse(text)
            .apply(&mut i, None, &mut rng_from_seed(0))
            .unwrap();
        i
    };
    // Gamma 2: 255 * (v/255)^2, rounded.
    let g = run("AugGammaContrast gamma=[2,2]");
    let want: Vec<f32> = px
        .iter()
        .map(|v| (255.0 * (*v as f64 / 255.0).powi(2)).round() as f32)
        .collect();
    assert_eq!(get(&g), want);
    // Brightness saturates at 255.
    let b = run("AugBrightness beta=[100,100]");
    assert_eq!(get(&b), vec![100., 164., 228., 255., 110., 255.]);
    // Salt everywhere is white, pepper everywhere black.
    assert!(get(&run("AugSalt p=[1,1] per_channel=0"))
        .iter()
        .all(|v| *v == 255.0));
    assert!(get(&run("AugPepper p=[1,1] per_channel=1"))
        .iter()
        .all(|v| *v == 0.0));
    let sp = get(&run("AugSaltAndPepper p=[1,1] per_channel=0"));
    assert!(sp.iter().all(|v| *v == 0.0 || *v == 255.0));
    // Dropout with p=1 clears everything; p=0 nothing.
    assert!(get(&run(
        "AugCoarseDropout p=[1,1] drop_size=[0.5,0.5] per_channel=0"
    ))
    .iter()
    .all(|v| *v == 0.0));
    assert_eq!(
        get(&run(
            "AugCoarseDropout p=[0,0] drop_size=[0.5,0.5] per_channel=0"
        )),
        get(&img)
    );
    // ToFloat32 with divisor.
    let f = run("AugToFloat32 divisor=255");
    assert_eq!(f.dtype(), DataType::F32);
    for (a, b) in get(&f).iter().zip(&px) {
        assert!((a - *b as f32 / 255.0).abs() < 1e-7);
    }
    let d = run("AugDivBy255");
    assert_eq!(get(&d), get(&f));
    // Normalize.
    let n = run("AugNormalize mean=128 std=64");
    for (a, b) in get(&n).iter().zip(&px) {
        assert!((a - (*b as f32 - 128.0) / 64.0).abs() < 1e-6);
    }
    // ScaleTo maps min/max to the new range.
    let s = get(&run("AugScaleTo new_min=-1 new_max=1"));
    assert_eq!(s[0], -1.0);
    assert_eq!(s[3], 1.0);
    // Flip (upside down) and mirror (left-right), by hand.
    assert_eq!(
        get(&run("AugFlip p=1")),
        vec![255., 10., 200., 0., 64., 128.]
    );
    assert_eq!(
        get(&run("AugMirror p=1")),
        vec![128., 64., 0., 200., 10., 255.]
    );
    assert_eq!(get(&run("AugFlip p=0")), get(&img));
    // Resize 3x2 -> 6x4 nearest: each pixel a 2x2 block.
    let r = get(&run("AugResizeDim dims=(6,4) interp=\"nearest\""));
    assert_eq!(&r[..6], &[0., 0., 64., 64., 128., 128.]);
    assert_eq!(&r[18..], &[255., 255., 10., 10., 200., 200.]);
}

#[test]
fn to_float32_converts_the_mask_with_its_own_divisor() {
    let (mut img, mut mask) = square_pair();
    parse("AugToFloat32 divisor=255 divisor_gt=1")
        .apply(&mut img, Some(&mut mask), &mut rng_from_seed(0))
        .unwrap();
    assert_eq!(mask.dtype(), DataType::F32);
    assert!(mask.to_hwc_f32().unwrap().iter().any(|v| *v == 1.0));
    assert!(img.to_hwc_f32().unwrap().iter().all(|v| *v <= 1.0));
}

#[test]
fn noise_has_the_requested_statistics() {
    let flat = |v: f32| {
        let a = ArrayD::from_elem(IxDyn(&[200, 200]), v);
        Image::new(ImageData::F32(a), "xy", ColorType::Gray).unwrap()
    };
    let stats = |img: &Image| {
        let a = img.to_hwc_f32().unwrap();
        let n = a.len() as f64;
        let m = a.iter().map(|v| *v as f64).sum::<f64>() / n;
        let s = (a.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / n).sqrt();
        (m, s)
    };
    let mut img = flat(100.0);
    parse("AugAdditiveLaplaceNoise std_dev=[10,10]")
        .apply(&mut img, None, &mut rng_from_seed(1))
        .unwrap();
    let (m, s) = stats(&img);
    assert!(
        (m - 100.0).abs() < 0.3 && (s - 10.0).abs() < 0.3,
        "laplace mean {m} std {s}"
    );
    let mut img = flat(0.0);
    parse("AugAdditivePoissonNoise lambda=[4,4]")
        .apply(&mut img, None, &mut rng_from_seed(2))
        .unwrap();
    let (m, s) = stats(&img);
    assert!(
        (m - 4.0).abs() < 0.05 && (s - 2.0).abs() < 0.05,
        "poisson mean {m} std {s}"
    );
    assert!(img.to_hwc_f32().unwrap().iter().all(|v| v.fract() == 0.0));
    let mut img = flat(0.0);
    parse("AugAdditivePoissonNoise lambda=[50,50]")
        .apply(&mut img, None, &mut rng_from_seed(3))
        .unwrap();
    let (m, s) = stats(&img);
    assert!(
        (m - 50.0).abs() < 0.2 && (s - 50f64.sqrt()).abs() < 0.2,
        "poisson(50) mean {m} std {s}"
    );
}

#[test]
fn one_of_container_obeys_its_probability() {
    let (img, _) = square_pair();
    let never = parse("OneOfAugmentationContainer p=0\n AugFlip p=1\n AugMirror p=1\nend");
    let always = parse("OneOfAugmentationContainer p=1\n AugFlip p=1\n AugMirror p=1\nend");
    let flipped = exahealth_image::ops::geometry::flip_image(&img).unwrap();
    let mirrored = exahealth_image::ops::geometry::mirror_image(&img).unwrap();
    let (mut saw_flip, mut saw_mirror) = (false, false);
    for seed in 0..40 {
        let mut a = img.clone();
        never.apply(&mut a, None, &mut rng_from_seed(seed)).unwrap();
        assert_eq!(a, img);
        let mut b = img.clone();
        always
            .apply(&mut b, None, &mut rng_from_seed(seed))
            .unwrap();
        // Exactly one of the two, never both or neither.
        assert!(b == flipped || b == mirrored);
        saw_flip |= b == flipped;
        saw_mirror |= b == mirrored;
    }
    assert!(saw_flip && saw_mirror);
}

const PIPELINE: &str = "\
# training augmentations
SequentialAugmentationContainer
    AugRotate angle=[-5,5] center=(0,0) interp=\"linear\"
    AugResizeDim dims=(40,30) interp=\"cubic\" gt_interp=\"nearest\"
    OneOfAugmentationContainer p=0.7
        AugGammaContrast gamma=[0.5,1.5]
        AugBrightness beta=[0,30]
        SequentialAugmentationContainer
            AugGaussianBlur sigma=[0.5,1]
            AugSalt p=[0.01,0.02] per_channel=0.5
        end
    end
    AugGridDistortion num_steps=[2,5] distort_limit=[-0.2,0.2] interp=\"linear\" border_type=\"reflect_101\" border_value=0
    AugRandomCrop size=(32,24) border_type=\"replicate\"
    AugHedJitter sigma=0.05
    AugToFloat32 divisor=255
    AugNormalize mean=(0.5,0.5,0.5) std=(0.25,0.25,0.25)
end
";

#[test]
fn config_round_trips_and_drives_the_same_pipeline() {
    let a = parse(PIPELINE);
    let text = to_config(a.as_ref());
    let b = parse(&text);
    assert_eq!(to_config(b.as_ref()), text, "writing is not stable");
    assert!(text.starts_with("SequentialAugmentationContainer\n"));
    assert!(text.contains("    OneOfAugmentationContainer p=0.7\n"));
    assert!(text.contains("AugHedJitter sigma=0.05 bias=0.05"));
    for seed in 0..5 {
        let (mut i1, mut m1) = square_pair();
        let (mut i2, mut m2) = square_pair();
        a.apply(&mut i1, Some(&mut m1), &mut rng_from_seed(seed))
            .unwrap();
        b.apply(&mut i2, Some(&mut m2), &mut rng_from_seed(seed))
            .unwrap();
        assert_eq!(i1, i2);
        assert_eq!(m1, m2);
        assert_eq!(size(&i1), (32, 24));
        assert_eq!(i1.dtype(), DataType::F32);
    }
    // Every augmentation written back parses to the same text.
    for line in GEOMETRIC.iter().chain(PHOTOMETRIC) {
        let t = to_config(parse(line).as_ref());
        assert_eq!(to_config(parse(&t).as_ref()), t, "{line}");
    }
    // Several top-level augmentations become one sequence.
    let seq = parse("AugFlip p=1\nAugMirror p=1\n");
    assert!(
        to_config(seq.as_ref()).starts_with("SequentialAugmentationContainer\n    AugFlip p=1\n")
    );
}

#[test]
fn config_errors_name_the_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("SequentialAugmentationContainer\n AugRotate angle=[-5,5]\n AugFlip q=0.5\nend", 3, "unknown parameter \"q\""),
        ("SequentialAugmentationContainer\n AugRotte angle=[-5,5]\nend", 2, "unknown augmentation"),
        ("SequentialAugmentationContainer\n AugRotate angle=(1,2)\nend", 2, "must be a range"),
        ("SequentialAugmentationContainer\n AugRotate center=(1,2)\nend", 2, "angle=[min,max] is required"),
        ("SequentialAugmentationContainer\n AugRotate angle=[5,-5]\nend", 2, "min <= max"),
        ("\n\nSequentialAugmentationContainer\n AugFlip p=0.5\n", 3, "never closed"),
        ("AugFlip p=0.5\nend\n", 2, "without an open container"),
        ("SequentialAugmentationContainer\n AugRotate angle=[-5,5] interp=\"bilinear\"\nend", 2, "is not one of"),
        ("SequentialAugmentationContainer\n AugRotate angle=[-5,x]\nend", 2, "not a finite number"),
        ("SequentialAugmentationContainer\n AugRotate angle=[-5,5\nend", 2, "missing closing"),
        ("SequentialAugmentationContainer\n AugFlip p=0.5 p=0.2\nend", 2, "given twice"),
        ("SequentialAugmentationContainer\n AugFlip p=1.5\nend", 2, "probability"),
        ("OneOfAugmentationContainer\n AugFlip p=0.5\nend", 1, "p=NUMBER is required"),
        ("SequentialAugmentationContainer\n AugResizeDim dims=(10.5,3)\nend", 2, "whole numbers"),
        ("SequentialAugmentationContainer\n AugNormalize mean=(1,2) std=(1)\nend", 2, "2 means but 1 stds"),
        ("SequentialAugmentationContainer\n AugGridDistortion num_steps=[2,4] distort_limit=[-1,1] border_type=\"mirror\"\nend", 2, "border_type"),
        ("# nothing\n\n", 1, "no augmentation"),
    ];
    for (text, line, needle) in cases {
        let err = match parse_config(text) {
            Ok(a) => panic!("{text:?} parsed: {a:?}"),
            Err(e) => e,
        };
        assert_eq!(err.line, *line, "{text:?}: {err}");
        let msg = err.to_string();
        assert!(msg.contains(needle), "{text:?}: {msg}");
        assert!(
            msg.starts_with(&format!("augmentation config line {line}:")),
            "{msg}"
        );
    }
}

#[test]
fn api_construction_matches_config() {
    let built = SequentialAugmentationContainer::new(vec![
        Box::new(AugRotate::new(Range::new(-5.0, 5.0).unwrap())),
        Box::new(AugMirror { p: 0.5 }),
        Box::new(AugRandomCrop {
            size: (32, 32),
            border: Border::Reflect101,
        }),
        Box::new(AugElasticTransform::new(
            Range::new(30.0, 40.0).unwrap(),
            Range::new(4.0, 5.0).unwrap(),
        )),
        Box::new(AugResizeDim {
            dims: (16, 16),
            interp: Interpolation::Area,
            gt_interp: Interpolation::Nearest,
        }),
    ]);
    let text = to_config(&built);
    let parsed = parse(&text);
    let (mut i1, mut m1) = square_pair();
    let (mut i2, mut m2) = square_pair();
    built
        .apply(&mut i1, Some(&mut m1), &mut rng_from_seed(9))
        .unwrap();
    parsed
        .apply(&mut i2, Some(&mut m2), &mut rng_from_seed(9))
        .unwrap();
    assert_eq!((i1, m1), (i2, m2));
    assert!(Range::new(2.0, 1.0).is_err());
}

#[test]
fn volumes_are_refused_not_mangled() {
    let a = ArrayD::<u8>::zeros(IxDyn(&[4, 8, 8]));
    let mut vol = Image::new(ImageData::U8(a), "xyz", ColorType::None).unwrap();
    assert!(parse("AugRotate angle=[1,2]")
        .apply(&mut vol, None, &mut rng_from_seed(0))
        .is_err());
    // A float RGB array works like any other image.
    let f = Array3::<f32>::from_elem((10, 12, 3), 0.5);
    let mut img = Image::from_hwc_f32(f, ColorType::Rgb).unwrap();
    parse("AugGammaContrast gamma=[2,2]")
        .apply(&mut img, None, &mut rng_from_seed(0))
        .unwrap();
    assert!(img
        .to_hwc_f32()
        .unwrap()
        .iter()
        .all(|v| (v - 0.25).abs() < 1e-6));
}

/// A 2-D gray image of `dtype` holding a ramp inside the type's range.
fn ramp_image(dtype: DataType, w: usize, h: usize) -> Image {
    let (lo, hi) = match dtype {
        DataType::F32 | DataType::F64 => (0.0, 1.0),
        t => t.range(),
    };
    let a = ArrayD::from_shape_fn(IxDyn(&[h, w]), |ix| {
        let t = (ix[0] * w + ix[1]) as f64 / (w * h) as f64;
        lo + (hi - lo) * t
    });
    let img = Image::new(ImageData::F64(a), "xy", ColorType::Gray).unwrap();
    img.cast(dtype)
}

#[test]
fn every_element_type_goes_through_every_augmentation() {
    let types = [
        DataType::U8,
        DataType::I8,
        DataType::U16,
        DataType::I16,
        DataType::U32,
        DataType::I32,
        DataType::F32,
        DataType::F64,
    ];
    let float_out = |l: &str| l.starts_with("AugNormalize mean=1") || l.starts_with("AugScale");
    for dtype in types {
        for line in GEOMETRIC.iter().chain(PHOTOMETRIC) {
            if line.contains("AugHedJitter") || line.contains("mean=(") {
                continue; // need three channels
            }
            let mut img = ramp_image(dtype, 40, 30);
            let mut mask = ramp_image(DataType::U8, 40, 30);
            parse(line)
                .apply(&mut img, Some(&mut mask), &mut rng_from_seed(4))
                .unwrap_or_else(|e| panic!("{line} on {dtype:?}: {e}"));
            let want = if float_out(line) {
                if dtype == DataType::F64 {
                    DataType::F64
                } else {
                    DataType::F32
                }
            } else {
                dtype
            };
            assert_eq!(img.dtype(), want, "{line} on {dtype:?}");
            assert_eq!(mask.dtype(), DataType::U8, "{line} on {dtype:?}");
            assert_eq!(size(&img), size(&mask), "{line} on {dtype:?}");
        }
    }
    // The three-channel ones on a float RGB image.
    for line in [
        "AugHedJitter sigma=0.1",
        "AugNormalize mean=(0.5,0.5,0.5) std=(0.2,0.2,0.2)",
    ] {
        let mut img =
            Image::from_hwc_f32(Array3::from_elem((8, 8, 3), 0.6), ColorType::Rgb).unwrap();
        parse(line)
            .apply(&mut img, None, &mut rng_from_seed(0))
            .unwrap();
        assert_eq!(img.dtype(), DataType::F32, "{line}");
        assert_eq!(img.color(), ColorType::Rgb, "{line}");
    }
    // And a gray image cannot be stain-jittered.
    let mut g = ramp_image(DataType::U8, 8, 8);
    assert!(parse("AugHedJitter sigma=0.1")
        .apply(&mut g, None, &mut rng_from_seed(0))
        .is_err());
}
