//! ResNet-18/34/50 in torchvision's layout (He et al. 2016): a 7x7 stem,
//! four stages of BasicBlocks (18, 34) or Bottlenecks (50), global average
//! pooling and a linear head. Field names follow torchvision's
//! (`conv1`, `bn1`, `layer1.0.conv1`, `fc`) so PyTorch weights map by name.

use crate::kernels::{batch_norm, conv2d, max_pool};
use burn::config::Config;
use burn::module::{Initializer, Module};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::error::{NnError, Result};

/// Builds a [`ResNet`].
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// 18, 34 or 50.
    #[config(default = 18)]
    pub depth: usize,
    /// Input channels (3 for RGB).
    #[config(default = 3)]
    pub in_channels: usize,
    /// Output classes (1000 for ImageNet).
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Channels of the first stage (64 in the paper); smaller values give
    /// narrow variants for quick experiments.
    #[config(default = 64)]
    pub base_width: usize,
}

/// A residual network; see the module docs.
#[derive(Module, Debug)]
pub struct ResNet {
    conv1: Conv2d,
    bn1: BatchNorm,
    maxpool: MaxPool2d,
    layer1: Vec<Block>,
    layer2: Vec<Block>,
    layer3: Vec<Block>,
    layer4: Vec<Block>,
    avgpool: AdaptiveAvgPool2d,
    fc: Linear,
}

/// A BasicBlock (two 3x3 convolutions) or, when `conv3` is present, a
/// Bottleneck (1x1, 3x3, 1x1).
#[derive(Module, Debug)]
pub struct Block {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    conv3: Option<Conv2d>,
    bn3: Option<BatchNorm>,
    downsample: Option<Downsample>,
}

/// The 1x1 projection of the shortcut when shape changes.
#[derive(Module, Debug)]
pub struct Downsample {
    conv: Conv2d,
    bn: BatchNorm,
}

pub(crate) fn conv(
    cin: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    device: &Device,
) -> Conv2d {
    let p = kernel / 2;
    Conv2dConfig::new([cin, cout], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
        .with_bias(false)
        // torchvision's init: Kaiming normal, fan-out, ReLU gain.
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        })
        .init(device)
}

fn bn(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

impl ResNetConfig {
    /// Blocks per stage and whether they are Bottlenecks.
    fn layout(&self) -> Result<([usize; 4], bool)> {
        match self.depth {
            18 => Ok(([2, 2, 2, 2], false)),
            34 => Ok(([3, 4, 6, 3], false)),
            50 => Ok(([3, 4, 6, 3], true)),
            d => Err(NnError::Config(format!(
                "ResNet depth {d} is not supported: use 18, 34 or 50"
            ))),
        }
    }

    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Result<ResNet> {
        let (blocks, bottleneck) = self.layout()?;
        if self.in_channels == 0 || self.num_classes == 0 || self.base_width == 0 {
            return Err(NnError::Config(
                "ResNet needs at least one input channel, class and base channel".into(),
            ));
        }
        let expansion = if bottleneck { 4 } else { 1 };
        let w = self.base_width;
        let mut inplanes = w;
        let mut stage = |planes: usize, n: usize, stride: usize| -> Vec<Block> {
            (0..n)
                .map(|i| {
                    let s = if i == 0 { stride } else { 1 };
                    let block = Block::new(inplanes, planes, s, bottleneck, device);
                    inplanes = planes * expansion;
                    block
                })
                .collect()
        };
        let layer1 = stage(w, blocks[0], 1);
        let layer2 = stage(2 * w, blocks[1], 2);
        let layer3 = stage(4 * w, blocks[2], 2);
        let layer4 = stage(8 * w, blocks[3], 2);
        Ok(ResNet {
            conv1: conv(self.in_channels, w, 7, 2, device),
            bn1: bn(w, device),
            maxpool: MaxPool2dConfig::new([3, 3])
                .with_strides([2, 2])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(),
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(8 * w * expansion, self.num_classes).init(device),
        })
    }
}

impl Block {
    fn new(
        inplanes: usize,
        planes: usize,
        stride: usize,
        bottleneck: bool,
        device: &Device,
    ) -> Self {
        let expansion = if bottleneck { 4 } else { 1 };
        let out = planes * expansion;
        let downsample = (stride != 1 || inplanes != out).then(|| Downsample {
            conv: conv(inplanes, out, 1, stride, device),
            bn: bn(out, device),
        });
        if bottleneck {
            Block {
                conv1: conv(inplanes, planes, 1, 1, device),
                bn1: bn(planes, device),
                conv2: conv(planes, planes, 3, stride, device),
                bn2: bn(planes, device),
                conv3: Some(conv(planes, out, 1, 1, device)),
                bn3: Some(bn(out, device)),
                downsample,
            }
        } else {
            Block {
                conv1: conv(inplanes, planes, 3, stride, device),
                bn1: bn(planes, device),
                conv2: conv(planes, planes, 3, 1, device),
                bn2: bn(planes, device),
                conv3: None,
                bn3: None,
                downsample,
            }
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => batch_norm(&d.bn, conv2d(&d.conv, x.clone())),
            None => x.clone(),
        };
        let y = relu(batch_norm(&self.bn1, conv2d(&self.conv1, x)));
        let y = batch_norm(&self.bn2, conv2d(&self.conv2, y));
        let y = match (&self.conv3, &self.bn3) {
            (Some(c3), Some(b3)) => batch_norm(b3, conv2d(c3, relu(y))),
            _ => y,
        };
        relu(y + identity)
    }
}

impl ResNet {
    /// `[n, c, h, w]` images to `[n, features]` pooled features (before `fc`).
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = relu(batch_norm(&self.bn1, conv2d(&self.conv1, x)));
        let mut x = max_pool(&self.maxpool, x);
        for block in self
            .layer1
            .iter()
            .chain(&self.layer2)
            .chain(&self.layer3)
            .chain(&self.layer4)
        {
            x = block.forward(x);
        }
        self.avgpool.forward(x).flatten(1, 3)
    }

    /// `[n, c, h, w]` images to `[n, classes]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.fc.forward(self.features(x))
    }
}
