//! Throughput benchmarks: a training step (forward, backward, Adam update)
//! or a forward pass on random input, timed after one warm-up step. The
//! same workloads in PyTorch are in `bench/torch_bench.py`.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor};
use serde::Serialize;

use crate::error::{NnError, Result};
use crate::loss::cross_entropy;
use crate::models::{ResNet, ResNetConfig, SmallCnn, SmallCnnConfig};
use crate::threads::with_threads;
use exahealth_dist::{SingleProcess, World};

/// The benchmarked networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BenchModel {
    /// [`SmallCnn`] with 2 classes.
    SmallCnn,
    /// ResNet-18 with 1000 classes.
    Resnet18,
}

impl std::str::FromStr for BenchModel {
    type Err = NnError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "small-cnn" => Ok(Self::SmallCnn),
            "resnet18" => Ok(Self::Resnet18),
            other => Err(NnError::Config(format!(
                "unknown benchmark model {other:?}: use small-cnn or resnet18"
            ))),
        }
    }
}

/// What to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BenchConfig {
    /// Network.
    pub model: BenchModel,
    /// Images per step.
    pub batch: usize,
    /// Image side in pixels (square RGB images).
    pub size: usize,
    /// Timed steps (after one untimed warm-up step).
    pub steps: usize,
    /// Worker threads (0: all cores).
    pub threads: usize,
}

/// A measurement.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchResult {
    /// `train` or `infer`.
    pub mode: &'static str,
    /// The measured configuration.
    #[serde(flatten)]
    pub config: BenchConfig,
    /// Whose convolution, pooling and batch-norm layers ran:
    /// `exahealth-kernels` or `burn` (see [`crate::set_own_kernels`]).
    pub layers: &'static str,
    /// Backend name.
    pub backend: &'static str,
    /// Wall-clock seconds of the timed steps.
    pub seconds: f64,
    /// Images per second over the timed steps, of all ranks together.
    pub images_per_s: f64,
    /// Data-parallel ranks that trained together (1: this process alone).
    pub ranks: usize,
}

#[allow(clippy::large_enum_variant)] // one value per run
enum Net {
    Small(SmallCnn),
    Res(ResNet),
}

impl Net {
    fn new(model: BenchModel, device: &Device) -> Result<Self> {
        Ok(match model {
            BenchModel::SmallCnn => Net::Small(SmallCnnConfig::new().init(device)),
            BenchModel::Resnet18 => Net::Res(ResNetConfig::new().init(device)?),
        })
    }

    fn classes(&self) -> usize {
        match self {
            Net::Small(_) => 2,
            Net::Res(_) => 1000,
        }
    }
}

fn check(config: &BenchConfig) -> Result<()> {
    if config.batch == 0 || config.steps == 0 || config.size < 32 {
        return Err(NnError::Config(
            "batch and steps must be >= 1 and size >= 32".into(),
        ));
    }
    Ok(())
}

fn images(config: &BenchConfig, device: &Device) -> Tensor<4> {
    Tensor::random(
        [config.batch, 3, config.size, config.size],
        Distribution::Normal(0.0, 1.0),
        device,
    )
}

fn finish(mode: &'static str, config: BenchConfig, seconds: f64) -> BenchResult {
    BenchResult {
        mode,
        config,
        layers: if crate::own_kernels() {
            "exahealth-kernels"
        } else {
            "burn"
        },
        backend: "flex",
        seconds,
        images_per_s: (config.batch * config.steps) as f64 / seconds.max(f64::MIN_POSITIVE),
        ranks: 1,
    }
}

/// Images per second of training steps on the CPU backend.
pub fn bench_train(config: BenchConfig) -> Result<BenchResult> {
    check(&config)?;
    with_threads(config.threads, || train_steps(config, &SingleProcess))?
}

/// [`bench_train`] as one rank of a data-parallel job: every rank steps on
/// its own batch of `config.batch` images and the gradients are averaged
/// with one all-reduce per step, as `train_in` does; `images_per_s` counts
/// the images of all ranks. Runs on the calling thread (MPI's), on
/// rayon's global pool: size it before (`config.threads` is not applied).
pub fn bench_train_in(config: BenchConfig, world: &dyn World) -> Result<BenchResult> {
    check(&config)?;
    if world.size() <= 1 {
        return bench_train(config);
    }
    train_steps(config, world)
}

fn train_steps(config: BenchConfig, world: &dyn World) -> Result<BenchResult> {
    let ranks = world.size().max(1);
    let barrier = |w: &dyn World| {
        w.barrier()
            .map_err(|e| NnError::Config(format!("data-parallel benchmark: {e}")))
    };
    {
        let device = Device::flex().autodiff();
        device.seed(0);
        let mut net = Net::new(config.model, &device)?;
        let mut optim = AdamConfig::new().init();
        let x = images(&config, &device);
        let y = Tensor::<1, Int>::random(
            [config.batch],
            Distribution::Uniform(0.0, net.classes() as f64),
            &device,
        );
        let mut step = |net: Net| -> Result<Net> {
            macro_rules! step {
                ($m:expr, $wrap:path) => {{
                    let logits = $m.forward(x.clone());
                    let loss = cross_entropy(logits, y.clone(), None, 0.0, &device);
                    // Reading the loss, as a training loop does, waits for the forward pass.
                    let _ = loss.clone().into_scalar::<f32>();
                    let mut grads = GradientsParams::from_grads(loss.backward(), &$m);
                    if ranks > 1 {
                        grads = crate::train::allreduce::average(
                            world,
                            &$m,
                            grads,
                            config.batch,
                            config.batch * ranks,
                        )?;
                    }
                    $wrap(optim.step(1e-3, $m, grads))
                }};
            }
            Ok(match net {
                Net::Small(m) => step!(m, Net::Small),
                Net::Res(m) => step!(m, Net::Res),
            })
        };
        net = step(net)?;
        barrier(world)?;
        let started = Instant::now();
        for _ in 0..config.steps {
            net = step(net)?;
        }
        device
            .sync()
            .map_err(|e| NnError::Config(format!("device error: {e:?}")))?;
        barrier(world)?;
        let mut result = finish("train", config, started.elapsed().as_secs_f64());
        result.images_per_s *= ranks as f64;
        result.ranks = ranks;
        Ok(result)
    }
}

/// Images per second of forward passes (no autodiff) on the CPU backend.
pub fn bench_infer(config: BenchConfig) -> Result<BenchResult> {
    check(&config)?;
    with_threads(config.threads, || {
        let device = Device::flex();
        device.seed(0);
        // Validation mode: batch norm uses its running statistics.
        let net = match Net::new(config.model, &device)? {
            Net::Small(m) => Net::Small(m.valid()),
            Net::Res(m) => Net::Res(m.valid()),
        };
        let x = images(&config, &device);
        let run = || -> Result<f32> {
            let logits = match &net {
                Net::Small(m) => m.forward(x.clone()),
                Net::Res(m) => m.forward(x.clone()),
            };
            Ok(logits.sum().into_scalar::<f32>())
        };
        run()?;
        let started = Instant::now();
        for _ in 0..config.steps {
            run()?;
        }
        Ok(finish("infer", config, started.elapsed().as_secs_f64()))
    })?
}
