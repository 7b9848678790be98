//! Compares `exahealth image` with the reference readers (pydicom with the
//! pylibjpeg codec plugins, nibabel) on every file in
//! `../shared/testdata/{dicom,nifti}` by running `bench/compare_images.py`:
//! exact pixel equality for lossless syntaxes, |diff| <= 2 for lossy ones,
//! equal spacing, rescale, window and NIfTI affines.
//!
//! Skips (passes, with a note on stderr; fails under CI=true) when `../shared/testdata` is absent,
//! when `python3` is absent, or when the Python modules it needs
//! (`pip install -r bench/requirements.txt`) cannot be imported.
//! `EXAHEALTH_PYTHON` picks another interpreter than `python3`.

use std::path::PathBuf;
use std::process::Command;

fn skip(reason: &str) {
    eprintln!("SKIP image_compare: {reason}");
}

#[test]
fn exahealth_matches_pydicom_and_nibabel() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..");
    let root = root.canonicalize().unwrap_or(root);
    let Some(testdata) = exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    for sub in ["dicom", "nifti"] {
        if exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), sub).is_none() {
            return;
        }
    }
    let script = root.join("bench").join("compare_images.py");
    let python = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".to_string());
    match Command::new(&python).arg("--version").output() {
        Ok(o) if o.status.success() => {}
        Ok(o) => return skip(&format!("`{python} --version` failed: {}", o.status)),
        Err(e) => return skip(&format!("cannot run {python}: {e}")),
    }
    let probe = Command::new(&python)
        .args([
            "-c",
            "import numpy, pydicom, nibabel, pylibjpeg, openjpeg, libjpeg, jpeg_ls",
        ])
        .output()
        .expect("run python");
    if !probe.status.success() {
        let err = String::from_utf8_lossy(&probe.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_string();
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
        .current_dir(&root)
        .output()
        .expect("run compare_images.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(
        out.status.success(),
        "compare_images.py reported differences:\n{stdout}\n{stderr}"
    );
    // The table must cover the files: a run that compared nothing is a failure.
    let passed = stdout
        .lines()
        .find_map(|l| l.strip_prefix("compare_images: "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(0);
    assert!(passed >= 30, "only {passed} files compared:\n{stdout}");
}
