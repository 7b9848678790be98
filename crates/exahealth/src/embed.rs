//! `exahealth embed --model M --plans TILES --out FEATURES`: patch
//! embeddings per slide, the bags `task = "mil"` trains on.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use exahealth_data::loader::SlidePatchSource;
use exahealth_data::plan::Plan;
use exahealth_nn::cpu_device;
use exahealth_nn::embedding::{check_slide_name, EmbeddedSlide, Embedding, Extractor};
use exahealth_nn::features::{embed_patches, write_features, Normalisation, FEATURES_FILE};
use exahealth_nn::model_folder::{ModelSpec, Task, WEIGHTS_FILE};
use exahealth_nn::models::{Architecture, Network};
use exahealth_nn::sources::SampleBatches;

use crate::progress;

/// Patch embeddings of slides, for multiple-instance learning (MIL).
///
/// Every patch of each slide's plan goes through a feature extractor; the
/// activations its classifier layer would read become one row of
/// OUT/<slide stem>/features.safetensors (f32 [patches, width], rows in the
/// order of the plan's patches.csv, which is copied beside it).
/// OUT/embedding.json records the extractor (file, SHA-256, input size,
/// normalisation), the embedding width and each slide's patch count.
/// Slides whose plan and extractor are unchanged are skipped, so an
/// interrupted run continues where it stopped.
///
/// The extractor is one of:
///
///   a model folder from `exahealth train` with a classifier (small-cnn,
///   resnet18/34/50, vgg16, densenet121): patches at its input size,
///   pixels in 0..1;
///
///   torchvision ResNet or DenseNet-121 weights (a .pth/.pt state dict,
///   e.g. the ImageNet-pretrained resnet18, or one fine-tuned to other
///   classes: its head is not read): --arch names the network,
///   patches are resized to --size and normalised with ImageNet's mean and
///   deviation; rows are the pooled features (512 for resnet18/34, 2048
///   for resnet50, 1024 for densenet121).
///
/// Slides: every sub-folder of --plans with a patches.csv, or the slide
/// stems given.
///
/// Examples:
///   exahealth slide tile slides/*.svs --mpp 0.5 --size 224 --out tiles
///   exahealth embed --model resnet18.pth --plans tiles --out features
///   exahealth train --config mil.toml     # task = "mil": see train --help
#[derive(Args)]
#[command(verbatim_doc_comment)]
pub struct EmbedArgs {
    /// Model folder from `exahealth train`, or torchvision weights (.pth/.pt).
    #[arg(long)]
    pub model: PathBuf,
    /// The folder of patch plans (`exahealth slide tile --out`).
    #[arg(long)]
    pub plans: PathBuf,
    /// Where the embeddings go (one sub-folder per slide).
    #[arg(long, default_value = "features")]
    pub out: PathBuf,
    /// Slide stems (sub-folders of --plans) to embed; default: all.
    pub slides: Vec<String>,
    /// PyTorch weights only: resnet18, resnet34, resnet50 or densenet121.
    #[arg(long, default_value = "resnet18")]
    pub arch: String,
    /// PyTorch weights only: patch side in pixels fed to the network.
    #[arg(long, default_value_t = 224)]
    pub size: u32,
    /// Patches per forward pass.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Worker threads (default: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
}

fn sha256(path: &Path) -> Result<String> {
    Ok(exahealth_nn::card::hash_file(path)
        .with_context(|| format!("cannot hash {}", path.display()))?
        .sha256)
}

/// The network and its description from `--model` (and `--arch`, `--size`).
fn load_extractor(args: &EmbedArgs) -> Result<(Network, Extractor)> {
    let source = args.model.display().to_string();
    if args.model.is_dir() {
        let spec = ModelSpec::read(&args.model)?;
        if spec.task != Task::Classification || spec.channels != 3 {
            bail!(
                "{}: embeddings need an RGB image classifier; this model is a {} model with {} channel(s)",
                args.model.display(),
                spec.task.name(),
                spec.channels
            );
        }
        let model = spec.load(&args.model)?;
        let extractor = Extractor {
            source,
            sha256: sha256(&args.model.join(WEIGHTS_FILE))?,
            architecture: spec.architecture.name(),
            image_size: spec.image_size,
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        return Ok((model, extractor));
    }
    if !matches!(
        args.arch.as_str(),
        "resnet18" | "resnet34" | "resnet50" | "densenet121"
    ) {
        bail!(
            "--arch {}: PyTorch weights are read for torchvision's resnet18, resnet34, resnet50 and densenet121",
            args.arch
        );
    }
    if args.size < 32 {
        bail!(
            "--size {} is too small for these networks (at least 32)",
            args.size
        );
    }
    let device = cpu_device();
    let architecture = Architecture::from_name(&args.arch, 3, 1000)?;
    let mut model = architecture.init(&device)?;
    let context = || {
        format!(
            "cannot use {} as {} weights",
            args.model.display(),
            args.arch
        )
    };
    let report = match (&mut model, &architecture) {
        (Network::ResNet(m), _) => exahealth_nn::pytorch::load_pytorch_backbone(
            m,
            &args.model,
            exahealth_nn::pytorch::TORCHVISION_RESNET,
        )
        .with_context(context)?,
        (Network::DenseNet(m), Architecture::DenseNet(config)) => {
            let remap = exahealth_nn::models::densenet_pytorch_remapping(config);
            let pairs: Vec<(&str, &str)> = remap
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            exahealth_nn::pytorch::load_pytorch_backbone(m, &args.model, &pairs)
                .with_context(context)?
        }
        _ => bail!("--arch {}: no PyTorch import for it", args.arch),
    };
    tracing::debug!(applied = report.applied, unused = ?report.unused, "PyTorch weights loaded");
    if report.applied == 0 {
        bail!(
            "{}: no tensor of the file fits {}",
            args.model.display(),
            args.arch
        );
    }
    let norm = Normalisation::imagenet();
    let extractor = Extractor {
        source,
        sha256: sha256(&args.model)?,
        architecture: args.arch.clone(),
        image_size: args.size,
        mean: norm.mean,
        std: norm.std,
    };
    Ok((model, extractor))
}

/// The slide stems to embed: those named, or every plan in the folder.
fn slide_stems(plans: &Path, named: &[String]) -> Result<Vec<String>> {
    if !named.is_empty() {
        for name in named {
            check_slide_name(name)?;
        }
        return Ok(named.to_vec());
    }
    let entries =
        std::fs::read_dir(plans).with_context(|| format!("cannot list {}", plans.display()))?;
    let mut stems = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", plans.display()))?;
        if entry.path().join("patches.csv").is_file() {
            stems.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    stems.sort();
    if stems.is_empty() {
        bail!(
            "{} holds no patch plan: make them with `exahealth slide tile SLIDES --out {}`",
            plans.display(),
            plans.display()
        );
    }
    Ok(stems)
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let (model, extractor) = load_extractor(&args)?;
    let stems = slide_stems(&args.plans, &args.slides)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let mut embedding = match Embedding::read(&args.out)? {
        Some(e) if !e.extractor.same_as(&extractor) => bail!(
            "{} holds embeddings from another extractor ({} {}); bags must share one: choose another --out",
            args.out.display(),
            e.extractor.architecture,
            e.extractor.source
        ),
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
    let base = args.plans.parent().unwrap_or(Path::new("."));
    exahealth_nn::bench::with_threads(args.threads, || -> Result<()> {
        let device = cpu_device();
        for stem in &stems {
            let dir = args.plans.join(stem);
            let plan = Plan::load_meta(&dir).with_context(|| {
                format!(
                    "no usable patch plan for slide {stem:?} in {}: run `exahealth slide tile` first",
                    dir.display()
                )
            })?;
            let patches_csv = dir.join("patches.csv");
            let plan_sha256 = sha256(&patches_csv)?;
            let target = args.out.join(stem);
            let done = embedding.slides.get(stem).is_some_and(|s| {
                s.plan_sha256 == plan_sha256 && target.join(FEATURES_FILE).is_file()
            });
            if done {
                println!("{stem}: up to date");
                continue;
            }
            let slide = crate::train_data::slide_path(&plan.slide.path, base)?;
            // Absolute, so `predict --bags` finds it from any folder.
            let slide = std::fs::canonicalize(&slide).unwrap_or(slide);
            let mut source = SlidePatchSource::new(extractor.image_size, Vec::new())?;
            source
                .add_plan(&slide, &patches_csv)
                .with_context(|| format!("cannot use the plan {}", patches_csv.display()))?;
            let batches = SampleBatches::new(source, 1);
            let pb = progress::bar(0, stem);
            let t0 = std::time::Instant::now();
            let features = embed_patches(
                &model,
                &batches,
                Some(&norm),
                args.batch,
                &device,
                &mut |done, total| {
                    pb.set_length(total as u64);
                    pb.set_position(done as u64);
                },
            )
            .with_context(|| format!("embedding {}", slide.display()))?;
            pb.finish_and_clear();
            if embedding.width != 0 && embedding.width != features.ncols() {
                bail!(
                    "{stem}: {} features per patch, other slides have {}",
                    features.ncols(),
                    embedding.width
                );
            }
            embedding.width = features.ncols();
            std::fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
            let metadata = BTreeMap::from([
                ("slide".to_string(), slide.display().to_string()),
                ("extractor".to_string(), extractor.architecture.clone()),
                ("extractor_sha256".to_string(), extractor.sha256.clone()),
                ("plan_sha256".to_string(), plan_sha256.clone()),
            ]);
            let csv = std::fs::read(&patches_csv)
                .with_context(|| format!("cannot read {}", patches_csv.display()))?;
            exahealth_nn::atomic::write_atomic(&target.join("patches.csv"), &csv)?;
            write_features(&target.join(FEATURES_FILE), &features, &metadata)?;
            embedding.slides.insert(
                stem.clone(),
                EmbeddedSlide {
                    slide: slide.display().to_string(),
                    patches: features.nrows(),
                    plan_sha256,
                },
            );
            // After every slide, so an interrupted run keeps what it did.
            embedding.write(&args.out)?;
            println!(
                "{stem}: {} patches x {} features ({:.1} s) -> {}",
                features.nrows(),
                features.ncols(),
                t0.elapsed().as_secs_f64(),
                target.display()
            );
        }
        Ok(())
    })??;
    Ok(())
}
