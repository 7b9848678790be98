//! Truncated, corrupted and absurd files: typed errors, never a panic, never
//! an allocation sized by an unchecked header field.

mod common;

use exahealth_slide::tiff::parse_bytes;
use exahealth_slide::{Slide, SlideError};

/// Little-endian classic TIFF with one directory of (tag, type, count, value).
fn tiff_with(entries: &[(u16, u16, u32, u32)]) -> Vec<u8> {
    let mut v = b"II*\0".to_vec();
    v.extend_from_slice(&8u32.to_le_bytes());
    v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for &(tag, typ, count, value) in entries {
        v.extend_from_slice(&tag.to_le_bytes());
        v.extend_from_slice(&typ.to_le_bytes());
        v.extend_from_slice(&count.to_le_bytes());
        v.extend_from_slice(&value.to_le_bytes());
    }
    v.extend_from_slice(&0u32.to_le_bytes());
    v
}

fn open_bytes(bytes: &[u8]) -> Result<Slide, SlideError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tiff");
    std::fs::write(&path, bytes).unwrap();
    Slide::open(&path)
}

#[test]
fn absurd_tile_counts_and_offsets_are_typed_errors() {
    // 4 billion tile offsets stored past the end of a tiny file.
    let t = tiff_with(&[
        (256, 4, 1, 1 << 30),
        (257, 4, 1, 1 << 30),
        (322, 3, 1, 256),
        (323, 3, 1, 256),
        (324, 4, u32::MAX, 100),
        (325, 4, u32::MAX, 100),
    ]);
    let e = parse_bytes(&t).unwrap_err();
    assert!(matches!(e, SlideError::Malformed { .. }), "{e}");
    // Plausible header, tile grid larger than the offsets it lists.
    let t = tiff_with(&[
        (256, 4, 1, 1 << 30),
        (257, 4, 1, 1 << 30),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (277, 3, 1, 1),
        (322, 3, 1, 256),
        (323, 3, 1, 256),
        (324, 4, 1, 0),
        (325, 4, 1, 10),
    ]);
    let e = open_bytes(&t).unwrap_err();
    assert!(matches!(e, SlideError::Malformed { .. }), "{e}");
    assert!(e.to_string().contains("tile"), "{e}");
    // Absurd tile size.
    let t = tiff_with(&[
        (256, 4, 1, 100),
        (257, 4, 1, 100),
        (322, 4, 1, 1 << 20),
        (323, 4, 1, 1 << 20),
        (324, 4, 1, 0),
        (325, 4, 1, 10),
    ]);
    assert!(open_bytes(&t).is_err());
    // Unsupported compression names itself.
    let t = tiff_with(&[
        (256, 4, 1, 16),
        (257, 4, 1, 16),
        (259, 3, 1, 34892),
        (277, 3, 1, 3),
        (258, 3, 1, 8),
        (322, 3, 1, 16),
        (323, 3, 1, 16),
        (324, 4, 1, 0),
        (325, 4, 1, 10),
    ]);
    let e = open_bytes(&t).unwrap_err();
    assert!(
        matches!(e, SlideError::Unsupported { .. }) && e.to_string().contains("34892"),
        "{e}"
    );
}

#[test]
fn directory_loops_and_garbage_are_rejected() {
    let mut t = tiff_with(&[(256, 4, 1, 16)]);
    let n = t.len();
    t[n - 4..].copy_from_slice(&8u32.to_le_bytes());
    let e = parse_bytes(&t).unwrap_err();
    assert!(e.to_string().contains("loops"), "{e}");
    assert!(matches!(
        parse_bytes(b"GIF89a....."),
        Err(SlideError::UnknownFormat { .. })
    ));
    assert!(parse_bytes(b"II*\0").is_err());
    assert!(parse_bytes(b"II+\0\x08\0\0\0\xff\xff\xff\xff\xff\xff\xff\xff").is_err());
}

/// Every prefix and many single-byte corruptions of each real TIFF-based
/// slide either open and read or fail with an error; nothing panics.
#[test]
fn truncated_and_corrupted_real_slides_never_panic() {
    let Some(dir) = common::testdata() else {
        return;
    };
    for rel in [
        "wsi/aperio/openslide-small.svs",
        "wsi/generic-tiff/boxes.tiff",
        "wsi/aperio/CMU-1-Small-Region.svs",
        "wsi/ndpi/test3-DAPI-2-387.ndpi",
    ] {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.tiff");
        let try_bytes = |b: &[u8]| {
            std::fs::write(&path, b).unwrap();
            if let Ok(s) = Slide::open(&path) {
                let (w, h) = s.level_dimensions()[0];
                for level in 0..s.level_count() {
                    let _ = s.read_region((w / 3) as i64, (h / 3) as i64, level, 64, 64);
                }
                for name in s.associated_image_names() {
                    let _ = s.read_associated_image(name);
                }
            }
        };
        // Prefixes: dense near the header, sparse after.
        let mut cut = 0usize;
        while cut < bytes.len() {
            try_bytes(&bytes[..cut]);
            cut += if cut < 512 { 7 } else { bytes.len() / 40 + 1 };
        }
        // Corrupt bytes in the header and directories with a fixed LCG.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..60 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let mut b = bytes.clone();
            let region = if state % 2 == 0 {
                4096.min(b.len())
            } else {
                b.len()
            };
            let at = (state >> 33) as usize % region;
            b[at] ^= (state >> 24) as u8 | 1;
            try_bytes(&b);
        }
    }
}

/// DICOM headers and item tables: every prefix and many corruptions of real
/// files give an index or an error, never a panic.
#[test]
fn truncated_and_corrupted_dicom_never_panics() {
    let Some(dir) = common::testdata() else {
        return;
    };
    for rel in [
        "wsi/dicom-wsi/highdicom_sm_image.dcm",
        "wsi/dicom-wsi/openslide_boxes_0.dcm",
        "wsi/dicom-wsi/cmu-1-small-region/level-3-frames-0-1.dcm",
        "dicom/MR_small_implicit.dcm",
    ] {
        let bytes = std::fs::read(dir.join(rel)).unwrap();
        for cut in (0..bytes.len()).step_by(bytes.len() / 300 + 1) {
            let _ = exahealth_slide::parse_frame_index(&bytes[..cut]);
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..300 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let mut b = bytes.clone();
            let at = (state >> 33) as usize % b.len().min(8192);
            b[at] ^= (state >> 24) as u8 | 1;
            let _ = exahealth_slide::parse_frame_index(&b);
        }
    }
}
