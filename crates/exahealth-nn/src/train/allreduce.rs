//! Data-parallel steps: every rank's gradients, weighted by the samples it
//! saw, averaged across the job in one all-reduce of one flat buffer, so
//! that N ranks with batch b take the step one process takes with batch
//! N x b.

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Tensor, TensorData};
use exahealth_dist::World;

use crate::error::{NnError, Result};

/// The gradients of `model`'s float parameters, in the module's visiting
/// order (the same in every rank), as one buffer, each scaled by `weight`.
struct Flatten<'a> {
    grads: &'a GradientsParams,
    weight: f32,
    out: Vec<f32>,
    failed: Option<String>,
}

impl ModuleVisitor for Flatten<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.grads.get::<D>(param.id) else {
            return;
        };
        match grad.into_data().try_to_vec::<f32>() {
            Ok(values) => self.out.extend(values.into_iter().map(|v| v * self.weight)),
            Err(e) => self.failed = Some(format!("{e:?}")),
        }
    }
}

/// Puts a flat buffer back as the gradients, in the same order.
struct Restore<'a> {
    grads: &'a mut GradientsParams,
    flat: &'a [f32],
    at: usize,
}

impl ModuleVisitor for Restore<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let Some(grad) = self.grads.remove::<D>(param.id) else {
            return;
        };
        let shape = grad.shape();
        let n = shape.num_elements();
        let values = self
            .flat
            .get(self.at..self.at + n)
            .unwrap_or_default()
            .to_vec();
        self.at += n;
        let device = grad.device();
        self.grads.register(
            param.id,
            Tensor::<D>::from_data(TensorData::new(values, shape), &device),
        );
    }
}

/// Replaces `grads` (of a mean loss over this rank's `mine` samples) by the
/// gradient of the mean loss over all ranks' `total` samples.
pub(crate) fn average<M: Module>(
    world: &dyn World,
    model: &M,
    grads: GradientsParams,
    mine: usize,
    total: usize,
) -> Result<GradientsParams> {
    let failed = |what: String| NnError::Config(format!("data-parallel step: {what}"));
    // sum_r (n_r / N) g_r = mean_r (n_r * R / N) g_r.
    let weight = (mine * world.size()) as f32 / total.max(1) as f32;
    let mut flatten = Flatten {
        grads: &grads,
        weight,
        out: Vec::new(),
        failed: None,
    };
    model.visit(&mut flatten);
    if let Some(e) = flatten.failed {
        return Err(failed(e));
    }
    let mut flat = flatten.out;
    world
        .all_reduce_mean(&mut flat)
        .map_err(|e| failed(e.to_string()))?;
    let mut grads = grads;
    let mut restore = Restore {
        grads: &mut grads,
        flat: &flat,
        at: 0,
    };
    model.visit(&mut restore);
    if restore.at != flat.len() {
        return Err(failed(format!(
            "{} gradient values put back of {}",
            restore.at,
            flat.len()
        )));
    }
    Ok(grads)
}
