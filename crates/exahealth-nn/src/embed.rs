//! Patch embeddings of whole slides through their patch plans: the bags
//! attention MIL trains on. Each slide's patches go through a feature
//! extractor (a model folder's classifier, or torchvision weights); the
//! rows land in `OUT/<slide>/features.safetensors` beside a copy of the
//! plan's `patches.csv`, and `OUT/embedding.json` records the extractor
//! and every slide. Slides whose plan and extractor are unchanged are
//! skipped, so an interrupted run continues where it stopped.
//!
//! ```no_run
//! use std::path::Path;
//! use exahealth_nn::embed::{embed_slides, load_extractor, plan_stems, EmbedEvent, PyTorchExtractor};
//!
//! # fn main() -> Result<(), exahealth_nn::WorkflowError> {
//! // torchvision ResNet-18 weights; a model folder from training works too.
//! let pytorch = PyTorchExtractor { arch: "resnet18".into(), size: 224 };
//! let (network, extractor) = load_extractor(Path::new("resnet18.pth"), &pytorch)?;
//! let (plans, out) = (Path::new("tiles"), Path::new("features"));
//! let stems = plan_stems(plans, &[])?;
//! let embedding = embed_slides(&network, &extractor, plans, out, &stems, 32, &mut |e| {
//!     if let EmbedEvent::Embedded { stem, patches, .. } = e {
//!         println!("{stem}: {patches} patches");
//!     }
//! })?;
//! println!("{} features per patch", embedding.width);
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use exahealth_data::loader::SlidePatchSource;
use exahealth_data::plan::Plan;

use crate::embedding::{check_slide_name, EmbeddedSlide, Embedding, Extractor};
use crate::features::{embed_patches, write_features, Normalisation, FEATURES_FILE};
use crate::model_folder::{ModelSpec, Task, WEIGHTS_FILE};
use crate::models::{Architecture, Network};
use crate::prepare::slide_path;
use crate::sources::SampleBatches;
use crate::workflow_error::{WorkflowError, WorkflowResult};
use crate::NnError;

/// The torchvision networks whose weights can be extractors.
pub const PYTORCH_EXTRACTORS: [&str; 4] = ["resnet18", "resnet34", "resnet50", "densenet121"];

/// How PyTorch weights are read as an extractor (ignored for model folders).
#[derive(Debug, Clone)]
pub struct PyTorchExtractor {
    /// One of [`PYTORCH_EXTRACTORS`].
    pub arch: String,
    /// The patch side in pixels fed to the network (at least 32).
    pub size: u32,
}

fn sha256(path: &Path) -> WorkflowResult<String> {
    match crate::card::hash_file(path) {
        Ok(hash) => Ok(hash.sha256),
        Err(source) => Err(WorkflowError::Hash {
            path: path.to_path_buf(),
            source: Box::new(source),
        }),
    }
}

/// The extractor network at `model` and its record: a model folder of an
/// RGB image classifier (patches at its input size, pixels in 0..1), or
/// torchvision weights read as `pytorch` says (ImageNet normalisation).
pub fn load_extractor(
    model: &Path,
    pytorch: &PyTorchExtractor,
) -> WorkflowResult<(Network, Extractor)> {
    let source = model.display().to_string();
    if model.is_dir() {
        let spec = ModelSpec::read(model)?;
        if spec.task != Task::Classification || spec.channels != 3 {
            return Err(WorkflowError::invalid(format!(
                "{}: embeddings need an RGB image classifier; this model is a {} model with {} channel(s)",
                model.display(),
                spec.task.name(),
                spec.channels
            )));
        }
        let network = spec.load(model)?;
        let extractor = Extractor {
            source,
            sha256: sha256(&model.join(WEIGHTS_FILE))?,
            architecture: spec.architecture.name(),
            image_size: spec.image_size,
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        return Ok((network, extractor));
    }
    load_pytorch(model, pytorch, source)
}

#[cfg(feature = "pytorch")]
fn load_pytorch(
    model: &Path,
    pytorch: &PyTorchExtractor,
    source: String,
) -> WorkflowResult<(Network, Extractor)> {
    let arch = pytorch.arch.as_str();
    if !PYTORCH_EXTRACTORS.contains(&arch) {
        return Err(WorkflowError::invalid(format!(
            "--arch {arch}: PyTorch weights are read for torchvision's resnet18, resnet34, resnet50 and densenet121"
        )));
    }
    if pytorch.size < 32 {
        return Err(WorkflowError::invalid(format!(
            "--size {} is too small for these networks (at least 32)",
            pytorch.size
        )));
    }
    let device = crate::cpu_device();
    let architecture = Architecture::from_name(arch, 3, 1000)?;
    let mut network = architecture.init(&device)?;
    let failed = |source| WorkflowError::PyTorch {
        path: model.to_path_buf(),
        arch: arch.to_string(),
        source: Box::new(source),
    };
    let report = match (&mut network, &architecture) {
        (Network::ResNet(m), _) => {
            crate::pytorch::load_pytorch_backbone(m, model, crate::pytorch::TORCHVISION_RESNET)
                .map_err(failed)?
        }
        (Network::DenseNet(m), Architecture::DenseNet(config)) => {
            let remap = crate::models::densenet_pytorch_remapping(config);
            let pairs: Vec<(&str, &str)> = remap
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            crate::pytorch::load_pytorch_backbone(m, model, &pairs).map_err(failed)?
        }
        _ => {
            return Err(WorkflowError::invalid(format!(
                "--arch {arch}: no PyTorch import for it"
            )))
        }
    };
    tracing::debug!(applied = report.applied, unused = ?report.unused, "PyTorch weights loaded");
    if report.applied == 0 {
        return Err(WorkflowError::invalid(format!(
            "{}: no tensor of the file fits {arch}",
            model.display()
        )));
    }
    let norm = Normalisation::imagenet();
    let extractor = Extractor {
        source,
        sha256: sha256(model)?,
        architecture: arch.to_string(),
        image_size: pytorch.size,
        mean: norm.mean,
        std: norm.std,
    };
    Ok((network, extractor))
}

#[cfg(not(feature = "pytorch"))]
fn load_pytorch(
    model: &Path,
    _pytorch: &PyTorchExtractor,
    _source: String,
) -> WorkflowResult<(Network, Extractor)> {
    Err(WorkflowError::invalid(format!(
        "{}: not a model folder, and PyTorch weights need the `pytorch` feature",
        model.display()
    )))
}

/// The slides to embed: `named` (checked to be plain folder names), or
/// every sub-folder of `plans` holding a `patches.csv`, sorted.
pub fn plan_stems(plans: &Path, named: &[String]) -> WorkflowResult<Vec<String>> {
    if !named.is_empty() {
        for name in named {
            check_slide_name(name)?;
        }
        return Ok(named.to_vec());
    }
    let list_error = |source| WorkflowError::Io {
        what: "list",
        path: plans.to_path_buf(),
        source,
    };
    let mut stems = Vec::new();
    for entry in std::fs::read_dir(plans).map_err(list_error)? {
        let entry = entry.map_err(list_error)?;
        if entry.path().join("patches.csv").is_file() {
            stems.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    stems.sort();
    if stems.is_empty() {
        return Err(WorkflowError::invalid(format!(
            "{} holds no patch plan: make them with `exahealth slide tile SLIDES --out {}`",
            plans.display(),
            plans.display()
        )));
    }
    Ok(stems)
}

/// What [`embed_slides`] reports as it goes.
#[derive(Debug)]
#[non_exhaustive]
pub enum EmbedEvent<'a> {
    /// The slide's embeddings are current: skipped.
    UpToDate {
        /// The slide stem.
        stem: &'a str,
    },
    /// Patches embedded so far of the slide being embedded.
    Progress {
        /// The slide stem.
        stem: &'a str,
        /// Patches done.
        done: usize,
        /// Patches in its plan.
        total: usize,
    },
    /// A slide's embeddings are written.
    Embedded {
        /// The slide stem.
        stem: &'a str,
        /// Rows written (its patches).
        patches: usize,
        /// Features per patch.
        width: usize,
        /// Seconds it took.
        seconds: f64,
        /// Its folder under the output.
        folder: &'a Path,
    },
}

/// Embeds the slides `stems` of the plans folder `plans` into `out` with
/// `model` (whose record is `extractor`), `batch` patches per forward pass.
/// `out/embedding.json` is rewritten after every slide, so an interrupted
/// run keeps what it did; an `out` holding another extractor's embeddings
/// is refused (bags must share one).
pub fn embed_slides(
    model: &Network,
    extractor: &Extractor,
    plans: &Path,
    out: &Path,
    stems: &[String],
    batch: usize,
    on_event: &mut dyn FnMut(EmbedEvent<'_>),
) -> WorkflowResult<Embedding> {
    let index = IndexFile::Whole;
    embed_slides_indexed(model, extractor, plans, out, stems, batch, index, on_event)
}

/// Which index an embedding run keeps up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexFile {
    /// `embedding.json`: the run embeds every slide it will.
    Whole,
    /// Shard `index` of `count` of a sharded run: its own index
    /// ([`crate::embedding::shard_index_file`]), merged into
    /// `embedding.json` by [`crate::embedding::merge_shard_indexes`] once
    /// every shard is done.
    Shard {
        /// This shard.
        index: usize,
        /// All shards.
        count: usize,
    },
}

/// [`embed_slides`], keeping `index` up to date: a shard of a job split
/// across processes keeps its own index, so no two processes write one
/// file. A shard resumes from its index, or else from `embedding.json`.
#[allow(clippy::too_many_arguments)]
pub fn embed_slides_indexed(
    model: &Network,
    extractor: &Extractor,
    plans: &Path,
    out: &Path,
    stems: &[String],
    batch: usize,
    index: IndexFile,
    on_event: &mut dyn FnMut(EmbedEvent<'_>),
) -> WorkflowResult<Embedding> {
    std::fs::create_dir_all(out).map_err(|source| NnError::CreateDir {
        path: out.to_path_buf(),
        source,
    })?;
    let index_name = match index {
        IndexFile::Whole => crate::embedding::EMBEDDING_FILE.to_string(),
        IndexFile::Shard { index, count } => crate::embedding::shard_index_file(index, count),
    };
    let previous = match Embedding::read_index(out, &index_name)? {
        Some(e) => Some(e),
        None => Embedding::read(out)?,
    };
    let mut embedding = match previous {
        Some(e) if !e.extractor.same_as(extractor) => {
            return Err(WorkflowError::invalid(format!(
                "{} holds embeddings from another extractor ({} {}); bags must share one: choose another --out",
                out.display(),
                e.extractor.architecture,
                e.extractor.source
            )))
        }
        Some(e) => e,
        None => Embedding {
            extractor: extractor.clone(),
            width: 0,
            slides: BTreeMap::new(),
        },
    };
    let norm = Normalisation {
        mean: extractor.mean.clone(),
        std: extractor.std.clone(),
    };
    let base = plans.parent().unwrap_or(Path::new("."));
    let device = crate::cpu_device();
    for stem in stems {
        let dir = plans.join(stem);
        let plan = Plan::load_meta(&dir).map_err(|source| WorkflowError::Plan {
            slide: stem.clone(),
            dir: dir.clone(),
            source: Box::new(source),
        })?;
        let patches_csv = dir.join("patches.csv");
        let plan_sha256 = sha256(&patches_csv)?;
        let target = out.join(stem);
        let done = embedding
            .slides
            .get(stem)
            .is_some_and(|s| s.plan_sha256 == plan_sha256 && target.join(FEATURES_FILE).is_file());
        if done {
            on_event(EmbedEvent::UpToDate { stem });
            continue;
        }
        let slide = slide_path(&plan.slide.path, base)?;
        // Absolute, so bags-folder prediction finds it from any folder.
        let slide = std::fs::canonicalize(&slide).unwrap_or(slide);
        let mut source = SlidePatchSource::new(extractor.image_size, Vec::new())?;
        source
            .add_plan(&slide, &patches_csv)
            .map_err(|source| WorkflowError::UsePlan {
                dir: dir.clone(),
                source: Box::new(source),
            })?;
        let batches = SampleBatches::new(source, 1);
        let t0 = std::time::Instant::now();
        let features = embed_patches(
            model,
            &batches,
            Some(&norm),
            batch,
            &device,
            &mut |done, total| on_event(EmbedEvent::Progress { stem, done, total }),
        )
        .map_err(|source| WorkflowError::Embed {
            slide: slide.clone(),
            source: Box::new(source),
        })?;
        if embedding.width != 0 && embedding.width != features.ncols() {
            return Err(WorkflowError::invalid(format!(
                "{stem}: {} features per patch, other slides have {}",
                features.ncols(),
                embedding.width
            )));
        }
        embedding.width = features.ncols();
        write_slide(
            &target,
            &slide,
            extractor,
            &plan_sha256,
            &patches_csv,
            &features,
        )?;
        embedding.slides.insert(
            stem.clone(),
            EmbeddedSlide {
                slide: slide.display().to_string(),
                patches: features.nrows(),
                plan_sha256,
            },
        );
        embedding.write_index(out, &index_name)?;
        on_event(EmbedEvent::Embedded {
            stem,
            patches: features.nrows(),
            width: features.ncols(),
            seconds: t0.elapsed().as_secs_f64(),
            folder: &target,
        });
    }
    // A shard's index says "done" even when it had nothing to embed, so
    // that the merge can tell every shard has finished.
    if matches!(index, IndexFile::Shard { .. }) {
        embedding.write_index(out, &index_name)?;
    }
    Ok(embedding)
}

/// One slide's folder: its features and the plan's patch list they follow.
fn write_slide(
    target: &Path,
    slide: &Path,
    extractor: &Extractor,
    plan_sha256: &str,
    patches_csv: &Path,
    features: &ndarray::Array2<f32>,
) -> WorkflowResult<()> {
    std::fs::create_dir_all(target).map_err(|source| NnError::CreateDir {
        path: target.to_path_buf(),
        source,
    })?;
    let metadata = BTreeMap::from([
        ("slide".to_string(), slide.display().to_string()),
        ("extractor".to_string(), extractor.architecture.clone()),
        ("extractor_sha256".to_string(), extractor.sha256.clone()),
        ("plan_sha256".to_string(), plan_sha256.to_string()),
    ]);
    let csv = exahealth_base::budget::read_file(patches_csv, exahealth_base::budget::limit())
        .map_err(|source| WorkflowError::Io {
            what: "read",
            path: patches_csv.to_path_buf(),
            source,
        })?;
    crate::atomic::write_atomic(&target.join("patches.csv"), &csv)?;
    write_features(&target.join(FEATURES_FILE), features, &metadata)?;
    Ok(())
}
