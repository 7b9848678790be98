//! The small CNN of the training benchmark: four 3x3 convolutions
//! (c -> w -> w -> 2w -> 2w, ReLU, 2x2 max-pool after the first three),
//! global average pooling and a linear layer.

use crate::kernels::conv2d;
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::kernels::max_pool;

/// Builds a [`SmallCnn`].
#[derive(Config, Debug)]
pub struct SmallCnnConfig {
    /// Input channels (3 for RGB).
    #[config(default = 3)]
    pub in_channels: usize,
    /// Output classes.
    #[config(default = 2)]
    pub num_classes: usize,
    /// Channels of the first two convolutions; the last two have twice as many.
    #[config(default = 32)]
    pub width: usize,
}

/// Four-convolution classifier; see the module docs.
#[derive(Module, Debug)]
pub struct SmallCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    conv4: Conv2d,
    pool: MaxPool2d,
    gap: AdaptiveAvgPool2d,
    fc: Linear,
}

fn conv3x3(cin: usize, cout: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

impl SmallCnnConfig {
    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> SmallCnn {
        let w = self.width;
        SmallCnn {
            conv1: conv3x3(self.in_channels, w, device),
            conv2: conv3x3(w, w, device),
            conv3: conv3x3(w, 2 * w, device),
            conv4: conv3x3(2 * w, 2 * w, device),
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            gap: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(2 * w, self.num_classes).init(device),
        }
    }
}

impl SmallCnn {
    /// `[n, c, h, w]` images to `[n, 2 * width]` pooled features (before `fc`).
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = max_pool(&self.pool, relu(conv2d(&self.conv1, x)));
        let x = max_pool(&self.pool, relu(conv2d(&self.conv2, x)));
        let x = max_pool(&self.pool, relu(conv2d(&self.conv3, x)));
        let x = relu(conv2d(&self.conv4, x));
        self.gap.forward(x).flatten(1, 3)
    }

    /// `[n, c, h, w]` images to `[n, classes]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.fc.forward(self.features(x))
    }
}
