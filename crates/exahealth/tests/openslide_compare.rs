//! Compares `exahealth slide` with OpenSlide on the shared test slides by
//! running `bench/compare_openslide.py --check` (metadata, plus read_region
//! PSNR >= 40 dB over RGBA).
//!
//! Skips (passes, with a note on stderr; fails under CI=true) when `../shared/testdata` is absent,
//! when `python3` is absent, or when the Python modules it needs (openslide,
//! numpy, PIL: `pip install -r bench/requirements.txt`) cannot be imported.
//! `EXAHEALTH_PYTHON` picks another interpreter than `python3`.

use std::path::PathBuf;
use std::process::Command;

fn skip(reason: &str) -> Result<(), Box<dyn std::error::Error>> {
    eprintln!("SKIP openslide_compare: {reason}");
    Ok(())
}

#[test]
fn exahealth_matches_openslide() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..");
    let root = root.canonicalize().unwrap_or(root);
    let Some(testdata) = exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR")) else {
        return Ok(());
    };
    let script = root.join("bench").join("compare_openslide.py");
    if !script.is_file() {
        return skip(&format!("no {}", script.display()));
    }
    let python = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".to_string());

    match Command::new(&python).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => return skip(&format!("`{python} --version` failed: {}", o.status)),
        Err(e) => return skip(&format!("cannot run {python}: {e}")),
    }
    let probe = Command::new(&python)
        .args(["-c", "import openslide, numpy, PIL"])
        .output()?;
    if !probe.status.success() {
        let err = String::from_utf8_lossy(&probe.stderr);
        let last = err.lines().last().unwrap_or("").trim();
        return skip(&format!(
            "Python modules missing ({last}); pip install -r bench/requirements.txt"
        ));
    }

    let out = Command::new(&python)
        .arg(&script)
        .arg("--exahealth")
        .arg(env!("CARGO_BIN_EXE_exahealth"))
        .arg("--testdata")
        .arg(&testdata)
        .arg("--check")
        .current_dir(&root)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() {
        // Shown with `cargo test -- --nocapture`.
        println!("{stdout}{stderr}");
    }
    assert!(
        out.status.success(),
        "compare_openslide.py --check failed ({}):\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        out.status
    );
    Ok(())
}
