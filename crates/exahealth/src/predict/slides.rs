//! `exahealth predict --model DIR --plans TILES SLIDE...`: whole-slide
//! prediction through the patch plans `exahealth slide tile` wrote
//! (`exahealth_nn::slide_prediction` does the work and writes the files;
//! this prints a line per slide).

use std::path::{Path, PathBuf};

use anyhow::Result;
use exahealth_data::plan::slide_stem;
use exahealth_nn::cpu_device;
use exahealth_nn::slide_prediction::{SlideClassifier, SlidePredictionOptions};

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

pub fn run(model_dir: &Path, slides: &[PathBuf], o: &SlideOptions<'_>) -> Result<()> {
    let classifier = SlideClassifier::load(model_dir, o.class)?;
    let options = SlidePredictionOptions {
        batch: o.batch,
        heatmap_downsample: o.heatmap_downsample,
        ..SlidePredictionOptions::default()
    };
    let device = cpu_device();
    for slide_path in slides {
        let pb = progress::bar(0, &slide_stem(slide_path));
        let predicted = classifier.predict_slide(
            slide_path,
            o.plans,
            o.out,
            &options,
            &device,
            &mut |done, total| {
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            },
        );
        pb.finish_and_clear();
        let (dir, summary) = predicted?;
        if o.json {
            println!("{}", serde_json::to_string(&summary)?);
            continue;
        }
        let class = classifier.heatmap_class();
        if let (Some(s), Some(name)) = (
            summary.classes.get(class),
            classifier.spec().classes.get(class),
        ) {
            println!(
                "{}: {} patches, {name} max {:.4} mean {:.4} positive {:.1}% ({:.1} s) -> {}",
                slide_path.display(),
                summary.patches,
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
