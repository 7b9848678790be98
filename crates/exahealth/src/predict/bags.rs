//! `exahealth predict --model MIL --bags FEATURES [SLIDE...]`: slide-level
//! classes from a multiple-instance model, with the attention it paid to
//! each patch (`exahealth_nn::mil_inference` does the work and writes the
//! files; this prints a line per slide).

use std::path::Path;

use anyhow::Result;
use exahealth_nn::cpu_device;
use exahealth_nn::embedding::check_slide_name;
use exahealth_nn::mil_inference::{BagsFolder, MilModel, SlidePrediction};

/// Options of the MIL mode.
pub struct BagOptions<'a> {
    pub bags: &'a Path,
    pub out: &'a Path,
    pub heatmap_downsample: u32,
    pub json: bool,
}

pub fn run(model_dir: &Path, slides: &[String], o: &BagOptions<'_>) -> Result<()> {
    let bags = BagsFolder::open(o.bags)?;
    let model = MilModel::load(model_dir, &bags.embedding)?;
    let stems: Vec<String> = if slides.is_empty() {
        bags.embedding.slides.keys().cloned().collect()
    } else {
        slides.to_vec()
    };
    for stem in &stems {
        check_slide_name(stem)?;
    }
    let device = cpu_device();
    for stem in &stems {
        let p = model.predict_slide(&bags, stem, o.out, o.heatmap_downsample, &device)?;
        print_prediction(stem, &p, o.json)?;
    }
    Ok(())
}

/// One slide's line: `slide<TAB>class<TAB>probability`, or its summary as JSON.
pub fn print_prediction(stem: &str, p: &SlidePrediction, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(&p.summary)?);
    } else {
        let probability = p.probabilities.get(p.class).copied().unwrap_or(f32::NAN);
        println!("{stem}\t{}\t{probability:.4}", p.summary.class);
    }
    Ok(())
}
