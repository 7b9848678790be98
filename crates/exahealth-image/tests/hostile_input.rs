//! Crafted files whose headers ask for more than their bytes can hold:
//! each must give a typed error quickly, without allocating what the header
//! asks for and without a panic. The inputs are built here, byte by byte.
//!
//! The memory budget is process-wide, so this test binary sets a small one
//! for all its tests.

use std::io::Write;

use exahealth_image::io::{self, dicom::split_frames};
use exahealth_image::{ImageData, ImageError};

const BUDGET: u64 = 16 << 20;

fn small_budget() {
    exahealth_base::budget::set_limit(BUDGET);
}

const JPEG_LS: &str = "1.2.840.10008.1.2.4.80";
const RLE: &str = "1.2.840.10008.1.2.5";
const DEFLATE: &str = "1.2.840.10008.1.2.1.99";

/// One explicit VR little endian element.
fn element(out: &mut Vec<u8>, group: u16, elem: u16, vr: &[u8; 2], value: &[u8]) {
    out.extend(group.to_le_bytes());
    out.extend(elem.to_le_bytes());
    out.extend(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
        out.extend([0, 0]);
        out.extend((value.len() as u32).to_le_bytes());
    } else {
        out.extend((value.len() as u16).to_le_bytes());
    }
    out.extend(value);
}

/// A text value padded to even length (UIDs with NUL, the rest with space).
fn text(s: &str, pad: u8) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(pad);
    }
    v
}

/// The image pixel module of a data set.
struct Pixels {
    rows: u16,
    cols: u16,
    spp: u16,
    frames: u32,
    bits: u16,
}

/// Preamble, `DICM`, file-meta group naming `ts`, and the data set.
fn dicom_file(ts: &str, dataset: &[u8]) -> Vec<u8> {
    let mut meta = Vec::new();
    element(&mut meta, 2, 1, b"OB", &[0, 1]);
    element(
        &mut meta,
        2,
        2,
        b"UI",
        &text("1.2.840.10008.5.1.4.1.1.7", 0),
    );
    element(&mut meta, 2, 3, b"UI", &text("1.2.3.4", 0));
    element(&mut meta, 2, 0x10, b"UI", &text(ts, 0));
    let mut f = vec![0u8; 128];
    f.extend(b"DICM");
    element(&mut f, 2, 0, b"UL", &(meta.len() as u32).to_le_bytes());
    f.extend(meta);
    f.extend(dataset);
    f
}

fn pixel_module(p: &Pixels) -> Vec<u8> {
    let mut d = Vec::new();
    element(
        &mut d,
        8,
        0x16,
        b"UI",
        &text("1.2.840.10008.5.1.4.1.1.7", 0),
    );
    element(&mut d, 8, 0x18, b"UI", &text("1.2.3.4", 0));
    element(&mut d, 0x28, 2, b"US", &p.spp.to_le_bytes());
    let photometric = if p.spp == 1 { "MONOCHROME2" } else { "RGB" };
    element(&mut d, 0x28, 4, b"CS", &text(photometric, b' '));
    if p.spp > 1 {
        element(&mut d, 0x28, 6, b"US", &0u16.to_le_bytes());
    }
    element(&mut d, 0x28, 8, b"IS", &text(&p.frames.to_string(), b' '));
    element(&mut d, 0x28, 0x10, b"US", &p.rows.to_le_bytes());
    element(&mut d, 0x28, 0x11, b"US", &p.cols.to_le_bytes());
    element(&mut d, 0x28, 0x100, b"US", &p.bits.to_le_bytes());
    element(&mut d, 0x28, 0x101, b"US", &p.bits.to_le_bytes());
    element(&mut d, 0x28, 0x102, b"US", &(p.bits - 1).to_le_bytes());
    element(&mut d, 0x28, 0x103, b"US", &0u16.to_le_bytes());
    d
}

/// A file with encapsulated pixel data: an empty offset table, then one
/// item per fragment.
fn encapsulated(ts: &str, p: &Pixels, fragments: &[Vec<u8>]) -> Vec<u8> {
    let mut d = pixel_module(p);
    d.extend([0xE0, 0x7F, 0x10, 0x00]);
    d.extend(b"OB");
    d.extend([0, 0, 0xFF, 0xFF, 0xFF, 0xFF]);
    d.extend([0xFE, 0xFF, 0x00, 0xE0, 0, 0, 0, 0]);
    for frag in fragments {
        d.extend([0xFE, 0xFF, 0x00, 0xE0]);
        d.extend((frag.len() as u32).to_le_bytes());
        d.extend(frag);
    }
    d.extend([0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    dicom_file(ts, &d)
}

fn malformed_why(e: &ImageError) -> &str {
    match e {
        ImageError::Malformed { why, .. } => why,
        other => panic!("expected a malformed-file error, got {other:?}"),
    }
}

/// A JPEG-LS codestream with only headers: SOF55 for `width x height`, one
/// 8-bit component, a scan header, no coded data.
fn jpegls_headers(width: u16, height: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xD8, 0xFF, 0xF7, 0, 11, 8];
    s.extend(height.to_be_bytes());
    s.extend(width.to_be_bytes());
    s.extend([1, 1, 0x11, 0]);
    s.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0]);
    s.extend([0xFF, 0xD9]);
    s
}

#[test]
fn a_jpegls_frame_larger_than_its_dicom_header_is_refused_before_decoding() {
    small_budget();
    let p = Pixels {
        rows: 8,
        cols: 8,
        spp: 1,
        frames: 1,
        bits: 8,
    };
    let file = encapsulated(JPEG_LS, &p, &[jpegls_headers(32768, 32768)]);
    let e = io::read_bytes(file).unwrap_err();
    let why = malformed_why(&e);
    assert!(
        why.contains("32768x32768x1, the header says 8x8x1"),
        "{why}"
    );
}

#[test]
fn pixel_data_over_the_budget_is_a_budget_error() {
    small_budget();
    // 4 frames of 4096 x 4096 16-bit samples: 128 MiB, over the 16 MiB budget.
    let p = Pixels {
        rows: 4096,
        cols: 4096,
        spp: 1,
        frames: 4,
        bits: 16,
    };
    let file = encapsulated(JPEG_LS, &p, &[jpegls_headers(4096, 4096)]);
    match io::read_bytes(file).unwrap_err() {
        ImageError::Budget(b) => assert_eq!(b.needed, Some(128 << 20)),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

/// An RLE frame: the 64-byte header (segment count and offsets), then the
/// segments.
fn rle_frame(segments: &[Vec<u8>]) -> Vec<u8> {
    let mut words = vec![segments.len() as u32];
    let mut at = 64u32;
    for seg in segments {
        words.push(at);
        at += seg.len() as u32;
    }
    words.resize(16, 0);
    let mut f: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    for seg in segments {
        f.extend(seg);
    }
    f
}

#[test]
fn rle_frames_decode_msb_segment_first() {
    small_budget();
    let p = Pixels {
        rows: 1,
        cols: 2,
        spp: 1,
        frames: 1,
        bits: 16,
    };
    // High bytes as one repeat run, low bytes as a literal run.
    let frame = rle_frame(&[vec![0xFF, 0x12], vec![1, 0x34, 0x56]]);
    let img = io::read_bytes(encapsulated(RLE, &p, &[frame])).unwrap();
    let ImageData::U16(a) = img.data() else {
        panic!("16-bit samples expected, got {:?}", img.dtype())
    };
    assert_eq!(a.iter().copied().collect::<Vec<_>>(), [0x1234, 0x1256]);
}

#[test]
fn sixteen_rle_segments_are_an_error_not_a_caught_panic() {
    small_budget();
    // Four 32-bit samples need 16 segments; the header has room for 15
    // offsets, and reading a 16th ran past it.
    let p = Pixels {
        rows: 1,
        cols: 1,
        spp: 4,
        frames: 1,
        bits: 32,
    };
    let segments = vec![vec![0xFF, 7]; 16];
    let e = io::read_bytes(encapsulated(RLE, &p, &[rle_frame(&segments)])).unwrap_err();
    let why = malformed_why(&e);
    assert!(why.contains("at most 15"), "{why}");
}

#[test]
fn an_rle_segment_too_short_for_its_plane_is_refused_before_allocating() {
    small_budget();
    // 2048 x 2048 RGB: the red plane is coded in full (4 Mi pixels in 64 KiB
    // of 128-byte runs), green and blue by one 2-byte run each, which can
    // give 128 pixels at most.
    let p = Pixels {
        rows: 2048,
        cols: 2048,
        spp: 3,
        frames: 1,
        bits: 8,
    };
    let red: Vec<u8> = [0x81, 9].repeat(2048 * 2048 / 128);
    let frame = rle_frame(&[red, vec![0x81, 0], vec![0x81, 0]]);
    let e = io::read_bytes(encapsulated(RLE, &p, &[frame])).unwrap_err();
    let why = malformed_why(&e);
    assert!(why.contains("RLE segment 1 has 2 bytes, too few"), "{why}");
}

#[test]
fn the_basic_offset_table_is_matched_in_n_log_n() {
    small_budget();
    // 100,000 frames of two fragments each. Matching every table entry
    // against every fragment took 2 * 10^10 steps.
    let frames = 100_000;
    let fragments: Vec<Vec<u8>> = (0..2 * frames).map(|i| vec![i as u8]).collect();
    // Each fragment is an 8-byte item header plus its 1 byte.
    let bot: Vec<u32> = (0..frames as u32).map(|f| f * 18).collect();
    let start = std::time::Instant::now();
    let out = split_frames(&fragments, &bot, frames).unwrap();
    assert!(start.elapsed().as_secs() < 10, "took {:?}", start.elapsed());
    assert_eq!(out.len(), frames);
    assert_eq!(out[0], [0, 1]);
    assert_eq!(
        out[frames - 1],
        [(2 * frames - 2) as u8, (2 * frames - 1) as u8]
    );
    // An entry below its predecessor points at no fragment.
    let mut bad = bot.clone();
    bad[5] = 0;
    assert!(split_frames(&fragments, &bad, frames).is_err());
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A NIfTI-1 header of `dims` int16 voxels at `vox_offset`.
fn nifti1(dims: &[i16], vox_offset: f32) -> Vec<u8> {
    let mut h = vec![0u8; 352];
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    h[40..42].copy_from_slice(&(dims.len() as i16).to_le_bytes());
    for (i, d) in dims.iter().enumerate() {
        h[42 + 2 * i..44 + 2 * i].copy_from_slice(&d.to_le_bytes());
    }
    h[70..72].copy_from_slice(&4i16.to_le_bytes());
    h[72..74].copy_from_slice(&16i16.to_le_bytes());
    h[108..112].copy_from_slice(&vox_offset.to_le_bytes());
    h[344..348].copy_from_slice(b"n+1\0");
    h
}

fn expect_budget(r: Result<exahealth_image::Image, ImageError>) {
    match r {
        Err(ImageError::Budget(b)) => assert_eq!(b.limit, BUDGET),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

#[test]
fn nifti_dimensions_are_held_to_the_budget() {
    small_budget();
    // 30000^3 int16 voxels from a 352-byte file.
    expect_budget(io::read_bytes(nifti1(&[30000, 30000, 30000], 352.0)));
    expect_budget(io::read_bytes(gzip(&nifti1(&[30000, 30000, 30000], 352.0))));
}

#[test]
fn a_gzipped_nifti_cannot_make_the_reader_inflate_past_the_budget() {
    small_budget();
    // Two voxels, but 1 TiB away: everything before vox_offset would be
    // inflated and kept. Behind the header, 24 MiB of zeros that compress
    // to a few kilobytes.
    let mut file = nifti1(&[2], 1.0e12);
    file.resize(file.len() + (24 << 20), 0);
    expect_budget(io::read_bytes(gzip(&file)));
}

#[test]
fn a_deflated_dicom_data_set_cannot_inflate_past_the_budget() {
    small_budget();
    let mut body = pixel_module(&Pixels {
        rows: 1,
        cols: 1,
        spp: 1,
        frames: 1,
        bits: 8,
    });
    // A long comment element of zeros: 24 MiB inflated, kilobytes deflated.
    element(&mut body, 0x0020, 0x4000, b"UT", &vec![b' '; 24 << 20]);
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&body).unwrap();
    let file = dicom_file(DEFLATE, &enc.finish().unwrap());
    match io::read_bytes(file).unwrap_err() {
        ImageError::Budget(b) => assert_eq!(b.needed, Some(BUDGET + 1)),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut body = kind.to_vec();
    body.extend(data);
    out.extend(&body);
    out.extend(crc32(&body).to_be_bytes());
}

#[test]
fn a_png_header_is_held_to_the_budget() {
    small_budget();
    // 60000 x 60000 RGBA, 16 bits per sample: 27 GiB from a 60-byte file.
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(60000u32.to_be_bytes());
    ihdr.extend(60000u32.to_be_bytes());
    ihdr.extend([16, 6, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", &[]);
    png_chunk(&mut png, b"IEND", &[]);
    expect_budget(io::read_bytes(png));
}

/// The fuzzer's minimised crasher `fuzz/regressions/dicom_series-1.bin`:
/// two JPEG 2000 lossless files (split at `EXASPLIT`) whose decoded frame is
/// larger than the header says. dicom-rs's JPEG 2000 adapter slices past its
/// buffer and panics; the reader must turn that into an error for the
/// folder, in every build profile.
#[test]
fn fuzz_regression_dicom_series_1_is_an_error() {
    let input = include_bytes!("../../../fuzz/regressions/dicom_series-1.bin");
    let dir = tempfile::tempdir().unwrap();
    let mut rest: &[u8] = input;
    let mut files = 0;
    while !rest.is_empty() && files < 4 {
        let cut = rest
            .windows(8)
            .position(|w| w == b"EXASPLIT")
            .filter(|_| files < 3);
        let (part, next) = match cut {
            Some(i) => (&rest[..i], &rest[i + 8..]),
            None => (rest, &[][..]),
        };
        std::fs::write(dir.path().join(format!("{files}.dcm")), part).unwrap();
        files += 1;
        rest = next;
    }
    assert!(files >= 2, "the crasher holds several files");
    let e = exahealth_image::io::read(dir.path())
        .unwrap_err()
        .to_string();
    // Refused by the codestream check, not by a caught panic in dicom-rs.
    assert!(e.contains("JPEG 2000 frame of"), "{e}");
}

/// Found by the `dicom_series` fuzzer (538 bytes): Rows (0028,0010) with
/// VR SL and a length of 2. dicom-rs reads `len / 4` = 0 values but counts
/// the element as read, so it takes its next header from two bytes too
/// early, finds a tag (FFFF,0028) of 4 GiB and reserves and zero-fills
/// that before the read fails. The structure check now refuses a binary
/// value whose length is not a whole number of its values.
#[test]
fn fuzz_regression_dicom_series_2_is_refused_before_dicom_rs() {
    let input = include_bytes!("../../../fuzz/regressions/dicom_series-2.bin");
    let e = exahealth_image::io::read_dicom_bytes(input)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("(0028,0010) holds 2 bytes, not a whole number of its 4-byte values"),
        "{e}"
    );
}
