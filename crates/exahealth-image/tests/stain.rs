//! Stain tools on real H&E patches read from the OpenSlide sample slide
//! CMU-1-Small-Region.svs (skin, H&E). Skips when the test data is absent (fails under CI=true).

use exahealth_image::augment::{parse_config, rng_from_seed};
use exahealth_image::ops::color::{rgb_to_hed, rgb_to_lab, RGB_FROM_HED};
use exahealth_image::ops::normalize::mean_std_per_channel;
use exahealth_image::stain::{hed_jitter, MacenkoParams, MacenkoStains, ReinhardStats, StainError};
use exahealth_image::{ColorType, DataType, Image};
use ndarray::Array3;

const SLIDE: &str = "wsi/aperio/CMU-1-Small-Region.svs";

/// An RGB `[h, w, 3]` patch (0..255) from level 0 of the test slide.
fn patch(x: i64, y: i64, size: u32) -> Option<Array3<f32>> {
    let path = exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), SLIDE)?;
    let slide = exahealth_slide::Slide::open(path).expect("open test slide");
    let r = slide.read_region(x, y, 0, size, size).expect("read region");
    let (w, h) = (r.width as usize, r.height as usize);
    Some(Array3::from_shape_fn((h, w, 3), |(yy, xx, c)| {
        r.data[(yy * w + xx) * 4 + c] as f32
    }))
}

fn unit(v: [f64; 3]) -> [f64; 3] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    v.map(|x| x / n)
}

fn cosine(a: [f32; 3], b: [f64; 3]) -> f64 {
    let b = unit(b);
    (0..3).map(|i| a[i] as f64 * b[i]).sum()
}

fn mean_abs_diff(a: &Array3<f32>, b: &Array3<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs() as f64)
        .sum::<f64>()
        / a.len() as f64
}

#[test]
fn macenko_recovers_positive_he_stain_vectors() {
    let Some(p) = patch(700, 1200, 512) else {
        return;
    };
    let m = MacenkoStains::fit(&p, MacenkoParams::default()).unwrap();
    eprintln!(
        "stain vectors {:?} max {:?}",
        m.vectors, m.max_concentration
    );
    for v in &m.vectors {
        let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4);
        assert!(
            v.iter().all(|x| *x > 0.0),
            "stain OD must be positive: {v:?}"
        );
    }
    // Haematoxylin absorbs more red than eosin.
    assert!(m.vectors[0][0] > m.vectors[1][0]);
    // Close to the published (Ruifrok) directions, but fitted to this slide.
    let ch = cosine(m.vectors[0], RGB_FROM_HED[0]);
    let ce = cosine(m.vectors[1], RGB_FROM_HED[1]);
    eprintln!("cosine to Ruifrok H {ch:.3} E {ce:.3}");
    assert!(ch > 0.9 && ce > 0.8, "H {ch} E {ce}");
    assert!(m.max_concentration.iter().all(|c| *c > 0.1));
}

/// Least-squares concentrations of `od` on two unit vectors, computed
/// here independently of the library (normal equations by Cramer's rule).
fn unmix(v: &[[f32; 3]; 2], od: [f64; 3]) -> [f64; 2] {
    let d = |a: [f64; 3], b: [f64; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let (h, e) = (v[0].map(f64::from), v[1].map(f64::from));
    let (hh, he, ee) = (d(h, h), d(h, e), d(e, e));
    let (ho, eo) = (d(h, od), d(e, od));
    let det = hh * ee - he * he;
    [(ee * ho - he * eo) / det, (hh * eo - he * ho) / det]
}

fn render(v: &[[f32; 3]; 2], c: [f64; 2], i0: f64) -> [f64; 3] {
    [0, 1, 2].map(|k| {
        (i0 * (-(v[0][k] as f64 * c[0] + v[1][k] as f64 * c[1])).exp() - 1.0).clamp(0.0, 255.0)
    })
}

#[test]
fn macenko_normalising_an_image_to_itself_is_near_identity() {
    let Some(p) = patch(700, 1200, 512) else {
        return;
    };
    let params = MacenkoParams::default();
    let i0 = params.i0 as f64;
    let m = MacenkoStains::fit(&p, params).unwrap();
    let out = m.normalize(&p).unwrap();
    // Self-normalisation keeps the stain-plane part of every pixel's
    // optical density and drops the rest: compare with that projection.
    let mut proj = p.clone();
    for (mut q, px) in proj
        .lanes_mut(ndarray::Axis(2))
        .into_iter()
        .zip(p.lanes(ndarray::Axis(2)))
    {
        let od = [0, 1, 2].map(|k| -((px[k] as f64 + 1.0) / i0).ln());
        let rgb = render(&m.vectors, unmix(&m.vectors, od), i0);
        for k in 0..3 {
            q[k] = rgb[k] as f32;
        }
    }
    let d_proj = mean_abs_diff(&out, &proj);
    let d_img = mean_abs_diff(&out, &p);
    eprintln!("self-normalisation: mean |diff| to projection {d_proj:.4}, to the image {d_img:.3} (0..255)");
    assert!(d_proj < 0.05, "{d_proj}");
    // The off-plane part of real H&E is small: a few levels on average.
    assert!(d_img < 8.0, "{d_img}");

    // An image made of exactly two stains has no off-plane part: there the
    // round trip is the identity (up to 8-bit-free float noise).
    let mut synth = p.clone();
    for mut px in synth.lanes_mut(ndarray::Axis(2)) {
        let od = [0, 1, 2].map(|k| -((px[k] as f64 + 1.0) / i0).ln());
        let c = unmix(&m.vectors, od).map(|x| x.max(0.0));
        let rgb = render(&m.vectors, c, i0);
        for k in 0..3 {
            px[k] = rgb[k] as f32;
        }
    }
    let ms = MacenkoStains::fit(&synth, params).unwrap();
    for k in 0..2 {
        let cos: f32 = (0..3).map(|i| ms.vectors[k][i] * m.vectors[k][i]).sum();
        assert!(
            cos > 0.999,
            "stain {k} not recovered from a two-stain image: {cos}"
        );
    }
    let back = ms.normalize(&synth).unwrap();
    let d = mean_abs_diff(&back, &synth);
    eprintln!("two-stain image round trip mean |diff| {d:.4}");
    assert!(d < 0.5, "{d}");
}

#[test]
fn macenko_maps_a_recoloured_patch_onto_the_target_stains() {
    let (Some(target), Some(other)) = (patch(700, 1200, 512), patch(1300, 600, 512)) else {
        return;
    };
    let params = MacenkoParams::default();
    let t = MacenkoStains::fit(&target, params).unwrap();
    // Simulate another lab: more haematoxylin, less eosin.
    let shifted = hed_jitter(&other, [1.3, 0.7, 1.0], [0.0, 0.0, 0.0]).unwrap();
    let s = MacenkoStains::fit(&shifted, params).unwrap();
    let out = t.normalize(&shifted).unwrap();
    let o = MacenkoStains::fit(&out, params).unwrap();
    let cos = |a: [f32; 3], b: [f32; 3]| (0..3).map(|i| a[i] * b[i]).sum::<f32>();
    eprintln!("target {:?}\nsource {:?}\nresult {:?}", t, s, o);
    for k in 0..2 {
        assert!(
            cos(o.vectors[k], t.vectors[k]) > 0.99,
            "stain {k}: {:?} vs {:?}",
            o.vectors[k],
            t.vectors[k]
        );
        let rel = (o.max_concentration[k] - t.max_concentration[k]).abs() / t.max_concentration[k];
        assert!(rel < 0.1, "stain {k} max concentration off by {rel}");
    }
}

#[test]
fn macenko_transfer_handles_background_tiles_with_a_slide_level_fit() {
    let (Some(target), Some(source)) = (patch(700, 1200, 256), patch(1300, 600, 256)) else {
        return;
    };
    let params = MacenkoParams::default();
    let t = MacenkoStains::fit(&target, params).unwrap();
    let s = MacenkoStains::fit(&source, params).unwrap();
    // Transfer equals normalize when the source model is the patch's own.
    let a = t.normalize(&source).unwrap();
    let b = t.transfer(&s, &source).unwrap();
    assert_eq!(a, b);
    // A blank tile cannot be fitted but can be transferred; it stays blank.
    let blank = Array3::<f32>::from_elem((32, 32, 3), 239.0);
    assert!(t.normalize(&blank).is_err());
    let out = t.transfer(&s, &blank).unwrap();
    assert!(
        out.iter().all(|v| (*v - 239.0).abs() < 1.0),
        "{:?}",
        &out.as_slice().unwrap()[..3]
    );
}

#[test]
fn macenko_refuses_background() {
    let white = Array3::<f32>::from_elem((64, 64, 3), 250.0);
    match MacenkoStains::fit(&white, MacenkoParams::default()) {
        Err(StainError::NotEnoughTissue { found, .. }) => assert_eq!(found, 0),
        other => panic!("expected NotEnoughTissue, got {other:?}"),
    }
}

#[test]
fn reinhard_matches_target_lab_statistics() {
    // The same tissue as stained by another lab: Reinhard assumes similar
    // colour distributions up to shift and scale, so that is its fair test
    // (distributions of other shapes push pixels out of the RGB gamut,
    // where clamping moves the statistics).
    let Some(target) = patch(700, 1200, 384) else {
        return;
    };
    let mut source = hed_jitter(&target, [0.8, 1.2, 1.0], [0.02, -0.02, 0.0]).unwrap();
    for mut px in source.lanes_mut(ndarray::Axis(2)) {
        // ...and scanned darker and bluer.
        px[0] *= 0.85;
        px[1] = px[1] * 0.9 + 5.0;
        px[2] = (px[2] * 0.95 + 12.0).min(255.0);
    }
    let stats = ReinhardStats::fit(&target).unwrap();
    let out = stats.normalize(&source).unwrap();
    let clipped = out
        .lanes(ndarray::Axis(2))
        .into_iter()
        .filter(|p| p.iter().any(|v| *v <= 0.0 || *v >= 255.0))
        .count();
    eprintln!("clipped pixels: {clipped} of {}", out.len() / 3);
    // Independent check: recompute Lab statistics of the result.
    let (m, s) = mean_std_per_channel(&rgb_to_lab(&out, 255.0).unwrap());
    let (m_src, _) = mean_std_per_channel(&rgb_to_lab(&source, 255.0).unwrap());
    eprintln!("target {stats:?}\nresult mean {m:?} std {s:?}\nsource mean {m_src:?}");
    for c in 0..3 {
        assert!(
            (m[c] - stats.mean[c]).abs() < 0.5,
            "channel {c} mean {} vs {}",
            m[c],
            stats.mean[c]
        );
        assert!(
            (s[c] - stats.std[c]).abs() / stats.std[c] < 0.02,
            "channel {c} std {} vs {}",
            s[c],
            stats.std[c]
        );
    }
    // The image did change: the source started away from the target.
    assert!((0..3).any(|c| (m_src[c] - stats.mean[c]).abs() > 1.0));
}

#[test]
fn hed_jitter_scales_the_stain_it_targets() {
    let Some(p) = patch(700, 1200, 256) else {
        return;
    };
    // Identity jitter reproduces the image (up to the OD floor at 1).
    let same = hed_jitter(&p, [1.0; 3], [0.0; 3]).unwrap();
    assert!(mean_abs_diff(&same, &p.mapv(|v| v.max(1.0))) < 0.01);
    // Doubling haematoxylin doubles it in the deconvolved result where
    // nothing clipped, and leaves eosin alone.
    let hed = rgb_to_hed(&p).unwrap();
    let out = hed_jitter(&p, [1.5, 1.0, 1.0], [0.0; 3]).unwrap();
    let hed2 = rgb_to_hed(&out).unwrap();
    let (mut n, mut ratio, mut e_drift) = (0usize, 0f64, 0f64);
    for ((a, b), px) in hed
        .lanes(ndarray::Axis(2))
        .into_iter()
        .zip(hed2.lanes(ndarray::Axis(2)))
        .zip(out.lanes(ndarray::Axis(2)))
    {
        let clipped = px.iter().any(|v| *v <= 1.0 || *v >= 254.5);
        if a[0] > 0.1 && !clipped {
            ratio += (b[0] / a[0]) as f64;
            e_drift += (b[1] - a[1]).abs() as f64;
            n += 1;
        }
    }
    assert!(n > 1000, "too few stained pixels: {n}");
    let (ratio, e_drift) = (ratio / n as f64, e_drift / n as f64);
    eprintln!("H ratio {ratio:.4}, mean |dE| {e_drift:.4} over {n} px");
    // 8-bit rounding of the output costs a little precision.
    assert!((ratio - 1.5).abs() < 0.02 && e_drift < 0.01);
}

#[test]
fn hed_jitter_augmentation_on_a_real_patch() {
    let Some(p) = patch(700, 1200, 256) else {
        return;
    };
    let (h, w, _) = p.dim();
    let px: Vec<u8> = p.iter().map(|v| *v as u8).collect();
    let img = Image::from_hwc_u8(w, h, 3, px, ColorType::Rgb).unwrap();
    let aug =
        parse_config("SequentialAugmentationContainer\n AugHedJitter sigma=0.05 bias=0.02\nend")
            .unwrap();
    let run = |seed| {
        let mut i = img.clone();
        aug.apply(&mut i, None, &mut rng_from_seed(seed)).unwrap();
        i
    };
    let (a, b) = (run(1), run(1));
    assert_eq!(a, b);
    assert_ne!(a, run(2));
    assert_eq!(a.dtype(), DataType::U8);
    assert_eq!(a.color(), ColorType::Rgb);
    let d = mean_abs_diff(&a.to_hwc_f32().unwrap(), &img.to_hwc_f32().unwrap());
    // A gentle jitter: visible, but a few levels on average.
    assert!(d > 0.2 && d < 20.0, "mean change {d}");
    // The Image-level Macenko round trip keeps the u8 type.
    let m = MacenkoStains::fit_image(&img, MacenkoParams::default()).unwrap();
    let n = m.normalize_image(&img).unwrap();
    assert_eq!(n.dtype(), DataType::U8);
}
