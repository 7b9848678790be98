//! Model shapes and parameter counts against torchvision's published counts.

use burn::module::Module;
use burn::tensor::{Distribution, Tensor};
use exahealth_nn::cpu_device;
use exahealth_nn::models::{
    Architecture, AttentionMilConfig, ResNetConfig, SmallCnnConfig, UNetConfig, Vgg16Config,
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
