//! Learning for real: the models reach high validation scores on generated
//! data with a learnable signal, through the public training loop.

mod common;

use exahealth_nn::loss::LossConfig;
use exahealth_nn::models::{AttentionMilConfig, ResNetConfig, SmallCnnConfig, UNetConfig};
use exahealth_nn::optim::{OptimizerConfig, OptimizerKind, Schedule};
use exahealth_nn::train::{Monitor, TrainConfig};
use exahealth_nn::{cpu_device, cpu_train_device};

#[test]
fn small_cnn_learns_shapes_to_95_percent() {
    let train_set = common::shapes(384, 32, 1);
    let valid_set = common::shapes(150, 32, 2);
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(3);
    let model = SmallCnnConfig::new().with_num_classes(3).init(&device);
    let config = TrainConfig {
        epochs: 6,
        batch_size: 16,
        lr: 3e-3,
        schedule: Schedule::Cosine { min_lr: 1e-4 },
        monitor: Monitor::ValAccuracy,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let (best, epoch) = outcome.best.unwrap();
    eprintln!("small CNN: best validation accuracy {best:.3} at epoch {epoch}");
    assert!(best >= 0.95, "validation accuracy {best}");
    // The returned model is the best one: re-evaluating it gives the same score.
    let eval =
        exahealth_nn::train::evaluate(&outcome.model, &valid_set, 32, &config.loss, &cpu_device())
            .unwrap();
    assert!((eval.accuracy.unwrap() - best).abs() < 1e-9);
}

#[test]
fn unet_segments_blobs_to_dice_0_9() {
    let train_set = common::blobs(192, 32, 5);
    let valid_set = common::blobs(64, 32, 6);
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(7);
    let model = UNetConfig::new()
        .with_in_channels(1)
        .with_num_classes(2)
        .with_depth(2)
        .with_base_channels(8)
        .init(&device)
        .unwrap();
    let config = TrainConfig {
        epochs: 8,
        batch_size: 16,
        lr: 1e-2,
        monitor: Monitor::ValDice,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let (best, epoch) = outcome.best.unwrap();
    eprintln!("U-Net: best validation Dice {best:.3} at epoch {epoch}");
    assert!(best >= 0.9, "validation Dice {best}");
}

#[test]
fn unet_trains_with_dice_loss() {
    let train_set = common::blobs(96, 16, 8);
    let valid_set = common::blobs(32, 16, 9);
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(1);
    let model = UNetConfig::new()
        .with_in_channels(1)
        .with_depth(1)
        .with_base_channels(8)
        .init(&device)
        .unwrap();
    let config = TrainConfig {
        epochs: 6,
        batch_size: 16,
        lr: 1e-2,
        loss: LossConfig::Dice { smooth: 1.0 },
        monitor: Monitor::ValDice,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let h = &outcome.history.epochs;
    assert!(h.last().unwrap().train_loss < h[0].train_loss);
    assert!(outcome.best.unwrap().0 > 0.8, "{:?}", outcome.best);
}

#[test]
fn attention_mil_finds_the_key_instance() {
    let (train_set, _) = common::bags(256, 8, 16, 11);
    let (valid_set, keys) = common::bags(64, 8, 16, 12);
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(2);
    let model = AttentionMilConfig::new()
        .with_in_features(16)
        .with_hidden(32)
        .with_attention(16)
        .init(&device);
    let config = TrainConfig {
        epochs: 15,
        batch_size: 16,
        lr: 3e-3,
        optimizer: OptimizerConfig {
            kind: OptimizerKind::AdamW,
            weight_decay: 1e-4,
            ..Default::default()
        },
        monitor: Monitor::ValAccuracy,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let (best, _) = outcome.best.unwrap();
    assert!(best >= 0.95, "MIL validation accuracy {best}");
    // In positive bags the attention should single out the key instance.
    use exahealth_nn::data::{to_tensor, BatchSource};
    let batch = valid_set.batch(&(0..64).collect::<Vec<_>>()).unwrap();
    let x = to_tensor::<3>(&batch.inputs, &cpu_device()).unwrap();
    let (_, attention) = outcome.model.forward_with_attention(x);
    let a = attention.into_data().try_into_vec_as::<f32>().unwrap();
    let mut hits = 0;
    let mut positives = 0;
    for b in (1..64).step_by(2) {
        positives += 1;
        let row = &a[b * 8..(b + 1) * 8];
        let top = (0..8).max_by(|&i, &j| row[i].total_cmp(&row[j])).unwrap();
        hits += usize::from(top == keys[b]);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
    assert!(
        hits * 10 >= positives * 9,
        "{hits}/{positives} key instances found"
    );
}

/// Slides as bags of unequal size (6 to 60 patches): a positive slide has
/// tumour patches (a fifth of them, at least one) carrying the signal.
fn slide_bags(n: usize, seed: u64) -> Vec<exahealth_nn::bags::Bag> {
    let mut rng = exahealth_nn::rng::SplitMix64::new(seed);
    (0..n)
        .map(|b| {
            let patches = 6 + rng.below(55);
            let mut features =
                ndarray::Array2::from_shape_fn((patches, 12), |_| 2.0 * rng.next_f32() - 1.0);
            let label = b % 2;
            if label == 1 {
                for _ in 0..(patches / 5).max(1) {
                    features[[rng.below(patches), 3]] = 2.5;
                }
            }
            exahealth_nn::bags::Bag {
                name: format!("slide{b}"),
                features,
                label,
            }
        })
        .collect()
}

#[test]
fn attention_mil_learns_from_slides_of_unequal_size() {
    use exahealth_nn::bags::BagSource;
    // Training batches of 4 bags cut to at most 16 patches; validation takes
    // each bag whole (the cap is for training steps only).
    let train_set = BagSource::new(slide_bags(160, 21), Some(16), 5).unwrap();
    let valid_set = BagSource::new(slide_bags(60, 22), Some(16), 5).unwrap();
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(4);
    let model = AttentionMilConfig::new()
        .with_in_features(12)
        .with_hidden(32)
        .with_attention(16)
        .init(&device);
    let config = TrainConfig {
        epochs: 12,
        batch_size: 4,
        lr: 3e-3,
        monitor: Monitor::ValAccuracy,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let (best, epoch) = outcome.best.unwrap();
    eprintln!("MIL on unequal bags: best validation accuracy {best:.3} at epoch {epoch}");
    assert!(best >= 0.95, "MIL validation accuracy {best}");
}

/// ResNet-18 (narrow, base width 16) on the shapes: about 20 seconds in the
/// dev profile on 2 cores.
#[test]
fn resnet18_learns_shapes_to_95_percent() {
    let train_set = common::shapes(384, 32, 21);
    let valid_set = common::shapes(150, 32, 22);
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(4);
    let model = ResNetConfig::new()
        .with_num_classes(3)
        .with_base_width(16)
        .init(&device)
        .unwrap();
    let config = TrainConfig {
        epochs: 10,
        batch_size: 16,
        lr: 2e-3,
        monitor: Monitor::ValAccuracy,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let (best, epoch) = outcome.best.unwrap();
    eprintln!("ResNet-18: best validation accuracy {best:.3} at epoch {epoch}");
    assert!(best >= 0.95, "validation accuracy {best}");
}

/// A narrow DenseNet (growth 8, two layers per block) on the shapes.
#[test]
fn densenet_learns_shapes_to_95_percent() {
    let train_set = common::shapes(384, 32, 1);
    let valid_set = common::shapes(150, 32, 2);
    let device = cpu_train_device();
    let _seeded = common::SEEDED.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(5);
    let model = exahealth_nn::models::DenseNetConfig::new()
        .with_num_classes(3)
        .with_growth_rate(8)
        .with_block_layers(vec![2, 2, 2, 2])
        .with_init_features(16)
        .init(&device)
        .unwrap();
    let config = TrainConfig {
        epochs: 10,
        batch_size: 16,
        lr: 3e-3,
        monitor: Monitor::ValAccuracy,
        ..Default::default()
    };
    let outcome = common::fit(model, &config, &train_set, &valid_set, &device);
    let (best, epoch) = outcome.best.unwrap();
    eprintln!("DenseNet: best validation accuracy {best:.3} at epoch {epoch}");
    assert!(best >= 0.95, "validation accuracy {best}");
}
