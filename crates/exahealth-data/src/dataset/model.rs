//! The dataset in memory, independent of its YAML spelling.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// A DeepHealth dataset. Locations are as written in the file; use
/// [`Dataset::resolve`] for paths relative to the YAML file's folder.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dataset {
    /// The `name:` field.
    pub name: Option<String>,
    /// The `description:` field, free text.
    pub description: Option<String>,
    /// Class names; [`Label::Classes`] indexes into this list.
    pub classes: Vec<String>,
    /// Names of the per-sample values ([`Sample::values`]), in file order.
    pub features: Vec<String>,
    /// Every image of the dataset, in file order; splits refer to them by index.
    pub samples: Vec<Sample>,
    /// Named splits (training, validation, test, or any other name), in
    /// file order, listing sample indices.
    pub split: Vec<(String, Vec<usize>)>,
    /// Folder of the YAML file, against which relative locations resolve.
    pub base_dir: PathBuf,
}

/// One image of a dataset: where it is, its label and its feature values.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// One path, or several planes of one image.
    pub location: Vec<String>,
    /// The ground truth; `None` for unlabelled samples (e.g. a test split).
    pub label: Option<Label>,
    /// Feature values by feature name (missing or null values are absent).
    pub values: BTreeMap<String, String>,
}

/// A sample's ground truth: classes or a mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// Class indices into `classes` (one for single-label, more for multi-label).
    Classes(Vec<usize>),
    /// Path to a ground-truth mask (segmentation).
    Mask(String),
}

/// Why a dataset could not be read, written or generated. Every message
/// names the file and, where it can, the line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// The file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// File or folder concerned.
        path: PathBuf,
        /// What the operating system reported.
        #[source]
        source: std::io::Error,
    },
    /// The file is not YAML at all.
    #[error("{path}: not valid YAML{at}: {message}")]
    Yaml {
        /// The YAML file.
        path: PathBuf,
        /// `" at line L, column C"`, or empty when the parser gives no place.
        at: String,
        /// The YAML parser's complaint.
        message: String,
    },
    /// A field that parsed but means nothing valid; `line` is 1-based.
    #[error("{path}{line}: {field}: {message}", line = line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The YAML file.
        path: PathBuf,
        /// Line of the field, when it can be found.
        line: Option<usize>,
        /// Which field, e.g. `images[3]` or `split.training`.
        field: String,
        /// What is wrong with its value.
        message: String,
    },
    /// A folder tree could not be turned into a dataset (no class folders,
    /// bad split fractions...); the message names the folder.
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
