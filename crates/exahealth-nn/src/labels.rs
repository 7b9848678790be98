//! Slide label tables: the CSV that gives each slide its label for
//! multiple-instance training and evaluation.
//!
//! A header row names the columns; the first column names the slide (its
//! folder name in a features folder), another holds its label, as text
//! (e.g. the weak labels `exahealth reports extract` mines from pathology
//! reports). Fields are trimmed, quoted fields may hold commas, blank lines
//! are skipped, and a slide listed twice is an error.
//!
//! ```no_run
//! use std::path::Path;
//! use exahealth_nn::labels::read_labels;
//!
//! # fn main() -> exahealth_nn::Result<()> {
//! let labels = read_labels(Path::new("labels.csv"), "cancer")?;
//! for (slide, label) in &labels {
//!     println!("{slide}: {label}");
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::{NnError, Result};

/// Label tables are small; a bigger file is a mistake.
const MAX_LABELS_BYTES: u64 = 64 << 20;

/// Slide name -> label text, from the CSV at `path` (a header row; the
/// first column names the slide, `column` holds its label).
pub fn read_labels(path: &Path, column: &str) -> Result<BTreeMap<String, String>> {
    let read = |source| NnError::ReadLabels {
        path: path.to_path_buf(),
        source,
    };
    let bad = |line: Option<u64>, problem: String| NnError::BadLabels {
        path: path.to_path_buf(),
        line,
        problem,
    };
    let size = std::fs::metadata(path).map_err(read)?.len();
    if size > MAX_LABELS_BYTES {
        return Err(bad(
            None,
            format!("{size} bytes is too large for a labels table"),
        ));
    }
    let file = std::fs::File::open(path).map_err(read)?;
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file);
    let names: Vec<String> = reader
        .headers()
        .map_err(|source| NnError::LabelsCsv {
            path: path.to_path_buf(),
            what: "no header row",
            source,
        })?
        .iter()
        .map(str::to_string)
        .collect();
    if names.iter().all(String::is_empty) {
        return Err(bad(None, "the labels table is empty".into()));
    }
    let Some(at) = names.iter().position(|n| n == column) else {
        return Err(bad(
            None,
            format!(
                "no column {column:?} (columns: {}); set `column` in [bags]",
                names.join(", ")
            ),
        ));
    };
    if at == 0 {
        return Err(bad(
            None,
            "the first column names the slides; the label must be another".into(),
        ));
    }
    let mut labels = BTreeMap::new();
    for record in reader.records() {
        let record = record.map_err(|source| NnError::LabelsCsv {
            path: path.to_path_buf(),
            what: "bad CSV",
            source,
        })?;
        let line = Some(record.position().map_or(0, |p| p.line()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        let (Some(slide), Some(value)) = (record.get(0), record.get(at)) else {
            return Err(bad(line, format!("fewer than {} fields", at + 1)));
        };
        if slide.is_empty() || value.is_empty() {
            return Err(bad(line, "empty slide name or label".into()));
        }
        if labels
            .insert(slide.to_string(), value.to_string())
            .is_some()
        {
            return Err(bad(line, format!("slide {slide:?} is listed twice")));
        }
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_tables_are_read_by_column_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("labels.csv");
        std::fs::write(&p, "id,cancer,dysplasia\ns1,1,0\n\"s2\", 0 ,1\n\n").unwrap();
        let l = read_labels(&p, "cancer").unwrap();
        assert_eq!(l["s1"], "1");
        assert_eq!(l["s2"], "0");
        let err = read_labels(&p, "label").unwrap_err().to_string();
        assert!(err.contains("cancer, dysplasia"), "{err}");
        assert!(read_labels(&p, "id").is_err());
        std::fs::write(&p, "id,label\ns1,a\ns1,b\n").unwrap();
        let err = read_labels(&p, "label").unwrap_err().to_string();
        assert!(
            err.contains("line 3: slide \"s1\" is listed twice"),
            "{err}"
        );
        std::fs::write(&p, "id,label\ns1\n").unwrap();
        assert!(read_labels(&p, "label").is_err());
        // Quoted fields may hold commas.
        std::fs::write(&p, "id,label\n\"s1\",\"a, b\"\n").unwrap();
        assert_eq!(read_labels(&p, "label").unwrap()["s1"], "a, b");
        std::fs::write(&p, "").unwrap();
        assert!(read_labels(&p, "label").is_err());
        let missing = dir.path().join("none.csv");
        let err = read_labels(&missing, "label").unwrap_err();
        assert!(matches!(err, NnError::ReadLabels { .. }), "{err:?}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
