//! `exahealth bench image` against OpenCV through `bench/compare_opencv.py
//! --check` on a generated 512 x 512 RGB image: every 8-bit kernel's output
//! (resizes, Gaussian blurs, the Otsu mask) must match OpenCV's within one
//! grey level (two for cubic; the Gaussians exactly). The timings it prints
//! are not asserted.
//!
//! Skips (passes, with a note on stderr) when `python3` is absent or
//! cannot import numpy and cv2 (`pip install -r bench/requirements.txt`).
//! `EXAHEALTH_PYTHON` picks another interpreter than `python3`.

use std::path::PathBuf;
use std::process::Command;

fn skip(reason: &str) {
    eprintln!("SKIP opencv_compare: {reason}");
}

#[test]
fn eight_bit_kernels_match_opencv() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("..");
    let python = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = match Command::new(&python)
        .args(["-c", "import numpy, cv2"])
        .output()
    {
        Ok(o) => o,
        Err(e) => return skip(&format!("cannot run {python}: {e}")),
    };
    if !probe.status.success() {
        let err = String::from_utf8_lossy(&probe.stderr);
        let last = err.lines().last().unwrap_or("").trim().to_string();
        return skip(&format!(
            "Python modules missing ({last}); pip install -r bench/requirements.txt"
        ));
    }
    let out = Command::new(&python)
        .arg(root.join("bench").join("compare_opencv.py"))
        .args(["--exahealth", env!("CARGO_BIN_EXE_exahealth")])
        .args([
            "--size",
            "512",
            "--repeat",
            "1",
            "--rounds",
            "1",
            "--threads",
            "2",
            "--check",
        ])
        .output()
        .expect("run compare_opencv.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "compare_opencv.py failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    // All nine operations were compared.
    for op in exahealth_image::bench::OPERATIONS {
        assert!(
            stdout.contains(&format!("| {op} |")),
            "{op} missing:\n{stdout}"
        );
    }
}
