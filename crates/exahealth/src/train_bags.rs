//! Where `task = "mil"` gets its samples: the per-slide patch embeddings of
//! `exahealth embed` as bags, labelled per slide from a CSV table (e.g. the
//! weak labels `exahealth reports extract` mines from pathology reports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use exahealth_nn::bags::{Bag, BagSource};
use exahealth_nn::embedding::{check_slide_name, Embedding, EMBEDDING_FILE};
use exahealth_nn::features::{read_features, FEATURES_FILE};
use serde::Deserialize;

use crate::train_data::{CardData, Prepared};

/// The `[bags]` table of a run file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BagsData {
    /// The `--out` folder of `exahealth embed` (one sub-folder per slide).
    pub folder: PathBuf,
    /// CSV with a header: the first column names the slide (its folder
    /// name), `column` holds its label.
    pub labels: PathBuf,
    /// The label column (default `label`).
    #[serde(default = "label")]
    pub column: String,
    /// Slide names to train on.
    pub training: Vec<String>,
    /// Slide names to validate on.
    pub validation: Vec<String>,
    /// Classes in output order; default: the labels found, sorted.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// At most this many patches of a slide per training step (a random
    /// subset each epoch); default: all.
    #[serde(default)]
    pub max_patches: Option<usize>,
}

fn label() -> String {
    "label".into()
}

/// Label tables are small; a bigger file is a mistake.
const MAX_LABELS_BYTES: u64 = 64 << 20;

/// Slide name -> label text, from the CSV at `path` (a header row; the
/// first column names the slide, `column` holds its label).
pub(crate) fn read_labels(path: &Path, column: &str) -> Result<BTreeMap<String, String>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read the labels table {}", path.display()))?
        .len();
    if size > MAX_LABELS_BYTES {
        bail!(
            "{}: {size} bytes is too large for a labels table",
            path.display()
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read the labels table {}", path.display()))?;
    let names: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: no header row", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    if names.iter().all(String::is_empty) {
        bail!("{}: the labels table is empty", path.display());
    }
    let Some(at) = names.iter().position(|n| n == column) else {
        bail!(
            "{}: no column {column:?} (columns: {}); set `column` in [bags]",
            path.display(),
            names.join(", ")
        );
    };
    if at == 0 {
        bail!(
            "{}: the first column names the slides; the label must be another",
            path.display()
        );
    }
    let mut labels = BTreeMap::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: bad CSV", path.display()))?;
        let line = record.position().map_or(0, |p| p.line());
        if record.iter().all(str::is_empty) {
            continue;
        }
        let (Some(slide), Some(value)) = (record.get(0), record.get(at)) else {
            bail!(
                "{} line {line}: fewer than {} fields",
                path.display(),
                at + 1
            );
        };
        if slide.is_empty() || value.is_empty() {
            bail!("{} line {line}: empty slide name or label", path.display());
        }
        if labels
            .insert(slide.to_string(), value.to_string())
            .is_some()
        {
            bail!(
                "{} line {line}: slide {slide:?} is listed twice",
                path.display()
            );
        }
    }
    Ok(labels)
}

/// The training and validation bags of a `[bags]` table.
pub fn from_bags(bags: &BagsData, base: &Path, seed: u64) -> Result<(Prepared, Embedding)> {
    if bags.training.is_empty() || bags.validation.is_empty() {
        bail!("[bags] needs at least one training and one validation slide");
    }
    let mut seen = BTreeSet::new();
    for name in bags.training.iter().chain(&bags.validation) {
        check_slide_name(name)?;
        if !seen.insert(name) {
            bail!("[bags] lists slide {name:?} twice (training and validation must not overlap)");
        }
    }
    let folder = base.join(&bags.folder);
    let embedding = Embedding::read(&folder)?.with_context(|| {
        format!(
            "{} has no {EMBEDDING_FILE}: make the bags with `exahealth embed --out {}`",
            folder.display(),
            folder.display()
        )
    })?;
    let labels_path = base.join(&bags.labels);
    let labels = read_labels(&labels_path, &bags.column)?;
    let listed = bags.training.iter().chain(&bags.validation);
    let unlabelled: Vec<&String> = listed
        .clone()
        .filter(|s| !labels.contains_key(*s))
        .collect();
    if !unlabelled.is_empty() {
        bail!(
            "{}: no label for slide(s) {unlabelled:?} (the first column must name each slide as its folder in {})",
            labels_path.display(),
            folder.display()
        );
    }
    let classes = match &bags.classes {
        Some(c) if !c.is_empty() => c.clone(),
        Some(_) => bail!("[bags] classes is empty"),
        None => listed
            .map(|s| labels[s].clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    if classes.len() < 2 {
        bail!("the slides listed carry only the label {classes:?}: MIL needs two classes or more");
    }
    let load = |names: &[String]| -> Result<Vec<Bag>> {
        names
            .iter()
            .map(|name| {
                let path = folder.join(name).join(FEATURES_FILE);
                let file = read_features(&path).with_context(|| {
                    format!("no usable embeddings for slide {name:?}: run `exahealth embed` for it")
                })?;
                let text = &labels[name];
                let label = classes.iter().position(|c| c == text).with_context(|| {
                    format!("slide {name:?} has label {text:?}, not one of the classes {classes:?}")
                })?;
                Ok(Bag {
                    name: name.clone(),
                    features: file.features,
                    label,
                })
            })
            .collect()
    };
    let train_bags = load(&bags.training)?;
    let valid_bags = load(&bags.validation)?;
    let mut files = vec![labels_path.clone(), folder.join(EMBEDDING_FILE)];
    files.extend(
        train_bags
            .iter()
            .chain(&valid_bags)
            .map(|b| folder.join(&b.name).join(FEATURES_FILE)),
    );
    let samples = BTreeMap::from([
        ("training".to_string(), train_bags.len() as u64),
        ("validation".to_string(), valid_bags.len() as u64),
    ]);
    let train = BagSource::new(train_bags, bags.max_patches, seed)?;
    let valid = BagSource::new(valid_bags, bags.max_patches, seed)?;
    if train.width() != embedding.width || valid.width() != embedding.width {
        bail!(
            "{}: the bags do not have the {} features per patch {EMBEDDING_FILE} records",
            folder.display(),
            embedding.width
        );
    }
    let prepared = Prepared {
        classes,
        train: Box::new(train),
        valid: Box::new(valid),
        card: CardData {
            source: folder.display().to_string(),
            // Embeddings go to the model as they are.
            scale: 1.0,
            root: base.to_path_buf(),
            files,
            samples,
        },
    };
    Ok((prepared, embedding))
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
        assert!(read_labels(&p, "label")
            .unwrap_err()
            .to_string()
            .contains("twice"));
        std::fs::write(&p, "id,label\ns1\n").unwrap();
        assert!(read_labels(&p, "label").is_err());
        // Quoted fields may hold commas.
        std::fs::write(&p, "id,label\n\"s1\",\"a, b\"\n").unwrap();
        assert_eq!(read_labels(&p, "label").unwrap()["s1"], "a, b");
        std::fs::write(&p, "").unwrap();
        assert!(read_labels(&p, "label").is_err());
    }
}
