//! `exahealth bench ...`: throughput measurements that compare against a
//! reference in the same run.

mod image;
mod loader;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Loader throughput: batches of slide patches per second through the
    /// parallel loader, against a plain sequential read_region loop.
    ///
    /// Example: exahealth bench loader slide.svs --size 256 --batch 32 --workers 2 --augment
    Loader(loader::LoaderBenchArgs),
    /// 8-bit image processing (resize, Gaussian blur, Otsu) on a large RGB
    /// image, best of N runs. Compare with OpenCV on the same image:
    /// `python3 bench/compare_opencv.py`.
    ///
    /// Example: exahealth bench image --size 4096 --repeat 5 --float
    Image(image::ImageBenchArgs),
    /// Training throughput: images per second of forward, backward and an
    /// Adam step on random input, after one untimed warm-up step. Compare
    /// with `python3 bench/torch_bench.py train` and the same flags.
    ///
    /// Example: exahealth bench train --model resnet18 --batch 16 --size 224 --steps 3 --threads 2 --json
    Train(NnBenchArgs),
    /// Inference throughput: images per second of forward passes (batch
    /// norm in evaluation mode) on random input, after one warm-up pass.
    ///
    /// Example: exahealth bench infer --model small-cnn --batch 32 --size 64 --steps 5 --json
    Infer(NnBenchArgs),
}

/// Flags of `bench train` and `bench infer`.
#[derive(clap::Args)]
pub struct NnBenchArgs {
    /// small-cnn (four 3x3 convolutions, 2 classes) or resnet18 (torchvision layout, 1000 classes).
    #[arg(long, default_value = "small-cnn")]
    pub model: String,
    /// Images per step.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Side of the square RGB input images, pixels (>= 32).
    #[arg(long, default_value_t = 64)]
    pub size: usize,
    /// Timed steps.
    #[arg(long, default_value_t = 5)]
    pub steps: usize,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Run Burn's own convolution, pooling and batch-norm layers instead of
    /// exahealth-kernels' (the default), to measure what the kernels gain.
    #[arg(long)]
    pub burn_layers: bool,
}

fn run_nn(a: NnBenchArgs, train: bool) -> Result<()> {
    // As `train` and `predict` run: the figures are the commands' own.
    crate::allocator::keep_freed_memory();
    exahealth_nn::set_own_kernels(!a.burn_layers);
    let config = exahealth_nn::bench::BenchConfig {
        model: a.model.parse()?,
        batch: a.batch,
        size: a.size,
        steps: a.steps,
        threads: a.threads,
    };
    let r = if train {
        // Under mpirun (a build with `--features mpi`): every rank trains
        // on its own batch, gradients averaged per step; the images/s of
        // all ranks, printed once.
        let world = crate::shard::world()?;
        if world.size() > 1 {
            let ran = crate::shard::on_rank(world.as_ref(), a.threads, |w| {
                Ok(exahealth_nn::bench::bench_train_in(config, w)?)
            });
            match ran {
                Some(r) => r,
                None => return Ok(()),
            }
        } else {
            exahealth_nn::bench::bench_train(config)?
        }
    } else {
        exahealth_nn::bench::bench_infer(config)?
    };
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
    } else {
        println!(
            "{} {:?} batch {} size {} threads {} ranks {}: {:.2} images/s ({} steps in {:.2} s, {}, {} layers)",
            r.mode,
            a.model,
            a.batch,
            a.size,
            a.threads,
            r.ranks,
            r.images_per_s,
            a.steps,
            r.seconds,
            r.backend,
            r.layers
        );
    }
    Ok(())
}

pub fn run(cmd: BenchCommand) -> Result<()> {
    match cmd {
        BenchCommand::Loader(a) => loader::run(a),
        BenchCommand::Image(a) => image::run(a),
        BenchCommand::Train(a) => run_nn(a, true),
        BenchCommand::Infer(a) => run_nn(a, false),
    }
}
