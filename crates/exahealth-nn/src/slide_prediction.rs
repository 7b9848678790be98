//! Whole-slide prediction through a patch plan: every patch of a slide's
//! plan scored by an image classifier, written as a score table
//! (`scores.csv`), a pyramidal heatmap (`heatmap.tiff`), an overlay on the
//! thumbnail (`overlay.png`) and a summary (`summary.json`).
//!
//! ```no_run
//! use std::path::Path;
//! use exahealth_nn::slide_prediction::{SlideClassifier, SlidePredictionOptions};
//!
//! # fn main() -> Result<(), exahealth_nn::WorkflowError> {
//! // A classifier from `exahealth train`; heatmaps of its class "tumour".
//! let classifier = SlideClassifier::load(Path::new("runs/patches"), Some("tumour"))?;
//! let (folder, summary) = classifier.predict_slide(
//!     Path::new("slides/a.svs"),
//!     Path::new("tiles"), // `exahealth slide tile --out tiles`
//!     Path::new("predictions"),
//!     &SlidePredictionOptions::default(),
//!     &exahealth_nn::cpu_device(),
//!     &mut |done, total| eprint!("\r{done}/{total}"),
//! )?;
//! println!("{} patches scored; heatmap in {}", summary.patches, folder.display());
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use exahealth_data::loader::SlidePatchSource;
use exahealth_data::plan::slide_stem;
use exahealth_slide::Slide;
use serde::{Deserialize, Serialize};

use crate::model_folder::{ModelSpec, Task};
use crate::models::Network;
use crate::sources::SampleBatches;
use crate::workflow_error::{WorkflowError, WorkflowResult};
use crate::wsi::{heatmap, predict_patches, slide_score, write_scores_csv, SlideScore};
use crate::NnError;

/// The summary file of a slide's prediction folder.
pub const SUMMARY_FILE: &str = "summary.json";

/// `summary.json`: what a slide's prediction found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PlanPrediction {
    /// The slide scored.
    pub slide: String,
    /// The plan (`patches.csv`) whose patches were scored.
    pub plan: String,
    /// Patches scored.
    pub patches: usize,
    /// The class the heatmap shows.
    pub heatmap_class: String,
    /// Per class: max and mean patch probability, share of patches where it wins.
    pub classes: Vec<ClassSummary>,
    /// Seconds it took.
    pub seconds: f64,
}

/// One class's slide-level summary. (Its fields are spelt out rather than
/// a flattened [`SlideScore`], whose own `class` field, the index, would
/// give the JSON object two `class` keys.)
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassSummary {
    /// The class name.
    pub class: String,
    /// The class's index in the model's outputs.
    pub index: usize,
    /// Highest patch probability.
    pub max: f32,
    /// Mean patch probability.
    pub mean: f32,
    /// Fraction of patches whose arg-max is the class.
    pub positive_fraction: f32,
}

impl ClassSummary {
    fn new(class: &str, score: SlideScore) -> Self {
        Self {
            class: class.to_string(),
            index: score.class,
            max: score.max,
            mean: score.mean,
            positive_fraction: score.positive_fraction,
        }
    }
}

/// How slides are predicted.
#[derive(Debug, Clone)]
pub struct SlidePredictionOptions {
    /// Patches per forward pass.
    pub batch: usize,
    /// Level-0 pixels per heatmap pixel, per side.
    pub heatmap_downsample: u32,
    /// The side of the overlay PNG, at most.
    pub overlay_size: u32,
}

impl Default for SlidePredictionOptions {
    fn default() -> Self {
        Self {
            batch: 32,
            heatmap_downsample: 32,
            overlay_size: 1024,
        }
    }
}

/// An RGB image classifier from a model folder, ready to score slides.
pub struct SlideClassifier {
    spec: ModelSpec,
    model: Network,
    heatmap_class: usize,
}

impl SlideClassifier {
    /// The classifier of the model folder `dir`; heatmaps show
    /// `heatmap_class` (default: the last class, the positive one in the
    /// usual `[normal, tumour]` order).
    pub fn load(dir: &Path, heatmap_class: Option<&str>) -> WorkflowResult<Self> {
        let spec = ModelSpec::read(dir)?;
        if spec.task != Task::Classification {
            return Err(WorkflowError::invalid(format!(
                "whole-slide prediction needs a classifier; this model is for {}{}",
                spec.task.name(),
                if spec.task == Task::Mil {
                    " (use --bags with `exahealth embed` output instead of --plans)"
                } else {
                    ""
                }
            )));
        }
        if spec.channels != 3 {
            return Err(WorkflowError::invalid(format!(
                "slides are RGB; this model takes {} channel(s)",
                spec.channels
            )));
        }
        let heatmap_class = match heatmap_class {
            Some(name) => spec.classes.iter().position(|c| c == name).ok_or_else(|| {
                WorkflowError::invalid(format!(
                    "no class {name:?}; the model has {:?}",
                    spec.classes
                ))
            })?,
            None => spec.classes.len().saturating_sub(1),
        };
        let model = spec.load(dir)?;
        Ok(Self {
            spec,
            model,
            heatmap_class,
        })
    }

    /// The model's spec.
    pub fn spec(&self) -> &ModelSpec {
        &self.spec
    }

    /// The plan `slide tile --out plans` wrote for `slide`.
    pub fn plan_for(plans: &Path, slide: &Path) -> PathBuf {
        plans.join(slide_stem(slide)).join("patches.csv")
    }

    /// Scores every patch of `slide`'s plan in `plans` and writes the
    /// slide's folder `out/<slide stem>/`; `on_progress(done, total)`
    /// follows the patches.
    pub fn predict_slide(
        &self,
        slide_path: &Path,
        plans: &Path,
        out: &Path,
        options: &SlidePredictionOptions,
        device: &Device,
        on_progress: &mut dyn FnMut(usize, usize),
    ) -> WorkflowResult<(PathBuf, PlanPrediction)> {
        let t0 = std::time::Instant::now();
        let spec = &self.spec;
        let plan = Self::plan_for(plans, slide_path);
        if !plan.is_file() {
            return Err(WorkflowError::invalid(format!(
                "no patch plan for {} at {}: make one first, e.g. `exahealth slide tile {} --mpp 0.5 --size {} --out {}`",
                slide_path.display(),
                plan.display(),
                slide_path.display(),
                spec.image_size,
                plans.display()
            )));
        }
        let mut source = SlidePatchSource::new(spec.image_size, Vec::new())?;
        source
            .add_plan(slide_path, &plan)
            .map_err(|source| WorkflowError::UsePlan {
                dir: plan.parent().unwrap_or(plans).to_path_buf(),
                source: Box::new(source),
            })?;
        let batches = SampleBatches::new(source, spec.classes.len());
        let scores = predict_patches(
            &self.model,
            &batches,
            options.batch.max(1),
            device,
            on_progress,
        )
        .map_err(|source| WorkflowError::Score {
            slide: slide_path.to_path_buf(),
            source: Box::new(source),
        })?;
        let dir = out.join(slide_stem(slide_path));
        std::fs::create_dir_all(&dir).map_err(|source| NnError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        write_scores_csv(&dir.join("scores.csv"), &scores, &spec.classes)?;
        let slide = Slide::open(slide_path)?;
        let map = heatmap(
            &slide,
            &scores,
            self.heatmap_class,
            options.heatmap_downsample,
        )?;
        map.write_tiff(&dir.join("heatmap.tiff"), slide.mpp().map(|(x, _)| x))?;
        map.write_overlay_png(&dir.join("overlay.png"), &slide, options.overlay_size)?;
        let classes = spec
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| Ok(ClassSummary::new(c, slide_score(&scores, i)?)))
            .collect::<crate::Result<Vec<_>>>()?;
        let summary = PlanPrediction {
            slide: slide_path.display().to_string(),
            plan: plan.display().to_string(),
            patches: scores.len(),
            heatmap_class: spec
                .classes
                .get(self.heatmap_class)
                .cloned()
                .unwrap_or_default(),
            classes,
            seconds: t0.elapsed().as_secs_f64(),
        };
        let json = serde_json::to_vec_pretty(&summary).map_err(WorkflowError::Json)?;
        crate::atomic::write_atomic(&dir.join(SUMMARY_FILE), &json)?;
        Ok((dir, summary))
    }

    /// The class the heatmaps show, as an index into the model's classes.
    pub fn heatmap_class(&self) -> usize {
        self.heatmap_class
    }
}
