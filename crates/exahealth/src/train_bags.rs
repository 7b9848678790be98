//! Where `task = "mil"` gets its samples: the per-slide patch embeddings of
//! `exahealth embed` as bags, labelled per slide from a CSV table (e.g. the
//! weak labels `exahealth reports extract` mines from pathology reports).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use exahealth_nn::bags::{Bag, BagSource};
use exahealth_nn::embedding::{check_slide_name, Embedding, EMBEDDING_FILE};
use exahealth_nn::features::{read_features, FEATURES_FILE};
use exahealth_nn::labels::read_labels;
use exahealth_nn::run_file::BagsData;

use crate::train_data::{CardData, Prepared};

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
