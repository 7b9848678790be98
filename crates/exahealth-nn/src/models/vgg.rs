//! VGG-16 (Simonyan and Zisserman 2015) in torchvision's layout: thirteen
//! 3x3 convolutions in five max-pooled stages, 7x7 adaptive average pooling
//! and three linear layers with dropout.

use crate::kernels::conv2d;
use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::kernels::max_pool;

/// Convolutions per stage of VGG-16.
const STAGES: [usize; 5] = [2, 2, 3, 3, 3];

/// Builds a [`Vgg16`].
#[derive(Config, Debug)]
pub struct Vgg16Config {
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Output classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Channels of the first stage (64 in the paper; doubled per stage up to 8x).
    #[config(default = 64)]
    pub base_width: usize,
    /// Width of the two hidden linear layers (4096 in the paper).
    #[config(default = 4096)]
    pub hidden: usize,
    /// Dropout probability in the classifier.
    #[config(default = 0.5)]
    pub dropout: f64,
}

/// VGG-16; see the module docs.
#[derive(Module, Debug)]
pub struct Vgg16 {
    features: Vec<Conv2d>,
    pool: MaxPool2d,
    avgpool: AdaptiveAvgPool2d,
    classifier: Vec<Linear>,
    dropout: Dropout,
}

impl Vgg16Config {
    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Vgg16 {
        let mut features = Vec::new();
        let mut cin = self.in_channels;
        for (stage, &n) in STAGES.iter().enumerate() {
            let cout = self.base_width << stage.min(3);
            for _ in 0..n {
                features.push(
                    Conv2dConfig::new([cin, cout], [3, 3])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(device),
                );
                cin = cout;
            }
        }
        Vgg16 {
            features,
            pool: MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init(),
            avgpool: AdaptiveAvgPool2dConfig::new([7, 7]).init(),
            classifier: vec![
                LinearConfig::new(cin * 49, self.hidden).init(device),
                LinearConfig::new(self.hidden, self.hidden).init(device),
                LinearConfig::new(self.hidden, self.num_classes).init(device),
            ],
            dropout: DropoutConfig::new(self.dropout).init(),
        }
    }
}

impl Vgg16 {
    /// `[n, c, h, w]` images to `[n, hidden]` features: the activations
    /// that feed the last linear layer (torchvision's "fc7").
    pub fn features(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.pooled_convolutions(x);
        let hidden = self.classifier.len().saturating_sub(1);
        self.classifier[..hidden]
            .iter()
            .fold(x, |x, linear| self.dropout.forward(relu(linear.forward(x))))
    }

    /// `[n, c, h, w]` images to `[n, classes]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = self.features(x);
        match self.classifier.last() {
            Some(last) => last.forward(x),
            None => x,
        }
    }

    fn pooled_convolutions(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = x;
        let mut convs = self.features.iter();
        for &n in &STAGES {
            for conv in convs.by_ref().take(n) {
                x = relu(conv2d(conv, x));
            }
            x = max_pool(&self.pool, x);
        }
        self.avgpool.forward(x).flatten(1, 3)
    }
}
