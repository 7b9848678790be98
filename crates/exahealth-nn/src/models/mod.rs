//! Model definitions. Each has a derived `Config` whose `init(&device)`
//! builds the `Module`; [`Architecture`] names any of them in a run file and
//! [`Network`] holds any of them behind one type.

mod densenet;
mod mil;
mod resnet;
mod small_cnn;
mod unet;
mod vgg;

pub use densenet::{densenet_pytorch_remapping, DenseLayer, DenseNet, DenseNetConfig, Transition};
pub use mil::{AttentionMil, AttentionMilConfig};
pub use resnet::{Block, Downsample, ResNet, ResNetConfig};
pub use small_cnn::{SmallCnn, SmallCnnConfig};
pub use unet::{DoubleConv, UNet, UNetConfig};
pub use vgg::{Vgg16, Vgg16Config};

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use ndarray::ArrayD;
use serde::{Deserialize, Serialize};

use crate::data::to_tensor;
use crate::error::{NnError, Result};

/// What a model produces for a batch.
#[derive(Debug, Clone)]
pub enum Output {
    /// `[n, classes]` class logits.
    Logits(Tensor<2>),
    /// `[n, classes, h, w]` per-pixel class logits.
    Masks(Tensor<4>),
}

/// A model the training loop and the predictors can drive: arrays in, logits out.
pub trait Model: Module {
    /// Runs the model on `inputs` (sample axis first) on `device`.
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output>;
}

fn image_tensor(inputs: &ArrayD<f32>, device: &Device) -> Result<Tensor<4>> {
    to_tensor::<4>(inputs, device)
}

impl Model for SmallCnn {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        Ok(Output::Logits(self.forward(image_tensor(inputs, device)?)))
    }
}

impl Model for ResNet {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        Ok(Output::Logits(self.forward(image_tensor(inputs, device)?)))
    }
}

impl Model for DenseNet {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        Ok(Output::Logits(self.forward(image_tensor(inputs, device)?)))
    }
}

impl Model for Vgg16 {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        Ok(Output::Logits(self.forward(image_tensor(inputs, device)?)))
    }
}

impl Model for UNet {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        let s = inputs.shape();
        if s.len() == 4 {
            self.check_input(s[2], s[3])?;
        }
        Ok(Output::Masks(self.forward(image_tensor(inputs, device)?)))
    }
}

impl Model for AttentionMil {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        Ok(Output::Logits(
            self.forward(to_tensor::<3>(inputs, device)?),
        ))
    }
}

/// Any architecture, by name, with its hyper-parameters: what a run file
/// or a model card stores to rebuild the model before loading its weights.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "architecture", rename_all = "kebab-case")]
pub enum Architecture {
    /// [`SmallCnn`].
    SmallCnn(SmallCnnConfig),
    /// [`ResNet`] (18, 34 or 50 layers).
    ResNet(ResNetConfig),
    /// [`Vgg16`].
    Vgg16(Vgg16Config),
    /// [`DenseNet`] (121).
    DenseNet(DenseNetConfig),
    /// [`UNet`].
    UNet(UNetConfig),
    /// [`AttentionMil`].
    AttentionMil(AttentionMilConfig),
}

impl Architecture {
    /// Parses the short names the CLI accepts (`small-cnn`, `resnet18`,
    /// `resnet34`, `resnet50`, `vgg16`, `densenet121`, `unet`,
    /// `attention-mil`) with the
    /// given input channels and classes and default sizes otherwise.
    pub fn from_name(name: &str, in_channels: usize, num_classes: usize) -> Result<Self> {
        Ok(match name {
            "small-cnn" => Self::SmallCnn(
                SmallCnnConfig::new()
                    .with_in_channels(in_channels)
                    .with_num_classes(num_classes),
            ),
            "resnet18" | "resnet34" | "resnet50" => {
                let depth = name[6..]
                    .parse()
                    .map_err(|_| NnError::Config(format!("bad ResNet name {name}")))?;
                Self::ResNet(
                    ResNetConfig::new()
                        .with_depth(depth)
                        .with_in_channels(in_channels)
                        .with_num_classes(num_classes),
                )
            }
            "vgg16" => Self::Vgg16(
                Vgg16Config::new()
                    .with_in_channels(in_channels)
                    .with_num_classes(num_classes),
            ),
            "densenet121" => Self::DenseNet(
                DenseNetConfig::new()
                    .with_in_channels(in_channels)
                    .with_num_classes(num_classes),
            ),
            "unet" => Self::UNet(
                UNetConfig::new()
                    .with_in_channels(in_channels)
                    .with_num_classes(num_classes),
            ),
            "attention-mil" => Self::AttentionMil(
                AttentionMilConfig::new()
                    .with_in_features(in_channels)
                    .with_num_classes(num_classes),
            ),
            other => {
                return Err(NnError::Config(format!(
                    "unknown model {other:?}: use small-cnn, resnet18, resnet34, resnet50, vgg16, densenet121, unet or attention-mil"
                )))
            }
        })
    }

    /// The short name [`Architecture::from_name`] takes (`resnet18`, ...).
    pub fn name(&self) -> String {
        match self {
            Self::SmallCnn(_) => "small-cnn".into(),
            Self::ResNet(c) => format!("resnet{}", c.depth),
            Self::Vgg16(_) => "vgg16".into(),
            Self::DenseNet(_) => "densenet121".into(),
            Self::UNet(_) => "unet".into(),
            Self::AttentionMil(_) => "attention-mil".into(),
        }
    }

    /// Number of output classes.
    pub fn num_classes(&self) -> usize {
        match self {
            Self::SmallCnn(c) => c.num_classes,
            Self::ResNet(c) => c.num_classes,
            Self::Vgg16(c) => c.num_classes,
            Self::DenseNet(c) => c.num_classes,
            Self::UNet(c) => c.num_classes,
            Self::AttentionMil(c) => c.num_classes,
        }
    }

    /// Allocates the model with fresh weights on `device`.
    pub fn init(&self, device: &Device) -> Result<Network> {
        Ok(match self {
            Self::SmallCnn(c) => Network::SmallCnn(c.init(device)),
            Self::ResNet(c) => Network::ResNet(c.init(device)?),
            Self::Vgg16(c) => Network::Vgg16(c.init(device)),
            Self::DenseNet(c) => Network::DenseNet(c.init(device)?),
            Self::UNet(c) => Network::UNet(c.init(device)?),
            Self::AttentionMil(c) => Network::AttentionMil(c.init(device)),
        })
    }
}

/// Any of the crate's models behind one type.
#[derive(Module, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Network {
    /// [`SmallCnn`].
    SmallCnn(SmallCnn),
    /// [`ResNet`].
    ResNet(ResNet),
    /// [`Vgg16`].
    Vgg16(Vgg16),
    /// [`DenseNet`].
    DenseNet(DenseNet),
    /// [`UNet`].
    UNet(UNet),
    /// [`AttentionMil`].
    AttentionMil(AttentionMil),
}

impl Network {
    /// `[n, c, h, w]` images to `[n, features]` embeddings: the activations
    /// the classifier's last layer reads. These are the instances a
    /// multiple-instance model pools over. Segmentation and MIL models have
    /// no per-image embedding.
    pub fn embed(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Tensor<2>> {
        let x = || image_tensor(inputs, device);
        match self {
            Self::SmallCnn(m) => Ok(m.features(x()?)),
            Self::ResNet(m) => Ok(m.features(x()?)),
            Self::Vgg16(m) => Ok(m.features(x()?)),
            Self::DenseNet(m) => Ok(m.features(x()?)),
            Self::UNet(_) | Self::AttentionMil(_) => Err(NnError::Config(format!(
                "{} gives no per-image embedding: use an image classifier (small-cnn, resnet, vgg16, densenet121)",
                self.name()
            ))),
        }
    }

    /// The short name of the architecture (`resnet18`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            Self::SmallCnn(_) => "small-cnn",
            Self::ResNet(_) => "resnet",
            Self::Vgg16(_) => "vgg16",
            Self::DenseNet(_) => "densenet121",
            Self::UNet(_) => "unet",
            Self::AttentionMil(_) => "attention-mil",
        }
    }
}

impl Model for Network {
    fn output(&self, inputs: &ArrayD<f32>, device: &Device) -> Result<Output> {
        match self {
            Self::SmallCnn(m) => m.output(inputs, device),
            Self::ResNet(m) => m.output(inputs, device),
            Self::Vgg16(m) => m.output(inputs, device),
            Self::DenseNet(m) => m.output(inputs, device),
            Self::UNet(m) => m.output(inputs, device),
            Self::AttentionMil(m) => m.output(inputs, device),
        }
    }
}
