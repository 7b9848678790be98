//! Generated data sets with a learnable signal.
#![allow(dead_code)]

use exahealth_nn::data::{InMemory, Targets};
use exahealth_nn::rng::SplitMix64;
use ndarray::{Array3, Array4};

fn noise(rng: &mut SplitMix64, amplitude: f32) -> f32 {
    (rng.next_f32() - 0.5) * 2.0 * amplitude
}

/// 3-class shapes on `size x size` RGB images: 0 a horizontal bar, 1 a
/// vertical bar, 2 a filled disk; random position, length, colour and noise.
pub fn shapes(n: usize, size: usize, seed: u64) -> InMemory {
    let mut rng = SplitMix64::new(seed);
    let mut images = Array4::<f32>::zeros((n, 3, size, size));
    let mut labels = Vec::with_capacity(n);
    let s = size as f32;
    for i in 0..n {
        let class = i % 3;
        labels.push(class);
        let colour = [
            0.5 + 0.5 * rng.next_f32(),
            0.5 + 0.5 * rng.next_f32(),
            0.5 + 0.5 * rng.next_f32(),
        ];
        let cx = s * (0.3 + 0.4 * rng.next_f32());
        let cy = s * (0.3 + 0.4 * rng.next_f32());
        let long = s * (0.25 + 0.15 * rng.next_f32());
        let thick = s * (0.06 + 0.04 * rng.next_f32());
        let radius = s * (0.12 + 0.1 * rng.next_f32());
        for y in 0..size {
            for x in 0..size {
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                let inside = match class {
                    0 => dx.abs() < long && dy.abs() < thick,
                    1 => dy.abs() < long && dx.abs() < thick,
                    _ => dx * dx + dy * dy < radius * radius,
                };
                for c in 0..3 {
                    let v = if inside { colour[c] } else { 0.0 };
                    images[[i, c, y, x]] = v + noise(&mut rng, 0.1);
                }
            }
        }
    }
    InMemory::new(images.into_dyn(), Targets::Classes(labels)).unwrap()
}

/// Grey images with 1 to 3 bright disks on a dim, noisy background; the
/// mask marks the disks (class 1).
pub fn blobs(n: usize, size: usize, seed: u64) -> InMemory {
    let mut rng = SplitMix64::new(seed);
    let mut images = Array4::<f32>::zeros((n, 1, size, size));
    let mut masks = Array3::<u8>::zeros((n, size, size));
    let s = size as f32;
    for i in 0..n {
        let count = 1 + rng.below(3);
        let disks: Vec<(f32, f32, f32)> = (0..count)
            .map(|_| {
                (
                    s * rng.next_f32(),
                    s * rng.next_f32(),
                    s * (0.08 + 0.12 * rng.next_f32()),
                )
            })
            .collect();
        for y in 0..size {
            for x in 0..size {
                let inside = disks.iter().any(|&(cx, cy, r)| {
                    let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                    dx * dx + dy * dy < r * r
                });
                masks[[i, y, x]] = u8::from(inside);
                images[[i, 0, y, x]] = if inside { 0.8 } else { 0.2 } + noise(&mut rng, 0.15);
            }
        }
    }
    InMemory::new(images.into_dyn(), Targets::Masks(masks)).unwrap()
}

/// MIL bags of `instances` feature vectors; a bag is positive (class 1)
/// when one of its instances carries the key signal in feature 0.
pub fn bags(n: usize, instances: usize, features: usize, seed: u64) -> (InMemory, Vec<usize>) {
    let mut rng = SplitMix64::new(seed);
    let mut x = ndarray::Array3::<f32>::zeros((n, instances, features));
    let mut labels = Vec::with_capacity(n);
    let mut keys = Vec::with_capacity(n);
    for b in 0..n {
        for k in 0..instances {
            for f in 0..features {
                x[[b, k, f]] = noise(&mut rng, 1.0);
            }
        }
        let positive = b % 2;
        labels.push(positive);
        let key = rng.below(instances);
        keys.push(key);
        if positive == 1 {
            x[[b, key, 0]] = 3.0;
        }
    }
    (
        InMemory::new(x.into_dyn(), Targets::Classes(labels)).unwrap(),
        keys,
    )
}

/// Burn's seed is global: a test holds this while it seeds, initialises and
/// trains, so parallel tests cannot change each other's random draws.
#[allow(dead_code)] // not every test binary that includes `common` trains
pub static SEEDED: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Trains `model` on `train`, validating on `valid` each epoch, with no
/// output folder and no events.
#[allow(dead_code)] // not every test binary that includes `common` trains
pub fn fit<M: exahealth_nn::models::Model>(
    model: M,
    config: &exahealth_nn::train::TrainConfig,
    train: &dyn exahealth_nn::data::BatchSource,
    valid: &dyn exahealth_nn::data::BatchSource,
    device: &burn::tensor::Device,
) -> exahealth_nn::train::TrainOutcome<M> {
    let run = exahealth_nn::train::Run {
        train,
        valid: Some(valid),
        out_dir: None,
        resume: false,
    };
    exahealth_nn::train::train(model, config, run, device, &mut |_| {}).unwrap()
}
