//! Work split by size: items (slides) go to shards so that every shard
//! gets about the same total weight (bytes, pixels), whatever the count.
//!
//! The rule is the longest-processing-time heuristic: items from the
//! heaviest down, each to the shard with the least weight so far (ties to
//! the lower shard; equal items keep their order). Every process computes
//! the same split from the same list, so no process needs to tell another
//! what it does. Its largest shard is at most 4/3 of the best possible
//! (Graham's bound), and never lighter than the heaviest single item.

use crate::Shard;

/// The shard of every item: `result[i]` is the shard of `weights[i]`.
pub fn assign(weights: &[u64], count: usize) -> Vec<usize> {
    let count = count.max(1);
    let mut order: Vec<usize> = (0..weights.len()).collect();
    // Stable: equal weights keep the order they were listed in.
    order.sort_by(|&a, &b| weights[b].cmp(&weights[a]));
    let mut load = vec![0u64; count];
    let mut shard_of = vec![0usize; weights.len()];
    for i in order {
        let lightest = (0..count).min_by_key(|&s| (load[s], s)).unwrap_or(0);
        load[lightest] = load[lightest].saturating_add(weights[i]);
        shard_of[i] = lightest;
    }
    shard_of
}

/// The items of `shard`, in the order they were listed.
pub fn items_of(weights: &[u64], shard: Shard) -> Vec<usize> {
    assign(weights, shard.count)
        .into_iter()
        .enumerate()
        .filter(|&(_, s)| s == shard.index)
        .map(|(i, _)| i)
        .collect()
}

/// The total weight of each shard under [`assign`].
pub fn loads(weights: &[u64], count: usize) -> Vec<u64> {
    let mut load = vec![0u64; count.max(1)];
    for (i, s) in assign(weights, count).into_iter().enumerate() {
        load[s] = load[s].saturating_add(weights[i]);
    }
    load
}
