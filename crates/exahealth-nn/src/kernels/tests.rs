//! The fast path against Burn's own convolution: outputs and gradients.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::tensor::{Device, Distribution, Tensor};

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};

use super::{conv2d, fast_geometry, max_pool_2x2};

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

#[test]
fn max_pool_equals_burns_pooling() {
    let device = crate::cpu_device();
    // Odd sizes: the last row or column is dropped, as Burn drops it.
    for dims in [[2, 3, 8, 6], [1, 2, 5, 7], [3, 1, 2, 2]] {
        let x = Tensor::<4>::random(dims, Distribution::Normal(0.0, 1.0), &device);
        let fast = max_pool_2x2(&pool(), x.clone());
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
                max_pool_2x2(&pool(), x.clone())
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
