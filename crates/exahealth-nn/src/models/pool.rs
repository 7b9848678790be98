//! 2x2 max-pooling that picks its implementation by what the pass needs.
//!
//! On the Flex CPU backend, Burn's `MaxPool2d` runs through the general 3-D
//! pooling and records argmax indices for the backward pass. Without
//! autodiff nothing needs them, and a reshape to `[n, c, h/2, 2, w/2, 2]`
//! with two `max_dim`s is about 30% faster for the small CNN's inference;
//! with autodiff it is slower (`max_dim`'s backward), so training keeps the
//! module. The device says which pass this is: inference runs on a device
//! without autodiff.

use burn::nn::pool::MaxPool2d;
use burn::tensor::Tensor;

/// `pool` (a 2x2, stride-2 max-pool) applied to `x`.
pub(crate) fn max_pool_2x2(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    debug_assert!(pool.kernel_size == [2, 2] && pool.stride == [2, 2]);
    let [n, c, h, w] = x.dims();
    if x.device().is_autodiff() || h % 2 != 0 || w % 2 != 0 {
        return pool.forward(x);
    }
    x.reshape([n, c, h / 2, 2, w / 2, 2])
        .max_dim(5)
        .max_dim(3)
        .reshape([n, c, h / 2, w / 2])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::pool::MaxPool2dConfig;
    use burn::tensor::Distribution;

    #[test]
    fn the_reshape_path_equals_burns_pooling() {
        let device = crate::cpu_device();
        // Inference device: the reshape path is the one under test.
        assert!(!device.is_autodiff());
        let pool = MaxPool2dConfig::new([2, 2]).with_strides([2, 2]).init();
        for dims in [[2, 3, 8, 6], [1, 2, 4, 10]] {
            let x = Tensor::<4>::random(dims, Distribution::Default, &device);
            let fast = max_pool_2x2(&pool, x.clone());
            let reference = pool.forward(x);
            assert_eq!(fast.dims(), reference.dims());
            let d = (fast - reference).abs().max().into_scalar::<f32>();
            assert_eq!(d, 0.0);
        }
    }
}
