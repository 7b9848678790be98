//! The dataset in memory, independent of its YAML spelling.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A DeepHealth dataset. Locations are as written in the file; use
/// [`Dataset::resolve`] for paths relative to the YAML file's folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    pub name: Option<String>,
    pub description: Option<String>,
    pub classes: Vec<String>,
    pub features: Vec<String>,
    pub samples: Vec<Sample>,
    /// Named splits (training, validation, test, or any other name), in
    /// file order, listing sample indices.
    pub split: Vec<(String, Vec<usize>)>,
    /// Folder of the YAML file, against which relative locations resolve.
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// One path, or several planes of one image.
    pub location: Vec<String>,
    pub label: Option<Label>,
    /// Feature values by feature name (missing or null values are absent).
    pub values: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// Class indices into `classes` (one for single-label, more for multi-label).
    Classes(Vec<usize>),
    /// Path to a ground-truth mask (segmentation).
    Mask(String),
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not valid YAML{at}: {message}")]
    Yaml {
        path: PathBuf,
        at: String,
        message: String,
    },
    /// A field that parsed but means nothing valid; `line` is 1-based.
    #[error("{path}{line}: {field}: {message}", line = line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        field: String,
        message: String,
    },
    #[error("{0}")]
    Generate(String),
}

impl Dataset {
    /// A sample's location(s) resolved against the YAML file's folder.
    pub fn resolve(&self, location: &str) -> PathBuf {
        let p = PathBuf::from(location);
        if p.is_absolute() {
            p
        } else {
            self.base_dir.join(p)
        }
    }

    /// Indices of a named split, if the dataset has it.
    pub fn split_indices(&self, name: &str) -> Option<&[usize]> {
        self.split
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// Samples per class index (multi-label samples count once per class).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for s in &self.samples {
            if let Some(Label::Classes(c)) = &s.label {
                for &i in c {
                    if let Some(n) = counts.get_mut(i) {
                        *n += 1;
                    }
                }
            }
        }
        counts
    }
}
