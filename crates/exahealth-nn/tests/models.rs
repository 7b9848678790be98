//! Model shapes and parameter counts against torchvision's published counts.

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use exahealth_nn::cpu_device;
use exahealth_nn::models::{
    Architecture, AttentionMilConfig, DenseNetConfig, ResNetConfig, SmallCnnConfig, UNetConfig,
    Vgg16Config,
};

#[test]
fn resnets_have_torchvisions_parameter_counts_and_shapes() {
    let device = cpu_device();
    // torchvision.models.resnet{18,34,50}(num_classes=1000) parameter
    // counts, plus Burn's running mean and variance (counted as parameters
    // here, buffers in PyTorch): two per batch-norm channel.
    let bn_channels = |blocks: [usize; 4], bottleneck: bool| -> usize {
        let mut total = 64;
        for (stage, &n) in blocks.iter().enumerate() {
            let planes = 64 << stage;
            let per_block = if bottleneck { planes * 6 } else { planes * 2 };
            let downsample = if bottleneck || stage > 0 {
                planes * if bottleneck { 4 } else { 1 }
            } else {
                0
            };
            total += n * per_block + downsample;
        }
        total
    };
    for (depth, params, blocks, bottleneck) in [
        (18, 11_689_512, [2, 2, 2, 2], false),
        (34, 21_797_672, [3, 4, 6, 3], false),
        (50, 25_557_032, [3, 4, 6, 3], true),
    ] {
        let m = ResNetConfig::new().with_depth(depth).init(&device).unwrap();
        let buffers = 2 * bn_channels(blocks, bottleneck);
        assert_eq!(m.num_params(), params + buffers, "ResNet-{depth}");
    }
    let m = ResNetConfig::new()
        .with_num_classes(5)
        .with_in_channels(1)
        .with_base_width(8)
        .init(&device)
        .unwrap()
        .valid();
    let x = Tensor::<4>::random([2, 1, 64, 48], Distribution::Default, &device);
    assert_eq!(m.forward(x).dims(), [2, 5]);
    assert!(ResNetConfig::new().with_depth(101).init(&device).is_err());
}

#[test]
fn densenet121_has_torchvisions_parameter_count_and_shapes() {
    let device = cpu_device();
    // torchvision.models.densenet121() has 7,978,856 parameters; Burn also
    // counts each batch norm's running mean and variance.
    let (growth, width) = (32, 128);
    let mut channels = 64;
    let mut bn_channels = 64;
    for (b, layers) in [6, 12, 24, 16].into_iter().enumerate() {
        for i in 0..layers {
            bn_channels += channels + i * growth + width;
        }
        channels += layers * growth;
        if b < 3 {
            bn_channels += channels;
            channels /= 2;
        }
    }
    bn_channels += channels;
    assert_eq!(channels, 1024);
    let m = DenseNetConfig::new().init(&device).unwrap();
    assert_eq!(m.num_params(), 7_978_856 + 2 * bn_channels);

    let small = DenseNetConfig::new()
        .with_growth_rate(8)
        .with_block_layers(vec![2, 3, 2, 2])
        .with_init_features(16)
        .with_num_classes(5)
        .init(&device)
        .unwrap()
        .valid();
    let x = Tensor::<4>::random([2, 3, 64, 48], Distribution::Default, &device);
    // 16 +2x8 = 32 -> 16, +3x8 = 40 -> 20, +2x8 = 36 -> 18, +2x8 = 34.
    assert_eq!(small.features(x.clone()).dims(), [2, 34]);
    assert_eq!(small.forward(x).dims(), [2, 5]);
    for bad in [vec![6, 12, 24], vec![6, 0, 24, 16]] {
        assert!(DenseNetConfig::new()
            .with_block_layers(bad)
            .init(&device)
            .is_err());
    }
}

#[test]
fn vgg16_has_torchvisions_parameter_count() {
    let device = cpu_device();
    // torchvision.models.vgg16() has 138,357,544 parameters.
    assert_eq!(Vgg16Config::new().init(&device).num_params(), 138_357_544);
    let m = Vgg16Config::new()
        .with_base_width(4)
        .with_hidden(16)
        .with_num_classes(3)
        .init(&device)
        .valid();
    let x = Tensor::<4>::random([1, 3, 32, 32], Distribution::Default, &device);
    assert_eq!(m.forward(x).dims(), [1, 3]);
}

#[test]
fn small_cnn_matches_the_benchmark_definition() {
    let device = cpu_device();
    let m = SmallCnnConfig::new().init(&device);
    // 3*32*9+32 + 32*32*9+32 + 32*64*9+64 + 64*64*9+64 + 64*2+2
    assert_eq!(m.num_params(), 896 + 9248 + 18496 + 36928 + 130);
    let x = Tensor::<4>::random([3, 3, 40, 40], Distribution::Default, &device);
    assert_eq!(m.forward(x).dims(), [3, 2]);
}

#[test]
fn unet_keeps_the_input_size_and_checks_it() {
    let device = cpu_device();
    let m = UNetConfig::new()
        .with_in_channels(1)
        .with_num_classes(3)
        .with_depth(3)
        .with_base_channels(4)
        .init(&device)
        .unwrap()
        .valid();
    let x = Tensor::<4>::random([2, 1, 32, 24], Distribution::Default, &device);
    assert_eq!(m.forward(x).dims(), [2, 3, 32, 24]);
    assert!(m.check_input(32, 24).is_ok());
    assert!(m.check_input(30, 24).is_err());
    assert!(UNetConfig::new().with_depth(0).init(&device).is_err());
}

#[test]
fn mil_attention_is_a_distribution_over_instances() {
    let device = cpu_device();
    let m = AttentionMilConfig::new()
        .with_in_features(10)
        .with_num_classes(4)
        .init(&device);
    let x = Tensor::<3>::random([3, 7, 10], Distribution::Default, &device);
    let (logits, attention) = m.forward_with_attention(x);
    assert_eq!(logits.dims(), [3, 4]);
    assert_eq!(attention.dims(), [3, 7]);
    let sums = attention
        .sum_dim(1)
        .into_data()
        .try_into_vec_as::<f32>()
        .unwrap();
    for s in sums {
        assert!((s - 1.0).abs() < 1e-5);
    }
}

#[test]
fn architectures_round_trip_through_json_and_build_by_name() {
    let device = cpu_device();
    for name in [
        "small-cnn",
        "resnet18",
        "resnet50",
        "vgg16",
        "densenet121",
        "unet",
        "attention-mil",
    ] {
        let arch = Architecture::from_name(name, 3, 4).unwrap();
        let json = serde_json::to_string(&arch).unwrap();
        let back: Architecture = serde_json::from_str(&json).unwrap();
        assert_eq!(back.num_classes(), 4, "{json}");
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
    let arch = Architecture::from_name("small-cnn", 1, 2).unwrap();
    assert!(arch.init(&device).is_ok());
    assert!(Architecture::from_name("alexnet", 3, 2).is_err());
}
