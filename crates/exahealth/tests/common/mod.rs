//! Helpers shared by the CLI tests that train and predict.
// Each test binary that includes this module uses a subset of it.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs exahealth, which must succeed.
pub fn exahealth(args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .args(args)
        .output()
        .expect("run exahealth");
    assert!(
        out.status.success(),
        "exahealth {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs exahealth expecting it to fail; returns its stderr.
pub fn exahealth_fails(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .args(args)
        .output()
        .expect("run exahealth");
    assert!(!out.status.success(), "exahealth {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// xorshift32 noise in `0..spread`.
pub fn noise(state: &mut u32, spread: u32) -> u8 {
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    (*state % spread) as u8
}

/// A 24x24 RGB PNG of `colour` plus seeded noise (0..`spread` per sample).
pub fn write_png(path: &Path, colour: [u8; 3], spread: u32, seed: u32) {
    let mut s = seed.wrapping_mul(2_654_435_761).max(1);
    let data: Vec<u8> = (0..24 * 24 * 3)
        .map(|i| colour[i % 3].saturating_add(noise(&mut s, spread)))
        .collect();
    let file = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), 24, 24);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(&data).unwrap();
}
