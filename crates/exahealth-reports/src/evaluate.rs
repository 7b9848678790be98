//! Multi-label metrics of a predicted labels table against a gold one:
//! exact-match accuracy, micro and macro F1, Hamming loss and per-class
//! precision, recall and F1.
//!
//! Rows are matched by `id`; the gold file's label columns are scored. A
//! gold row missing from the predictions counts as all zeros (and is
//! counted in `missing_in_predicted`). Macro-F1 averages the classes that
//! occur in the gold labels or in the predictions; a class that never does
//! has no F1 and is left out (it is listed with `f1: null`).

use crate::Error;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// A labels table read back: label names and rows of 0/1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// The label columns, in file order (after `id`).
    pub labels: Vec<String>,
    /// One row per report: its id and one flag per label.
    pub rows: Vec<(String, Vec<bool>)>,
}

/// Read a labels CSV (`id` then 0/1 columns).
pub fn read_table(path: &Path) -> Result<Table, Error> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_table(std::io::BufReader::new(f), path)
}

/// Parse a labels CSV from a reader.
pub fn parse_table<R: std::io::Read>(r: R, path: &Path) -> Result<Table, Error> {
    let mut rdr = csv::ReaderBuilder::new().from_reader(r);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::input_from(path, "CSV header", e))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect();
    if headers.first().map(String::as_str) != Some("id") || headers.len() < 2 {
        return Err(Error::input(
            path,
            "a labels table starts with an `id` column followed by one column per label",
        ));
    }
    let labels = headers[1..].to_vec();
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::input_from(path, "CSV", e))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let id = rec.get(0).unwrap_or("").trim().to_string();
        if id.is_empty() {
            return Err(Error::input(path, format!("line {line}: empty id")));
        }
        if !seen.insert(id.clone()) {
            return Err(Error::input(
                path,
                format!("line {line}: id {id:?} appears twice"),
            ));
        }
        let mut vals = Vec::with_capacity(labels.len());
        for (j, l) in labels.iter().enumerate() {
            let v = rec.get(j + 1).unwrap_or("").trim();
            vals.push(match v {
                "1" | "1.0" | "true" | "True" | "TRUE" => true,
                "0" | "0.0" | "false" | "False" | "FALSE" | "" => false,
                other => {
                    return Err(Error::input(
                        path,
                        format!("line {line}, column {l}: {other:?} is not 0 or 1"),
                    ))
                }
            });
        }
        rows.push((id, vals));
    }
    Ok(Table { labels, rows })
}

/// Counts and scores of one class.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ClassMetrics {
    /// The label column.
    pub label: String,
    /// True positives.
    pub tp: usize,
    /// False positives.
    pub fp: usize,
    #[serde(rename = "fn")]
    /// False negatives (`fn` in JSON).
    pub fn_: usize,
    /// Gold positives.
    pub support: usize,
    /// `tp / (tp + fp)`; `None` when nothing was predicted positive.
    pub precision: Option<f64>,
    /// `tp / (tp + fn)`; `None` when the gold table has no positive.
    pub recall: Option<f64>,
    /// The harmonic mean of precision and recall; `None` when both counts are 0.
    pub f1: Option<f64>,
}

/// Micro-averaged scores.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Micro {
    /// True positives over all classes.
    pub tp: usize,
    /// False positives over all classes.
    pub fp: usize,
    #[serde(rename = "fn")]
    /// False negatives over all classes (`fn` in JSON).
    pub fn_: usize,
    /// Micro precision (0 when nothing was predicted positive).
    pub precision: f64,
    /// Micro recall (0 when the gold table has no positive).
    pub recall: f64,
    /// Micro F1 (0 when undefined).
    pub f1: f64,
}

/// The evaluation of a predicted table against a gold table.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Evaluation {
    /// Rows of the gold table.
    pub n_reports: usize,
    /// The gold table's label columns, the ones scored.
    pub labels: Vec<String>,
    /// Fraction of reports whose labels all match.
    pub exact_match: f64,
    /// Scores over all labels pooled.
    pub micro: Micro,
    /// Mean F1 over the classes where it is defined.
    pub macro_f1: f64,
    /// Fraction of (report, label) cells that differ.
    pub hamming_loss: f64,
    /// One entry per label, in gold column order.
    pub per_class: Vec<ClassMetrics>,
    /// Gold reports with no predicted row (scored as all negative).
    pub missing_in_predicted: usize,
    /// Predicted reports with no gold row (not scored).
    pub extra_in_predicted: usize,
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

fn f1(tp: usize, fp: usize, fn_: usize) -> Option<f64> {
    ratio(2 * tp, 2 * tp + fp + fn_)
}

/// Score `pred` against `gold`.
pub fn evaluate(pred: &Table, gold: &Table) -> Result<Evaluation, Error> {
    let cols: Vec<usize> = gold
        .labels
        .iter()
        .map(|l| {
            pred.labels.iter().position(|p| p == l).ok_or_else(|| {
                Error::Evaluate(format!(
                    "the predictions have no column {l:?} (they have {:?}); \
                     were they made for the same use case?",
                    pred.labels
                ))
            })
        })
        .collect::<Result<_, _>>()?;
    if gold.rows.is_empty() {
        return Err(Error::Evaluate("the gold table has no rows".into()));
    }
    let by_id: HashMap<&str, &Vec<bool>> =
        pred.rows.iter().map(|(id, v)| (id.as_str(), v)).collect();
    let gold_ids: HashSet<&str> = gold.rows.iter().map(|(id, _)| id.as_str()).collect();
    let extra = pred
        .rows
        .iter()
        .filter(|(id, _)| !gold_ids.contains(id.as_str()))
        .count();
    let nl = gold.labels.len();
    let (mut tp, mut fp, mut fn_) = (vec![0; nl], vec![0; nl], vec![0; nl]);
    let mut exact = 0;
    let mut wrong_cells = 0;
    let mut missing = 0;
    for (id, g) in &gold.rows {
        let p: Vec<bool> = match by_id.get(id.as_str()) {
            Some(v) => cols.iter().map(|&c| v[c]).collect(),
            None => {
                missing += 1;
                vec![false; nl]
            }
        };
        let mut all = true;
        for j in 0..nl {
            match (p[j], g[j]) {
                (true, true) => tp[j] += 1,
                (true, false) => fp[j] += 1,
                (false, true) => fn_[j] += 1,
                (false, false) => {}
            }
            if p[j] != g[j] {
                all = false;
                wrong_cells += 1;
            }
        }
        exact += usize::from(all);
    }
    let n = gold.rows.len();
    let per_class: Vec<ClassMetrics> = (0..nl)
        .map(|j| ClassMetrics {
            label: gold.labels[j].clone(),
            tp: tp[j],
            fp: fp[j],
            fn_: fn_[j],
            support: tp[j] + fn_[j],
            precision: ratio(tp[j], tp[j] + fp[j]),
            recall: ratio(tp[j], tp[j] + fn_[j]),
            f1: f1(tp[j], fp[j], fn_[j]),
        })
        .collect();
    let (t, p, f): (usize, usize, usize) = (tp.iter().sum(), fp.iter().sum(), fn_.iter().sum());
    let defined: Vec<f64> = per_class.iter().filter_map(|c| c.f1).collect();
    Ok(Evaluation {
        n_reports: n,
        labels: gold.labels.clone(),
        exact_match: exact as f64 / n as f64,
        micro: Micro {
            tp: t,
            fp: p,
            fn_: f,
            precision: ratio(t, t + p).unwrap_or(0.0),
            recall: ratio(t, t + f).unwrap_or(0.0),
            f1: f1(t, p, f).unwrap_or(0.0),
        },
        macro_f1: if defined.is_empty() {
            0.0
        } else {
            defined.iter().sum::<f64>() / defined.len() as f64
        },
        hamming_loss: wrong_cells as f64 / (n * nl) as f64,
        per_class,
        missing_in_predicted: missing,
        extra_in_predicted: extra,
    })
}

/// Read both files and score.
pub fn evaluate_files(predicted: &Path, gold: &Path) -> Result<Evaluation, Error> {
    evaluate(&read_table(predicted)?, &read_table(gold)?)
}

impl Evaluation {
    /// A human-readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let fmt = |v: Option<f64>| v.map_or("   -".to_string(), |x| format!("{x:.3}"));
        let mut s = String::new();
        let _ = writeln!(s, "reports        {}", self.n_reports);
        let _ = writeln!(s, "exact match    {:.3}", self.exact_match);
        let _ = writeln!(
            s,
            "micro P/R/F1   {:.3} / {:.3} / {:.3}",
            self.micro.precision, self.micro.recall, self.micro.f1
        );
        let _ = writeln!(s, "macro F1       {:.3}", self.macro_f1);
        let _ = writeln!(s, "Hamming loss   {:.4}", self.hamming_loss);
        if self.missing_in_predicted > 0 || self.extra_in_predicted > 0 {
            let _ = writeln!(
                s,
                "ids            {} gold ids missing from the predictions (scored as all 0), {} extra",
                self.missing_in_predicted, self.extra_in_predicted
            );
        }
        let w = self
            .labels
            .iter()
            .map(String::len)
            .max()
            .unwrap_or(5)
            .max(5);
        let _ = writeln!(
            s,
            "\n{:<w$}  precision  recall     f1  support   tp   fp   fn",
            "label"
        );
        for c in &self.per_class {
            let _ = writeln!(
                s,
                "{:<w$}  {:>9}  {:>6}  {:>5}  {:>7}  {:>3}  {:>3}  {:>3}",
                c.label,
                fmt(c.precision),
                fmt(c.recall),
                fmt(c.f1),
                c.support,
                c.tp,
                c.fp,
                c.fn_
            );
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Table {
        parse_table(s.as_bytes(), Path::new("t.csv")).unwrap()
    }

    #[test]
    fn metrics_by_hand() {
        let gold = t("id,a,b,c\n1,1,0,0\n2,0,1,0\n3,1,1,0\n");
        let pred = t("id,b,a,c\n1,0,1,0\n2,1,1,0\n3,0,1,0\n4,1,1,1\n");
        let e = evaluate(&pred, &gold).unwrap();
        // a: tp 2, fp 1; b: tp 1, fn 1; c: nothing.
        assert_eq!((e.micro.tp, e.micro.fp, e.micro.fn_), (3, 1, 1));
        assert!((e.micro.f1 - 0.75).abs() < 1e-12);
        assert!((e.exact_match - 1.0 / 3.0).abs() < 1e-12);
        assert!((e.hamming_loss - 2.0 / 9.0).abs() < 1e-12);
        assert_eq!(e.per_class[2].f1, None);
        let fa = 2.0 * 2.0 / (2.0 * 2.0 + 1.0);
        let fb = 2.0 / 3.0;
        assert!((e.macro_f1 - (fa + fb) / 2.0).abs() < 1e-12);
        assert_eq!(e.extra_in_predicted, 1);
        assert!(e.to_text().contains("macro F1"));
    }

    #[test]
    fn missing_rows_and_bad_tables() {
        let gold = t("id,a\n1,1\n2,0\n");
        let pred = t("id,a\n2,0\n");
        let e = evaluate(&pred, &gold).unwrap();
        assert_eq!(e.missing_in_predicted, 1);
        assert_eq!(e.micro.fn_, 1);
        assert!(evaluate(&t("id,x\n1,1\n"), &gold).is_err());
        let p = Path::new("t.csv");
        assert!(parse_table("id,a\n1,2\n".as_bytes(), p).is_err());
        assert!(parse_table("id,a\n1,1\n1,0\n".as_bytes(), p).is_err());
        assert!(parse_table("name,a\n1,1\n".as_bytes(), p).is_err());
        assert!(evaluate(&pred, &t("id,a\n")).is_err());
    }
}
