//! `exahealth predict --model MIL --bags FEATURES [SLIDE...]`: slide-level
//! classes from a multiple-instance model, with the attention it paid to
//! each patch.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use exahealth_data::loader::read_patches_csv;
use exahealth_nn::burn::tensor::activation::softmax;
use exahealth_nn::burn::tensor::Device;
use exahealth_nn::cpu_device;
use exahealth_nn::data::{tensor_to_array, to_tensor};
use exahealth_nn::embedding::{check_slide_name, Embedding};
use exahealth_nn::features::{read_features, FEATURES_FILE};
use exahealth_nn::model_folder::{ModelSpec, Task};
use exahealth_nn::models::{AttentionMil, Network};
use exahealth_nn::train::argmax;
use exahealth_nn::wsi::{heatmap, PatchScore};
use exahealth_slide::Slide;
use serde::Serialize;

/// Options of the MIL mode.
pub struct BagOptions<'a> {
    pub bags: &'a Path,
    pub out: &'a Path,
    pub heatmap_downsample: u32,
    pub json: bool,
}

#[derive(Serialize)]
struct TopPatch {
    x: i64,
    y: i64,
    level: usize,
    attention: f32,
}

#[derive(Serialize)]
struct Summary<'a> {
    slide: &'a str,
    class: &'a str,
    probabilities: serde_json::Map<String, serde_json::Value>,
    patches: usize,
    /// The patches the model attended to most, highest first.
    top_patches: Vec<TopPatch>,
}

pub fn run(model_dir: &Path, slides: &[String], o: &BagOptions<'_>) -> Result<()> {
    let embedding = read_embedding(o.bags)?;
    let (spec, model) = load_mil(model_dir, &embedding)?;
    let stems: Vec<String> = if slides.is_empty() {
        embedding.slides.keys().cloned().collect()
    } else {
        slides.to_vec()
    };
    for stem in &stems {
        check_slide_name(stem)?;
    }
    let device = cpu_device();
    for stem in &stems {
        let dir = o.bags.join(stem);
        let features = read_bag(o.bags, stem, &spec)?;
        let n = features.nrows();
        let records = read_patches_csv(&dir.join("patches.csv"))
            .with_context(|| format!("{stem}: cannot read the patch list"))?;
        if records.len() != n {
            bail!(
                "{stem}: {} patches listed but {n} embeddings: embed the slide again",
                records.len()
            );
        }
        let (probs, attention) = classify_bag(&model, features, &device)?;
        let top = argmax(&probs);
        let class = spec.classes.get(top).map_or("?", String::as_str);

        std::fs::create_dir_all(o.out.join(stem))
            .with_context(|| format!("cannot create {}", o.out.join(stem).display()))?;
        let out = o.out.join(stem);
        let mut csv = String::from("x,y,level,width,height,attention\n");
        for (r, a) in records.iter().zip(&attention) {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{a}",
                r.x, r.y, r.level, r.width, r.height
            );
        }
        exahealth_nn::atomic::write_atomic(&out.join("attention.csv"), csv.as_bytes())?;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| attention[j].total_cmp(&attention[i]));
        let summary = Summary {
            slide: stem,
            class,
            probabilities: spec
                .classes
                .iter()
                .zip(&probs)
                .map(|(c, p)| (c.clone(), serde_json::json!(p)))
                .collect(),
            patches: n,
            top_patches: order
                .iter()
                .take(10)
                .map(|&i| TopPatch {
                    x: records[i].x,
                    y: records[i].y,
                    level: records[i].level,
                    attention: attention[i],
                })
                .collect(),
        };
        let json = serde_json::to_vec_pretty(&summary)?;
        exahealth_nn::atomic::write_atomic(&out.join("summary.json"), &json)?;
        write_attention_map(
            &embedding,
            stem,
            &records,
            &attention,
            &out,
            o.heatmap_downsample,
        )?;
        if o.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            println!("{stem}\t{class}\t{:.4}", probs[top]);
        }
    }
    Ok(())
}

/// One slide's embeddings from a bags folder, checked against the model's
/// input width.
pub fn read_bag(bags: &Path, slide: &str, spec: &ModelSpec) -> Result<ndarray::Array2<f32>> {
    let file = read_features(&bags.join(slide).join(FEATURES_FILE))
        .with_context(|| format!("no usable embeddings for slide {slide:?}"))?;
    let width = file.features.ncols();
    if width != spec.channels {
        bail!(
            "{slide}: {width} features per patch; the model takes {}",
            spec.channels
        );
    }
    Ok(file.features)
}

/// One slide's class probabilities and its patches' attention weights.
pub fn classify_bag(
    model: &AttentionMil,
    features: ndarray::Array2<f32>,
    device: &Device,
) -> Result<(Vec<f32>, Vec<f32>)> {
    let bag = features.insert_axis(ndarray::Axis(0)).into_dyn();
    let (logits, attention) = model.forward_with_attention(to_tensor::<3>(&bag, device)?);
    let probs = tensor_to_array(softmax(logits, 1))?
        .iter()
        .copied()
        .collect();
    let attention = tensor_to_array(attention)?.iter().copied().collect();
    Ok((probs, attention))
}

/// The MIL model of a model folder, checked against the bags' extractor.
pub fn load_mil(model_dir: &Path, embedding: &Embedding) -> Result<(ModelSpec, AttentionMil)> {
    let spec = ModelSpec::read(model_dir)?;
    if spec.task != Task::Mil {
        bail!(
            "--bags takes a MIL model (task = \"mil\"); this one is for {}",
            spec.task.name()
        );
    }
    if let Some(trained) = &spec.embedding {
        if !trained.same_as(&embedding.extractor) {
            bail!(
                "the model was trained on embeddings of {} ({}), these bags come from {} ({}): embed the slides with the model's extractor",
                trained.architecture,
                trained.source,
                embedding.extractor.architecture,
                embedding.extractor.source
            );
        }
    }
    let Network::AttentionMil(model) = spec.load(model_dir)? else {
        bail!(
            "{}: the model folder does not hold an attention-MIL model",
            model_dir.display()
        );
    };
    Ok((spec, model))
}

/// The `embedding.json` of a bags folder, which must exist.
pub fn read_embedding(bags: &Path) -> Result<Embedding> {
    Embedding::read(bags)?.with_context(|| {
        format!(
            "{} holds no embeddings: make them with `exahealth embed --out {}`",
            bags.display(),
            bags.display()
        )
    })
}

/// heatmap.tiff and overlay.png of the attention (scaled so the most
/// attended patch is 1), when the slide is where the embedding found it.
fn write_attention_map(
    embedding: &Embedding,
    stem: &str,
    records: &[exahealth_data::loader::PatchRecord],
    attention: &[f32],
    out: &Path,
    downsample: u32,
) -> Result<()> {
    let Some(path) = embedding.slides.get(stem).map(|s| Path::new(&s.slide)) else {
        return Ok(());
    };
    let Ok(slide) = Slide::open(path) else {
        tracing::warn!(slide = %path.display(), "slide not found: no attention heatmap");
        return Ok(());
    };
    let peak = attention.iter().copied().fold(f32::MIN_POSITIVE, f32::max);
    let scores: Vec<PatchScore> = records
        .iter()
        .zip(attention)
        .map(|(r, &a)| PatchScore {
            record: r.clone(),
            probabilities: vec![a / peak],
        })
        .collect();
    let map = heatmap(&slide, &scores, 0, downsample)?;
    map.write_tiff(&out.join("heatmap.tiff"), slide.mpp().map(|(x, _)| x))?;
    map.write_overlay_png(&out.join("overlay.png"), &slide, 1024)?;
    Ok(())
}
