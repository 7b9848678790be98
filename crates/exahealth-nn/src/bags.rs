//! Multiple-instance learning data: a slide is a bag of patch embeddings
//! with one slide-level label (a weak label, e.g. mined from its report).
//!
//! Bags differ in size, but a batch is one `[bags, instances, features]`
//! array, so the bags of a batch are cut to the smallest one's size.
//! Training batches are also cut to `max_instances` (memory and time per
//! step) with a fresh random subset drawn from (seed, epoch, bag), so a
//! resumed epoch replays exactly. [`BatchSource::batch`] (validation) never
//! applies the cap, and evaluation passes take one bag at a time, so a bag
//! is scored whole, as `predict` and `eval` score it; where several bags of
//! unequal size are asked for at once, evenly spaced rows stay.

use ndarray::{Array2, Array3, Axis};

use crate::data::{Batch, BatchSource, Targets};
use crate::error::{NnError, Result};
use crate::rng::SplitMix64;

/// One slide: its patch embeddings `[patches, features]` and its class.
#[derive(Debug, Clone)]
pub struct Bag {
    /// The slide's name (its folder name in a features folder).
    pub name: String,
    /// One row per patch.
    pub features: Array2<f32>,
    /// The slide-level class index.
    pub label: usize,
}

/// Bags as a [`BatchSource`]; see the module docs for how sizes are matched.
#[derive(Debug, Clone)]
pub struct BagSource {
    bags: Vec<Bag>,
    width: usize,
    max_instances: Option<usize>,
    seed: u64,
}

impl BagSource {
    /// Checks that every bag has at least one patch and that all share one
    /// feature width. `max_instances` caps the patches a bag contributes
    /// to a batch (memory and time per step); `seed` draws the training
    /// subsets.
    pub fn new(bags: Vec<Bag>, max_instances: Option<usize>, seed: u64) -> Result<Self> {
        let first = bags
            .first()
            .ok_or_else(|| NnError::EmptyData("no bag".into()))?;
        let width = first.features.ncols();
        if width == 0 {
            return Err(NnError::Shape(format!(
                "bag {:?} has embeddings of width 0",
                first.name
            )));
        }
        for bag in &bags {
            if bag.features.nrows() == 0 {
                return Err(NnError::EmptyData(format!(
                    "bag {:?} has no patch",
                    bag.name
                )));
            }
            if bag.features.ncols() != width {
                return Err(NnError::Shape(format!(
                    "bag {:?} has {} features per patch, bag {:?} has {width}",
                    bag.name,
                    bag.features.ncols(),
                    first.name
                )));
            }
        }
        if max_instances == Some(0) {
            return Err(NnError::Config(
                "the bag size cap must be at least 1".into(),
            ));
        }
        Ok(Self {
            bags,
            width,
            max_instances,
            seed,
        })
    }

    /// Features per patch.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The bags, in index order.
    pub fn bags(&self) -> &[Bag] {
        &self.bags
    }

    /// Assembles the bags at `indices`, each cut to a common size by `pick`
    /// (bag index, its patch count, the size wanted) -> sorted row indices.
    fn assemble(
        &self,
        indices: &[usize],
        capped: bool,
        pick: impl Fn(usize, usize, usize) -> Vec<usize>,
    ) -> Result<Batch> {
        if let Some(&bad) = indices.iter().find(|&&i| i >= self.bags.len()) {
            return Err(NnError::Shape(format!(
                "bag {bad} out of range (there are {})",
                self.bags.len()
            )));
        }
        let smallest = indices
            .iter()
            .map(|&i| self.bags[i].features.nrows())
            .min()
            .unwrap_or(0);
        let k = match self.max_instances {
            Some(m) if capped => smallest.min(m),
            _ => smallest,
        };
        let mut inputs = Array3::<f32>::zeros((indices.len(), k, self.width));
        let mut labels = Vec::with_capacity(indices.len());
        for (slot, &i) in indices.iter().enumerate() {
            let bag = &self.bags[i];
            let n = bag.features.nrows();
            let mut out = inputs.index_axis_mut(Axis(0), slot);
            if n == k {
                out.assign(&bag.features);
            } else {
                for (row, src) in pick(i, n, k).into_iter().enumerate() {
                    out.row_mut(row).assign(&bag.features.row(src));
                }
            }
            labels.push(bag.label);
        }
        Ok(Batch {
            inputs: inputs.into_dyn(),
            targets: Targets::Classes(labels),
        })
    }
}

/// `k` evenly spaced rows of `n` (`k <= n`): the middle of each of `k`
/// equal stretches.
fn evenly_spaced(n: usize, k: usize) -> Vec<usize> {
    (0..k).map(|j| (2 * j + 1) * n / (2 * k)).collect()
}

/// `k` distinct rows of `n`, uniformly at random, sorted.
fn random_subset(n: usize, k: usize, rng: &mut SplitMix64) -> Vec<usize> {
    let mut rows: Vec<usize> = (0..n).collect();
    // Partial Fisher-Yates: the first k slots end up a uniform k-subset.
    for j in 0..k {
        let r = j + rng.below(n - j);
        rows.swap(j, r);
    }
    rows.truncate(k);
    rows.sort_unstable();
    rows
}

impl BatchSource for BagSource {
    fn len(&self) -> usize {
        self.bags.len()
    }

    fn batch(&self, indices: &[usize]) -> Result<Batch> {
        self.assemble(indices, false, |_, n, k| evenly_spaced(n, k))
    }

    fn training_batch(&self, indices: &[usize], epoch: usize) -> Result<Batch> {
        self.assemble(indices, true, |bag, n, k| {
            let stream = self
                .seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add((epoch as u64) << 32)
                .wrapping_add(bag as u64);
            random_subset(n, k, &mut SplitMix64::new(stream))
        })
    }

    /// Validation sees every bag whole, whatever the training batch size.
    fn evaluation_batch_size(&self, _requested: usize) -> usize {
        1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bag(name: &str, rows: usize, label: usize) -> Bag {
        let features = Array2::from_shape_fn((rows, 3), |(r, c)| (r * 10 + c) as f32);
        Bag {
            name: name.into(),
            features,
            label,
        }
    }

    #[test]
    fn bags_of_a_batch_are_cut_to_the_smallest_and_the_cap() {
        let source = BagSource::new(vec![bag("a", 10, 0), bag("b", 4, 1)], None, 1).unwrap();
        let b = source.batch(&[0, 1]).unwrap();
        assert_eq!(b.inputs.shape(), &[2, 4, 3]);
        assert_eq!(b.targets, Targets::Classes(vec![0, 1]));
        // Bag a keeps rows 1, 3, 6, 8 (evenly spaced); b keeps all.
        let first: Vec<f32> = (0..4).map(|r| b.inputs[[0, r, 0]]).collect();
        assert_eq!(first, vec![10.0, 30.0, 60.0, 80.0]);
        assert_eq!(b.inputs[[1, 3, 2]], 32.0);
        // Alone, a bag keeps every patch; the cap applies to training only.
        assert_eq!(source.batch(&[0]).unwrap().inputs.shape(), &[1, 10, 3]);
        let capped = BagSource::new(vec![bag("a", 10, 0)], Some(5), 1).unwrap();
        assert_eq!(capped.batch(&[0]).unwrap().inputs.shape(), &[1, 10, 3]);
        let trained = capped.training_batch(&[0], 1).unwrap();
        assert_eq!(trained.inputs.shape(), &[1, 5, 3]);
    }

    #[test]
    fn training_subsets_are_distinct_rows_seeded_by_epoch() {
        let source = BagSource::new(vec![bag("a", 50, 0)], Some(8), 3).unwrap();
        let rows = |epoch| -> Vec<f32> {
            let b = source.training_batch(&[0], epoch).unwrap();
            (0..8).map(|r| b.inputs[[0, r, 0]]).collect()
        };
        let (e1, e2) = (rows(1), rows(2));
        assert_eq!(e1, rows(1), "an epoch replays exactly");
        assert_ne!(e1, e2, "another epoch draws other patches");
        for w in e1.windows(2) {
            assert!(w[0] < w[1], "distinct and sorted: {e1:?}");
        }
    }

    #[test]
    fn bad_bags_are_rejected() {
        assert!(BagSource::new(Vec::new(), None, 0).is_err());
        assert!(BagSource::new(vec![bag("a", 0, 0)], None, 0).is_err());
        let narrow = Bag {
            name: "n".into(),
            features: Array2::zeros((2, 2)),
            label: 0,
        };
        let err = BagSource::new(vec![bag("a", 2, 0), narrow], None, 0).unwrap_err();
        assert!(err.to_string().contains("features per patch"), "{err}");
        assert!(BagSource::new(vec![bag("a", 2, 0)], Some(0), 0).is_err());
        let s = BagSource::new(vec![bag("a", 2, 0)], None, 0).unwrap();
        assert!(s.batch(&[1]).is_err());
    }
}
