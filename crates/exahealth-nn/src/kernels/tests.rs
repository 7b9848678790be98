//! The fast path against Burn's own convolution: outputs and gradients.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Device, Distribution, Tensor};

use burn::module::{Param, RunningState};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig};
use burn::tensor::Tolerance;

use burn::nn::conv::ConvTranspose2dConfig;

use super::{batch_norm, conv2d, conv_transpose2d, fast_geometry, max_pool, transpose_geometry};

fn max_diff(a: Tensor<4>, b: Tensor<4>) -> f32 {
    (a - b).abs().max().into_scalar::<f32>()
}

fn modules(device: &Device) -> Vec<(Conv2d, [usize; 4])> {
    let conv = |cin: usize, cout: usize, k: [usize; 2]| Conv2dConfig::new([cin, cout], k);
    vec![
        (
            conv(3, 8, [3, 3])
                .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                .init(device),
            [4, 3, 12, 10],
        ),
        (
            conv(3, 6, [7, 7])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(3, 3, 3, 3))
                .with_bias(false)
                .init(device),
            [2, 3, 17, 15],
        ),
        (conv(5, 4, [1, 1]).init(device), [3, 5, 6, 7]),
        (
            conv(4, 3, [1, 1])
                .with_stride([2, 2])
                .with_bias(false)
                .init(device),
            [2, 4, 9, 8],
        ),
        // An even kernel with "same" padding pads asymmetrically.
        (
            conv(2, 3, [2, 2])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            [2, 2, 6, 5],
        ),
    ]
}

#[test]
fn forward_equals_burns_convolution() {
    let device = crate::cpu_device();
    for (module, dims) in modules(&device) {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        assert!(
            fast_geometry(&module, &x).is_some(),
            "the fast path applies to {dims:?}"
        );
        let d = max_diff(conv2d(&module, x.clone()), module.forward(x));
        assert!(d < 1e-4, "{dims:?}: {d}");
    }
}

/// Gradients of `sum(conv(x) * r)` with respect to the input, the weights
/// and the bias, through the fast path and through Burn's.
#[test]
fn gradients_equal_burns_convolution() {
    let device = crate::cpu_train_device();
    for (module, dims) in modules(&device) {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        assert!(
            fast_geometry(&module, &x).is_some(),
            "the fast path applies under autodiff"
        );
        let out_dims = module.forward(x.clone()).dims();
        let r = Tensor::<4>::random(out_dims, Distribution::Normal(0.0, 1.0), &device);
        let grads_of = |fast: bool| {
            let x = x.clone().detach().require_grad();
            let m = module.clone();
            let y = if fast {
                conv2d(&m, x.clone())
            } else {
                m.forward(x.clone())
            };
            let grads = (y * r.clone()).sum().backward();
            let gx = x.grad(&grads).expect("input gradient");
            let gw = m.weight.val().grad(&grads).expect("weight gradient");
            let gb = m
                .bias
                .as_ref()
                .map(|b| b.val().grad(&grads).expect("bias gradient"));
            (gx, gw, gb)
        };
        let (fx, fw, fb) = grads_of(true);
        let (bx, bw, bb) = grads_of(false);
        let dx = (fx - bx).abs().max().into_scalar::<f32>();
        let dw = max_diff(fw, bw);
        assert!(dx < 1e-3 && dw < 1e-3, "{dims:?}: input {dx}, weight {dw}");
        if let (Some(fb), Some(bb)) = (fb, bb) {
            let db = (fb - bb).abs().max().into_scalar::<f32>();
            assert!(db < 1e-3, "{dims:?}: bias {db}");
        }
    }
}

#[test]
fn grouped_and_dilated_convolutions_take_burns_path() {
    let device = crate::cpu_device();
    let x = Tensor::<4>::random([1, 4, 9, 9], Distribution::Default, &device);
    let grouped = Conv2dConfig::new([4, 4], [3, 3])
        .with_groups(2)
        .init(&device);
    let dilated = Conv2dConfig::new([4, 2], [3, 3])
        .with_dilation([2, 2])
        .init(&device);
    for module in [grouped, dilated] {
        assert!(fast_geometry(&module, &x).is_none());
        let d = max_diff(conv2d(&module, x.clone()), module.forward(x.clone()));
        assert_eq!(d, 0.0);
    }
}

fn pool() -> MaxPool2d {
    MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init()
}

/// ResNet's and DenseNet's stem pool.
fn stem_pool() -> MaxPool2d {
    MaxPool2dConfig::new([3, 3])
        .with_strides([2, 2])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init()
}

#[test]
fn stem_max_pool_and_its_gradient_equal_burns() {
    let device = crate::cpu_train_device();
    for dims in [[2, 3, 9, 8], [1, 2, 12, 12]] {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let r = Tensor::<4>::random(
            stem_pool().forward(x.clone()).dims(),
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let run = |fast: bool| {
            let x = x.clone().detach().require_grad();
            let y = if fast {
                max_pool(&stem_pool(), x.clone())
            } else {
                stem_pool().forward(x.clone())
            };
            let grads = (y.clone() * r.clone()).sum().backward();
            (y.inner(), x.grad(&grads).expect("input gradient"))
        };
        let ((fy, fg), (by, bg)) = (run(true), run(false));
        assert_eq!(max_diff(fy, by), 0.0, "{dims:?}");
        assert!(
            (fg - bg).abs().max().into_scalar::<f32>() < 1e-6,
            "{dims:?}"
        );
    }
}

#[test]
fn max_pool_equals_burns_pooling() {
    let device = crate::cpu_device();
    // Odd sizes: the last row or column is dropped, as Burn drops it.
    for dims in [[2, 3, 8, 6], [1, 2, 5, 7], [3, 1, 2, 2]] {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let fast = max_pool(&pool(), x.clone());
        let reference = pool().forward(x);
        assert_eq!(fast.dims(), reference.dims());
        assert_eq!(max_diff(fast, reference), 0.0, "{dims:?}");
    }
}

#[test]
fn max_pool_gradient_equals_burns() {
    let device = crate::cpu_train_device();
    for dims in [[2, 3, 8, 6], [1, 2, 5, 7]] {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let r = Tensor::<4>::random(
            pool().forward(x.clone()).dims(),
            Distribution::Normal(0.0, 1.0),
            &device,
        );
        let grad_of = |fast: bool| {
            let x = x.clone().detach().require_grad();
            let y = if fast {
                max_pool(&pool(), x.clone())
            } else {
                pool().forward(x.clone())
            };
            let grads = (y * r.clone()).sum().backward();
            x.grad(&grads).expect("input gradient")
        };
        let d = (grad_of(true) - grad_of(false))
            .abs()
            .max()
            .into_scalar::<f32>();
        assert_eq!(d, 0.0, "{dims:?}");
    }
}

/// A batch norm with non-trivial parameters and running statistics.
fn norm(channels: usize, device: &Device) -> BatchNorm {
    let mut norm = BatchNormConfig::new(channels).init(device);
    let param = |seed: f32| {
        let values: Vec<f32> = (0..channels).map(|c| 0.5 + seed * c as f32).collect();
        Tensor::<1>::from_floats(values.as_slice(), device)
    };
    norm.gamma = Param::from_tensor(param(0.3));
    norm.beta = Param::from_tensor(param(-0.2));
    norm.running_mean = RunningState::new(param(0.1));
    norm.running_var = RunningState::new(param(0.4));
    norm
}

#[test]
fn batch_norm_with_running_statistics_equals_burns() {
    let device = crate::cpu_device();
    let norm = norm(3, &device);
    let x = Tensor::<4>::random([2, 3, 5, 4], Distribution::Normal(1.0, 2.0), &device);
    let d = max_diff(batch_norm(&norm, x.clone()), norm.forward(x));
    assert!(d < 1e-5, "{d}");
}

#[test]
fn batch_norm_training_equals_burns_output_gradients_and_running_statistics() {
    let device = crate::cpu_train_device();
    let x = Tensor::<4>::random([3, 4, 5, 6], Distribution::Normal(2.0, 3.0), &device);
    let r = Tensor::<4>::random([3, 4, 5, 6], Distribution::Normal(0.0, 1.0), &device);
    let run = |fast: bool| {
        let norm = norm(4, &device);
        let x = x.clone().detach().require_grad();
        let y = if fast {
            batch_norm(&norm, x.clone())
        } else {
            norm.forward(x.clone())
        };
        let grads = (y.clone() * r.clone()).sum().backward();
        let gx = x.grad(&grads).expect("input gradient");
        let gg = norm.gamma.val().grad(&grads).expect("gamma gradient");
        let gb = norm.beta.val().grad(&grads).expect("beta gradient");
        let stats = (
            norm.running_mean.value().into_data(),
            norm.running_var.value().into_data(),
        );
        (y.inner(), gx, gg, gb, stats)
    };
    let (fy, fx, fg, fb, fs) = run(true);
    let (by, bx, bg, bb, bs) = run(false);
    assert!(max_diff(fy, by) < 1e-4);
    assert!((fx - bx).abs().max().into_scalar::<f32>() < 1e-4);
    assert!((fg - bg).abs().max().into_scalar::<f32>() < 1e-3);
    assert!((fb - bb).abs().max().into_scalar::<f32>() < 1e-3);
    fs.0.assert_approx_eq::<f32>(&bs.0, Tolerance::absolute(1e-5));
    fs.1.assert_approx_eq::<f32>(&bs.1, Tolerance::absolute(1e-4));
}

#[test]
fn strided_inputs_and_single_images_convolve_like_burn() {
    let device = crate::cpu_device();
    let module = Conv2dConfig::new([3, 4], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&device);
    // A transposed view: the kernels copy it to row-major order first.
    let x =
        Tensor::<4>::random([2, 3, 8, 11], Distribution::Normal(0.0, 1.0), &device).swap_dims(2, 3);
    assert!(max_diff(conv2d(&module, x.clone()), module.forward(x.clone())) < 1e-4);
    let one = x.narrow(0, 0, 1);
    assert!(max_diff(conv2d(&module, one.clone()), module.forward(one)) < 1e-4);
}

#[test]
fn transposed_convolutions_equal_burns_with_gradients() {
    let device = crate::cpu_train_device();
    let configs = [
        // U-Net's upsampling.
        (
            ConvTranspose2dConfig::new([4, 3], [2, 2]).with_stride([2, 2]),
            [2, 4, 5, 6],
        ),
        (
            ConvTranspose2dConfig::new([3, 2], [3, 3])
                .with_stride([2, 2])
                .with_padding([1, 1])
                .with_padding_out([1, 1]),
            [2, 3, 4, 5],
        ),
        // Output padding beyond the padding.
        (
            ConvTranspose2dConfig::new([2, 3], [3, 3])
                .with_stride([3, 3])
                .with_padding_out([2, 2])
                .with_bias(false),
            [1, 2, 3, 3],
        ),
    ];
    for (config, dims) in configs {
        let module = config.init(&device);
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        assert!(transpose_geometry(&module, &x).is_some(), "{dims:?}");
        let out_dims = module.forward(x.clone()).dims();
        let r = Tensor::<4>::random(out_dims, Distribution::Normal(0.0, 1.0), &device);
        let run = |fast: bool| {
            let x = x.clone().detach().require_grad();
            let m = module.clone();
            let y = if fast {
                conv_transpose2d(&m, x.clone())
            } else {
                m.forward(x.clone())
            };
            let grads = (y.clone() * r.clone()).sum().backward();
            let gx = x.grad(&grads).expect("input gradient");
            let gw = m.weight.val().grad(&grads).expect("weight gradient");
            (y.inner(), gx, gw)
        };
        let ((fy, fx, fw), (by, bx, bw)) = (run(true), run(false));
        assert_eq!(fy.dims(), by.dims());
        assert!(max_diff(fy, by) < 1e-4, "{dims:?}");
        assert!(
            (fx - bx).abs().max().into_scalar::<f32>() < 1e-4,
            "{dims:?}"
        );
        assert!(max_diff(fw, bw) < 1e-3, "{dims:?}");
    }
}
