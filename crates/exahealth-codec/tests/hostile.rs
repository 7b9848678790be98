//! Untrusted-input behaviour: truncated, corrupted and absurd streams must
//! produce an error (or, for harmless damage, a correct image), never a
//! panic, an overflow or a huge allocation.

mod common;

use common::*;
use exahealth_codec::{decode_jpegls, CodecError};

/// Real and synthetic streams covering every decoding path.
fn corpus() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = [
        "gray8_near3",
        "gray16_lossless",
        "gray12_near2",
        "rgb8_ilv0",
        "rgb8_ilv1_near2",
        "rgb8_ilv2_near1",
        "rgb12_ilv2_restart",
        "gray8_restart",
    ]
    .iter()
    .map(|n| (n.to_string(), fixture(n).0))
    .collect();
    if let Some(file) = read_testdata("dicom/MR_small_jpeg_ls_lossless.dcm") {
        out.push(("MR_small".into(), encapsulated_frames(&file).remove(0)));
    }
    out
}

#[test]
fn every_truncation_is_an_error_or_the_full_image() {
    for (name, stream) in corpus() {
        let full = decode_jpegls(&stream).expect("intact stream decodes");
        for len in 0..stream.len() {
            match decode_jpegls(&stream[..len]) {
                Err(_) => {}
                // Dropping EOI (or stuffing after the last coded bit) loses
                // nothing; anything else must not yield a silently wrong image.
                Ok(img) => assert_eq!(img, full, "{name}: prefix of {len} bytes decoded wrongly"),
            }
        }
    }
}

#[test]
fn random_corruption_never_panics() {
    let mut rng = Lcg(0x5eed_1234_abcd_0001);
    for (_, stream) in corpus() {
        for _ in 0..400 {
            let mut s = stream.clone();
            for _ in 0..1 + rng.below(4) {
                let i = rng.below(s.len());
                s[i] ^= 1 + rng.below(255) as u8;
            }
            let _ = decode_jpegls(&s);
            // Cut the corrupted stream too, so damage and truncation combine.
            let cut = rng.below(s.len() + 1);
            let _ = decode_jpegls(&s[..cut]);
        }
        // Corrupt only the header, where the parser rather than the entropy
        // decoder has to cope.
        let header_len = stream.len().min(40);
        for _ in 0..400 {
            let mut s = stream.clone();
            let i = rng.below(header_len);
            s[i] = rng.next_u32() as u8;
            let _ = decode_jpegls(&s);
        }
    }
}

#[test]
fn random_bytes_after_headers_never_panic() {
    let mut rng = Lcg(42);
    for (_, stream) in corpus() {
        let sos = stream.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
        let sos_end = sos + 2 + usize::from(u16::from_be_bytes([stream[sos + 2], stream[sos + 3]]));
        for _ in 0..100 {
            let mut s = stream[..sos_end].to_vec();
            let n = rng.below(2000);
            s.extend((0..n).map(|_| rng.next_u32() as u8));
            let _ = decode_jpegls(&s);
        }
    }
}

/// SOI, SOF55, optional extra segments, SOS, `data`, EOI.
fn stream(bits: u8, height: u16, width: u16, comps: u8, extra: &[u8], data: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, 0xD8, 0xFF, 0xF7];
    let len = 8 + 3 * u16::from(comps);
    s.extend(len.to_be_bytes());
    s.push(bits);
    s.extend(height.to_be_bytes());
    s.extend(width.to_be_bytes());
    s.push(comps);
    for c in 0..comps {
        s.extend([c + 1, 0x11, 0]);
    }
    s.extend(extra);
    s.extend([0xFF, 0xDA]);
    s.extend((6 + 2 * u16::from(comps)).to_be_bytes());
    s.push(comps);
    for c in 0..comps {
        s.extend([c + 1, 0]);
    }
    s.extend([0, if comps > 1 { 2 } else { 0 }, 0]);
    s.extend(data);
    s.extend([0xFF, 0xD9]);
    s
}

#[test]
fn absurd_dimensions_are_rejected_before_allocating() {
    let data = [0u8; 64];
    // 65535 x 65535 x 4 components: far beyond the sample cap.
    let e = decode_jpegls(&stream(16, 65535, 65535, 4, &[], &data)).unwrap_err();
    assert!(matches!(e, CodecError::DimensionTooLarge { .. }), "{e}");
    // Within the cap, but 64 bytes cannot hold 32768 lines.
    let e = decode_jpegls(&stream(8, 32768, 32768, 1, &[], &data)).unwrap_err();
    assert!(matches!(e, CodecError::Truncated(_)), "{e}");
    // Oversize dimensions through LSE id 4: 2^32-1 columns.
    let lse4 = [
        0xFF, 0xF8, 0x00, 0x0C, 4, 4, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFF,
    ];
    let e = decode_jpegls(&stream(8, 0, 0, 1, &lse4, &data)).unwrap_err();
    assert!(matches!(e, CodecError::DimensionTooLarge { .. }), "{e}");
    // Zero width and zero (DNL-defined) height.
    assert!(decode_jpegls(&stream(8, 10, 0, 1, &[], &data)).is_err());
    let e = decode_jpegls(&stream(8, 0, 10, 1, &[], &data)).unwrap_err();
    assert!(matches!(e, CodecError::Unsupported(_)), "{e}");
}

#[test]
fn short_data_for_a_large_image_fails_fast() {
    // A plausible header followed by far too few coded bytes must fail
    // rather than decode the whole image from implicit zero padding.
    let start = std::time::Instant::now();
    for fill in [0x00u8, 0x55, 0xAA, 0xC3] {
        assert!(decode_jpegls(&stream(16, 4000, 4000, 1, &[], &[fill; 2100])).is_err());
    }
    // Every line of a real image needs at least one bit, so the whole MR
    // codestream relabelled as a 4000x4000 image must run out of data.
    if let Some(file) = read_testdata("dicom/MR_small_jpeg_ls_lossless.dcm") {
        let mut s = encapsulated_frames(&file).remove(0);
        let sof = s.windows(2).position(|w| w == [0xFF, 0xF7]).unwrap();
        s[sof + 5..sof + 9].copy_from_slice(&[0x0F, 0xA0, 0x0F, 0xA0]);
        let e = decode_jpegls(&s).unwrap_err();
        assert!(
            matches!(e, CodecError::Truncated(_) | CodecError::CorruptData(_)),
            "{e}"
        );
    }
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

#[test]
fn invalid_parameters_are_rejected() {
    let data = [0u8; 64];
    // Bits per sample outside 2..=16.
    assert!(decode_jpegls(&stream(1, 8, 8, 1, &[], &data)).is_err());
    assert!(decode_jpegls(&stream(17, 8, 8, 1, &[], &data)).is_err());
    // T1 > T2 in an LSE preset segment.
    let lse = [0xFF, 0xF8, 0x00, 0x0D, 1, 0, 0, 0, 9, 0, 5, 0, 21, 0, 64];
    let e = decode_jpegls(&stream(8, 8, 8, 1, &lse, &data)).unwrap_err();
    assert!(matches!(e, CodecError::InvalidHeader(_)), "{e}");
    // MAXVAL larger than the sample precision allows.
    let lse = [0xFF, 0xF8, 0x00, 0x0D, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert!(decode_jpegls(&stream(8, 8, 8, 1, &lse, &data)).is_err());
    // Mapping tables are reported as unsupported.
    let lse = [0xFF, 0xF8, 0x00, 0x06, 2, 1, 1, 0];
    let e = decode_jpegls(&stream(8, 8, 8, 1, &lse, &data)).unwrap_err();
    assert!(matches!(e, CodecError::Unsupported(_)), "{e}");
}
