//! DenseNet-121 in torchvision's layout (Huang et al. 2017): a 7x7 stem,
//! four dense blocks (6, 12, 24, 16 layers) whose layers each see the
//! concatenation of every earlier feature map and add `growth_rate` new
//! channels, transitions that halve channels and resolution, a final batch
//! norm, global average pooling and a linear head.
//!
//! Field names follow torchvision's (`conv0`, `norm0`, `denseblock1`,
//! `transition1`, `norm5`, `classifier`; a layer's `norm1`, `conv1`,
//! `norm2`, `conv2`), so PyTorch weights map by name once torchvision's
//! `features.` prefix and 1-based `denselayerN` names are rewritten
//! ([`densenet_pytorch_remapping`]).

use crate::kernels::{batch_norm, conv2d, max_pool};
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{
    AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, AvgPool2d, AvgPool2dConfig, MaxPool2d,
    MaxPool2dConfig,
};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::resnet::conv;
use crate::error::{NnError, Result};

/// Builds a [`DenseNet`]; the defaults are DenseNet-121.
#[derive(Config, Debug)]
pub struct DenseNetConfig {
    /// Input channels (3 for RGB).
    #[config(default = 3)]
    pub in_channels: usize,
    /// Output classes (1000 for ImageNet).
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Channels each dense layer adds.
    #[config(default = 32)]
    pub growth_rate: usize,
    /// Dense layers per block (DenseNet-121: 6, 12, 24, 16).
    #[config(default = "vec![6, 12, 24, 16]")]
    pub block_layers: Vec<usize>,
    /// Channels of the stem.
    #[config(default = 64)]
    pub init_features: usize,
    /// Bottleneck width of a dense layer, in multiples of `growth_rate`.
    #[config(default = 4)]
    pub bn_size: usize,
}

/// A densely connected network; see the module docs.
#[derive(Module, Debug)]
pub struct DenseNet {
    conv0: Conv2d,
    norm0: BatchNorm,
    pool0: MaxPool2d,
    denseblock1: Vec<DenseLayer>,
    transition1: Option<Transition>,
    denseblock2: Vec<DenseLayer>,
    transition2: Option<Transition>,
    denseblock3: Vec<DenseLayer>,
    transition3: Option<Transition>,
    denseblock4: Vec<DenseLayer>,
    norm5: BatchNorm,
    avgpool: AdaptiveAvgPool2d,
    classifier: Linear,
}

/// BN-ReLU-1x1 conv (to `bn_size * growth` channels), BN-ReLU-3x3 conv (to
/// `growth` channels).
#[derive(Module, Debug)]
pub struct DenseLayer {
    norm1: BatchNorm,
    conv1: Conv2d,
    norm2: BatchNorm,
    conv2: Conv2d,
}

/// BN-ReLU-1x1 conv halving the channels, then 2x2 average pooling.
#[derive(Module, Debug)]
pub struct Transition {
    norm: BatchNorm,
    conv: Conv2d,
    pool: AvgPool2d,
}

fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

impl DenseNetConfig {
    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Result<DenseNet> {
        if self.block_layers.len() != 4 || self.block_layers.contains(&0) {
            return Err(NnError::Config(format!(
                "DenseNet needs four dense blocks of at least one layer, got {:?}",
                self.block_layers
            )));
        }
        if self.growth_rate == 0 || self.init_features == 0 || self.bn_size == 0 {
            return Err(NnError::Config(
                "DenseNet growth rate, stem width and bottleneck size must be positive".into(),
            ));
        }
        let mut channels = self.init_features;
        let mut blocks = Vec::new();
        let mut transitions = Vec::new();
        for (b, &layers) in self.block_layers.iter().enumerate() {
            let block: Vec<DenseLayer> = (0..layers)
                .map(|i| {
                    let cin = channels + i * self.growth_rate;
                    let width = self.bn_size * self.growth_rate;
                    DenseLayer {
                        norm1: bn(cin, device),
                        conv1: conv(cin, width, 1, 1, device),
                        norm2: bn(width, device),
                        conv2: conv(width, self.growth_rate, 3, 1, device),
                    }
                })
                .collect();
            channels += layers * self.growth_rate;
            blocks.push(block);
            if b < 3 {
                transitions.push(Transition {
                    norm: bn(channels, device),
                    conv: conv(channels, channels / 2, 1, 1, device),
                    pool: AvgPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
                });
                channels /= 2;
            }
        }
        let mut blocks = blocks.into_iter();
        let mut transitions = transitions.into_iter();
        let mut next_block = || blocks.next().unwrap_or_default();
        Ok(DenseNet {
            conv0: conv(self.in_channels, self.init_features, 7, 2, device),
            norm0: bn(self.init_features, device),
            pool0: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            denseblock1: next_block(),
            transition1: transitions.next(),
            denseblock2: next_block(),
            transition2: transitions.next(),
            denseblock3: next_block(),
            transition3: transitions.next(),
            denseblock4: next_block(),
            norm5: bn(channels, device),
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            classifier: LinearConfig::new(channels, self.num_classes).init(device),
        })
    }
}

impl DenseLayer {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let y = conv2d(&self.conv1, relu(batch_norm(&self.norm1, x)));
        conv2d(&self.conv2, relu(batch_norm(&self.norm2, y)))
    }
}

impl Transition {
    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.pool
            .forward(conv2d(&self.conv, relu(batch_norm(&self.norm, x))))
    }
}

/// Runs a dense block: each layer's output joins the running concatenation.
fn dense_block(layers: &[DenseLayer], x: Tensor<4>) -> Tensor<4> {
    layers.iter().fold(x, |features, layer| {
        let new = layer.forward(features.clone());
        Tensor::cat(vec![features, new], 1)
    })
}

impl DenseNet {
    /// `[n, c, h, w]` images to `[n, features]` pooled features (before
    /// `classifier`; 1024 for DenseNet-121).
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = max_pool(
            &self.pool0,
            relu(batch_norm(&self.norm0, conv2d(&self.conv0, x))),
        );
        let stages = [
            (&self.denseblock1, &self.transition1),
            (&self.denseblock2, &self.transition2),
            (&self.denseblock3, &self.transition3),
            (&self.denseblock4, &None),
        ];
        let x = stages.into_iter().fold(x, |x, (block, transition)| {
            let x = dense_block(block, x);
            match transition {
                Some(t) => t.forward(x),
                None => x,
            }
        });
        let x = relu(batch_norm(&self.norm5, x));
        self.avgpool.forward(x).flatten(1, 3)
    }

    /// `[n, c, h, w]` images to `[n, classes]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.classifier.forward(self.features(x))
    }
}

/// torchvision DenseNet keys -> these field names: old-style layer names
/// (`norm.1`) to current ones (`norm1`), drop `features.`, and number
/// dense layers from 0 (`denseblock1.denselayer1.` -> `denseblock1.0.`),
/// for `config`'s block sizes.
pub fn densenet_pytorch_remapping(config: &DenseNetConfig) -> Vec<(String, String)> {
    // The checkpoints torchvision publishes predate its current names
    // (`denselayer1.norm.1` for `denselayer1.norm1`); torchvision renames
    // them when it loads one, and so does this first rule.
    let mut pairs = vec![(
        r"^(.*denselayer\d+)\.(norm|conv)\.([12])\.(.*)$".to_string(),
        "$1.${2}${3}.$4".to_string(),
    )];
    for (b, &layers) in config.block_layers.iter().enumerate() {
        for l in 0..layers {
            pairs.push((
                format!(
                    r"^features\.denseblock{}\.denselayer{}\.(.*)$",
                    b + 1,
                    l + 1
                ),
                format!("denseblock{}.{l}.$1", b + 1),
            ));
        }
    }
    pairs.push((r"^features\.(.*)$".into(), "$1".into()));
    pairs
}
