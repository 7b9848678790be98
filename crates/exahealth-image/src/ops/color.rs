//! Colour conversions on interleaved `[height, width, channels]` float
//! arrays: RGB to and from gray, HSV, YCbCr, CIE L*a*b*, optical density
//! and the haematoxylin-eosin-DAB (HED) stain space used by `stain`.
//!
//! Scales: RGB samples are in `0..=max` (255 for 8-bit data, 1 for float
//! data); functions that care take `max`. HSV has hue in degrees `[0, 360)`,
//! saturation in `[0, 1]` and value on the RGB scale. YCbCr is the full-range
//! BT.601 (JPEG) transform with chroma centred on `(max + 1) / 2` for integer
//! scales (128 for 8-bit) and `max / 2` for `max <= 1`.

use ndarray::{Array3, Axis as NdAxis, Zip};

use crate::{ColorType, DataType, Image, ImageError};

fn check_channels(a: &Array3<f32>, n: usize, what: &str) -> Result<(), ImageError> {
    if a.dim().2 != n {
        return Err(ImageError::Unsupported(format!(
            "{what} needs {n} channels, the array has {}",
            a.dim().2
        )));
    }
    Ok(())
}

/// Applies `f` to every pixel's 3 channels, producing 3 channels.
fn map_pixels3<F>(src: &Array3<f32>, f: F) -> Array3<f32>
where
    F: Fn([f32; 3]) -> [f32; 3] + Sync + Send,
{
    let mut out = Array3::<f32>::zeros(src.dim());
    Zip::from(out.lanes_mut(NdAxis(2)))
        .and(src.lanes(NdAxis(2)))
        .par_for_each(|mut o, i| {
            let r = f([i[0], i[1], i[2]]);
            o[0] = r[0];
            o[1] = r[1];
            o[2] = r[2];
        });
    out
}

/// Luma (BT.601 weights 0.299, 0.587, 0.114), one channel.
pub fn rgb_to_gray(src: &Array3<f32>) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "RGB to gray")?;
    let (h, w, _) = src.dim();
    let mut out = Array3::<f32>::zeros((h, w, 1));
    Zip::from(out.lanes_mut(NdAxis(2)))
        .and(src.lanes(NdAxis(2)))
        .par_for_each(|mut o, i| o[0] = 0.299 * i[0] + 0.587 * i[1] + 0.114 * i[2]);
    Ok(out)
}

/// Gray to three equal channels.
pub fn gray_to_rgb(src: &Array3<f32>) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 1, "gray to RGB")?;
    let (h, w, _) = src.dim();
    Ok(Array3::from_shape_fn((h, w, 3), |(y, x, _)| src[[y, x, 0]]))
}

fn hsv_of(p: [f32; 3]) -> [f32; 3] {
    let [r, g, b] = p;
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let s = if max > 0.0 { d / max } else { 0.0 };
    let h = if d <= 0.0 {
        0.0
    } else if max == r {
        60.0 * ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / d + 2.0)
    } else {
        60.0 * ((r - g) / d + 4.0)
    };
    [h.rem_euclid(360.0), s, max]
}

fn rgb_of_hsv(p: [f32; 3]) -> [f32; 3] {
    let [h, s, v] = p;
    let c = v * s;
    let hp = h.rem_euclid(360.0) / 60.0;
    let x = c * (1.0 - (hp.rem_euclid(2.0) - 1.0).abs());
    let (r, g, b) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = v - c;
    [r + m, g + m, b + m]
}

/// RGB to HSV (hue in degrees, saturation 0..1, value on the RGB scale).
pub fn rgb_to_hsv(src: &Array3<f32>) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "RGB to HSV")?;
    Ok(map_pixels3(src, hsv_of))
}

/// HSV back to RGB.
pub fn hsv_to_rgb(src: &Array3<f32>) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "HSV to RGB")?;
    Ok(map_pixels3(src, rgb_of_hsv))
}

/// The chroma offset for samples in `0..=max` (see the module doc).
pub fn ycbcr_offset(max: f32) -> f32 {
    if max <= 1.0 {
        max / 2.0
    } else {
        (max + 1.0) / 2.0
    }
}

/// Full-range BT.601 RGB to YCbCr for samples in `0..=max`.
pub fn rgb_to_ycbcr(src: &Array3<f32>, max: f32) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "RGB to YCbCr")?;
    let off = ycbcr_offset(max);
    Ok(map_pixels3(src, |[r, g, b]| {
        [
            0.299 * r + 0.587 * g + 0.114 * b,
            off - 0.168_736 * r - 0.331_264 * g + 0.5 * b,
            off + 0.5 * r - 0.418_688 * g - 0.081_312 * b,
        ]
    }))
}

/// Inverse of [`rgb_to_ycbcr`].
pub fn ycbcr_to_rgb(src: &Array3<f32>, max: f32) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "YCbCr to RGB")?;
    let off = ycbcr_offset(max);
    Ok(map_pixels3(src, |[y, cb, cr]| {
        let (cb, cr) = (cb - off, cr - off);
        [
            y + 1.402 * cr,
            y - 0.344_136 * cb - 0.714_136 * cr,
            y + 1.772 * cb,
        ]
    }))
}

// sRGB (D65) to XYZ and back; L*a*b* relative to the D65 white.
const RGB2XYZ: [[f32; 3]; 3] = [
    [0.412_456_4, 0.357_576_1, 0.180_437_5],
    [0.212_672_9, 0.715_152_2, 0.072_175],
    [0.019_333_9, 0.119_192, 0.950_304_1],
];
const WHITE: [f32; 3] = [0.950_47, 1.0, 1.088_83];

fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

/// sRGB samples in `0..=max` to CIE L*a*b* (D65): L in 0..100.
pub fn rgb_to_lab(src: &Array3<f32>, max: f32) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "RGB to Lab")?;
    let f = |t: f32| {
        if t > 0.008_856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    Ok(map_pixels3(src, |p| {
        let lin = p.map(|v| srgb_to_linear((v / max).clamp(0.0, 1.0)));
        let mut xyz = [0f32; 3];
        for (k, row) in RGB2XYZ.iter().enumerate() {
            xyz[k] = (row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2]) / WHITE[k];
        }
        let (fx, fy, fz) = (f(xyz[0]), f(xyz[1]), f(xyz[2]));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }))
}

/// Inverse of [`rgb_to_lab`]; results are clamped to `0..=max`.
pub fn lab_to_rgb(src: &Array3<f32>, max: f32) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "Lab to RGB")?;
    let inv = invert3(RGB2XYZ.map(|r| r.map(f64::from)))
        .ok_or_else(|| ImageError::Unsupported("singular RGB to XYZ matrix".into()))?;
    let finv = |t: f32| {
        let t3 = t * t * t;
        if t3 > 0.008_856 {
            t3
        } else {
            (t - 16.0 / 116.0) / 7.787
        }
    };
    Ok(map_pixels3(src, |[l, a, b]| {
        let fy = (l + 16.0) / 116.0;
        let xyz = [
            finv(fy + a / 500.0) * WHITE[0],
            finv(fy) * WHITE[1],
            finv(fy - b / 200.0) * WHITE[2],
        ];
        let mut rgb = [0f32; 3];
        for (k, row) in inv.iter().enumerate() {
            let lin = row[0] as f32 * xyz[0] + row[1] as f32 * xyz[1] + row[2] as f32 * xyz[2];
            rgb[k] = linear_to_srgb(lin.clamp(0.0, 1.0)) * max;
        }
        rgb
    }))
}

/// Inverse of a 3x3 matrix, or `None` if it is singular.
pub fn invert3(m: [[f64; 3]; 3]) -> Option<[[f64; 3]; 3]> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
        - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if det.abs() < 1e-12 || !det.is_finite() {
        return None;
    }
    let c =
        |r0: usize, c0: usize, r1: usize, c1: usize| m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
    Some([
        [
            c(1, 1, 2, 2) / det,
            -c(0, 1, 2, 2) / det,
            c(0, 1, 1, 2) / det,
        ],
        [
            -c(1, 0, 2, 2) / det,
            c(0, 0, 2, 2) / det,
            -c(0, 0, 1, 2) / det,
        ],
        [
            c(1, 0, 2, 1) / det,
            -c(0, 0, 2, 1) / det,
            c(0, 0, 1, 1) / det,
        ],
    ])
}

/// Optical density `-ln(max(v, 1) / i0)` per channel, for RGB in
/// `0..=255` (`i0` is the background intensity, e.g. 255 or 240). Zero is
/// floored at 1 so black pixels give a finite density.
pub fn rgb_to_od(src: &Array3<f32>, i0: f32) -> Array3<f32> {
    src.mapv(|v| -(v.max(1.0) / i0).ln())
}

/// Intensity `i0 * exp(-od)` per channel.
pub fn od_to_rgb(src: &Array3<f32>, i0: f32) -> Array3<f32> {
    src.mapv(|od| i0 * (-od).exp())
}

/// Ruifrok and Johnston's stain vectors (rows: haematoxylin, eosin, DAB;
/// columns: R, G, B optical density), the matrix scikit-image and most
/// pathology tools use for colour deconvolution.
pub const RGB_FROM_HED: [[f64; 3]; 3] =
    [[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]];

fn normalized_rows(m: [[f64; 3]; 3]) -> [[f64; 3]; 3] {
    m.map(|r| {
        let n = (r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).sqrt();
        r.map(|v| v / n)
    })
}

/// RGB (`0..=255`) to HED stain concentrations by colour deconvolution:
/// `od = hed · M` with `M` the row-normalised [`RGB_FROM_HED`] and OD
/// relative to 255.
pub fn rgb_to_hed(src: &Array3<f32>) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "RGB to HED")?;
    let m = normalized_rows(RGB_FROM_HED);
    let inv = invert3(m).ok_or_else(|| ImageError::Unsupported("singular stain matrix".into()))?;
    let od = rgb_to_od(src, 255.0);
    Ok(map_pixels3(&od, |p| {
        let mut out = [0f32; 3];
        for (k, o) in out.iter_mut().enumerate() {
            *o = (p[0] as f64 * inv[0][k] + p[1] as f64 * inv[1][k] + p[2] as f64 * inv[2][k])
                as f32;
        }
        out
    }))
}

/// Inverse of [`rgb_to_hed`]: RGB in `0..=255` (not clamped).
pub fn hed_to_rgb(src: &Array3<f32>) -> Result<Array3<f32>, ImageError> {
    check_channels(src, 3, "HED to RGB")?;
    let m = normalized_rows(RGB_FROM_HED);
    let od = map_pixels3(src, |p| {
        let mut out = [0f32; 3];
        for (k, o) in out.iter_mut().enumerate() {
            *o = (p[0] as f64 * m[0][k] + p[1] as f64 * m[1][k] + p[2] as f64 * m[2][k]) as f32;
        }
        out
    });
    Ok(od_to_rgb(&od, 255.0))
}

/// The conventional sample maximum of an element type: the type's maximum
/// for integers, 1 for floats.
pub fn nominal_max(dtype: DataType) -> f32 {
    match dtype {
        DataType::F32 | DataType::F64 => 1.0,
        t => t.range().1 as f32,
    }
}

// Stored HSV images keep hue and saturation on the sample scale (hue
// 0..360 degrees as 0..max, saturation 0..1 as 0..max) so 8-bit HSV keeps
// its precision; float images (max = 1) hold hue/360 and saturation.
fn hsv_to_storage(mut a: Array3<f32>, max: f32) -> Array3<f32> {
    a.lanes_mut(NdAxis(2)).into_iter().for_each(|mut p| {
        p[0] = p[0] / 360.0 * max;
        p[1] *= max;
    });
    a
}

fn hsv_from_storage(mut a: Array3<f32>, max: f32) -> Array3<f32> {
    a.lanes_mut(NdAxis(2)).into_iter().for_each(|mut p| {
        p[0] = p[0] / max * 360.0;
        p[1] /= max;
    });
    a
}

/// Converts a 2-D image between colour types (gray, RGB, RGBA, HSV,
/// YCbCr), keeping its element type. RGBA drops or adds an opaque alpha.
/// Stored HSV puts hue (as a fraction of 360 degrees) and saturation on
/// the sample scale `0..=max` ([`nominal_max`]); value is the RGB maximum.
pub fn convert_color(img: &Image, to: ColorType) -> Result<Image, ImageError> {
    let from = img.color();
    if from == to {
        return Ok(img.clone());
    }
    if let (ColorType::Rgb | ColorType::Rgba, ColorType::Gray) = (from, to) {
        if let Some((bytes, (h, w, c))) = super::fixed::image_bytes(img)? {
            if let Some(g) = super::fixed::rgb_to_gray_u8(&bytes, c) {
                let mut r = super::fixed::bytes_image(img, g, (h, w, 1))?;
                r.set_color(ColorType::Gray);
                return Ok(r);
            }
        }
    }
    let max = nominal_max(img.dtype());
    let a = img.to_hwc_f32()?;
    // Through RGB: every supported type converts to and from it.
    let rgb = match from {
        ColorType::Rgb => a,
        ColorType::Gray => gray_to_rgb(&a)?,
        ColorType::Rgba => a.slice(ndarray::s![.., .., 0..3]).to_owned(),
        ColorType::Hsv => hsv_to_rgb(&hsv_from_storage(a, max))?,
        ColorType::YCbCr => ycbcr_to_rgb(&a, max)?,
        ColorType::None => {
            return Err(ImageError::Unsupported(
                "the image has no colour type; set one before converting".into(),
            ))
        }
    };
    let out = match to {
        ColorType::Rgb => rgb,
        ColorType::Gray => rgb_to_gray(&rgb)?,
        ColorType::Rgba => {
            let (h, w, _) = rgb.dim();
            Array3::from_shape_fn(
                (h, w, 4),
                |(y, x, c)| if c < 3 { rgb[[y, x, c]] } else { max },
            )
        }
        ColorType::Hsv => hsv_to_storage(rgb_to_hsv(&rgb)?, max),
        ColorType::YCbCr => rgb_to_ycbcr(&rgb, max)?,
        ColorType::None => rgb,
    };
    let mut r = img.with_hwc_f32(out, img.dtype());
    r.set_color(to);
    Ok(r)
}
