//! Records the Burn and rustc versions for model cards and run manifests
//! (`EXAHEALTH_BURN_VERSION`, `EXAHEALTH_RUSTC_VERSION`).

use std::path::Path;
use std::process::Command;

/// The version of package `name` in the nearest `Cargo.lock` above `dir`.
fn locked_version(dir: &Path, name: &str) -> Option<String> {
    let lock = dir
        .ancestors()
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file())?;
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = std::fs::read_to_string(lock).ok()?;
    let needle = format!("name = \"{name}\"");
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() == needle {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.trim_end_matches('"').to_string());
        }
    }
    None
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let burn = locked_version(Path::new(&manifest), "burn").unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=EXAHEALTH_BURN_VERSION={burn}");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=EXAHEALTH_RUSTC_VERSION={version}");
}
