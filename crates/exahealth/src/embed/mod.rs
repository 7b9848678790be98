//! `exahealth embed --model M --plans TILES --out FEATURES`: patch
//! embeddings per slide, the bags `task = "mil"` trains on.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::Args;
use exahealth_nn::embed::{
    embed_slides_indexed, load_extractor, plan_stems, EmbedEvent, IndexFile, PyTorchExtractor,
};
use exahealth_nn::embedding::{merge_shard_indexes, EMBEDDING_FILE};

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
/// On a cluster, N processes (a Slurm array, `srun -n N`, or --shard I/N)
/// each embed their part of the slides, split by plan size, into the same
/// --out; each keeps its own index (embedding.shard-I-of-N.json) and the
/// last to finish merges them into embedding.json, the file one process
/// writes. `--merge-shards N` merges by hand (after a lost task reran).
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
    #[arg(long, value_name = "I/N", help = crate::shard::HELP)]
    pub shard: Option<String>,
    /// Only merge the N shard indexes of --out into embedding.json.
    #[arg(long, value_name = "N", conflicts_with = "shard")]
    pub merge_shards: Option<usize>,
}

pub fn run(args: EmbedArgs) -> Result<()> {
    if let Some(count) = args.merge_shards {
        return match merge_shard_indexes(&args.out, count)? {
            Some(e) => {
                println!(
                    "{}: {} slides from {count} shards -> {}",
                    args.out.display(),
                    e.slides.len(),
                    args.out.join(EMBEDDING_FILE).display()
                );
                Ok(())
            }
            None => bail!(
                "{}: not every one of the {count} shards has finished (an embedding.shard-I-of-{count}.json is missing): rerun that shard",
                args.out.display()
            ),
        };
    }
    let shard = crate::shard::detect(args.shard.as_deref())?;
    let pytorch = PyTorchExtractor {
        arch: args.arch.clone(),
        size: args.size,
    };
    let (model, extractor) = load_extractor(&args.model, &pytorch)?;
    let stems = plan_stems(&args.plans, &args.slides)?;
    let stems = crate::shard::select(
        stems,
        shard,
        |stem| crate::shard::bytes_of(&args.plans.join(stem).join("patches.csv")),
        "slides",
    );
    let index = if shard.is_single() {
        IndexFile::Whole
    } else {
        IndexFile::Shard {
            index: shard.index,
            count: shard.count,
        }
    };
    exahealth_nn::threads::with_threads(args.threads, || -> Result<()> {
        let mut bar: Option<indicatif::ProgressBar> = None;
        let mut on_event = |event: EmbedEvent<'_>| match event {
            EmbedEvent::UpToDate { stem } => println!("{stem}: up to date"),
            EmbedEvent::Progress { stem, done, total } => {
                let pb = bar.get_or_insert_with(|| progress::bar(0, stem));
                pb.set_length(total as u64);
                pb.set_position(done as u64);
            }
            EmbedEvent::Embedded {
                stem,
                patches,
                width,
                seconds,
                folder,
            } => {
                if let Some(pb) = bar.take() {
                    pb.finish_and_clear();
                }
                println!(
                    "{stem}: {patches} patches x {width} features ({seconds:.1} s) -> {}",
                    folder.display()
                );
            }
            _ => {}
        };
        let embedded = embed_slides_indexed(
            &model,
            &extractor,
            &args.plans,
            &args.out,
            &stems,
            args.batch,
            index,
            &mut on_event,
        );
        if let Some(pb) = bar.take() {
            pb.finish_and_clear();
        }
        embedded?;
        Ok(())
    })??;
    if let IndexFile::Shard { count, .. } = index {
        // Whichever shard finds all indexes there merges them; two that
        // finish together write the same file, atomically.
        if let Some(e) = merge_shard_indexes(&args.out, count)? {
            println!(
                "all {count} shards done: {} slides -> {}",
                e.slides.len(),
                args.out.join(EMBEDDING_FILE).display()
            );
        }
    }
    Ok(())
}
