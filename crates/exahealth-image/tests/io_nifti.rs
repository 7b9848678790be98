//! NIfTI-1/2 reading on ../shared/testdata/nifti (shapes, types and zooms as
//! nibabel reports them in SOURCES.md) and NIfTI-1 writing round trips.

use std::path::PathBuf;

use exahealth_image::io::{self, nifti};
use exahealth_image::{Axis, ColorType, DataType, Image, ImageData};
use ndarray::{ArrayD, IxDyn};

fn testdata() -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "nifti")
}

#[test]
fn shapes_types_and_zooms_match_nibabel() {
    let Some(d) = testdata() else { return };
    // (file, nibabel shape, dtype, zooms) from SOURCES.md.
    let cases: [(&str, &[usize], DataType, &[f64]); 8] = [
        (
            "example4d.nii.gz",
            &[128, 96, 24, 2],
            DataType::I16,
            &[2.0, 2.0, 2.2, 2000.0],
        ),
        (
            "anatomical.nii",
            &[33, 41, 25],
            DataType::I16,
            &[2.0, 2.0, 2.0],
        ),
        (
            "functional.nii",
            &[17, 21, 3, 20],
            DataType::I16,
            &[4.0, 4.0, 8.0, 2.0],
        ),
        (
            "example_nifti2.nii.gz",
            &[32, 20, 12, 2],
            DataType::I16,
            &[2.0, 2.0, 2.2, 2000.0],
        ),
        (
            "standard.nii.gz",
            &[4, 5, 7],
            DataType::U8,
            &[1.0, 3.0, 2.0],
        ),
        (
            "neurovault_image_10426.nii.gz",
            &[53, 63, 46],
            DataType::F32,
            &[3.0, 3.0, 3.0],
        ),
        (
            "dipy_small_64D.nii",
            &[10, 10, 10, 65],
            DataType::I16,
            &[2.0, 2.0, 2.0, 1.0],
        ),
        (
            "dipy_S0_10slices.nii.gz",
            &[128, 128, 10, 1],
            DataType::U16,
            &[2.0, 2.0, 53.141, 1.0],
        ),
    ];
    for (name, shape, dtype, zooms) in cases {
        let img = io::read(d.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(img.dims(), shape, "{name}");
        assert_eq!(img.dtype(), dtype, "{name}");
        assert_eq!(&img.layout(), &"xyzt"[..shape.len()], "{name}");
        for (ax, z) in [Axis::X, Axis::Y, Axis::Z, Axis::T].iter().zip(zooms) {
            assert!(
                (img.spacing_of(*ax) - z).abs() < 1e-3,
                "{name} {ax:?}: {} vs {z}",
                img.spacing_of(*ax)
            );
        }
    }
    let n2 = io::read(d.join("example_nifti2.nii.gz")).unwrap();
    assert_eq!(n2.meta["format"], "nifti2");
    let be = io::read(d.join("anatomical.nii")).unwrap();
    assert_eq!(be.meta["nifti.endian"], "big");
}

#[test]
fn write_then_read_keeps_voxels_affine_and_scaling() {
    let Some(d) = testdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "example4d.nii.gz",
        "anatomical.nii",
        "neurovault_image_10426.nii.gz",
        "standard.nii.gz",
    ] {
        let img = io::read(d.join(name)).unwrap();
        for ext in ["nii", "nii.gz"] {
            let out = tmp.path().join(format!("out.{ext}"));
            io::write(&out, &img).unwrap();
            let back = io::read(&out).unwrap();
            assert_eq!(back.data(), img.data(), "{name} .{ext}");
            assert_eq!(back.dims(), img.dims(), "{name}");
            assert_eq!(back.spacing(), img.spacing(), "{name}");
            let fa: Vec<f64> = img.meta["affine"]
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect();
            let fb: Vec<f64> = back.meta["affine"]
                .split(',')
                .map(|v| v.parse().unwrap())
                .collect();
            for (x, y) in fa.iter().zip(&fb) {
                assert!(
                    (x - y).abs() < 1e-4 * x.abs().max(1.0),
                    "{name} affine {fa:?} vs {fb:?}"
                );
            }
            assert_eq!(
                back.meta.get("rescale_slope"),
                img.meta.get("rescale_slope"),
                "{name}"
            );
        }
    }
}

#[test]
fn generated_rgb_and_float_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let px: Vec<u8> = (0..4 * 5 * 3).map(|i| (i * 7 % 256) as u8).collect();
    let rgb = Image::from_hwc_u8(5, 4, 3, px, ColorType::Rgb).unwrap();
    let out = tmp.path().join("rgb.nii");
    io::write(&out, &rgb).unwrap();
    let back = io::read(&out).unwrap();
    assert_eq!(back.meta["nifti.datatype"], "128");
    assert_eq!(back.color(), ColorType::Rgb);
    assert_eq!(back.to_layout("cxy").unwrap().data(), rgb.data());

    let a = ArrayD::from_shape_fn(IxDyn(&[3, 4, 5]), |i| {
        (i[0] * 100 + i[1] * 10 + i[2]) as f64 * 0.5 - 7.0
    });
    let mut vol = Image::new(ImageData::F64(a), "xyz", ColorType::None).unwrap();
    vol.set_spacing(Axis::Z, 2.5);
    let out = tmp.path().join("f.nii.gz");
    io::write(&out, &vol).unwrap();
    let back = io::read(&out).unwrap();
    assert_eq!(back.data(), vol.data());
    assert_eq!(back.spacing_of(Axis::Z), 2.5);
}

#[test]
fn forged_headers_are_errors() {
    let Some(d) = testdata() else { return };
    let good = std::fs::read(d.join("functional.nii")).unwrap();
    // dim[1] = 32767 x ... describes far more data than the file holds.
    let mut big = good.clone();
    big[42..44].copy_from_slice(&32767i16.to_le_bytes());
    big[44..46].copy_from_slice(&32767i16.to_le_bytes());
    assert!(io::read_bytes(big).is_err());
    // vox_offset inside the header.
    let mut off = good.clone();
    off[108..112].copy_from_slice(&10f32.to_le_bytes());
    assert!(io::read_bytes(off).is_err());
    // Unknown datatype code.
    let mut dt = good.clone();
    dt[70..72].copy_from_slice(&999i16.to_le_bytes());
    assert!(io::read_bytes(dt).is_err());
    // dim[0] out of range.
    let mut nd = good;
    nd[40..42].copy_from_slice(&9i16.to_le_bytes());
    assert!(nifti::parse_header(&nd).is_err());
}
