//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use exahealth_codec::JlsSamples;

/// `shared/testdata` beside the repository, or `None` (with a note on stderr)
/// when this checkout has no test data, in which case the caller skips.
pub fn testdata_dir() -> Option<PathBuf> {
    exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR"))
}

pub fn read_testdata(rel: &str) -> Option<Vec<u8>> {
    let path = testdata_dir()?.join(rel);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) => exahealth_base::testdata::absent(&format!("{} ({e})", path.display())),
    }
}

/// Our own fixtures: CharLS-encoded streams and the samples CharLS decodes
/// from them (see tests/data/gen_fixtures.py).
pub fn fixture(name: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/jls/");
    let jls = std::fs::read(format!("{dir}{name}.jls")).expect("fixture .jls");
    let raw = std::fs::read(format!("{dir}{name}.raw")).expect("fixture .raw");
    (jls, raw)
}

/// The frames of an encapsulated (compressed) DICOM pixel data element,
/// found without a DICOM parser: the last (7FE0,0010) with explicit VR and
/// undefined length, then its (FFFE,E000) items. The first item is the basic
/// offset table; a frame may span several fragments, so a new frame starts
/// at each fragment that begins with an SOI marker.
pub fn encapsulated_frames(file: &[u8]) -> Vec<Vec<u8>> {
    let start = file
        .windows(12)
        .rposition(|w| w[..4] == [0xE0, 0x7F, 0x10, 0x00] && w[8..12] == [0xFF; 4])
        .expect("encapsulated pixel data element");
    let mut pos = start + 12;
    let mut fragments = Vec::new();
    while pos + 8 <= file.len() {
        let group = u16::from_le_bytes([file[pos], file[pos + 1]]);
        let element = u16::from_le_bytes([file[pos + 2], file[pos + 3]]);
        let len = u32::from_le_bytes(file[pos + 4..pos + 8].try_into().unwrap()) as usize;
        pos += 8;
        match (group, element) {
            (0xFFFE, 0xE000) => {
                fragments.push(&file[pos..pos + len]);
                pos += len;
            }
            (0xFFFE, 0xE0DD) => break,
            other => panic!("unexpected tag {other:04X?} in encapsulated pixel data"),
        }
    }
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for frag in fragments.into_iter().skip(1) {
        match frames.last_mut() {
            Some(frame) if !frag.starts_with(&[0xFF, 0xD8]) => frame.extend_from_slice(frag),
            _ => frames.push(frag.to_vec()),
        }
    }
    frames
}

/// Native pixel data of an uncompressed twin: the value of the (7FE0,0010)
/// element whose length is `len` (explicit or implicit VR little endian).
pub fn native_pixels(file: &[u8], len: usize) -> &[u8] {
    let len32 = (len as u32).to_le_bytes();
    let at = (0..file.len().saturating_sub(12))
        .rev()
        .find_map(|i| {
            let w = &file[i..i + 12];
            if w[..4] != [0xE0, 0x7F, 0x10, 0x00] {
                None
            } else if matches!(&w[4..6], b"OW" | b"OB") && w[8..12] == len32 {
                Some(i + 12)
            } else if w[4..8] == len32 {
                Some(i + 8)
            } else {
                None
            }
        })
        .expect("native pixel data element of the expected length");
    &file[at..at + len]
}

pub fn le_u16(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect()
}

pub fn as_u16(samples: &JlsSamples) -> Vec<u16> {
    match samples {
        JlsSamples::U8(v) => v.iter().map(|&s| u16::from(s)).collect(),
        JlsSamples::U16(v) => v.clone(),
    }
}

/// FNV-1a 64 over the samples as little-endian u16, matching the checksums
/// recorded from reference decoders.
pub fn fnv1a_u16(samples: &[u16]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for s in samples {
        for b in s.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Deterministic pseudo-random numbers (no `rand` dependency needed).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u32(&mut self) -> u32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as u32
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u32() as usize) % n.max(1)
    }
}
