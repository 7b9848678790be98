//! Multiple-instance inference: slide-level classes from an attention-MIL
//! model folder and a bags folder (the `--out` folder of `exahealth embed`),
//! with the attention the model paid to each patch.
//!
//! [`BagsFolder::open`] reads the folder's `embedding.json`;
//! [`MilModel::load`] loads a `task = "mil"` model folder and refuses bags
//! made by another extractor than the one it was trained on.
//! [`MilModel::classify`] scores one bag; [`MilModel::predict_slide`] also
//! writes the slide's outputs into `out/<slide>/`: `attention.csv` (the
//! plan's patches with their attention weights, summing to 1),
//! `summary.json` (a [`MilSummary`]) and, when the slide is where the
//! embedding found it, `heatmap.tiff` and `overlay.png` of the attention
//! scaled so the most attended patch is 1. [`MilModel::evaluate`] scores
//! labelled slides ([`crate::labels`]) into a classification report.
//!
//! ```no_run
//! use std::path::Path;
//! use exahealth_nn::mil_inference::{BagsFolder, MilModel};
//!
//! # fn main() -> exahealth_nn::Result<()> {
//! let bags = BagsFolder::open(Path::new("features"))?;
//! let model = MilModel::load(Path::new("runs/mil"), &bags.embedding)?;
//! let device = exahealth_nn::cpu_device();
//! for slide in bags.embedding.slides.keys() {
//!     let p = model.predict_slide(&bags, slide, Path::new("preds"), 64, &device)?;
//!     println!("{slide}: {} ({:.3})", p.summary.class, p.probabilities[p.class]);
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use burn::tensor::activation::softmax;
use burn::tensor::Device;
use exahealth_data::loader::{read_patches_csv, PatchRecord};
use exahealth_slide::Slide;
use ndarray::Array2;
use serde::Serialize;

use crate::atomic::write_atomic;
use crate::data::{tensor_to_array, to_tensor};
use crate::embedding::{check_slide_name, Embedding};
use crate::error::{NnError, Result};
use crate::features::{read_features, FEATURES_FILE};
use crate::metrics::ClassificationReport;
use crate::model_folder::{ModelSpec, Task};
use crate::models::{AttentionMil, Network};
use crate::train::argmax;
use crate::wsi::{heatmap, PatchScore};

/// How many patches a [`MilSummary`] lists.
pub const TOP_PATCHES: usize = 10;

/// A bags folder: one sub-folder per slide (its features file and the
/// plan's `patches.csv`) and the `embedding.json` describing them.
#[derive(Debug, Clone)]
pub struct BagsFolder {
    /// The folder.
    pub path: PathBuf,
    /// Its `embedding.json`.
    pub embedding: Embedding,
}

impl BagsFolder {
    /// Reads the folder's `embedding.json`, which must exist.
    pub fn open(path: &Path) -> Result<Self> {
        let embedding =
            Embedding::read(path)?.ok_or_else(|| NnError::NoEmbedding(path.to_path_buf()))?;
        Ok(Self {
            path: path.to_path_buf(),
            embedding,
        })
    }

    /// One slide's embeddings `[patches, width]`, checked to have the
    /// `width` features per patch a model takes.
    pub fn read_bag(&self, slide: &str, width: usize) -> Result<Array2<f32>> {
        check_slide_name(slide)?;
        let file = read_features(&self.path.join(slide).join(FEATURES_FILE)).map_err(|e| {
            NnError::BagUnreadable {
                slide: slide.to_string(),
                source: Box::new(e),
            }
        })?;
        let found = file.features.ncols();
        if found != width {
            return Err(NnError::BagWidth {
                slide: slide.to_string(),
                width: found,
                expected: width,
            });
        }
        Ok(file.features)
    }
}

/// An attention-MIL model folder, loaded.
#[derive(Debug)]
pub struct MilModel {
    /// Its `model.json`.
    pub spec: ModelSpec,
    /// The network.
    pub network: AttentionMil,
}

/// One bag's class probabilities (softmax, in the model's class order) and
/// its patches' attention weights (in the bag's row order, summing to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct BagPrediction {
    /// One per class.
    pub probabilities: Vec<f32>,
    /// One per patch.
    pub attention: Vec<f32>,
}

impl BagPrediction {
    /// The index of the most probable class.
    pub fn class(&self) -> usize {
        argmax(&self.probabilities)
    }
}

/// A patch of a [`MilSummary`]: where it lies and its attention weight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopPatch {
    /// Level-0 x of the patch (the plan's `x`).
    pub x: i64,
    /// Level-0 y of the patch.
    pub y: i64,
    /// The plan's level.
    pub level: usize,
    /// Its attention weight.
    pub attention: f32,
}

/// `summary.json` of a slide's prediction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MilSummary {
    /// The slide (its folder name).
    pub slide: String,
    /// The predicted class's name (`?` if the model names fewer classes).
    pub class: String,
    /// Class name -> probability.
    pub probabilities: serde_json::Map<String, serde_json::Value>,
    /// Patches in the bag.
    pub patches: usize,
    /// The patches the model attended to most, highest first
    /// ([`TOP_PATCHES`] at most).
    pub top_patches: Vec<TopPatch>,
}

/// What [`MilModel::predict_slide`] found and wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct SlidePrediction {
    /// The predicted class's index.
    pub class: usize,
    /// One per class.
    pub probabilities: Vec<f32>,
    /// One per patch, in the plan's order.
    pub attention: Vec<f32>,
    /// What `summary.json` holds.
    pub summary: MilSummary,
}

impl MilModel {
    /// The MIL model of a model folder, checked against the extractor of
    /// the bags it will score.
    pub fn load(model_dir: &Path, embedding: &Embedding) -> Result<Self> {
        let spec = ModelSpec::read(model_dir)?;
        if spec.task != Task::Mil {
            return Err(NnError::NotMil(spec.task.name()));
        }
        if let Some(trained) = &spec.embedding {
            if !trained.same_as(&embedding.extractor) {
                return Err(NnError::ForeignEmbeddings {
                    trained: trained.architecture.clone(),
                    trained_source: trained.source.clone(),
                    found: embedding.extractor.architecture.clone(),
                    found_source: embedding.extractor.source.clone(),
                });
            }
        }
        let Network::AttentionMil(network) = spec.load(model_dir)? else {
            return Err(NnError::NotAttentionMil(model_dir.to_path_buf()));
        };
        Ok(Self { spec, network })
    }

    /// One slide's embeddings from `bags`, checked against the model's
    /// input width.
    pub fn read_bag(&self, bags: &BagsFolder, slide: &str) -> Result<Array2<f32>> {
        bags.read_bag(slide, self.spec.channels)
    }

    /// One bag's class probabilities and its patches' attention weights.
    pub fn classify(&self, features: Array2<f32>, device: &Device) -> Result<BagPrediction> {
        let bag = features.insert_axis(ndarray::Axis(0)).into_dyn();
        let (logits, attention) = self
            .network
            .forward_with_attention(to_tensor::<3>(&bag, device)?);
        let probabilities = tensor_to_array(softmax(logits, 1))?
            .iter()
            .copied()
            .collect();
        let attention = tensor_to_array(attention)?.iter().copied().collect();
        Ok(BagPrediction {
            probabilities,
            attention,
        })
    }

    /// Classifies one slide of `bags` and writes `attention.csv`,
    /// `summary.json` and (when the slide file is found) `heatmap.tiff`
    /// and `overlay.png` into `out/<slide>/`; the heatmap has one pixel per
    /// `heatmap_downsample` level-0 pixels.
    pub fn predict_slide(
        &self,
        bags: &BagsFolder,
        slide: &str,
        out: &Path,
        heatmap_downsample: u32,
        device: &Device,
    ) -> Result<SlidePrediction> {
        let features = self.read_bag(bags, slide)?;
        let n = features.nrows();
        let records =
            read_patches_csv(&bags.path.join(slide).join("patches.csv")).map_err(|source| {
                NnError::PatchList {
                    slide: slide.to_string(),
                    source: Box::new(source),
                }
            })?;
        if records.len() != n {
            return Err(NnError::PatchCount {
                slide: slide.to_string(),
                listed: records.len(),
                embedded: n,
            });
        }
        let BagPrediction {
            probabilities,
            attention,
        } = self.classify(features, device)?;
        let class = argmax(&probabilities);
        let classes = &self.spec.classes;

        let out = out.join(slide);
        std::fs::create_dir_all(&out).map_err(|source| NnError::CreateDir {
            path: out.clone(),
            source,
        })?;
        let mut csv = String::from("x,y,level,width,height,attention\n");
        for (r, a) in records.iter().zip(&attention) {
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{a}",
                r.x, r.y, r.level, r.width, r.height
            );
        }
        write_atomic(&out.join("attention.csv"), csv.as_bytes())?;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&i, &j| attention[j].total_cmp(&attention[i]));
        let summary = MilSummary {
            slide: slide.to_string(),
            class: classes.get(class).map_or("?", String::as_str).to_string(),
            probabilities: classes
                .iter()
                .zip(&probabilities)
                .map(|(c, p)| (c.clone(), serde_json::json!(p)))
                .collect(),
            patches: n,
            top_patches: order
                .iter()
                .take(TOP_PATCHES)
                .map(|&i| TopPatch {
                    x: records[i].x,
                    y: records[i].y,
                    level: records[i].level,
                    attention: attention[i],
                })
                .collect(),
        };
        let path = out.join("summary.json");
        let json = serde_json::to_vec_pretty(&summary).map_err(|e| NnError::record(&path, e))?;
        write_atomic(&path, &json)?;
        write_attention_map(
            &bags.embedding,
            slide,
            &records,
            &attention,
            &out,
            heatmap_downsample,
        )?;
        Ok(SlidePrediction {
            class,
            probabilities,
            attention,
            summary,
        })
    }

    /// Scores `slides` of `bags` against their labels (slide -> label
    /// text, as [`crate::labels::read_labels`] reads them from the table
    /// at `labels_path`, named in errors): each slide is classified whole,
    /// its label must be one of the model's classes.
    pub fn evaluate(
        &self,
        bags: &BagsFolder,
        slides: &[String],
        labels: &BTreeMap<String, String>,
        labels_path: &Path,
        device: &Device,
    ) -> Result<ClassificationReport> {
        let classes = &self.spec.classes;
        let (mut truth, mut scores) = (Vec::new(), Vec::new());
        for slide in slides {
            let text = labels.get(slide).ok_or_else(|| NnError::NoLabel {
                table: labels_path.to_path_buf(),
                slide: slide.clone(),
            })?;
            let class =
                classes
                    .iter()
                    .position(|c| c == text)
                    .ok_or_else(|| NnError::UnknownLabel {
                        slide: slide.clone(),
                        label: text.clone(),
                        classes: classes.clone(),
                    })?;
            let features = self.read_bag(bags, slide)?;
            truth.push(class);
            scores.extend(self.classify(features, device)?.probabilities);
        }
        Ok(ClassificationReport::from_scores(
            &truth,
            &scores,
            classes.len(),
        )?)
    }
}

/// heatmap.tiff and overlay.png of the attention (scaled so the most
/// attended patch is 1), when the slide is where the embedding found it.
fn write_attention_map(
    embedding: &Embedding,
    stem: &str,
    records: &[PatchRecord],
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
