//! Streams written by CharLS covering every interleave mode, near-lossless
//! coding, preset parameters and restart markers (tests/data/gen_fixtures.py).

mod common;

use common::*;
use exahealth_codec::{decode_jpegls, JlsSamples};

/// name, width, height, components, bits per sample.
const CASES: &[(&str, u32, u32, u8, u8)] = &[
    ("gray8_lossless", 40, 30, 1, 8),
    ("gray8_near3", 40, 30, 1, 8),
    ("gray8_custom_t", 40, 30, 1, 8),
    ("gray2_lossless", 33, 20, 1, 2),
    ("gray5_near1", 33, 20, 1, 5),
    ("gray12_near2", 40, 30, 1, 12),
    ("gray16_lossless", 40, 30, 1, 16),
    ("gray16_near5_custom_t", 40, 30, 1, 16),
    ("gray8_one_column", 1, 25, 1, 8),
    ("gray8_one_row", 70, 1, 1, 8),
    ("rgb8_ilv0", 31, 24, 3, 8),
    ("rgb8_ilv1_near2", 31, 24, 3, 8),
    ("rgb8_ilv2_near1", 31, 24, 3, 8),
    ("rgb8_ilv2_lossless", 31, 24, 3, 8),
    ("rgb10_ilv1_lossless", 31, 24, 3, 10),
    ("rgb16_ilv2_lossless", 17, 20, 3, 16),
    ("rgba8_ilv2_lossless", 19, 16, 4, 8),
    ("rgba8_ilv1_near1", 19, 16, 4, 8),
    ("gray8_restart", 24, 21, 1, 8),
    ("rgb8_ilv0_restart", 24, 21, 3, 8),
    ("rgb8_ilv1_restart", 24, 21, 3, 8),
    ("rgb12_ilv2_restart", 24, 40, 3, 12),
];

#[test]
fn fixtures_match_charls() {
    let mut failures = Vec::new();
    for &(name, w, h, c, bits) in CASES {
        let (jls, raw) = fixture(name);
        let img = match decode_jpegls(&jls) {
            Ok(img) => img,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        assert_eq!(
            (img.width, img.height, img.components, img.bits_per_sample),
            (w, h, c, bits),
            "{name}"
        );
        let expected = if bits > 8 {
            JlsSamples::U16(le_u16(&raw))
        } else {
            JlsSamples::U8(raw)
        };
        if img.samples != expected {
            let got = as_u16(&img.samples);
            let want = as_u16(&expected);
            let first = got.iter().zip(&want).position(|(a, b)| a != b);
            failures.push(format!(
                "{name}: samples differ (len {} vs {}), first at {first:?}",
                got.len(),
                want.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn application_segments_and_missing_eoi_are_tolerated() {
    let (jls, raw) = fixture("gray8_lossless");
    let expected = JlsSamples::U8(raw);

    // APP8 (as used by SPIFF headers) and COM segments right after SOI.
    let mut with_segments = jls[..2].to_vec();
    with_segments.extend([0xFF, 0xE8, 0x00, 0x08]);
    with_segments.extend(b"SPIFF\0");
    with_segments.extend([0xFF, 0xFE, 0x00, 0x05, b'h', b'i', b'!']);
    with_segments.extend(&jls[2..]);
    assert_eq!(decode_jpegls(&with_segments).unwrap().samples, expected);

    // EOI dropped, or replaced by encapsulation padding.
    let body = &jls[..jls.len() - 2];
    assert_eq!(decode_jpegls(body).unwrap().samples, expected);
    let mut padded = body.to_vec();
    padded.push(0);
    assert_eq!(decode_jpegls(&padded).unwrap().samples, expected);
}
