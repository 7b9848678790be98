//! `exahealth predict --model DIR --plans TILES SLIDE...`: whole-slide
//! prediction through the patch plans `exahealth slide tile` wrote.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use exahealth_data::loader::SlidePatchSource;
use exahealth_nn::cpu_device;
use exahealth_nn::model_folder::{ModelSpec, Task};
use exahealth_nn::sources::SampleBatches;
use exahealth_nn::wsi::{heatmap, predict_patches, slide_score, write_scores_csv, SlideScore};
use exahealth_slide::Slide;
use serde::Serialize;

use crate::progress;

/// Options of the whole-slide mode.
pub struct SlideOptions<'a> {
    pub plans: &'a Path,
    pub out: &'a Path,
    pub class: Option<&'a str>,
    pub batch: usize,
    pub heatmap_downsample: u32,
    pub json: bool,
}

#[derive(Serialize)]
struct Summary<'a> {
    slide: String,
    plan: String,
    patches: usize,
    /// The class the heatmap shows.
    heatmap_class: &'a str,
    /// Per class: max and mean patch probability, share of patches where it wins.
    classes: Vec<ClassSummary<'a>>,
    seconds: f64,
}

#[derive(Serialize)]
struct ClassSummary<'a> {
    class: &'a str,
    #[serde(flatten)]
    score: SlideScore,
}

pub fn run(model_dir: &Path, slides: &[PathBuf], o: &SlideOptions<'_>) -> Result<()> {
    let spec = ModelSpec::read(model_dir)?;
    if spec.task != Task::Classification {
        bail!(
            "whole-slide prediction needs a classifier; this model is for {}{}",
            spec.task.name(),
            if spec.task == Task::Mil {
                " (use --bags with `exahealth embed` output instead of --plans)"
            } else {
                ""
            }
        );
    }
    if spec.channels != 3 {
        bail!(
            "slides are RGB; this model takes {} channel(s)",
            spec.channels
        );
    }
    let class = match o.class {
        Some(name) => spec
            .classes
            .iter()
            .position(|c| c == name)
            .with_context(|| format!("no class {name:?}; the model has {:?}", spec.classes))?,
        // The last class: the positive one in the usual [normal, tumour] order.
        None => spec.classes.len() - 1,
    };
    let model = spec.load(model_dir)?;
    let device = cpu_device();
    for slide_path in slides {
        let t0 = std::time::Instant::now();
        // The folder `slide tile` names after the slide.
        let stem = crate::slide::tile::stem(slide_path);
        let plan = o.plans.join(&stem).join("patches.csv");
        if !plan.is_file() {
            bail!(
                "no patch plan for {} at {}: make one first, e.g. `exahealth slide tile {} --mpp 0.5 --size {} --out {}`",
                slide_path.display(),
                plan.display(),
                slide_path.display(),
                spec.image_size,
                o.plans.display()
            );
        }
        let mut source = SlidePatchSource::new(spec.image_size, Vec::new())?;
        source
            .add_plan(slide_path, &plan)
            .with_context(|| format!("cannot use the plan {}", plan.display()))?;
        let batches = SampleBatches::new(source, spec.classes.len());
        let pb = progress::bar(0, &stem);
        let scores = predict_patches(
            &model,
            &batches,
            o.batch.max(1),
            &device,
            &mut |done, total| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            },
        )
        .with_context(|| format!("scoring {}", slide_path.display()))?;
        pb.finish_and_clear();

        let dir = o.out.join(&stem);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        write_scores_csv(&dir.join("scores.csv"), &scores, &spec.classes)?;
        let slide = Slide::open(slide_path)
            .with_context(|| format!("cannot open slide {}", slide_path.display()))?;
        let map = heatmap(&slide, &scores, class, o.heatmap_downsample)?;
        map.write_tiff(&dir.join("heatmap.tiff"), slide.mpp().map(|(x, _)| x))?;
        map.write_overlay_png(&dir.join("overlay.png"), &slide, 1024)?;
        let classes = spec
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                Ok(ClassSummary {
                    class: c,
                    score: slide_score(&scores, i)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let summary = Summary {
            slide: slide_path.display().to_string(),
            plan: plan.display().to_string(),
            patches: scores.len(),
            heatmap_class: &spec.classes[class],
            classes,
            seconds: t0.elapsed().as_secs_f64(),
        };
        let json = serde_json::to_vec_pretty(&summary)?;
        exahealth_nn::atomic::write_atomic(&dir.join("summary.json"), &json)?;
        let s = &summary.classes[class].score;
        if o.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            println!(
                "{}: {} patches, {} max {:.4} mean {:.4} positive {:.1}% ({:.1} s) -> {}",
                slide_path.display(),
                scores.len(),
                spec.classes[class],
                s.max,
                s.mean,
                100.0 * s.positive_fraction,
                summary.seconds,
                dir.display()
            );
        }
    }
    Ok(())
}
