//! Every collective of `MpiWorld`, checked on every rank: run it as
//! `mpirun -np 2 target/debug/examples/mpi_collectives` (CI's MPI suite).
//! Exits 0 on every rank when all hold; a failed check panics, which ends
//! the job with that rank's message.

use exahealth_dist::{MpiWorld, World};

fn main() {
    let world = MpiWorld::init().expect("MPI initialises once");
    let (rank, size) = (world.rank(), world.size());
    assert!(rank < size);

    // All-reduce over a buffer longer than one chunk (4 Mi floats), sum
    // and mean, exact in f32 for these small integers.
    let n = (4 << 20) + 3;
    let mut values: Vec<f32> = (0..n).map(|i| (i % 7) as f32 + rank as f32).collect();
    world.all_reduce_sum(&mut values).unwrap();
    let ranks: f32 = (0..size).map(|r| r as f32).sum();
    for (i, v) in values.iter().enumerate().step_by(4099) {
        assert_eq!(*v, size as f32 * (i % 7) as f32 + ranks, "sum at {i}");
    }
    assert_eq!(values[n - 1], size as f32 * ((n - 1) % 7) as f32 + ranks);
    let mut mean = vec![rank as f32; 5];
    world.all_reduce_mean(&mut mean).unwrap();
    assert!(mean.iter().all(|&m| (m - ranks / size as f32).abs() < 1e-6));

    // Counts beyond f32's 2^24 stay exact; maxima; doubles.
    let mut counts = vec![(1u64 << 40) + rank as u64, 7];
    world.all_reduce_sum_u64(&mut counts).unwrap();
    assert_eq!(counts[0], (size as u64) * (1u64 << 40) + ranks as u64);
    assert_eq!(counts[1], 7 * size as u64);
    let mut most = [rank as u64, 3];
    world.all_reduce_max_u64(&mut most).unwrap();
    assert_eq!(most, [size as u64 - 1, 3]);
    let mut doubles = [0.1f64 * rank as f64];
    world.all_reduce_sum_f64(&mut doubles).unwrap();
    assert!((doubles[0] - 0.1 * f64::from(ranks)).abs() < 1e-12);

    // Broadcast of bytes whose length only the root knows.
    let mut bytes = if rank == 0 {
        b"plan of rank 0".to_vec()
    } else {
        Vec::new()
    };
    world.broadcast(0, &mut bytes).unwrap();
    assert_eq!(bytes, b"plan of rank 0");

    // Gather of a different length from every rank.
    let mine = vec![rank as u8; rank + 1];
    let gathered = world.gather(0, &mine).unwrap();
    if rank == 0 {
        let parts = gathered.expect("the root gets every part");
        assert_eq!(parts.len(), size);
        for (r, part) in parts.iter().enumerate() {
            assert_eq!(part, &vec![r as u8; r + 1], "part of rank {r}");
        }
    } else {
        assert!(gathered.is_none());
    }
    world.barrier().unwrap();
    println!("rank {rank} of {size}: all-reduce, mean, broadcast, gather and barrier hold");
}
