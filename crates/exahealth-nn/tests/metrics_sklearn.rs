//! Metrics against scikit-learn on fixed pseudo-random inputs.
//!
//! The test writes the cases as JSON, runs `bench/metrics_reference.py` on
//! them and compares every number. It skips (with the reason on stderr) when
//! `python3` or scikit-learn is missing; `EXAHEALTH_PYTHON` picks another
//! interpreter than `python3`.

use std::path::PathBuf;
use std::process::Command;

use exahealth_nn::metrics::{dice, iou, roc_auc_ovr_macro, ClassificationReport, MetricsError};
use serde_json::{json, Value};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

struct Case {
    name: &'static str,
    truth: Vec<usize>,
    /// Row-major samples x classes.
    scores: Vec<f32>,
    classes: usize,
}

/// Scores that are multiples of 1/8 summing to exactly 1 (so scikit-learn's
/// row normalisation changes nothing and ties are frequent), skewed towards
/// the true class so that the metrics are far from chance.
fn multiclass(name: &'static str, seed: u64, n: usize, k: usize) -> Case {
    let mut rng = Lcg(seed);
    let mut truth = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(n * k);
    for i in 0..n {
        // Every class present: the one-vs-rest AUC is defined for all.
        let t = if i < k {
            i
        } else {
            (rng.next() % k as u64) as usize
        };
        let mut counts = vec![0u32; k];
        for _ in 0..8 {
            let c = if rng.next() % 2 == 0 {
                t
            } else {
                (rng.next() % k as u64) as usize
            };
            counts[c] += 1;
        }
        truth.push(t);
        scores.extend(counts.iter().map(|&c| c as f32 / 8.0));
    }
    Case {
        name,
        truth,
        scores,
        classes: k,
    }
}

fn binary(seed: u64, n: usize) -> Case {
    let mut rng = Lcg(seed);
    let mut truth = Vec::with_capacity(n);
    let mut scores = Vec::with_capacity(2 * n);
    for i in 0..n {
        let t = if i < 2 { i } else { (rng.next() % 2) as usize };
        // Two decimals: ties between samples are common.
        let s = ((rng.next() % 60) as f32 + 40.0 * t as f32) / 100.0;
        truth.push(t);
        scores.extend([1.0 - s, s]);
    }
    Case {
        name: "binary",
        truth,
        scores,
        classes: 2,
    }
}

fn python() -> Option<String> {
    let py = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&py)
        .args(["-c", "import sklearn, numpy"])
        .output()
    {
        Ok(o) if o.status.success() => Some(py),
        Ok(o) => {
            eprintln!(
                "skipping: `{py}` lacks scikit-learn/numpy ({}); pip install -r bench/requirements.txt",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("skipping: cannot run `{py}`: {e}");
            None
        }
    }
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(what: &str, a: f64, b: f64) {
    assert!(
        (a - b).abs() < 1e-9,
        "{what}: exahealth {a} != scikit-learn {b}"
    );
}

fn close_vec(what: &str, a: &[f64], b: &Value) {
    let b = b.as_array().unwrap();
    assert_eq!(a.len(), b.len(), "{what}");
    for (x, y) in a.iter().zip(b) {
        close(what, *x, num(y));
    }
}

#[test]
fn metrics_match_scikit_learn() {
    let Some(py) = python() else { return };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench/metrics_reference.py");
    let cases = [
        multiclass("four_classes", 11, 257, 4),
        multiclass("three_classes", 5, 60, 3),
        binary(3, 199),
    ];
    let mut rng = Lcg(99);
    let mask_pred: Vec<bool> = (0..1000).map(|_| rng.next() % 3 == 0).collect();
    let mask_truth: Vec<bool> = mask_pred
        .iter()
        .map(|&p| if rng.next() % 5 == 0 { !p } else { p })
        .collect();

    let json_cases = json!({
        "classification": cases.iter().map(|c| json!({
            "name": c.name,
            "truth": c.truth,
            "num_classes": c.classes,
            // Exact f64 images of the f32 scores the Rust side sees.
            "scores": c.scores.chunks(c.classes)
                .map(|r| r.iter().map(|&v| f64::from(v)).collect::<Vec<_>>())
                .collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "masks": [{
            "name": "mask",
            "pred": mask_pred.iter().map(|&b| u8::from(b)).collect::<Vec<_>>(),
            "truth": mask_truth.iter().map(|&b| u8::from(b)).collect::<Vec<_>>(),
        }],
    });
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cases.json");
    let output = dir.path().join("reference.json");
    std::fs::write(&input, serde_json::to_vec(&json_cases).unwrap()).unwrap();
    let status = Command::new(&py)
        .arg(&script)
        .arg(&input)
        .arg("--out")
        .arg(&output)
        .status()
        .unwrap();
    assert!(status.success(), "{} failed", script.display());
    let reference: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();

    for case in &cases {
        let want = &reference[case.name];
        let got =
            ClassificationReport::from_scores(&case.truth, &case.scores, case.classes).unwrap();
        let cm: Vec<Vec<u64>> = serde_json::from_value(want["confusion_matrix"].clone()).unwrap();
        assert_eq!(got.confusion_matrix, cm, "{}", case.name);
        close("accuracy", got.accuracy, num(&want["accuracy"]));
        close(
            "balanced accuracy",
            got.balanced_accuracy,
            num(&want["balanced_accuracy"]),
        );
        close_vec("precision", &got.per_class.precision, &want["precision"]);
        close_vec("recall", &got.per_class.recall, &want["recall"]);
        close_vec("f1", &got.per_class.f1, &want["f1"]);
        for (avg, a) in [
            ("macro", got.macro_avg),
            ("micro", got.micro),
            ("weighted", got.weighted),
        ] {
            close(avg, a.precision, num(&want[avg]["precision"]));
            close(avg, a.recall, num(&want[avg]["recall"]));
            close(avg, a.f1, num(&want[avg]["f1"]));
        }
        close("kappa", got.kappa.unwrap(), num(&want["kappa"]));
        close(
            "quadratic kappa",
            got.kappa_quadratic.unwrap(),
            num(&want["kappa_quadratic"]),
        );
        close("roc auc", got.roc_auc.unwrap(), num(&want["roc_auc"]));
        if case.classes > 2 {
            let per: Vec<f64> = got
                .roc_auc_per_class
                .clone()
                .unwrap()
                .into_iter()
                .map(Option::unwrap)
                .collect();
            close_vec("per-class auc", &per, &want["roc_auc_per_class"]);
        }
        // The metrics are far from chance, so a sign or index error shows.
        assert!(
            got.accuracy > 0.5 && got.roc_auc.unwrap() > 0.7,
            "{}: {got:?}",
            case.name
        );
    }
    close(
        "dice",
        dice(&mask_pred, &mask_truth).unwrap(),
        num(&reference["mask"]["dice"]),
    );
    close(
        "iou",
        iou(&mask_pred, &mask_truth).unwrap(),
        num(&reference["mask"]["iou"]),
    );

    // A class missing from the truth makes the one-vs-rest AUC undefined, as
    // in scikit-learn.
    assert!(matches!(
        roc_auc_ovr_macro(
            &[0, 1, 0],
            &[0.5, 0.3, 0.2, 0.1, 0.8, 0.1, 0.6, 0.2, 0.2],
            3
        ),
        Err(MetricsError::Undefined(_))
    ));
}
