//! `exahealth image info` and `exahealth image convert` on the real files in
//! ../shared/testdata (skipped with a note when that folder is absent).

use std::path::PathBuf;
use std::process::{Command, Output};

fn testdata() -> Option<PathBuf> {
    let dicom = exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "dicom")?;
    dicom.parent().map(PathBuf::from)
}

fn exahealth(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .args(args)
        .output()
        .expect("run exahealth")
}

fn info_json(path: &std::path::Path) -> serde_json::Value {
    let out = exahealth(&[
        "image".as_ref(),
        "info".as_ref(),
        "--json".as_ref(),
        path.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "info {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("info --json prints JSON")
}

#[test]
fn info_reports_dims_type_spacing_and_metadata() {
    let Some(d) = testdata() else { return };
    let v = info_json(&d.join("dicom/CT_small.dcm"));
    assert_eq!(v["format"], "dicom");
    assert_eq!(v["layout"], "xy");
    assert_eq!(v["dims"], serde_json::json!([128, 128]));
    assert_eq!(v["dtype"], "int16");
    assert_eq!(v["meta"]["modality"], "CT");
    assert_eq!(v["meta"]["dicom.transfer_syntax"], "1.2.840.10008.1.2.1");
    assert!(v["min"].as_f64().unwrap() < v["max"].as_f64().unwrap());

    let n = info_json(&d.join("nifti/example_nifti2.nii.gz"));
    assert_eq!(n["format"], "nifti2");
    assert_eq!(n["dims"], serde_json::json!([32, 20, 12, 2]));
    assert_eq!(n["spacing"]["t"], 2000.0);

    // Plain-text output names the same facts.
    let out = exahealth(&[
        "image".as_ref(),
        "info".as_ref(),
        d.join("dicom/emri_small.dcm").as_os_str(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("x=64 y=64 z=10"), "{text}");
    assert!(text.contains("uint16"), "{text}");
}

#[test]
fn series_to_nifti_to_png() {
    let Some(d) = testdata() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let nii = tmp.path().join("ct.nii.gz");
    let out = exahealth(&[
        "image".as_ref(),
        "convert".as_ref(),
        d.join("dicom/ct_series_TCGA-34-2605").as_os_str(),
        nii.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let series = info_json(&d.join("dicom/ct_series_TCGA-34-2605"));
    let v = info_json(&nii);
    assert_eq!(v["format"], "nifti1");
    assert_eq!(v["dims"], serde_json::json!([512, 512, 10]));
    assert_eq!(v["dtype"], "int16");
    assert_eq!(v["min"], series["min"]);
    assert_eq!(v["max"], series["max"]);
    assert!((v["spacing"]["z"].as_f64().unwrap() - 5.0).abs() < 1e-4);
    // The DICOM rescale travels as scl_slope / scl_inter.
    assert_eq!(
        v["meta"]["rescale_intercept"],
        series["meta"]["rescale_intercept"]
    );

    // A volume is not a picture...
    let png = tmp.path().join("slice.png");
    let out = exahealth(&[
        "image".as_ref(),
        "convert".as_ref(),
        nii.as_os_str(),
        png.as_os_str(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--slice"));
    assert!(!png.exists());
    // ...one windowed slice is.
    let out = exahealth(&[
        "image".as_ref(),
        "convert".as_ref(),
        nii.as_os_str(),
        png.as_os_str(),
        "--slice".as_ref(),
        "4".as_ref(),
        "--window".as_ref(),
        "-600,1500".as_ref(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let p = info_json(&png);
    assert_eq!(p["format"], "png");
    assert_eq!(p["dtype"], "uint8");
    assert_eq!(p["dims"], serde_json::json!([512, 512]));
    assert_eq!(p["min"], 0.0);
    assert_eq!(p["max"], 255.0);
}

#[test]
fn errors_tell_the_user_what_happened() {
    let Some(d) = testdata() else { return };
    let ann = d.join("annotations/highdicom_sm_annotations.dcm");
    if ann.is_file() {
        let out = exahealth(&["image".as_ref(), "info".as_ref(), ann.as_os_str()]);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("no pixel data"));
    }
    let out = exahealth(&[
        "image".as_ref(),
        "convert".as_ref(),
        d.join("dicom/CT_small.dcm").as_os_str(),
        "out.xyz".as_ref(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".nii"));
    let out = exahealth(&[
        "image".as_ref(),
        "convert".as_ref(),
        d.join("dicom/CT_small.dcm").as_os_str(),
        "x.png".as_ref(),
        "--window".as_ref(),
        "40,-1".as_ref(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("width"));
}
