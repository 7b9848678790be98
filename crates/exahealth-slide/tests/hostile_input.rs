//! Truncated, corrupted and absurd files: typed errors, never a panic, never
//! an allocation sized by an unchecked header field.

mod common;

use exahealth_slide::tiff::parse_bytes;
use exahealth_slide::{Slide, SlideError};
use std::error::Error;

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

// ---------------------------------------------------------------------------
// Files crafted byte by byte: each asks for far more than its size, or lies
// about what its data holds.

use exahealth_base::budget;

/// Every test below runs with the same small budget, so a decode that asks
/// for a gigabyte is refused on any machine, whatever runs beside it.
fn small_budget() {
    budget::set_limit(256 << 20);
}

type Entry = (u16, u16, u32, u32);

/// Bytes that directories of these entry counts take after the 8-byte
/// header: where data appended by [`tiff_dirs`] starts.
fn dirs_end(counts: &[usize]) -> u32 {
    8 + counts.iter().map(|&n| 2 + 12 * n as u32 + 4).sum::<u32>()
}

/// Little-endian classic TIFF: the directories one after the other, then
/// `tail` (which entries point into, at `dirs_end` and after).
fn tiff_dirs(dirs: &[Vec<Entry>], tail: &[u8]) -> Vec<u8> {
    let mut v = b"II*\0".to_vec();
    v.extend_from_slice(&8u32.to_le_bytes());
    let counts: Vec<usize> = dirs.iter().map(Vec::len).collect();
    for (i, entries) in dirs.iter().enumerate() {
        v.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for &(tag, typ, count, value) in entries {
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&typ.to_le_bytes());
            v.extend_from_slice(&count.to_le_bytes());
            v.extend_from_slice(&value.to_le_bytes());
        }
        let next = if i + 1 < dirs.len() {
            dirs_end(&counts[..=i])
        } else {
            0
        };
        v.extend_from_slice(&next.to_le_bytes());
    }
    v.extend_from_slice(tail);
    v
}

/// A 16 x 16 uncompressed grayscale tiled level whose one tile starts at
/// `tile_at`, plus `extra` entries.
fn small_level(tile_at: u32, extra: &[Entry]) -> Vec<Entry> {
    let mut e = vec![
        (256, 4, 1, 16),
        (257, 4, 1, 16),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (277, 3, 1, 1),
        (322, 3, 1, 16),
        (323, 3, 1, 16),
        (324, 4, 1, tile_at),
        (325, 4, 1, 256),
    ];
    e.extend_from_slice(extra);
    e.sort_by_key(|e| e.0);
    e
}

#[test]
fn tags_that_all_point_at_one_block_are_refused() {
    small_budget();
    // A 256 KiB block of BYTE values, claimed whole by many tags: each copy
    // is widened to 8 bytes a value, 2 MiB, from a file of 256 KiB.
    let block = vec![7u8; 256 << 10];
    let build = |sharing: u16| {
        let count = 10 + usize::from(sharing);
        let tail = dirs_end(&[count]);
        let shared: Vec<Entry> = (0..sharing)
            .map(|i| (40_000 + i, 1, block.len() as u32, tail + 256))
            .collect();
        let mut data = vec![0u8; 256];
        data.extend_from_slice(&block);
        tiff_dirs(&[small_level(tail, &shared)], &data)
    };
    // 128 copies: 256 MiB of values from a 256 KiB file.
    let e = parse_bytes(&build(128)).unwrap_err();
    assert!(
        matches!(e, SlideError::Malformed { .. }) && e.to_string().contains("tag values"),
        "{e}"
    );
    // The same over several directories, each under the cap alone: they
    // share one running total.
    let tail = dirs_end(&[20; 8]);
    let dir: Vec<Entry> = (0..20)
        .map(|i| (40_000 + i, 1, block.len() as u32, tail))
        .collect();
    let e = parse_bytes(&tiff_dirs(&vec![dir; 8], &block)).unwrap_err();
    assert!(e.to_string().contains("tag values"), "{e}");
    // A few such tags are a plausible file and still open.
    let t = build(4);
    assert_eq!(parse_bytes(&t).unwrap().ifds[0].entries.len(), 14);
    let s = open_bytes(&t).unwrap();
    assert_eq!(s.level_dimensions(), vec![(16, 16)]);
}

/// A level 2^32 - 1 pixels wide and 16 high, in 256 tiles of 2^24 x 16 that
/// are all absent from the file.
fn four_billion_pixel_wide_level() -> Vec<u8> {
    let tail = dirs_end(&[9]);
    let mut data = Vec::new();
    for _ in 0..256u32 {
        data.extend_from_slice(&tail.to_le_bytes());
    }
    data.extend_from_slice(&[0u8; 256 * 4]);
    tiff_dirs(
        &[vec![
            (256, 4, 1, u32::MAX),
            (257, 4, 1, 16),
            (258, 3, 1, 8),
            (259, 3, 1, 1),
            (277, 3, 1, 3),
            (322, 4, 1, 1 << 24),
            (323, 4, 1, 16),
            (324, 4, 256, tail),
            (325, 4, 256, tail + 1024),
        ]],
        &data,
    )
}

#[test]
fn buffers_for_a_huge_level_are_sized_by_the_output() {
    small_budget();
    let s = open_bytes(&four_billion_pixel_wide_level()).unwrap();
    assert_eq!(s.level_dimensions(), vec![(u64::from(u32::MAX), 16)]);
    let t = s.thumbnail(64).unwrap();
    assert_eq!((t.width, t.height), (64, 1));
    assert!(
        t.data.iter().all(|&b| b == 0),
        "absent tiles are transparent"
    );
    let edge = s
        .read_region(i64::from(u32::MAX) - 10, 0, 0, 64, 16)
        .unwrap();
    assert_eq!((edge.width, edge.height), (64, 16));
    // Asking for an output that large is refused, not attempted.
    let e = s.thumbnail(u32::MAX).unwrap_err();
    assert!(matches!(e, SlideError::Budget { .. }), "{e}");
    let e = exahealth_slide::bench::bench_regions(&s, 0, 1).unwrap_err();
    assert!(matches!(e, SlideError::Budget { .. }), "{e}");
    // Region requests far off the slide neither overflow nor allocate.
    let far = s.read_region(i64::MAX, i64::MIN, 0, 8, 8).unwrap();
    assert_eq!(far.data, vec![0; 8 * 8 * 4]);
    assert_eq!(s.read_region(0, 0, 0, u32::MAX, 0).unwrap().data.len(), 0);
}

#[test]
fn unreadable_philips_metadata_is_ignored() {
    small_budget();
    let prefix = r#"<?xml version="1.0"?><DataObject ObjectType="DPUfsImport">"#;
    for attribute in [
        // The closing tag comes before the opening tag's `>`.
        r#"<Attribute Name="DICOM_PIXEL_SPACING"</Attribute>>"0.00025""#,
        r#"<Attribute Name="DICOM_PIXEL_SPACING""#,
        r#"<Attribute Name="DICOM_PIXEL_SPACING">"0.00025" "0.00025""#,
        r#"<Attribute Name="DICOM_PIXEL_SPACING">"abc" "é"</Attribute>"#,
        r#"<Attribute Name="DICOM_PIXEL_SPACING">"-1" "NaN"</Attribute>"#,
        "DICOM_PIXEL_SPACING\u{e9}</\u{e9}>",
    ] {
        let mut desc = format!("{prefix}{attribute}").into_bytes();
        desc.push(0);
        let tail = dirs_end(&[11]);
        let mut data = vec![128u8; 256];
        data.extend_from_slice(&desc);
        let t = tiff_dirs(
            &[small_level(
                tail,
                &[(270, 2, desc.len() as u32, tail + 256)],
            )],
            &data,
        );
        let s = open_bytes(&t).unwrap_or_else(|e| panic!("{attribute}: {e}"));
        assert_eq!(s.vendor(), "philips");
        assert_eq!(s.mpp(), None, "{attribute}");
        assert_eq!(
            s.read_region(0, 0, 0, 4, 4).unwrap().pixel(0, 0),
            [128, 128, 128, 255]
        );
    }
}

/// A tile that claims 16384 x 16384 pixels (1 GiB decoded) is refused by
/// the budget before anything is reserved for it.
#[test]
fn tiles_larger_than_the_budget_are_refused_before_decoding() {
    small_budget();
    let tail = dirs_end(&[10]);
    let t = tiff_dirs(
        &[vec![
            (256, 4, 1, 16384),
            (257, 4, 1, 16384),
            (258, 3, 1, 8),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (277, 3, 1, 4),
            (322, 3, 1, 16384),
            (323, 3, 1, 16384),
            (324, 4, 1, tail),
            (325, 4, 1, 64),
        ]],
        &[9u8; 64],
    );
    let s = open_bytes(&t).unwrap();
    let e = s.read_region(0, 0, 0, 16, 16).unwrap_err();
    assert!(matches!(e, SlideError::Budget { .. }), "{e}");
    assert!(
        e.source().unwrap().to_string().contains("16384x16384"),
        "{e}"
    );
}

/// A JPEG tile whose own header claims far more pixels than its tile: it
/// would be decoded at its own size (256 MB here) and then cropped.
#[test]
fn jpeg_tiles_larger_than_their_tile_are_refused() {
    small_budget();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&[200u8; 16 * 16 * 3], 16, 16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    let build = |jpeg: &[u8]| {
        let tail = dirs_end(&[10]);
        tiff_dirs(
            &[vec![
                (256, 4, 1, 16),
                (257, 4, 1, 16),
                (258, 3, 1, 8),
                (259, 3, 1, 7),
                (262, 3, 1, 6),
                (277, 3, 1, 3),
                (322, 3, 1, 16),
                (323, 3, 1, 16),
                (324, 4, 1, tail),
                (325, 4, 1, jpeg.len() as u32),
            ]],
            jpeg,
        )
    };
    let s = open_bytes(&build(&jpeg)).unwrap();
    let px = s.read_region(0, 0, 0, 16, 16).unwrap().pixel(8, 8);
    assert!(px[0].abs_diff(200) < 8, "{px:?}");
    // Patch the frame header (SOF0: FF C0, length, precision, height, width).
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 9].copy_from_slice(&[0x1F, 0x40, 0x1F, 0x40]);
    let s = open_bytes(&build(&jpeg)).unwrap();
    let e = s.read_region(0, 0, 0, 16, 16).unwrap_err();
    assert!(
        matches!(e, SlideError::Decode { .. }) && e.to_string().contains("8000x8000"),
        "{e}"
    );
}

// --- DICOM ---------------------------------------------------------------

const VL_WSI: &str = "1.2.840.10008.5.1.4.1.1.77.1.6";
const JPEG_LS: &str = "1.2.840.10008.1.2.4.80";

/// One explicit-VR little-endian element.
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(if vr == b"UI" { 0 } else { b' ' });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&value);
}

/// A single-file DICOM WSI level with encapsulated pixel data: `frames`
/// frames of `rows` x `cols` x `spp`, whose items are the basic offset
/// table `bot` and then `fragments`.
fn dicom_wsi(
    transfer_syntax: &str,
    (rows, cols, spp): (u16, u16, u16),
    frames: usize,
    bot: &[u32],
    fragments: &[&[u8]],
) -> Vec<u8> {
    let mut meta = Vec::new();
    element(&mut meta, 0x0002, 0x0010, b"UI", transfer_syntax.as_bytes());
    let mut v = vec![0u8; 128];
    v.extend_from_slice(b"DICM");
    element(
        &mut v,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    v.extend_from_slice(&meta);
    element(
        &mut v,
        0x0008,
        0x0008,
        b"CS",
        b"ORIGINAL\\PRIMARY\\VOLUME\\NONE",
    );
    element(&mut v, 0x0008, 0x0016, b"UI", VL_WSI.as_bytes());
    element(
        &mut v,
        0x0020,
        0x000E,
        b"UI",
        b"1.2.826.0.1.3680043.2.1143.1",
    );
    element(&mut v, 0x0028, 0x0002, b"US", &spp.to_le_bytes());
    let photometric: &[u8] = if spp == 1 { b"MONOCHROME2" } else { b"RGB" };
    element(&mut v, 0x0028, 0x0004, b"CS", photometric);
    element(&mut v, 0x0028, 0x0008, b"IS", frames.to_string().as_bytes());
    element(&mut v, 0x0028, 0x0010, b"US", &rows.to_le_bytes());
    element(&mut v, 0x0028, 0x0011, b"US", &cols.to_le_bytes());
    element(&mut v, 0x0028, 0x0100, b"US", &8u16.to_le_bytes());
    element(
        &mut v,
        0x0048,
        0x0006,
        b"UL",
        &u32::from(cols).to_le_bytes(),
    );
    element(
        &mut v,
        0x0048,
        0x0007,
        b"UL",
        &(u32::from(rows) * frames as u32).to_le_bytes(),
    );
    v.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00]);
    v.extend_from_slice(b"OB\0\0");
    v.extend_from_slice(&u32::MAX.to_le_bytes());
    let item = |v: &mut Vec<u8>, data: &[u8]| {
        v.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
    };
    let table: Vec<u8> = bot.iter().flat_map(|o| o.to_le_bytes()).collect();
    item(&mut v, &table);
    for f in fragments {
        item(&mut v, f);
    }
    v.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    v
}

fn open_dicom(bytes: &[u8]) -> Result<Slide, SlideError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("level.dcm");
    std::fs::write(&path, bytes).unwrap();
    Slide::open(&path)
}

/// A CharLS-written JPEG-LS stream: 31 x 24 pixels, 3 components coded in
/// separate scans (exahealth-codec's fixture).
fn jpegls_rgb_31x24() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../exahealth-codec/tests/data/jls/rgb8_ilv0.jls"
    );
    std::fs::read(path).expect("exahealth-codec's JPEG-LS fixture")
}

/// The same stream with its third component dropped from the frame header
/// and its third scan removed: a valid 2-component JPEG-LS image.
fn jpegls_two_components(three: &[u8]) -> Vec<u8> {
    // SOF55: marker, length, precision, height, width, component count,
    // then 3 bytes per component.
    let sof = three.windows(2).position(|w| w == [0xFF, 0xF7]).unwrap();
    assert_eq!(three[sof + 9], 3, "component count");
    let mut two = three[..sof].to_vec();
    two.extend_from_slice(&[0xFF, 0xF7, 0, 14]);
    two.extend_from_slice(&three[sof + 4..sof + 9]);
    two.push(2);
    two.extend_from_slice(&three[sof + 10..sof + 16]);
    let rest = &three[sof + 19..];
    let scans: Vec<usize> = rest
        .windows(2)
        .enumerate()
        .filter(|(_, w)| *w == [0xFF, 0xDA])
        .map(|(i, _)| i)
        .collect();
    assert_eq!(scans.len(), 3, "one scan per component");
    two.extend_from_slice(&rest[..scans[2]]);
    two.extend_from_slice(&[0xFF, 0xD9]);
    two
}

#[test]
fn jpegls_frames_that_disagree_with_the_header_are_typed_errors() {
    small_budget();
    let three = jpegls_rgb_31x24();
    let two = jpegls_two_components(&three);
    let decoded = exahealth_codec::decode_jpegls(&two).unwrap();
    assert_eq!(
        (decoded.width, decoded.height, decoded.components),
        (31, 24, 2)
    );
    // The header's own size and component count: decodes.
    let s = open_dicom(&dicom_wsi(JPEG_LS, (24, 31, 3), 1, &[], &[&three])).unwrap();
    let ok = s.read_region(0, 0, 0, 31, 24).unwrap();
    assert_eq!(ok.pixel(30, 23)[3], 255);
    // Two components where the header declares three.
    let s = open_dicom(&dicom_wsi(JPEG_LS, (24, 31, 3), 1, &[], &[&two])).unwrap();
    let e = s.read_region(0, 0, 0, 31, 24).unwrap_err();
    assert!(
        matches!(e, SlideError::Decode { .. }) && e.to_string().contains("2 components"),
        "{e}"
    );
    // Three components in a one-component level, and a frame of another size.
    for (rows, cols, spp) in [(24, 31, 1), (16, 16, 3), (24, 30, 3)] {
        let s = open_dicom(&dicom_wsi(JPEG_LS, (rows, cols, spp), 1, &[], &[&three])).unwrap();
        let e = s.read_region(0, 0, 0, 8, 8).unwrap_err();
        assert!(
            matches!(e, SlideError::Decode { .. }) && e.to_string().contains("JPEG-LS"),
            "{rows}x{cols}x{spp}: {e}"
        );
    }
}

/// Two fragments per frame and a full offset table: grouping fragments by
/// the table was a scan of every fragment per entry (10^10 steps here).
#[test]
fn offset_tables_are_matched_to_fragments_in_linear_time() {
    small_budget();
    let frames = 100_000usize;
    let fragment = [0xAB, 0xCD];
    let fragments = vec![&fragment[..]; 2 * frames];
    // Each fragment item is 8 + 2 bytes; a frame is two of them.
    let bot: Vec<u32> = (0..frames as u32).map(|i| i * 20).collect();
    let t = dicom_wsi(JPEG_LS, (16, 16, 1), frames, &bot, &fragments);
    let e = exahealth_slide::parse_frame_index(&t).unwrap_err();
    assert!(
        matches!(e, SlideError::Unsupported { .. }) && e.to_string().contains("several fragments"),
        "{e}"
    );
    // Entries out of order leave a frame with no fragment.
    let mut shuffled = bot.clone();
    shuffled.swap(10, 11);
    let t = dicom_wsi(JPEG_LS, (16, 16, 1), frames, &shuffled, &fragments);
    let e = exahealth_slide::parse_frame_index(&t).unwrap_err();
    assert!(e.to_string().contains("points at no fragment"), "{e}");
}
