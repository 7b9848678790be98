//! Where `exahealth train` gets its samples: a DeepHealth YAML dataset, or
//! patch plans from `exahealth slide tile` (patches read from the slides on
//! the fly, labelled by the plans' `label` column).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use exahealth_data::dataset::{read_dataset, Dataset, Label};
use exahealth_data::loader::{DatasetSource, ImageOptions, LabelMode, SlidePatchSource, Transform};
use exahealth_data::plan::{Plan, BACKGROUND};
use exahealth_nn::data::BatchSource;
use exahealth_nn::model_folder::ModelSpec;
use exahealth_nn::run_file::PlansData;
use exahealth_nn::sources::SampleBatches;

/// A split's batches, whatever their source.
pub type Batches = Box<dyn BatchSource + Send + Sync>;

/// What the model card says about the data.
pub struct CardData {
    pub source: String,
    /// The factor samples are multiplied by to reach 0..1 (1/255 for
    /// 8-bit images, 1/65535 for 16-bit ones).
    pub scale: f32,
    /// Files fingerprinted (relative paths are taken against `root`).
    pub root: PathBuf,
    pub files: Vec<PathBuf>,
    pub samples: BTreeMap<String, u64>,
}

pub struct Prepared {
    pub classes: Vec<String>,
    pub train: Batches,
    pub valid: Batches,
    pub card: CardData,
}

/// How samples are shaped for the network.
pub struct Shape {
    pub image_size: u32,
    pub channels: usize,
    pub segmentation: bool,
}

/// The training and validation batches of a YAML dataset's two splits.
pub fn from_yaml(
    file: &Path,
    splits: [&str; 2],
    shape: &Shape,
    augmentation: Option<(Transform, u64)>,
) -> Result<Prepared> {
    let dataset = read_dataset(file).with_context(|| format!("cannot read {}", file.display()))?;
    if dataset.classes.is_empty() {
        bail!("{} lists no classes", file.display());
    }
    for split in splits {
        if dataset.split_indices(split).is_none() {
            bail!(
                "{} has no split named {split:?}: set train_split / valid_split",
                file.display()
            );
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
    let source = |split: &str| -> Result<SampleBatches<DatasetSource>> {
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
        .and_then(|&i| dataset.samples[i].location.first())
    {
        Some(loc) => {
            let path = dataset.resolve(loc);
            1.0 / exahealth_data::loader::pixel_max(&path)
                .with_context(|| format!("cannot read {}", path.display()))?
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

/// The training and validation batches of slide patches from plans.
pub fn from_plans(
    plans: &PlansData,
    base: &Path,
    shape: &Shape,
    augmentation: Option<(Transform, u64)>,
) -> Result<Prepared> {
    if shape.segmentation {
        bail!("patch plans give patch classes: use task = \"classification\"");
    }
    if shape.channels != 3 {
        bail!("slide patches are RGB: set channels = 3");
    }
    if plans.training.is_empty() || plans.validation.is_empty() {
        bail!("[plans] needs at least one training and one validation slide");
    }
    let folder = base.join(&plans.folder);
    let load = |stem: &String| -> Result<(PathBuf, Plan)> {
        let dir = folder.join(stem);
        let plan = Plan::load(&dir).with_context(|| {
            format!(
                "no usable patch plan for slide {stem:?} in {}: run `exahealth slide tile` first",
                dir.display()
            )
        })?;
        Ok((dir, plan))
    };
    let train_plans = plans
        .training
        .iter()
        .map(load)
        .collect::<Result<Vec<_>>>()?;
    let valid_plans = plans
        .validation
        .iter()
        .map(load)
        .collect::<Result<Vec<_>>>()?;
    let classes = match &plans.classes {
        Some(c) if !c.is_empty() => c.clone(),
        Some(_) => bail!("[plans] classes is empty"),
        None => {
            let found: BTreeSet<&String> = train_plans
                .iter()
                .chain(&valid_plans)
                .flat_map(|(_, p)| &p.classes)
                .collect();
            if found.is_empty() {
                bail!("the plans carry no annotation classes (tile with --annotations), or list [plans] classes");
            }
            std::iter::once(BACKGROUND.to_string())
                .chain(found.into_iter().cloned())
                .collect()
        }
    };
    let source = |list: &[(PathBuf, Plan)]| -> Result<SampleBatches<SlidePatchSource>> {
        let mut s = SlidePatchSource::new(shape.image_size, classes.clone())?;
        for (dir, plan) in list {
            let slide = slide_path(&plan.slide.path, base)?;
            s.add_plan(&slide, &dir.join("patches.csv"))
                .with_context(|| format!("cannot use the plan in {}", dir.display()))?;
        }
        Ok(SampleBatches::new(s, classes.len()))
    };
    let mut train = source(&train_plans)?;
    if let Some((t, seed)) = augmentation {
        train = train.with_augmentation(t, seed);
    }
    let valid = source(&valid_plans)?;
    let samples = BTreeMap::from([
        ("training".to_string(), train.len() as u64),
        ("validation".to_string(), valid.len() as u64),
    ]);
    let files = train_plans
        .iter()
        .chain(&valid_plans)
        .flat_map(|(dir, _)| [dir.join("plan.json"), dir.join("patches.csv")])
        .collect();
    Ok(Prepared {
        classes,
        train: Box::new(train),
        valid: Box::new(valid),
        card: CardData {
            source: folder.display().to_string(),
            // Slide patches are 8-bit RGB.
            scale: 1.0 / 255.0,
            root: folder,
            files,
            samples,
        },
    })
}

/// The slide a plan was made from: its recorded path as it is, or relative
/// to the run file's folder.
pub(crate) fn slide_path(recorded: &str, base: &Path) -> Result<PathBuf> {
    let p = PathBuf::from(recorded);
    for candidate in [p.clone(), base.join(&p)] {
        if candidate.exists() {
            return Ok(candidate);
        }
    }
    bail!(
        "the slide {recorded} named by a plan is neither at that path nor under {}",
        base.display()
    )
}

/// A dataset's images (a split of it, or all) shaped for the model a
/// model folder describes, with class labels: what `predict` and `eval`
/// feed a trained image model.
pub fn model_source(
    spec: &ModelSpec,
    dataset: Dataset,
    split: Option<&str>,
) -> Result<SampleBatches<DatasetSource>> {
    let options = ImageOptions {
        size: Some((spec.image_size, spec.image_size)),
        channels: spec.channels,
        labels: LabelMode::Class,
    };
    let source = DatasetSource::new(dataset, split, options)?;
    Ok(SampleBatches::new(source, spec.classes.len()))
}
