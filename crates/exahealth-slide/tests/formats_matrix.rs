//! Every compression, sample layout and TIFF flavour the generic reader
//! claims, on single-level tiled files this test writes byte by byte.

mod common;

use exahealth_slide::Slide;
use std::io::Write;

#[derive(Clone, Copy, Debug)]
enum Comp {
    None,
    Lzw,
    Deflate,
    Zstd,
}

/// Sample value of channel `c` at pixel (x, y).
fn sample(x: u32, y: u32, c: usize) -> u8 {
    ((x * 3 + y * 5 + c as u32 * 70) % 251) as u8
}

/// A little-endian tiled TIFF (classic or BigTIFF) of `spp` 8-bit samples.
fn write_tiff(
    w: u32,
    h: u32,
    tile: u32,
    spp: usize,
    comp: Comp,
    big: bool,
    predictor: bool,
) -> Vec<u8> {
    let cols = w.div_ceil(tile);
    let rows = h.div_ceil(tile);
    let mut body = Vec::new();
    let mut offsets = Vec::new();
    let mut counts = Vec::new();
    let header_len = if big { 16 } else { 8 };
    for r in 0..rows {
        for c in 0..cols {
            let mut raw = Vec::new();
            for y in 0..tile {
                let row_start = raw.len();
                for x in 0..tile {
                    for ch in 0..spp {
                        raw.push(sample(c * tile + x, r * tile + y, ch));
                    }
                }
                if predictor {
                    let row = &mut raw[row_start..];
                    for i in (spp..row.len()).rev() {
                        row[i] = row[i].wrapping_sub(row[i - spp]);
                    }
                }
            }
            let enc = match comp {
                Comp::None => raw,
                Comp::Lzw => weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
                    .encode(&raw)
                    .unwrap(),
                Comp::Deflate => {
                    let mut e =
                        flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
                    e.write_all(&raw).unwrap();
                    e.finish().unwrap()
                }
                Comp::Zstd => ruzstd::encoding::compress_to_vec(
                    &raw[..],
                    ruzstd::encoding::CompressionLevel::Fastest,
                ),
            };
            offsets.push(header_len + body.len() as u64);
            counts.push(enc.len() as u64);
            body.extend_from_slice(&enc);
        }
    }
    let code: u16 = match comp {
        Comp::None => 1,
        Comp::Lzw => 5,
        Comp::Deflate => 8,
        Comp::Zstd => 50000,
    };
    let photometric: u16 = if spp == 1 { 1 } else { 2 };
    // Out-of-line arrays follow the tile data; then the directory.
    let mut out = Vec::new();
    let ifd_pos_field;
    if big {
        out.extend_from_slice(b"II+\0\x08\0\0\0");
        ifd_pos_field = out.len();
        out.extend_from_slice(&0u64.to_le_bytes());
    } else {
        out.extend_from_slice(b"II*\0");
        ifd_pos_field = out.len();
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out.extend_from_slice(&body);
    let put_array = |out: &mut Vec<u8>, v: &[u64]| -> u64 {
        let at = out.len() as u64;
        for &x in v {
            if big {
                out.extend_from_slice(&x.to_le_bytes());
            } else {
                out.extend_from_slice(&(x as u32).to_le_bytes());
            }
        }
        at
    };
    let off_at = put_array(&mut out, &offsets);
    let cnt_at = put_array(&mut out, &counts);
    let bps_at = out.len() as u64;
    for _ in 0..spp {
        out.extend_from_slice(&8u16.to_le_bytes());
    }
    let n = offsets.len() as u64;
    // Values that fit the entry's value field (4 bytes, or 8 in BigTIFF)
    // must be stored there, packed.
    let bits_field = if (spp * 2) as u64 <= if big { 8 } else { 4 } {
        (0..spp).fold(0u64, |acc, i| acc | (8u64 << (16 * i)))
    } else {
        bps_at
    };
    let long_type = if big { 16 } else { 4 };
    let mut entries: Vec<(u16, u16, u64, u64)> = vec![
        (256, 4, 1, u64::from(w)),
        (257, 4, 1, u64::from(h)),
        (258, 3, spp as u64, bits_field),
        (259, 3, 1, u64::from(code)),
        (262, 3, 1, u64::from(photometric)),
        (277, 3, 1, spp as u64),
        (284, 3, 1, 1),
        (317, 3, 1, if predictor { 2 } else { 1 }),
        (322, 4, 1, u64::from(tile)),
        (323, 4, 1, u64::from(tile)),
        (324, long_type, n, if n == 1 { offsets[0] } else { off_at }),
        (325, long_type, n, if n == 1 { counts[0] } else { cnt_at }),
    ];
    if spp == 4 {
        entries.push((338, 3, 1, 2)); // unassociated alpha
    }
    entries.sort_by_key(|e| e.0);
    if out.len() % 2 == 1 {
        out.push(0);
    }
    let ifd_at = out.len() as u64;
    if big {
        out.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    } else {
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    }
    for (tag, typ, count, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        if big {
            out.extend_from_slice(&count.to_le_bytes());
            out.extend_from_slice(&value.to_le_bytes());
        } else {
            out.extend_from_slice(&(count as u32).to_le_bytes());
            if typ == 3 && count == 1 && tag != 258 {
                out.extend_from_slice(&(value as u16).to_le_bytes());
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&(value as u32).to_le_bytes());
            }
        }
    }
    if big {
        out.extend_from_slice(&0u64.to_le_bytes());
        out[ifd_pos_field..ifd_pos_field + 8].copy_from_slice(&ifd_at.to_le_bytes());
    } else {
        out.extend_from_slice(&0u32.to_le_bytes());
        out[ifd_pos_field..ifd_pos_field + 4].copy_from_slice(&(ifd_at as u32).to_le_bytes());
    }
    out
}

fn expected_rgba(x: u32, y: u32, spp: usize) -> [u8; 4] {
    match spp {
        1 => {
            let g = sample(x, y, 0);
            [g, g, g, 255]
        }
        3 => [sample(x, y, 0), sample(x, y, 1), sample(x, y, 2), 255],
        _ => [
            sample(x, y, 0),
            sample(x, y, 1),
            sample(x, y, 2),
            sample(x, y, 3),
        ],
    }
}

#[test]
fn every_codec_layout_and_flavour_reads_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (w, h, tile) = (100u32, 70u32, 32u32);
    let mut checked = 0;
    for comp in [Comp::None, Comp::Lzw, Comp::Deflate, Comp::Zstd] {
        for spp in [1usize, 3, 4] {
            for big in [false, true] {
                for predictor in [false, true] {
                    if matches!(comp, Comp::None) && predictor {
                        continue;
                    }
                    let bytes = write_tiff(w, h, tile, spp, comp, big, predictor);
                    let path = dir
                        .path()
                        .join(format!("{comp:?}-{spp}-{big}-{predictor}.tiff"));
                    std::fs::write(&path, bytes).unwrap();
                    let s =
                        Slide::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                    assert_eq!(s.level_dimensions(), vec![(u64::from(w), u64::from(h))]);
                    let r = s.read_region(0, 0, 0, w, h).unwrap();
                    for y in 0..h {
                        for x in 0..w {
                            assert_eq!(
                                r.pixel(x, y),
                                expected_rgba(x, y, spp),
                                "{} at ({x}, {y})",
                                path.display()
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 42);
}
