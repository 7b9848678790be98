//! U-Net (Ronneberger et al. 2015) with batch normalisation: `depth`
//! max-pooled encoder stages of two 3x3 convolutions, a bottleneck,
//! transposed-convolution upsampling with skip concatenation, and a 1x1 head
//! giving per-pixel class logits. Padded convolutions keep the output the
//! size of the input, which must be divisible by `2^depth`.

use crate::kernels::{batch_norm, conv2d, conv_transpose2d, max_pool};
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig, ConvTranspose2d, ConvTranspose2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::error::{NnError, Result};

/// Builds a [`UNet`].
#[derive(Config, Debug)]
pub struct UNetConfig {
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Output classes (background included).
    #[config(default = 2)]
    pub num_classes: usize,
    /// Number of down-sampling stages (4 in the paper).
    #[config(default = 4)]
    pub depth: usize,
    /// Channels of the first stage (64 in the paper), doubled per stage.
    #[config(default = 64)]
    pub base_channels: usize,
}

/// Two 3x3 convolutions, each followed by batch norm and ReLU.
#[derive(Module, Debug)]
pub struct DoubleConv {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
}

impl DoubleConv {
    fn new(cin: usize, cout: usize, device: &Device) -> Self {
        let conv = |a, b| {
            Conv2dConfig::new([a, b], [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .with_bias(false)
                .init(device)
        };
        Self {
            conv1: conv(cin, cout),
            bn1: BatchNormConfig::new(cout).init(device),
            conv2: conv(cout, cout),
            bn2: BatchNormConfig::new(cout).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(batch_norm(&self.bn1, conv2d(&self.conv1, x)));
        relu(batch_norm(&self.bn2, conv2d(&self.conv2, x)))
    }
}

/// The segmentation network; see the module docs.
#[derive(Module, Debug)]
pub struct UNet {
    down: Vec<DoubleConv>,
    bottom: DoubleConv,
    up: Vec<ConvTranspose2d>,
    up_conv: Vec<DoubleConv>,
    head: Conv2d,
    pool: MaxPool2d,
}

impl UNetConfig {
    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Result<UNet> {
        if self.depth == 0 || self.depth > 6 {
            return Err(NnError::Config(format!(
                "U-Net depth {} is out of range: use 1 to 6",
                self.depth
            )));
        }
        if self.in_channels == 0 || self.num_classes == 0 || self.base_channels == 0 {
            return Err(NnError::Config(
                "U-Net needs at least one input channel, class and base channel".into(),
            ));
        }
        let ch = |i: usize| self.base_channels << i;
        let down = (0..self.depth)
            .map(|i| {
                let cin = if i == 0 { self.in_channels } else { ch(i - 1) };
                DoubleConv::new(cin, ch(i), device)
            })
            .collect();
        // Decoder stages run from the deepest to the shallowest.
        let up = (0..self.depth)
            .rev()
            .map(|i| {
                ConvTranspose2dConfig::new([ch(i + 1), ch(i)], [2, 2])
                    .with_stride([2, 2])
                    .init(device)
            })
            .collect();
        let up_conv = (0..self.depth)
            .rev()
            .map(|i| DoubleConv::new(ch(i + 1), ch(i), device))
            .collect();
        Ok(UNet {
            down,
            bottom: DoubleConv::new(ch(self.depth - 1), ch(self.depth), device),
            up,
            up_conv,
            head: Conv2dConfig::new([ch(0), self.num_classes], [1, 1]).init(device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
        })
    }
}

impl UNet {
    /// Number of down-sampling stages.
    pub fn depth(&self) -> usize {
        self.down.len()
    }

    /// Checks that an `h x w` input survives `depth` halvings exactly.
    pub fn check_input(&self, height: usize, width: usize) -> Result<()> {
        let m = 1usize << self.depth();
        if height == 0 || width == 0 || height % m != 0 || width % m != 0 {
            return Err(NnError::Shape(format!(
                "U-Net of depth {} needs image sides divisible by {m}, got {height}x{width}",
                self.depth()
            )));
        }
        Ok(())
    }

    /// `[n, c, h, w]` images to `[n, classes, h, w]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = x;
        for stage in &self.down {
            x = stage.forward(x);
            skips.push(x.clone());
            x = max_pool(&self.pool, x);
        }
        x = self.bottom.forward(x);
        for ((up, conv), skip) in self
            .up
            .iter()
            .zip(&self.up_conv)
            .zip(skips.into_iter().rev())
        {
            x = conv_transpose2d(up, x);
            x = conv.forward(Tensor::cat(vec![skip, x], 1));
        }
        conv2d(&self.head, x)
    }
}
