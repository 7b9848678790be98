//! `exahealth predict --model MIL --bags FEATURES [SLIDE...]`: slide-level
//! classes from a multiple-instance model, with the attention it paid to
//! each patch (`exahealth_nn::mil_inference` does the work and writes the
//! files; this prints a line per slide).

use std::path::Path;

use anyhow::Result;
use exahealth_nn::cpu_device;
use exahealth_nn::embedding::check_slide_name;
use exahealth_nn::mil_inference::{BagsFolder, MilModel};

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
        if o.json {
            println!("{}", serde_json::to_string(&p.summary)?);
        } else {
            println!(
                "{stem}\t{}\t{:.4}",
                p.summary.class, p.probabilities[p.class]
            );
        }
    }
    Ok(())
}
