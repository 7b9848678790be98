//! Runs `exahealth reports extract` and `evaluate --json` on the hand-labelled
//! test set (crates/exahealth-reports/testdata) and checks micro-F1 >= 0.95
//! per use case and over all use cases; then the SKET example files (skipped
//! with a note when ../shared/testdata is absent), help texts and errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn exe() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exahealth"))
}

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../exahealth-reports/testdata")
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run exahealth");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

fn extract(inputs: &[PathBuf], use_case: &str, out: &Path, extra: &[&str]) {
    let mut cmd = exe();
    cmd.args(["reports", "extract"]).args(inputs);
    cmd.args(["--use-case", use_case, "-o"])
        .arg(out)
        .args(extra);
    run_ok(&mut cmd);
}

#[test]
fn test_set_micro_f1_at_least_0_95() {
    let t = testdata();
    let dir = tempfile::tempdir().unwrap();
    let inputs: Vec<PathBuf> = ["en", "it", "nl"]
        .iter()
        .map(|l| t.join(format!("reports_{l}.csv")))
        .collect();
    let (mut tp, mut fp, mut fn_) = (0u64, 0u64, 0u64);
    for uc in ["colon", "cervix", "lung", "celiac"] {
        let out = dir.path().join(uc);
        extract(&inputs, uc, &out, &[]);
        for f in ["labels.csv", "concepts.json", "manifest.json"] {
            assert!(out.join(f).is_file(), "{uc}: no {f}");
        }
        let json = run_ok(
            exe()
                .args(["reports", "evaluate"])
                .arg(out.join("labels.csv"))
                .arg(t.join(format!("gold_{uc}.csv")))
                .arg("--json"),
        );
        let e: serde_json::Value = serde_json::from_str(&json).expect("evaluate --json");
        let f1 = e["micro"]["f1"].as_f64().expect("micro.f1");
        eprintln!("{uc}: micro-F1 {f1:.3}, macro-F1 {:.3}", e["macro_f1"]);
        assert!(f1 >= 0.95, "{uc}: micro-F1 {f1:.3}");
        assert_eq!(e["missing_in_predicted"], 0, "{uc}");
        assert!(e["per_class"].as_array().is_some_and(|a| !a.is_empty()));
        tp += e["micro"]["tp"].as_u64().unwrap();
        fp += e["micro"]["fp"].as_u64().unwrap();
        fn_ += e["micro"]["fn"].as_u64().unwrap();
    }
    let f1 = 2.0 * tp as f64 / (2 * tp + fp + fn_) as f64;
    eprintln!("all use cases: micro-F1 {f1:.3}");
    assert!(f1 >= 0.95, "micro-F1 over all use cases {f1:.3}");
}

#[test]
fn labels_table_shape_and_rollup() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    extract(
        &[testdata().join("reports_it.csv")],
        "colon",
        &out,
        &["--lang", "it"],
    );
    let labels = std::fs::read_to_string(out.join("labels.csv")).unwrap();
    let mut lines = labels.lines();
    assert_eq!(lines.next(), Some("id,cancer,hgd,lgd,hyperplastic,ni"));
    assert_eq!(lines.count(), 15);
    let roll = std::fs::read_to_string(out.join("labels_rollup.csv")).unwrap();
    assert!(roll.starts_with("id,cancer_or_dysplasia,other\n"));
    let c: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("concepts.json")).unwrap()).unwrap();
    let first = &c["reports"][0]["concepts"][0];
    assert!(first["identifier"].as_str().unwrap().starts_with("http"));
    assert!(first["span"].is_array());
}

#[test]
fn sket_example_files() {
    let Some(sket) =
        exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "reports/sket")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (file, want) in [
        (
            "test_single_report.json",
            "id,cancer,hgd,lgd,hyperplastic,ni\ntest,1,1,1,0,0\n",
        ),
        (
            "test_multiple_reports.json",
            "id,cancer,hgd,lgd,hyperplastic,ni\n\
             test_multiple_reports-1,1,1,1,0,0\ntest_multiple_reports-2,0,1,0,1,0\n",
        ),
        (
            "test.xlsx",
            "id,cancer,hgd,lgd,hyperplastic,ni\ntest-1,1,1,1,0,0\ntest-2,0,1,0,1,0\n",
        ),
    ] {
        let out = dir.path().join(file);
        extract(&[sket.join(file)], "colon", &out, &[]);
        let got = std::fs::read_to_string(out.join("labels.csv")).unwrap();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn help_teaches_and_errors_say_what_to_do() {
    let help = run_ok(exe().args(["reports", "extract", "--help"]));
    assert!(help.contains("Examples:") && help.contains("--use-case"));
    let help = run_ok(exe().args(["reports", "evaluate", "--help"]));
    assert!(help.contains("Hamming"));
    let out = exe()
        .args([
            "reports",
            "extract",
            "/no/such.csv",
            "--use-case",
            "colon",
            "-o",
        ])
        .arg(std::env::temp_dir().join("exahealth-reports-none"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/no/such.csv"), "{err}");
    let bench = run_ok(exe().args([
        "reports",
        "bench",
        "--use-case",
        "lung",
        "--reports",
        "200",
        "--json",
    ]));
    let b: serde_json::Value = serde_json::from_str(&bench).unwrap();
    assert!(b["reports_per_second"].as_f64().unwrap() > 0.0);
}
