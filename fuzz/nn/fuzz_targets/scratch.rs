//! Shared by the targets: one scratch file per fuzzing process under
//! /dev/shm (RAM), rewritten for each input, for the readers that take a
//! path; the small memory budget; a small CNN to load weights into.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use exahealth_nn::models::{Architecture, Network};

/// Writes `data` to this process's scratch file `name` and returns its path.
pub fn file(name: &str, data: &[u8]) -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        tempfile::Builder::new()
            .prefix("exahealth-fuzz-nn-")
            .tempdir_in(base)
            .expect("scratch folder")
            .keep()
    });
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write scratch file");
    path
}

/// The memory budget every target runs under: small, so a header that
/// asks for more is refused long before libFuzzer's RSS limit.
pub fn small_budget() {
    exahealth_base::budget::set_limit(256 << 20);
}

/// An untrained small CNN (3 channels, 2 classes), built once per process;
/// targets clone it, since loading weights consumes or changes a model.
pub fn small_cnn() -> &'static Network {
    static MODEL: OnceLock<Network> = OnceLock::new();
    MODEL.get_or_init(|| {
        let architecture = Architecture::from_name("small-cnn", 3, 2).expect("small-cnn");
        architecture
            .init(&exahealth_nn::cpu_device())
            .expect("small-cnn builds")
    })
}
