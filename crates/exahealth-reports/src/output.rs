//! Outputs: the labels table (one row per slide or case, `id` then one 0/1
//! column per label, as the training commands read it), the roll-up table,
//! and `concepts.json` (every report's concepts with identifier, mention,
//! span and flags). Files are written atomically: a temporary file in the
//! same folder, fsync, rename.

use crate::engine::{ConceptOut, Extraction};
use crate::lexicon::Schema;
use crate::ontology::Lang;
use crate::rules;
use crate::Error;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A labels table: `id` then one 0/1 column per label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelTable {
    /// The label columns, in order (after `id`).
    pub labels: Vec<String>,
    /// One row per report or slide: its id and one flag per label.
    pub rows: Vec<(String, Vec<bool>)>,
}

impl LabelTable {
    /// One row per slide (reports that name slides) or per report id (the
    /// case), in first-seen order. Reports of one slide are merged: a label
    /// set by any report is set, then the use case's defaults apply.
    pub fn from_extractions(schema: &Schema, results: &[Extraction]) -> LabelTable {
        let mut order: Vec<String> = Vec::new();
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in results.iter().enumerate() {
            let keys: Vec<&String> = if r.slide_ids.is_empty() {
                vec![&r.id]
            } else {
                r.slide_ids.iter().collect()
            };
            for k in keys {
                let g = groups.entry(k.clone()).or_insert_with(|| {
                    order.push(k.clone());
                    Vec::new()
                });
                if !g.contains(&i) {
                    g.push(i);
                }
            }
        }
        let rows = order
            .into_iter()
            .map(|k| {
                let idx = &groups[&k];
                let labels = if idx.len() == 1 {
                    results[idx[0]].labels.clone()
                } else {
                    let parts: Vec<&rules::Findings> =
                        idx.iter().map(|&i| &results[i].findings).collect();
                    rules::merge(schema, &parts)
                };
                (k, labels)
            })
            .collect();
        LabelTable {
            labels: schema.labels.clone(),
            rows,
        }
    }

    /// The roll-up table of this table (empty if the use case has none).
    pub fn rollup(&self, schema: &Schema) -> LabelTable {
        LabelTable {
            labels: schema.rollups.iter().map(|r| r.name.clone()).collect(),
            rows: self
                .rows
                .iter()
                .map(|(id, l)| (id.clone(), rules::rollup(schema, l)))
                .collect(),
        }
    }

    /// CSV text.
    pub fn to_csv(&self) -> Result<Vec<u8>, Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let wrap = |e: csv::Error| Error::input_from(Path::new("labels.csv"), "cannot encode", e);
        let mut header = vec!["id".to_string()];
        header.extend(self.labels.iter().cloned());
        w.write_record(&header).map_err(wrap)?;
        for (id, vals) in &self.rows {
            let mut rec = vec![id.clone()];
            rec.extend(vals.iter().map(|&v| if v { "1" } else { "0" }.to_string()));
            w.write_record(&rec).map_err(wrap)?;
        }
        w.into_inner().map_err(|e| {
            Error::input_from(Path::new("labels.csv"), "cannot encode", e.into_error())
        })
    }
}

/// Label values as a JSON object in column order.
struct Flags<'a>(&'a [String], &'a [bool]);

impl Serialize for Flags<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter().zip(self.1) {
            m.serialize_entry(k, &u8::from(*v))?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct ReportJson<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    slide_ids: &'a [String],
    lang: Lang,
    lang_detected: bool,
    #[serde(skip_serializing_if = "is_zero")]
    typos_corrected: usize,
    labels: Flags<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollup: Option<Flags<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    marsh: Option<&'a str>,
    concepts: &'a [ConceptOut],
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct ConceptsJson<'a> {
    use_case: &'a str,
    labels: &'a [String],
    reports: Vec<ReportJson<'a>>,
}

/// The `concepts.json` document.
pub fn concepts_json(schema: &Schema, results: &[Extraction]) -> Result<Vec<u8>, Error> {
    let rollup_names: Vec<String> = schema.rollups.iter().map(|r| r.name.clone()).collect();
    let doc = ConceptsJson {
        use_case: &schema.use_case,
        labels: &schema.labels,
        reports: results
            .iter()
            .map(|r| ReportJson {
                id: &r.id,
                slide_ids: &r.slide_ids,
                lang: r.lang,
                lang_detected: r.lang_detected,
                typos_corrected: r.typos_corrected,
                labels: Flags(&schema.labels, &r.labels),
                rollup: (!rollup_names.is_empty()).then(|| Flags(&rollup_names, &r.rollup)),
                marsh: r.marsh.as_deref(),
                concepts: &r.concepts,
            })
            .collect(),
    };
    let mut v = serde_json::to_vec_pretty(&doc)
        .map_err(|e| Error::input_from(Path::new("concepts.json"), "cannot encode", e))?;
    v.push(b'\n');
    Ok(v)
}

/// What [`write_outputs`] wrote.
#[derive(Clone, Debug)]
pub struct Written {
    /// The labels table written.
    pub labels: PathBuf,
    /// The roll-up table, if the use case has roll-ups.
    pub rollup: Option<PathBuf>,
    /// The concepts JSON.
    pub concepts: PathBuf,
    /// Rows of the labels table.
    pub rows: usize,
}

/// Write `labels.csv`, `labels_rollup.csv` (if the use case has roll-ups)
/// and `concepts.json` into `outdir` (created if missing).
pub fn write_outputs(
    outdir: &Path,
    schema: &Schema,
    results: &[Extraction],
) -> Result<Written, Error> {
    std::fs::create_dir_all(outdir).map_err(|e| Error::io_doing("create", outdir, e))?;
    let table = LabelTable::from_extractions(schema, results);
    let labels = outdir.join("labels.csv");
    atomic_write(&labels, &table.to_csv()?)?;
    let rollup = if schema.rollups.is_empty() {
        None
    } else {
        let p = outdir.join("labels_rollup.csv");
        atomic_write(&p, &table.rollup(schema).to_csv()?)?;
        Some(p)
    };
    let concepts = outdir.join("concepts.json");
    atomic_write(&concepts, &concepts_json(schema, results)?)?;
    Ok(Written {
        labels,
        rollup,
        concepts,
        rows: table.rows.len(),
    })
}

/// Writes a file durably (the workspace's one helper): readers see the old
/// or the new content, never a part.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    exahealth_base::durable::write(path, bytes).map_err(|e| Error::io_doing("write", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Engine, Report, UseCase};

    #[test]
    fn merges_reports_of_one_slide() {
        let e = Engine::builtin(UseCase::Colon).unwrap();
        let mut a = Report::new("r1", "Polipo iperplastico.");
        a.slide_ids = vec!["s1".into()];
        let mut b = Report::new("r2", "Mucosa colica nei limiti della norma.");
        b.slide_ids = vec!["s1".into(), "s2".into()];
        let c = Report::new("r3", "Adenocarcinoma infiltrante.");
        let res: Vec<_> = [a, b, c].iter().map(|r| e.extract(r)).collect();
        let t = LabelTable::from_extractions(&e.lexicon().schema, &res);
        let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
        assert_eq!(
            csv,
            "id,cancer,hgd,lgd,hyperplastic,ni\ns1,0,0,0,1,0\ns2,0,0,0,0,1\nr3,1,0,0,0,0\n"
        );
        let roll = String::from_utf8(t.rollup(&e.lexicon().schema).to_csv().unwrap()).unwrap();
        assert_eq!(
            roll,
            "id,cancer_or_dysplasia,other\ns1,0,1\ns2,0,1\nr3,1,0\n"
        );
    }

    #[test]
    fn writes_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        atomic_write(&p, b"one").unwrap();
        atomic_write(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1);
        assert!(atomic_write(&dir.path().join("no/such/dir/x"), b"x").is_err());
    }
}
