//! Training and validation bags for attention MIL: the per-slide patch
//! embeddings of `exahealth embed`, labelled per slide from a CSV table
//! (e.g. the weak labels mined from pathology reports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{CardData, Prepared};
use crate::bags::{Bag, BagSource};
use crate::embedding::{check_slide_name, Embedding, EMBEDDING_FILE};
use crate::features::{read_features, FEATURES_FILE};
use crate::labels::read_labels;
use crate::run_file::BagsData;
use crate::workflow_error::{WorkflowError, WorkflowResult};
use crate::NnError;

/// The training and validation bags of a run file's `[bags]` table, and
/// the folder's embedding record (whose extractor the model card names);
/// `base` is the run file's folder, `seed` draws the patch subsets.
pub fn from_bags(bags: &BagsData, base: &Path, seed: u64) -> WorkflowResult<(Prepared, Embedding)> {
    if bags.training.is_empty() || bags.validation.is_empty() {
        return Err(WorkflowError::invalid(
            "[bags] needs at least one training and one validation slide",
        ));
    }
    let mut seen = BTreeSet::new();
    for name in bags.training.iter().chain(&bags.validation) {
        check_slide_name(name)?;
        if !seen.insert(name) {
            return Err(WorkflowError::invalid(format!(
                "[bags] lists slide {name:?} twice (training and validation must not overlap)"
            )));
        }
    }
    let folder = base.join(&bags.folder);
    let embedding = Embedding::read(&folder)?.ok_or_else(|| {
        WorkflowError::invalid(format!(
            "{} has no {EMBEDDING_FILE}: make the bags with `exahealth embed --out {}`",
            folder.display(),
            folder.display()
        ))
    })?;
    let labels_path = base.join(&bags.labels);
    let labels = read_labels(&labels_path, &bags.column)?;
    let listed = bags.training.iter().chain(&bags.validation);
    let unlabelled: Vec<&String> = listed
        .clone()
        .filter(|s| !labels.contains_key(*s))
        .collect();
    if !unlabelled.is_empty() {
        return Err(WorkflowError::invalid(format!(
            "{}: no label for slide(s) {unlabelled:?} (the first column must name each slide as its folder in {})",
            labels_path.display(),
            folder.display()
        )));
    }
    let classes = match &bags.classes {
        Some(c) if !c.is_empty() => c.clone(),
        Some(_) => return Err(WorkflowError::invalid("[bags] classes is empty")),
        None => listed
            .filter_map(|s| labels.get(s).cloned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    };
    if classes.len() < 2 {
        return Err(WorkflowError::invalid(format!(
            "the slides listed carry only the label {classes:?}: MIL needs two classes or more"
        )));
    }
    let load = |names: &[String]| -> WorkflowResult<Vec<Bag>> {
        names
            .iter()
            .map(|name| {
                let path = folder.join(name).join(FEATURES_FILE);
                let file = read_features(&path).map_err(|e| NnError::BagUnreadable {
                    slide: name.clone(),
                    source: Box::new(e),
                })?;
                let text = labels.get(name).map(String::as_str).unwrap_or_default();
                let label = classes.iter().position(|c| c == text).ok_or_else(|| {
                    WorkflowError::invalid(format!(
                        "slide {name:?} has label {text:?}, not one of the classes {classes:?}"
                    ))
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
        return Err(WorkflowError::invalid(format!(
            "{}: the bags do not have the {} features per patch {EMBEDDING_FILE} records",
            folder.display(),
            embedding.width
        )));
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
