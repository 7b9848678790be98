//! Training and validation batches from a DeepHealth YAML dataset's splits.

use std::path::{Path, PathBuf};

use exahealth_data::dataset::{read_dataset, Dataset, Label};
use exahealth_data::loader::{DatasetSource, ImageOptions, LabelMode, Transform};

use super::{CardData, Prepared, Shape};
use crate::sources::SampleBatches;
use crate::workflow_error::{WorkflowError, WorkflowResult};

/// The training and validation batches of a YAML dataset's two splits
/// (`splits[0]` trains, `splits[1]` validates); `augmentation` is applied
/// to the training split with its seed.
pub fn from_yaml(
    file: &Path,
    splits: [&str; 2],
    shape: &Shape,
    augmentation: Option<(Transform, u64)>,
) -> WorkflowResult<Prepared> {
    let dataset = read_dataset(file).map_err(|source| WorkflowError::Dataset {
        path: file.to_path_buf(),
        source: Box::new(source),
    })?;
    if dataset.classes.is_empty() {
        return Err(WorkflowError::invalid(format!(
            "{} lists no classes",
            file.display()
        )));
    }
    for split in splits {
        if dataset.split_indices(split).is_none() {
            return Err(WorkflowError::invalid(format!(
                "{} has no split named {split:?}: set train_split / valid_split",
                file.display()
            )));
        }
    }
    let options = ImageOptions {
        size: Some((shape.image_size, shape.image_size)),
        channels: shape.channels,
        labels: LabelMode::Class,
    };
    let classes = dataset.classes.clone();
    // Segmentation masks hold class indices: one named class is background + it.
    let outputs = if shape.segmentation {
        classes.len().max(2)
    } else {
        classes.len()
    };
    let source = |split: &str| -> WorkflowResult<SampleBatches<DatasetSource>> {
        let s = DatasetSource::new(dataset.clone(), Some(split), options.clone())?;
        Ok(SampleBatches::new(s, outputs))
    };
    let mut train = source(splits[0])?;
    if let Some((t, seed)) = augmentation {
        train = train.with_augmentation(t, seed);
    }
    let valid = source(splits[1])?;
    // Every image of a dataset is assumed to share the first training
    // image's element type, as the loader's scaling does per image.
    let scale = match dataset
        .split_indices(splits[0])
        .and_then(|i| i.first())
        .and_then(|&i| dataset.samples.get(i))
        .and_then(|s| s.location.first())
    {
        Some(loc) => {
            let path = dataset.resolve(loc);
            let max = exahealth_data::loader::pixel_max(&path).map_err(|source| {
                WorkflowError::Image {
                    path,
                    source: Box::new(source),
                }
            })?;
            1.0 / max
        }
        None => 1.0 / 255.0,
    };
    let samples = splits
        .iter()
        .filter_map(|s| {
            dataset
                .split_indices(s)
                .map(|i| (s.to_string(), i.len() as u64))
        })
        .collect();
    Ok(Prepared {
        classes,
        train: Box::new(train),
        valid: Box::new(valid),
        card: CardData {
            source: file.display().to_string(),
            scale,
            root: dataset.base_dir.clone(),
            files: dataset_files(&dataset, file),
            samples,
        },
    })
}

/// The YAML and every file its samples name, each once, that exists.
fn dataset_files(dataset: &Dataset, yaml: &Path) -> Vec<PathBuf> {
    let mut files = vec![yaml.to_path_buf()];
    for s in &dataset.samples {
        files.extend(s.location.iter().map(|l| dataset.resolve(l)));
        if let Some(Label::Mask(m)) = &s.label {
            files.push(dataset.resolve(m));
        }
    }
    files.sort();
    files.dedup();
    files.retain(|p| p.is_file());
    files
}
