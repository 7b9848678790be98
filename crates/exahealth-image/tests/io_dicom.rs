//! DICOM reading and writing on the real files in ../shared/testdata/dicom.
//! The pixel values themselves are checked against pydicom by
//! bench/compare_images.py; these tests check what must agree within our
//! own reader (one image in many transfer syntaxes, framing variants,
//! series geometry, display and the Secondary Capture round trip).

use std::path::{Path, PathBuf};

use exahealth_image::io;
use exahealth_image::{Axis, ColorType, DataType, ImageData, ImageError};

fn testdata() -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "dicom")
}

fn read(dir: &Path, name: &str) -> exahealth_image::Image {
    io::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn one_image_in_seven_transfer_syntaxes_reads_the_same() {
    let Some(d) = testdata() else { return };
    let reference = read(&d, "MR_small.dcm");
    assert_eq!(reference.layout(), "xy");
    assert_eq!(reference.dims(), vec![64, 64]);
    assert_eq!(reference.dtype(), DataType::I16);
    for name in [
        "MR_small_implicit.dcm",
        "MR_small_bigendian.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "MR_small_jp2klossless.dcm",
    ] {
        let img = read(&d, name);
        assert_eq!(
            img.data(),
            reference.data(),
            "{name} differs from MR_small.dcm"
        );
        assert_eq!(img.spacing(), reference.spacing(), "{name}");
    }
}

#[test]
fn multi_frame_in_four_syntaxes() {
    let Some(d) = testdata() else { return };
    let reference = read(&d, "emri_small.dcm");
    assert_eq!(reference.layout(), "xyz");
    assert_eq!(reference.dims(), vec![64, 64, 10]);
    for name in [
        "emri_small_RLE.dcm",
        "emri_small_jpeg_ls_lossless.dcm",
        "emri_small_jpeg_2k_lossless.dcm",
    ] {
        assert_eq!(read(&d, name).data(), reference.data(), "{name}");
    }
}

/// Byte offset of the data set after the file-meta group.
fn dataset_start(bytes: &[u8]) -> usize {
    assert_eq!(&bytes[128..132], b"DICM");
    // (0002,0000) UL, explicit VR: tag 4 + VR 2 + len 2 + value 4.
    let group_len = u32::from_le_bytes(bytes[140..144].try_into().unwrap()) as usize;
    144 + group_len
}

#[test]
fn files_without_preamble_or_meta_group_still_read() {
    let Some(d) = testdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for name in ["MR_small_implicit.dcm", "MR_small.dcm"] {
        let bytes = std::fs::read(d.join(name)).unwrap();
        let reference = io::read_bytes(bytes.clone()).unwrap();
        // No preamble: starts at "DICM".
        let p = tmp.path().join("no_preamble");
        std::fs::write(&p, &bytes[128..]).unwrap();
        assert_eq!(
            io::read(&p).unwrap().data(),
            reference.data(),
            "{name} without preamble"
        );
        // No preamble, no magic, no meta group: a bare data set.
        let p = tmp.path().join("bare");
        std::fs::write(&p, &bytes[dataset_start(&bytes)..]).unwrap();
        assert_eq!(io::detect(&p).unwrap(), io::Format::Dicom);
        let img = io::read(&p).unwrap_or_else(|e| panic!("{name} as a bare data set: {e}"));
        assert_eq!(img.data(), reference.data(), "{name} as a bare data set");
    }
}

#[test]
fn gzipped_dicom_reads() {
    let Some(d) = testdata() else { return };
    let img = read(&d, "nibabel_siemens_dwi_1000.dcm.gz");
    assert_eq!(img.dims(), vec![896, 896]);
    assert_eq!(img.meta.get("modality").map(String::as_str), Some("MR"));
}

#[test]
fn non_image_objects_give_no_pixel_data() {
    let Some(d) = testdata() else { return };
    let ann = d.join("../annotations/highdicom_sm_annotations.dcm");
    if !ann.is_file() {
        exahealth_base::testdata::absent::<()>(&ann.display().to_string());
        return;
    }
    match io::read(&ann) {
        Err(ImageError::NoPixelData { path, what }) => {
            assert!(
                path.ends_with("highdicom_sm_annotations.dcm"),
                "{}",
                path.display()
            );
            assert!(what.contains("annotations"), "{what}");
        }
        other => panic!("expected NoPixelData, got {other:?}"),
    }
}

#[test]
fn colour_files_are_rgb_interleaved() {
    let Some(d) = testdata() else { return };
    for name in [
        "barre_US-RGB-8-epicard.dcm",
        "SC_rgb_jpeg_dcmtk.dcm",
        "US1_J2KI.dcm",
    ] {
        let img = read(&d, name);
        assert_eq!(img.layout(), "cxy", "{name}");
        assert_eq!(img.color(), ColorType::Rgb, "{name}");
        assert_eq!(img.len_of(Axis::C), 3);
    }
}

#[test]
fn series_folder_is_a_sorted_volume() {
    let Some(d) = testdata() else { return };
    let dir = d.join("ct_series_TCGA-34-2605");
    let vol = io::read(&dir).unwrap();
    assert_eq!(vol.layout(), "xyz");
    assert_eq!(vol.dims(), vec![512, 512, 10]);
    assert_eq!(
        vol.meta.get("format").map(String::as_str),
        Some("dicom-series")
    );
    // 5 mm slices (SOURCES.md); x/y spacing is the slices' own PixelSpacing.
    assert!(
        (vol.spacing_of(Axis::Z) - 5.0).abs() < 1e-6,
        "{}",
        vol.spacing_of(Axis::Z)
    );
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let slices: Vec<_> = files.iter().map(|f| io::read(f).unwrap()).collect();
    assert_eq!(vol.spacing_of(Axis::X), slices[0].spacing_of(Axis::X));
    // Every volume slice is one of the files, in increasing position along
    // the normal (z of ImagePositionPatient for these axial slices).
    let z_of = |img: &exahealth_image::Image| -> f64 {
        img.meta["dicom.image_position_patient"]
            .split(',')
            .nth(2)
            .unwrap()
            .parse()
            .unwrap()
    };
    let mut last = f64::NEG_INFINITY;
    for k in 0..10 {
        let s = vol.index_axis(Axis::Z, k).unwrap();
        let src = slices
            .iter()
            .find(|f| f.data() == s.data())
            .expect("slice from a file");
        let z = z_of(src);
        assert!(z > last, "slice {k} at z={z} after z={last}");
        last = z;
    }
    // The affine's z column is the slice step (RAS: z unchanged from LPS).
    let aff: Vec<f64> = vol.meta["affine"]
        .split(',')
        .map(|v| v.parse().unwrap())
        .collect();
    assert!((aff[10] - 5.0).abs() < 1e-6, "affine {aff:?}");
}

#[test]
fn modality_lut_and_window() {
    let Some(d) = testdata() else { return };
    let ct = read(&d, "CT_small.dcm");
    let slope: f64 = ct.meta["rescale_slope"].parse().unwrap();
    let inter: f64 = ct.meta["rescale_intercept"].parse().unwrap();
    let hu = io::modality_lut(&ct);
    let (ImageData::I16(raw), ImageData::F32(f)) = (ct.data(), hu.data()) else {
        panic!("types {:?} {:?}", ct.dtype(), hu.dtype())
    };
    for (r, h) in raw.iter().zip(f.iter()).step_by(97) {
        assert_eq!(*h as f64, *r as f64 * slope + inter);
    }
    // A window of width 1 at c is a threshold: <= c - 0.5 black, > c - 0.5 white.
    let disp = io::to_display_u8(&ct, Some((0.5, 1.0))).unwrap();
    let ImageData::U8(u) = disp.data() else {
        panic!()
    };
    for (h, v) in f.iter().zip(u.iter()) {
        assert_eq!(*v, if *h > 0.0 { 255 } else { 0 });
    }
    // MONOCHROME1: the largest stored value displays darkest.
    let dx = read(&d, "highdicom_dx_image.dcm");
    assert_eq!(dx.meta["photometric_interpretation"], "MONOCHROME1");
    let disp = io::to_display_u8(&dx, None).unwrap();
    let (ImageData::U8(raw), ImageData::U8(out)) = (dx.data(), disp.data()) else {
        panic!()
    };
    let (max, min) = (*raw.iter().max().unwrap(), *raw.iter().min().unwrap());
    let (dark, bright) = (*out.iter().min().unwrap(), *out.iter().max().unwrap());
    assert!(bright > dark);
    for (r, o) in raw.iter().zip(out.iter()) {
        if *r == max {
            assert_eq!(*o, dark, "the largest stored value must display darkest");
        }
        if *r == min {
            assert_eq!(
                *o, bright,
                "the smallest stored value must display brightest"
            );
        }
    }
}

#[test]
fn secondary_capture_round_trip() {
    let Some(d) = testdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "CT_small.dcm",
        "US1_J2KI.dcm",
        "barre_MR-MONO2-8-16x-heart.dcm",
    ] {
        let img = read(&d, name);
        let out = tmp.path().join(format!("{name}.sc.dcm"));
        io::write(&out, &img).unwrap();
        let back = io::read(&out).unwrap();
        assert_eq!(back.data(), img.data(), "{name}");
        assert_eq!(back.layout(), img.layout(), "{name}");
        assert_eq!(back.spacing_of(Axis::X), img.spacing_of(Axis::X), "{name}");
        assert_eq!(
            back.meta.get("dicom.sop_class_uid").map(String::as_str),
            Some("1.2.840.10008.5.1.4.1.1.7")
        );
        assert_eq!(
            back.meta.get("rescale_intercept"),
            img.meta.get("rescale_intercept"),
            "{name}"
        );
    }
    // Types a Secondary Capture cannot hold are refused, not mangled.
    let f = io::modality_lut(&read(&d, "CT_small.dcm"));
    assert!(io::write(tmp.path().join("f.dcm"), &f).is_err());
}
