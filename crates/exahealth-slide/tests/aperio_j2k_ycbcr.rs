//! Aperio's JPEG 2000 compression 33003 stores YCbCr in the codestream,
//! without the codestream's own colour transform, and with Cb and Cr at
//! half resolution. Read as RGB, or converted twice, a white background
//! turns magenta. The slide here is built from an RGB image we know: its
//! YCbCr planes (chroma averaged over 2x2 blocks) are encoded losslessly
//! by OpenJPEG's `opj_compress` (Debian's libopenjp2-tools), wrapped in an
//! Aperio-style tiled TIFF with compression 33003, and read back through
//! the `Slide` API.

use std::path::Path;
use std::process::Command;

use exahealth_hostile::tiff::{tiled_rgb_level, TiffBuilder, Val, ASCII, SHORT};
use exahealth_slide::Slide;

const SIDE: u32 = 128;
const WHITE: [u8; 3] = [243, 245, 240];
const PINK: [u8; 3] = [214, 150, 190];
const PURPLE: [u8; 3] = [90, 50, 130];

/// Glass on the left, tissue on the right, a purple nucleus-like square;
/// every colour fills whole 2x2 blocks, so subsampled chroma is exact.
fn rgb_at(x: u32, y: u32) -> [u8; 3] {
    if (72..104).contains(&x) && (32..64).contains(&y) {
        PURPLE
    } else if x < SIDE / 2 {
        WHITE
    } else {
        PINK
    }
}

/// Full-range BT.601 (JFIF), the inverse of what the reader applies.
fn ycbcr(rgb: [u8; 3]) -> [f64; 3] {
    let [r, g, b] = rgb.map(f64::from);
    [
        0.299 * r + 0.587 * g + 0.114 * b,
        128.0 - 0.168_736 * r - 0.331_264 * g + 0.5 * b,
        128.0 + 0.5 * r - 0.418_688 * g - 0.081_312 * b,
    ]
}

/// The planes `opj_compress -F ...,u@1x1:SxS:SxS` reads: Y at full size,
/// then Cb and Cr at 1/`s` size, each averaged over its `s` x `s` block.
fn raw_planes(s: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for y in 0..SIDE {
        for x in 0..SIDE {
            out.push(ycbcr(rgb_at(x, y))[0].round() as u8);
        }
    }
    for c in 1..3 {
        for y in (0..SIDE).step_by(s as usize) {
            for x in (0..SIDE).step_by(s as usize) {
                let block = (0..s).flat_map(|dy| (0..s).map(move |dx| (x + dx, y + dy)));
                let sum: f64 = block.map(|(x, y)| ycbcr(rgb_at(x, y))[c]).sum();
                out.push((sum / f64::from(s * s)).round() as u8);
            }
        }
    }
    out
}

/// The lossless codestream of the planes (chroma subsampled by `s`), or
/// `None` (skip; a failure under CI) when `opj_compress` is not installed.
fn encode(dir: &Path, s: u32) -> Option<Vec<u8>> {
    let raw = dir.join("planes.raw");
    let j2k = dir.join("tile.j2k");
    std::fs::write(&raw, raw_planes(s)).unwrap();
    let run = Command::new("opj_compress")
        .arg("-i")
        .arg(&raw)
        .arg("-o")
        .arg(&j2k)
        .args(["-F", &format!("{SIDE},{SIDE},3,8,u@1x1:{s}x{s}:{s}x{s}")])
        .args(["-mct", "0"])
        .output();
    match run {
        Ok(out) if out.status.success() => Some(std::fs::read(&j2k).unwrap()),
        Ok(out) => panic!(
            "opj_compress failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => exahealth_base::testdata::absent(&format!(
            "opj_compress ({e}; apt install libopenjp2-tools)"
        )),
    }
}

/// One 128 x 128 tile of compression 33003, described as Aperio writes it.
fn aperio_tiff(codestream: Vec<u8>) -> Vec<u8> {
    let mut tiff = TiffBuilder::new();
    let description = b"Aperio Image Library v12.0.15 \r\n128x128 [0,0 128x128] (128x128) J2K/YCbCr Q=70|AppMag = 20|MPP = 0.4990\0".to_vec();
    let description_len = description.len() as u32;
    let text = tiff.block(description);
    let len = codestream.len() as u32;
    let tile = tiff.block(codestream);
    let at = tiff.offset_of(tile);
    let mut entries = tiled_rgb_level(
        (SIDE, SIDE),
        (SIDE, SIDE),
        1,
        Val::Inline(at),
        Val::Inline(len),
    );
    for entry in &mut entries {
        if entry.0 == 259 {
            *entry = (259, SHORT, 1, Val::Inline(33003));
        }
    }
    entries.push((270, ASCII, description_len, Val::Block(text)));
    tiff.ifd(entries);
    tiff.build()
}

/// Reads the slide of a codestream with chroma subsampled by `s` and
/// compares every pixel with the RGB it was made from.
fn check(s: u32) {
    let dir = tempfile::tempdir().unwrap();
    let Some(codestream) = encode(dir.path(), s) else {
        return;
    };
    let path = dir.path().join("ycbcr.svs");
    std::fs::write(&path, aperio_tiff(codestream)).unwrap();
    let slide = Slide::open(&path).unwrap();
    let region = slide.read_region(0, 0, 0, SIDE, SIDE).unwrap();
    for y in 0..SIDE {
        for x in 0..SIDE {
            let at = ((y * SIDE + x) * 4) as usize;
            let got = &region.data[at..at + 4];
            let want = rgb_at(x, y);
            assert_eq!(got[3], 255);
            assert!(
                (0..3).all(|c| got[c].abs_diff(want[c]) <= 3),
                "chroma 1/{s}, pixel ({x}, {y}): {got:?}, made from {want:?}"
            );
        }
    }
}

/// Aperio's usual layout: Cb and Cr at half resolution, which the JPEG
/// 2000 decoder already turns into RGB (converting again made white glass
/// magenta, (255, 123, 255) for OpenSlide's (243, 245, 240)).
#[test]
fn aperio_ycbcr_jpeg2000_with_half_resolution_chroma_reads_as_its_rgb() {
    check(2);
}

/// Full-resolution Cb and Cr: the decoder hands YCbCr over as it is, and
/// the reader converts it.
#[test]
fn aperio_ycbcr_jpeg2000_with_full_resolution_chroma_reads_as_its_rgb() {
    check(1);
}
