//! PNG / JPEG / TIFF through `io::read` and `io::write`, and format sniffing.

use exahealth_image::io;
use exahealth_image::{ColorType, DataType, Image, ImageData};
use ndarray::{ArrayD, IxDyn};

fn rgb() -> Image {
    let px: Vec<u8> = (0..32 * 24 * 3).map(|i| ((i * 37) % 251) as u8).collect();
    Image::from_hwc_u8(32, 24, 3, px, ColorType::Rgb).unwrap()
}

#[test]
fn png_and_tiff_are_lossless() {
    let tmp = tempfile::tempdir().unwrap();
    let gray16 = Image::new(
        ImageData::U16(ArrayD::from_shape_fn(IxDyn(&[20, 30]), |i| {
            (i[0] * 3000 + i[1]) as u16
        })),
        "xy",
        ColorType::Gray,
    )
    .unwrap();
    for img in [rgb(), gray16] {
        for ext in ["png", "tif"] {
            let p = tmp.path().join(format!("a.{ext}"));
            io::write(&p, &img).unwrap();
            let back = io::read(&p).unwrap();
            assert_eq!(back.data(), img.data(), "{ext}");
            assert_eq!(back.layout(), img.layout(), "{ext}");
        }
    }
}

#[test]
fn jpeg_is_close() {
    let tmp = tempfile::tempdir().unwrap();
    // A smooth image so that JPEG's loss stays small.
    let a = ArrayD::from_shape_fn(IxDyn(&[32, 48]), |i| (i[0] * 4 + i[1] * 2) as u8);
    let img = Image::new(ImageData::U8(a), "xy", ColorType::Gray).unwrap();
    let p = tmp.path().join("a.jpg");
    io::write(&p, &img).unwrap();
    assert_eq!(io::detect(&p).unwrap(), io::Format::Jpeg);
    let back = io::read(&p).unwrap();
    assert_eq!(back.dims(), img.dims());
    let (f, g) = (img.data().to_f64(), back.data().to_f64());
    let max = f
        .iter()
        .zip(g.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(max <= 8.0, "max |diff| {max}");
}

#[test]
fn volumes_and_wide_types_are_refused_for_pictures() {
    let tmp = tempfile::tempdir().unwrap();
    let vol = Image::new(
        ImageData::U8(ArrayD::zeros(IxDyn(&[3, 4, 5]))),
        "xyz",
        ColorType::Gray,
    )
    .unwrap();
    assert!(io::write(tmp.path().join("v.png"), &vol).is_err());
    let f = Image::new(
        ImageData::F32(ArrayD::zeros(IxDyn(&[4, 5]))),
        "xy",
        ColorType::Gray,
    )
    .unwrap();
    assert!(io::write(tmp.path().join("f.png"), &f).is_err());
    assert!(io::write(tmp.path().join("x.unknown"), &rgb()).is_err());
    // Nothing half-written is left behind.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn display_u8_scales_to_the_full_range() {
    let a = ArrayD::from_shape_fn(IxDyn(&[2, 50]), |i| (i[1] as i16) * 20 - 300);
    let img = Image::new(ImageData::I16(a), "xy", ColorType::Gray).unwrap();
    let d = io::to_display_u8(&img, None).unwrap();
    assert_eq!(d.dtype(), DataType::U8);
    let ImageData::U8(u) = d.data() else { panic!() };
    assert_eq!(*u.iter().min().unwrap(), 0);
    assert_eq!(*u.iter().max().unwrap(), 255);
    // Monotonic along x.
    for x in 1..50 {
        assert!(u[[0, x]] >= u[[0, x - 1]]);
    }
}

#[test]
fn sniffing_ignores_extensions() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("really_a_png.dcm.png");
    io::write(&p, &rgb()).unwrap();
    let renamed = tmp.path().join("misleading.nii");
    std::fs::rename(&p, &renamed).unwrap();
    assert_eq!(io::detect(&renamed).unwrap(), io::Format::Png);
    assert_eq!(io::read(&renamed).unwrap().data(), rgb().data());
    std::fs::write(
        tmp.path().join("junk.bin"),
        b"not an image at all, just text",
    )
    .unwrap();
    assert!(io::read(tmp.path().join("junk.bin")).is_err());
}
