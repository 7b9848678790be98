//! Decodes the JPEG-LS DICOM files from shared/testdata and compares them
//! with their uncompressed twins (lossless) or with reference checksums
//! (near-lossless).

mod common;

use common::*;
use exahealth_codec::{decode_jpegls, JlsImage, JlsSamples};

fn decode_frames(rel: &str) -> Option<Vec<JlsImage>> {
    let file = read_testdata(rel)?;
    let frames = encapsulated_frames(&file);
    assert!(!frames.is_empty(), "{rel}: no frames");
    Some(
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| decode_jpegls(f).unwrap_or_else(|e| panic!("{rel} frame {i}: {e}")))
            .collect(),
    )
}

#[test]
fn mr_small_lossless_matches_uncompressed() {
    let (Some(images), Some(twin)) = (
        decode_frames("dicom/MR_small_jpeg_ls_lossless.dcm"),
        read_testdata("dicom/MR_small.dcm"),
    ) else {
        return;
    };
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(
        (img.width, img.height, img.components, img.bits_per_sample),
        (64, 64, 1, 16)
    );
    // The twin stores signed 16-bit samples; JPEG-LS codes the same bit patterns.
    let expected = le_u16(native_pixels(&twin, 64 * 64 * 2));
    assert_eq!(img.samples, JlsSamples::U16(expected));
}

#[test]
fn emri_small_lossless_matches_uncompressed() {
    let (Some(images), Some(twin)) = (
        decode_frames("dicom/emri_small_jpeg_ls_lossless.dcm"),
        read_testdata("dicom/emri_small.dcm"),
    ) else {
        return;
    };
    assert_eq!(images.len(), 10);
    let expected = le_u16(native_pixels(&twin, 10 * 64 * 64 * 2));
    for (i, img) in images.iter().enumerate() {
        assert_eq!(
            (img.width, img.height, img.components),
            (64, 64, 1),
            "frame {i}"
        );
        let frame = expected[i * 4096..(i + 1) * 4096].to_vec();
        assert_eq!(img.samples, JlsSamples::U16(frame), "frame {i}");
    }
}

#[test]
fn wsi_rgb_sample_interleaved_matches_uncompressed() {
    let (Some(images), Some(twin)) = (
        decode_frames("wsi/dicom-wsi/highdicom_sm_image_jpegls.dcm"),
        read_testdata("wsi/dicom-wsi/highdicom_sm_image.dcm"),
    ) else {
        return;
    };
    assert_eq!(images.len(), 25);
    let frame_len = 10 * 10 * 3;
    let expected = native_pixels(&twin, 25 * frame_len);
    for (i, img) in images.iter().enumerate() {
        assert_eq!(
            (img.width, img.height, img.components, img.bits_per_sample),
            (10, 10, 3, 8),
            "frame {i}"
        );
        let frame = expected[i * frame_len..(i + 1) * frame_len].to_vec();
        assert_eq!(img.samples, JlsSamples::U8(frame), "frame {i}");
    }
}

struct Reference {
    width: u32,
    height: u32,
    bits: u8,
    min: u16,
    max: u16,
    sum: u64,
    fnv: u64,
}

// Reference values were computed once by hand with two independent decoders,
// CharLS 2.4.3 (imagecodecs.jpegls_decode) and libjpeg (pylibjpeg-libjpeg
// 2.5.0), which agree sample for sample; `fnv` is FNV-1a 64 over the samples
// as little-endian u16 (see common::fnv1a_u16).
fn check_near_lossless(rel: &str, r: &Reference) {
    let Some(images) = decode_frames(rel) else {
        return;
    };
    assert_eq!(images.len(), 1);
    let img = &images[0];
    assert_eq!(
        (img.width, img.height, img.components, img.bits_per_sample),
        (r.width, r.height, 1, r.bits)
    );
    let s = as_u16(&img.samples);
    assert_eq!(s.len(), (r.width * r.height) as usize);
    assert_eq!(*s.iter().min().unwrap(), r.min);
    assert_eq!(*s.iter().max().unwrap(), r.max);
    assert_eq!(s.iter().map(|&v| u64::from(v)).sum::<u64>(), r.sum);
    assert_eq!(
        fnv1a_u16(&s),
        r.fnv,
        "{rel}: samples differ from the reference decoders"
    );
}

#[test]
fn sc1_near_lossless_matches_reference_decoders() {
    // NEAR=4, 12-bit, 2048 columns x 2487 rows, explicit LSE thresholds.
    check_near_lossless(
        "dicom/SC1_JLSN.dcm",
        &Reference {
            width: 2048,
            height: 2487,
            bits: 12,
            min: 45,
            max: 3604,
            sum: 3_082_727_000,
            fnv: 0x3e32_e05c_9f5f_4270,
        },
    );
}

#[test]
fn near_lossless_16bit_matches_reference_decoders() {
    // NEAR=2, 16-bit, 10 columns x 50 rows.
    check_near_lossless(
        "dicom/JPEGLSNearLossless_16.dcm",
        &Reference {
            width: 10,
            height: 50,
            bits: 16,
            min: 0,
            max: 65535,
            sum: 6_007_250,
            fnv: 0xfcd9_d20d_9e51_971d,
        },
    );
}
