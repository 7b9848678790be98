//! Training and validation batches of slide patches read through patch
//! plans (`exahealth slide tile`), labelled by the plans' `label` column.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use exahealth_data::loader::{SlidePatchSource, Transform};
use exahealth_data::plan::{Plan, BACKGROUND};

use super::{slide_path, CardData, Prepared, Shape};
use crate::data::BatchSource;
use crate::run_file::PlansData;
use crate::sources::SampleBatches;
use crate::workflow_error::{WorkflowError, WorkflowResult};

/// The training and validation batches of a run file's `[plans]` table;
/// `base` is the run file's folder, against which relative paths resolve.
pub fn from_plans(
    plans: &PlansData,
    base: &Path,
    shape: &Shape,
    augmentation: Option<(Transform, u64)>,
) -> WorkflowResult<Prepared> {
    if shape.segmentation {
        return Err(WorkflowError::invalid(
            "patch plans give patch classes: use task = \"classification\"",
        ));
    }
    if shape.channels != 3 {
        return Err(WorkflowError::invalid(
            "slide patches are RGB: set channels = 3",
        ));
    }
    if plans.training.is_empty() || plans.validation.is_empty() {
        return Err(WorkflowError::invalid(
            "[plans] needs at least one training and one validation slide",
        ));
    }
    let folder = base.join(&plans.folder);
    let load = |stem: &String| -> WorkflowResult<(PathBuf, Plan)> {
        let dir = folder.join(stem);
        match Plan::load(&dir) {
            Ok(plan) => Ok((dir, plan)),
            Err(source) => Err(WorkflowError::Plan {
                slide: stem.clone(),
                dir,
                source: Box::new(source),
            }),
        }
    };
    let train_plans = plans
        .training
        .iter()
        .map(load)
        .collect::<WorkflowResult<Vec<_>>>()?;
    let valid_plans = plans
        .validation
        .iter()
        .map(load)
        .collect::<WorkflowResult<Vec<_>>>()?;
    let classes = match &plans.classes {
        Some(c) if !c.is_empty() => c.clone(),
        Some(_) => return Err(WorkflowError::invalid("[plans] classes is empty")),
        None => {
            let found: BTreeSet<&String> = train_plans
                .iter()
                .chain(&valid_plans)
                .flat_map(|(_, p)| &p.classes)
                .collect();
            if found.is_empty() {
                return Err(WorkflowError::invalid(
                    "the plans carry no annotation classes (tile with --annotations), or list [plans] classes",
                ));
            }
            std::iter::once(BACKGROUND.to_string())
                .chain(found.into_iter().cloned())
                .collect()
        }
    };
    let source = |list: &[(PathBuf, Plan)]| -> WorkflowResult<SampleBatches<SlidePatchSource>> {
        let mut s = SlidePatchSource::new(shape.image_size, classes.clone())?;
        for (dir, plan) in list {
            let slide = slide_path(&plan.slide.path, base)?;
            s.add_plan(&slide, &dir.join("patches.csv"))
                .map_err(|source| WorkflowError::UsePlan {
                    dir: dir.clone(),
                    source: Box::new(source),
                })?;
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
