//! The CMU-1 DICOM WSI conversion labels its JPEG frames "RGB" while their
//! JFIF markers say YCbCr. exahealth follows the codestream, as pydicom
//! does (OpenSlide 4.0.1 follows the header and shows the slide green):
//! `bench/compare_dicom_wsi.py` reads level 0 with `exahealth slide region`
//! and compares every frame with pydicom's decode (PSNR >= 40 dB).
//!
//! Skips (with a note; fails under CI=true) when `../shared/testdata` is
//! absent, and skips when python3 or pydicom with its JPEG plugin cannot
//! be run (`pip install -r bench/requirements.txt`).

use std::path::PathBuf;
use std::process::Command;

#[test]
fn dicom_wsi_frames_match_pydicom_not_the_header() {
    let Some(testdata) = exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let python = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = Command::new(&python)
        .args(["-c", "import numpy, pydicom, pylibjpeg, libjpeg, PIL"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP dicom_wsi_compare: {python} with pydicom and pylibjpeg is not available (pip install -r bench/requirements.txt)");
        return;
    }
    let out = Command::new(&python)
        .arg(root.join("bench/compare_dicom_wsi.py"))
        .arg("--exahealth")
        .arg(env!("CARGO_BIN_EXE_exahealth"))
        .arg("--testdata")
        .arg(&testdata)
        .output()
        .expect("run compare_dicom_wsi.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("frames compared: 30"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
