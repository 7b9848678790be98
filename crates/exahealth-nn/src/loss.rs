//! Losses: cross-entropy (class weights, label smoothing), binary
//! cross-entropy with logits (multi-label), soft Dice and focal loss.
//! Each returns a one-element tensor so it can be back-propagated.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};
use serde::{Deserialize, Serialize};

use crate::data::{classes_to_tensor, masks_to_tensor, Targets};
use crate::error::{NnError, Result};
use crate::models::Output;

/// Which loss to train with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LossConfig {
    /// Softmax cross-entropy, PyTorch's semantics for weights and smoothing.
    CrossEntropy {
        /// Per-class weights (the weighted mean divides by the targets' weights).
        #[serde(default)]
        class_weights: Option<Vec<f32>>,
        /// Label smoothing in `[0, 1)`.
        #[serde(default)]
        label_smoothing: f32,
    },
    /// Sigmoid binary cross-entropy for independent labels.
    BinaryCrossEntropy,
    /// Soft Dice over softmax probabilities, averaged over classes.
    Dice {
        /// Additive smoothing of numerator and denominator.
        #[serde(default = "one")]
        smooth: f32,
    },
    /// Focal loss (Lin et al. 2017).
    Focal {
        /// Focusing parameter; 0 gives cross-entropy.
        #[serde(default = "two")]
        gamma: f32,
        /// Per-class weights `alpha`.
        #[serde(default)]
        alpha: Option<Vec<f32>>,
    },
}

fn one() -> f32 {
    1.0
}
fn two() -> f32 {
    2.0
}

impl Default for LossConfig {
    fn default() -> Self {
        Self::CrossEntropy {
            class_weights: None,
            label_smoothing: 0.0,
        }
    }
}

impl LossConfig {
    /// Checks parameters against the number of classes.
    pub fn validate(&self, num_classes: usize) -> Result<()> {
        let check_weights = |w: &Option<Vec<f32>>, what: &str| match w {
            Some(w) if w.len() != num_classes => Err(NnError::Config(format!(
                "{what} has {} values for {num_classes} classes",
                w.len()
            ))),
            Some(w) if w.iter().any(|v| !v.is_finite() || *v < 0.0) => Err(NnError::Config(
                format!("{what} must be finite and non-negative"),
            )),
            _ => Ok(()),
        };
        match self {
            Self::CrossEntropy {
                class_weights,
                label_smoothing,
            } => {
                check_weights(class_weights, "class_weights")?;
                if !(0.0..1.0).contains(label_smoothing) {
                    return Err(NnError::Config(format!(
                        "label_smoothing {label_smoothing} is outside [0, 1)"
                    )));
                }
                Ok(())
            }
            Self::Focal { gamma, alpha } => {
                check_weights(alpha, "alpha")?;
                if !gamma.is_finite() || *gamma < 0.0 {
                    return Err(NnError::Config(format!("focal gamma {gamma} must be >= 0")));
                }
                Ok(())
            }
            Self::Dice { smooth } if !smooth.is_finite() || *smooth < 0.0 => Err(NnError::Config(
                format!("Dice smooth {smooth} must be >= 0"),
            )),
            _ => Ok(()),
        }
    }

    /// The loss of `output` against `targets`.
    pub fn compute(
        &self,
        output: &Output,
        targets: &Targets,
        device: &Device,
    ) -> Result<Tensor<1>> {
        match (self, output, targets) {
            (Self::BinaryCrossEntropy, Output::Logits(l), Targets::MultiLabel(t)) => {
                let shape = t.shape().to_vec();
                let values: Vec<f32> = t.iter().copied().collect();
                let t = Tensor::<2>::from_data(TensorData::new(values, shape), device);
                Ok(bce_with_logits(l.clone(), t))
            }
            (Self::Dice { smooth }, Output::Masks(l), Targets::Masks(m)) => {
                Ok(dice_loss(l.clone(), masks_to_tensor(m, device), *smooth))
            }
            (_, Output::Logits(l), Targets::Classes(c)) => {
                self.per_sample(l.clone(), classes_to_tensor(c, device), device)
            }
            (_, Output::Masks(l), Targets::Masks(m)) => {
                let [n, c, h, w] = l.dims();
                let flat = l.clone().permute([0, 2, 3, 1]).reshape([n * h * w, c]);
                let t = masks_to_tensor(m, device).reshape([n * h * w]);
                self.per_sample(flat, t, device)
            }
            _ => Err(NnError::Config(format!(
                "loss {self:?} does not fit this model's output and targets"
            ))),
        }
    }

    fn per_sample(
        &self,
        logits: Tensor<2>,
        targets: Tensor<1, Int>,
        device: &Device,
    ) -> Result<Tensor<1>> {
        match self {
            Self::CrossEntropy {
                class_weights,
                label_smoothing,
            } => Ok(cross_entropy(
                logits,
                targets,
                class_weights.as_deref(),
                *label_smoothing,
                device,
            )),
            Self::Focal { gamma, alpha } => {
                Ok(focal(logits, targets, *gamma, alpha.as_deref(), device))
            }
            other => Err(NnError::Config(format!(
                "loss {other:?} does not fit class-index targets"
            ))),
        }
    }
}

fn weights_tensor(weights: &[f32], device: &Device) -> Tensor<2> {
    Tensor::<1>::from_data(TensorData::new(weights.to_vec(), [weights.len()]), device)
        .unsqueeze_dim(0)
}

/// Cross-entropy of `[n, c]` logits against class indices `[n]`, with
/// optional class weights and label smoothing, mean-reduced as PyTorch does
/// (weighted mean over the targets' weights).
pub fn cross_entropy(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    class_weights: Option<&[f32]>,
    label_smoothing: f32,
    device: &Device,
) -> Tensor<1> {
    let [_, c] = logits.dims();
    let logp = log_softmax(logits, 1);
    let onehot = targets.one_hot::<2>(c).float();
    let nll = (logp.clone() * onehot.clone()).sum_dim(1).neg(); // [n, 1]
    let smooth = logp.clone().sum_dim(1).neg() / c as f64; // uniform target
    match class_weights {
        None => {
            let per = nll * (1.0 - label_smoothing as f64) + smooth * label_smoothing as f64;
            per.mean()
        }
        Some(w) => {
            let w = weights_tensor(w, device);
            let w_target = (onehot * w.clone()).sum_dim(1); // [n, 1]
            let nll = nll * w_target.clone();
            let smooth_w = (logp * w).sum_dim(1).neg() / c as f64;
            let per = nll * (1.0 - label_smoothing as f64) + smooth_w * label_smoothing as f64;
            per.sum() / w_target.sum()
        }
    }
}

/// Focal loss `-alpha_t (1 - p_t)^gamma log p_t`, averaged over samples.
pub fn focal(
    logits: Tensor<2>,
    targets: Tensor<1, Int>,
    gamma: f32,
    alpha: Option<&[f32]>,
    device: &Device,
) -> Tensor<1> {
    let [_, c] = logits.dims();
    let onehot = targets.one_hot::<2>(c).float();
    let logp_t = (log_softmax(logits, 1) * onehot.clone()).sum_dim(1); // [n, 1]
    let p_t = logp_t.clone().exp();
    let modulator = (p_t.neg() + 1.0).clamp_min(0.0).powf_scalar(gamma);
    let mut per = modulator * logp_t.neg();
    if let Some(a) = alpha {
        per = per * (onehot * weights_tensor(a, device)).sum_dim(1);
    }
    per.mean()
}

/// Binary cross-entropy of logits against 0/1 targets of the same shape,
/// in the numerically stable form `max(x, 0) - x y + log(1 + e^-|x|)`.
pub fn bce_with_logits(logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
    let softplus = (logits.clone().abs().neg().exp() + 1.0).log();
    (logits.clone().clamp_min(0.0) - logits * targets + softplus).mean()
}

/// Soft Dice loss `1 - mean_c (2 |P_c T_c| + s) / (|P_c| + |T_c| + s)` of
/// `[n, c, h, w]` logits against `[n, h, w]` class masks, pooled over the batch.
pub fn dice_loss(logits: Tensor<4>, masks: Tensor<3, Int>, smooth: f32) -> Tensor<1> {
    let [_, c, _, _] = logits.dims();
    let probs = softmax(logits, 1);
    let onehot = masks.one_hot::<4>(c).float().permute([0, 3, 1, 2]);
    let inter = (probs.clone() * onehot.clone()).sum_dims(&[0, 2, 3]); // [1, c, 1, 1]
    let total = probs.sum_dims(&[0, 2, 3]) + onehot.sum_dims(&[0, 2, 3]);
    let dice = (inter * 2.0 + smooth as f64) / (total + smooth as f64);
    dice.mean().neg() + 1.0
}
