//! Where the shared real-file test data lives, and the rule for tests that
//! need it: on a user's machine they skip with a printed reason when it is
//! absent; under CI (`CI=true`) its absence is a failure, never a skip.

use std::path::{Path, PathBuf};

/// `shared/testdata` beside the repository whose crate is at
/// `manifest_dir` (pass `env!("CARGO_MANIFEST_DIR")`), or `None` after
/// printing why the caller skips.
///
/// # Panics
/// When the folder is absent and `CI` is `true`: CI must run every test.
pub fn shared_dir(manifest_dir: &str) -> Option<PathBuf> {
    let dir = Path::new(manifest_dir).join("../../../shared/testdata");
    if dir.is_dir() {
        return Some(dir);
    }
    absent(&dir.display().to_string())
}

/// One file or folder under [`shared_dir`], with the same rule.
pub fn shared_file(manifest_dir: &str, relative: &str) -> Option<PathBuf> {
    let path = shared_dir(manifest_dir)?.join(relative);
    if path.exists() {
        Some(path)
    } else {
        absent(&path.display().to_string())
    }
}

/// Skips (prints the reason, returns `None`) or, under CI, fails.
pub fn absent<T>(what: &str) -> Option<T> {
    if under_ci() {
        panic!(
            "{what} is absent, and under CI (CI=true) a test must not skip for want of its data"
        );
    }
    eprintln!("skipping: {what} is absent (the shared test data lives beside the repository)");
    None
}

/// Whether this runs under CI.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
