//! Fuzz the classic/BigTIFF/NDPI directory walker on an in-memory file.
#![no_main]

use exahealth_slide::tiff::{parse_bytes, tags, Ifd, TiffFile};
use libfuzzer_sys::fuzz_target;

fn touch(ifd: &Ifd) -> u64 {
    let mut acc = ifd.width() ^ ifd.height() ^ u64::from(ifd.is_tiled());
    for tag in [
        tags::IMAGE_WIDTH,
        tags::IMAGE_LENGTH,
        tags::TILE_WIDTH,
        tags::TILE_LENGTH,
        tags::TILE_OFFSETS,
        tags::TILE_BYTE_COUNTS,
        tags::STRIP_OFFSETS,
        tags::STRIP_BYTE_COUNTS,
        tags::COMPRESSION,
        tags::SUB_IFDS,
    ] {
        if let Some(v) = ifd.u64(tag) {
            acc = acc.wrapping_add(v);
        }
        if let Some(vs) = ifd.u64s(tag) {
            acc = acc.wrapping_add(vs.len() as u64);
            if let Some(&last) = vs.last() {
                acc ^= last;
            }
        }
    }
    if let Some(s) = ifd.ascii(tags::IMAGE_DESCRIPTION) {
        acc = acc.wrapping_add(s.len() as u64);
    }
    if let Some(b) = ifd.bytes(tags::JPEG_TABLES) {
        acc = acc.wrapping_add(b.len() as u64);
    }
    acc
}

fuzz_target!(|data: &[u8]| {
    if let Ok(tiff) = parse_bytes(data) {
        let tiff: TiffFile = tiff;
        let mut acc = 0u64;
        for ifd in &tiff.ifds {
            acc ^= touch(ifd);
        }
        std::hint::black_box(acc);
    }
});
