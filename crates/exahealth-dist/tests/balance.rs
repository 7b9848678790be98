//! Slides split by size: every slide in exactly one shard, the shards'
//! totals within Graham's 4/3 of the best split, and the same split in
//! every process.

use exahealth_dist::balance::{assign, items_of, loads};
use exahealth_dist::Shard;

fn shard(index: usize, count: usize) -> Shard {
    Shard {
        index,
        ..Shard::parse(&format!("{index}/{count}")).unwrap()
    }
}

#[test]
fn one_whole_slide_does_not_share_a_shard_with_the_biopsies() {
    // A 100k x 100k slide (about 4 GB) and ten biopsies of 40 MB.
    let mut weights = vec![4_000_000_000u64];
    weights.extend([40_000_000u64; 10]);
    let big = items_of(&weights, shard(0, 2));
    let small = items_of(&weights, shard(1, 2));
    assert_eq!(big, [0]);
    assert_eq!(small, (1..=10).collect::<Vec<_>>());
}

#[test]
fn every_item_lands_in_one_shard_in_listed_order() {
    let weights: Vec<u64> = (0..37).map(|i| (i * 7919 % 101) as u64 + 1).collect();
    for count in 1..6 {
        let mut seen = vec![0; weights.len()];
        for i in 0..count {
            let items = items_of(&weights, shard(i, count));
            assert!(items.windows(2).all(|w| w[0] < w[1]), "order kept");
            for j in items {
                seen[j] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{count}: {seen:?}");
        assert_eq!(assign(&weights, count), assign(&weights, count));
    }
}

/// The best split of a small list, by trying every assignment.
fn best_makespan(weights: &[u64], count: usize) -> u64 {
    let mut best = u64::MAX;
    let total = count.pow(weights.len() as u32);
    for code in 0..total {
        let mut load = vec![0u64; count];
        let mut c = code;
        for &w in weights {
            load[c % count] += w;
            c /= count;
        }
        best = best.min(*load.iter().max().unwrap());
    }
    best
}

#[test]
fn the_largest_shard_is_within_four_thirds_of_the_best() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..200 {
        let n = 1 + (next() % 8) as usize;
        let count = 1 + (next() % 3) as usize;
        let weights: Vec<u64> = (0..n).map(|_| 1 + next() % 1000).collect();
        let worst = *loads(&weights, count).iter().max().unwrap();
        let best = best_makespan(&weights, count);
        assert!(
            3 * worst <= 4 * best,
            "{weights:?} over {count}: {worst} vs best {best}"
        );
        assert_eq!(
            loads(&weights, count).iter().sum::<u64>(),
            weights.iter().sum()
        );
    }
}
