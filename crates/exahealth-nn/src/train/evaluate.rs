//! The validation pass: loss, accuracy or Dice over a whole data source.

use burn::tensor::{Device, Tensor};
use exahealth_dist::{SingleProcess, World};

use crate::data::{BatchSource, Targets};
use crate::error::{NnError, Result};
use crate::loss::LossConfig;
use crate::models::{Model, Output};

/// What a validation pass measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Sample-weighted mean loss.
    pub loss: f64,
    /// Fraction of samples whose arg-max class is the target (classification).
    pub accuracy: Option<f64>,
    /// Dice of the arg-max masks, averaged over foreground classes (segmentation).
    pub dice: Option<f64>,
    /// `confusion[target][predicted]` counts (classification).
    pub confusion: Option<Vec<Vec<u64>>>,
    /// Samples seen.
    pub samples: usize,
}

fn values<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| NnError::Shape(format!("cannot read model output: {e:?}")))
}

/// Index of the largest value (the first on ties; 0 when empty).
pub fn argmax(v: &[f32]) -> usize {
    v.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &x)| {
            if x > best.1 {
                (i, x)
            } else {
                best
            }
        })
        .0
}

/// Row-wise arg-max of a row-major `[rows, cols]` buffer.
pub(crate) fn argmax_rows(v: &[f32], cols: usize) -> Vec<usize> {
    v.chunks(cols.max(1)).map(argmax).collect()
}

/// Runs `model` (put it in validation mode first) over all of `source`.
pub fn evaluate<M: Model>(
    model: &M,
    source: &dyn BatchSource,
    batch_size: usize,
    loss: &LossConfig,
    device: &Device,
) -> Result<Evaluation> {
    evaluate_in(model, source, batch_size, loss, &SingleProcess, device)
}

/// [`evaluate`] shared by the ranks of a data-parallel job: each scores
/// its contiguous share of the samples, and the sums (loss, hits,
/// confusion, Dice overlaps) are added across ranks, so every rank gets
/// the evaluation of the whole source.
pub fn evaluate_in<M: Model>(
    model: &M,
    source: &dyn BatchSource,
    batch_size: usize,
    loss: &LossConfig,
    world: &dyn World,
    device: &Device,
) -> Result<Evaluation> {
    let n = source.len();
    if n == 0 {
        return Err(NnError::EmptyData("validation set".into()));
    }
    let (rank, ranks) = (world.rank(), world.size().max(1));
    let indices: Vec<usize> = (n * rank / ranks..n * (rank + 1) / ranks).collect();
    let mut loss_sum = 0.0;
    let mut correct = 0usize;
    let mut confusion: Vec<Vec<u64>> = Vec::new();
    // Per class: (intersection, predicted + target) pixel counts.
    let mut overlap: Vec<(u64, u64)> = Vec::new();
    let mut classification = false;
    let batch_size = source.evaluation_batch_size(batch_size).max(1);
    for chunk in indices.chunks(batch_size) {
        let batch = source.batch(chunk)?;
        let output = model.output(&batch.inputs, device)?;
        let l = loss.compute(&output, &batch.targets, device)?;
        loss_sum += f64::from(l.into_scalar::<f32>()) * chunk.len() as f64;
        match (output, &batch.targets) {
            (Output::Logits(logits), Targets::Classes(targets)) => {
                classification = true;
                let [_, c] = logits.dims();
                if confusion.len() < c {
                    confusion.resize(c, vec![0; c]);
                }
                for (p, &t) in argmax_rows(&values(logits)?, c).into_iter().zip(targets) {
                    if t < c {
                        confusion[t][p] += 1;
                    }
                    correct += usize::from(p == t);
                }
            }
            (Output::Masks(logits), Targets::Masks(masks)) => {
                let [_, c, _, _] = logits.dims();
                if overlap.len() < c {
                    overlap.resize(c, (0, 0));
                }
                // Class axis last so each pixel's scores are contiguous.
                let pred = argmax_rows(&values(logits.permute([0, 2, 3, 1]))?, c);
                for (&p, &t) in pred.iter().zip(masks.iter()) {
                    let t = usize::from(t);
                    if p == t && t < c {
                        overlap[t].0 += 1;
                    }
                    overlap[p].1 += 1;
                    if t < c {
                        overlap[t].1 += 1;
                    }
                }
            }
            _ => {}
        }
    }
    if ranks > 1 {
        let reduce = |e: exahealth_dist::DistError| {
            NnError::Config(format!("data-parallel validation: {e}"))
        };
        // A rank with no sample saw no output: agree on the sizes first.
        let mut sizes = [
            confusion.len() as u64,
            overlap.len() as u64,
            u64::from(classification),
        ];
        world.all_reduce_max_u64(&mut sizes).map_err(reduce)?;
        let (c, m) = (sizes[0] as usize, sizes[1] as usize);
        classification = sizes[2] == 1;
        confusion.resize(c, vec![0; c]);
        confusion.iter_mut().for_each(|row| row.resize(c, 0));
        overlap.resize(m, (0, 0));
        let mut counts: Vec<u64> = std::iter::once(correct as u64)
            .chain(confusion.iter().flatten().copied())
            .chain(overlap.iter().flat_map(|&(i, t)| [i, t]))
            .collect();
        world.all_reduce_sum_u64(&mut counts).map_err(reduce)?;
        let mut loss_total = [loss_sum];
        world.all_reduce_sum_f64(&mut loss_total).map_err(reduce)?;
        loss_sum = loss_total[0];
        let mut it = counts.into_iter();
        correct = it.next().unwrap_or(0) as usize;
        for cell in confusion.iter_mut().flatten() {
            *cell = it.next().unwrap_or(0);
        }
        for pair in overlap.iter_mut() {
            *pair = (it.next().unwrap_or(0), it.next().unwrap_or(0));
        }
    }
    let dice = (!overlap.is_empty()).then(|| {
        // Background (class 0) is left out when there are other classes.
        let first = usize::from(overlap.len() > 1);
        let scores: Vec<f64> = overlap[first..]
            .iter()
            .filter(|(_, total)| *total > 0)
            .map(|&(inter, total)| 2.0 * inter as f64 / total as f64)
            .collect();
        if scores.is_empty() {
            1.0
        } else {
            scores.iter().sum::<f64>() / scores.len() as f64
        }
    });
    Ok(Evaluation {
        loss: loss_sum / n as f64,
        accuracy: classification.then(|| correct as f64 / n as f64),
        dice,
        confusion: classification.then_some(confusion),
        samples: n,
    })
}
