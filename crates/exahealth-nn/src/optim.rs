//! Optimisers (SGD with momentum, Adam, AdamW, all Burn's) and learning-rate
//! schedules. The schedule is a pure function of the step, so a resumed run
//! continues with exactly the rate an uninterrupted one would use.

use burn::grad_clipping::GradientClippingConfig;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

use crate::error::{NnError, Result};

/// Which update rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerKind {
    /// Stochastic gradient descent with (optional) momentum.
    Sgd,
    /// Adam (Kingma and Ba 2015).
    #[default]
    Adam,
    /// Adam with decoupled weight decay (Loshchilov and Hutter 2019).
    AdamW,
}

/// Optimiser hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptimizerConfig {
    /// Update rule.
    pub kind: OptimizerKind,
    /// SGD momentum (0 disables it); PyTorch's form, no dampening.
    pub momentum: f64,
    /// L2 penalty (SGD, Adam) or decoupled decay (AdamW).
    pub weight_decay: f32,
    /// Clip each parameter tensor's gradient to this L2 norm (Burn's
    /// per-tensor clipping, not PyTorch's global norm).
    pub grad_clip_norm: Option<f32>,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        Self {
            kind: OptimizerKind::Adam,
            momentum: 0.9,
            weight_decay: 0.0,
            grad_clip_norm: None,
        }
    }
}

impl OptimizerConfig {
    /// Builds the optimiser.
    pub fn init(&self) -> Result<ModuleOptimizer> {
        if !(0.0..1.0).contains(&self.momentum)
            || !self.weight_decay.is_finite()
            || self.weight_decay < 0.0
        {
            return Err(NnError::Config(format!(
                "momentum {} must be in [0, 1) and weight decay {} >= 0",
                self.momentum, self.weight_decay
            )));
        }
        let clip = match self.grad_clip_norm {
            Some(n) if !(n.is_finite() && n > 0.0) => {
                return Err(NnError::Config(format!("grad_clip_norm {n} must be > 0")))
            }
            Some(n) => Some(GradientClippingConfig::Norm(n)),
            None => None,
        };
        let decay = (self.weight_decay > 0.0).then(|| WeightDecayConfig::new(self.weight_decay));
        Ok(match self.kind {
            OptimizerKind::Sgd => SgdConfig::new()
                .with_momentum((self.momentum > 0.0).then(|| {
                    MomentumConfig::new()
                        .with_momentum(self.momentum)
                        .with_dampening(0.0)
                }))
                .with_weight_decay(decay)
                .with_gradient_clipping(clip)
                .init(),
            OptimizerKind::Adam => AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay)
                .with_grad_clipping(clip)
                .init(),
            OptimizerKind::AdamW => AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(self.weight_decay)
                .with_grad_clipping(clip)
                .init(),
        })
    }
}

/// How the learning rate decays after warm-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Multiply by `gamma` every `every_epochs` epochs.
    Step {
        /// Epochs between decays.
        every_epochs: usize,
        /// Factor per decay.
        gamma: f64,
    },
    /// Cosine annealing from the base rate to `min_lr` over the run.
    Cosine {
        /// Final rate.
        #[serde(default)]
        min_lr: f64,
    },
}

/// A schedule bound to a run's length.
#[derive(Debug, Clone, PartialEq)]
pub struct LrSchedule {
    /// Peak rate.
    pub base_lr: f64,
    /// Decay after warm-up.
    pub schedule: Schedule,
    /// Steps of linear warm-up from `base_lr / warmup_steps`.
    pub warmup_steps: usize,
    /// Optimiser steps per epoch.
    pub steps_per_epoch: usize,
    /// Optimiser steps in the whole run.
    pub total_steps: usize,
}

impl LrSchedule {
    /// The rate for optimiser step `step` (0-based).
    pub fn lr_at(&self, step: usize) -> f64 {
        if step < self.warmup_steps {
            return self.base_lr * (step + 1) as f64 / self.warmup_steps as f64;
        }
        match &self.schedule {
            Schedule::Constant => self.base_lr,
            Schedule::Step {
                every_epochs,
                gamma,
            } => {
                let epoch = step / self.steps_per_epoch.max(1);
                let decays = epoch / (*every_epochs).max(1);
                self.base_lr * gamma.powi(decays.min(i32::MAX as usize) as i32)
            }
            Schedule::Cosine { min_lr } => {
                let span = self.total_steps.saturating_sub(self.warmup_steps).max(1);
                let t = (step - self.warmup_steps).min(span) as f64 / span as f64;
                min_lr + 0.5 * (self.base_lr - min_lr) * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sched(schedule: Schedule, warmup: usize) -> LrSchedule {
        LrSchedule {
            base_lr: 0.1,
            schedule,
            warmup_steps: warmup,
            steps_per_epoch: 10,
            total_steps: 100,
        }
    }

    #[test]
    fn warmup_is_linear_then_step_decays_per_epoch_block() {
        let s = sched(
            Schedule::Step {
                every_epochs: 3,
                gamma: 0.5,
            },
            4,
        );
        assert!((s.lr_at(0) - 0.025).abs() < 1e-12);
        assert!((s.lr_at(3) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(29) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(30) - 0.05).abs() < 1e-12);
        assert!((s.lr_at(65) - 0.025).abs() < 1e-12);
    }

    #[test]
    fn cosine_goes_from_base_to_min() {
        let s = sched(Schedule::Cosine { min_lr: 0.001 }, 0);
        assert!((s.lr_at(0) - 0.1).abs() < 1e-12);
        assert!((s.lr_at(50) - 0.0505).abs() < 1e-9);
        assert!((s.lr_at(100) - 0.001).abs() < 1e-12);
        assert!(s.lr_at(20) > s.lr_at(21));
    }

    #[test]
    fn bad_hyper_parameters_are_rejected() {
        let c = OptimizerConfig {
            momentum: 1.5,
            ..Default::default()
        };
        assert!(c.init().is_err());
        let c = OptimizerConfig {
            grad_clip_norm: Some(-1.0),
            ..Default::default()
        };
        assert!(c.init().is_err());
    }
}
