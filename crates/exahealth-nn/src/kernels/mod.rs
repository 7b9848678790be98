//! Convolution, transposed convolution, max-pooling and batch norm through
//! exahealth-kernels on the Flex CPU backend, as a Burn backend extension.
//!
//! Burn's Flex backend convolves and pools 2-D data through its general
//! 3-D paths and composes batch norm from a dozen tensor operations; on
//! the small CNN about half of the convolution time was index arithmetic
//! and copies around the GEMM (profile in `docs/benchmarks.md`).
//! [`conv2d`], [`conv_transpose2d`], [`max_pool`] and [`batch_norm`] run
//! the Burn modules' parameters through `exahealth_kernels` instead, each
//! with its own backward pass under autodiff. Anything the kernels do not
//! cover (other devices, groups, dilation, non-f32 data, ceil-mode or
//! asymmetric pooling, a frozen batch norm under autodiff) takes the
//! module's own `forward`, so models call these unconditionally.

mod autodiff;
mod backend;

use burn::backend::Dispatch;
use burn::nn::conv::{Conv2d, ConvTranspose2d};
use burn::nn::pool::MaxPool2d;
use burn::nn::BatchNorm;
use burn::nn::PaddingConfig2d;
use burn::tensor::{DType, Tensor};
use std::sync::atomic::{AtomicBool, Ordering};

use exahealth_kernels::{ConvGeometry, PoolGeometry};

use backend::KernelBackend;

static OWN_KERNELS: AtomicBool = AtomicBool::new(true);

/// Whether the models run exahealth-kernels' layers on the Flex device
/// (the default) or Burn's own, e.g. to measure what the kernels gain
/// (`exahealth bench train --burn-layers`). Process-wide.
pub fn set_own_kernels(enabled: bool) {
    OWN_KERNELS.store(enabled, Ordering::Relaxed);
}

/// See [`set_own_kernels`].
pub fn own_kernels() -> bool {
    OWN_KERNELS.load(Ordering::Relaxed)
}

/// Whether the kernels may run on `device`.
fn kernels_apply(device: &burn::tensor::Device) -> bool {
    own_kernels() && backend::is_flex(device)
}

/// `module.forward(x)`, through the fast kernels where they apply.
pub(crate) fn conv2d(module: &Conv2d, x: Tensor<4>) -> Tensor<4> {
    let Some(geometry) = fast_geometry(module, &x) else {
        return module.forward(x);
    };
    let weight = module.weight.val();
    let out = <Dispatch as KernelBackend>::exa_conv2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        geometry,
    );
    let out = Tensor::<4>::from_dispatch(out);
    match &module.bias {
        Some(bias) => out + bias.val().reshape([1, geometry.out_channels as i32, 1, 1]),
        None => out,
    }
}

/// `pool.forward(x)` for a max-pool without dilation or ceiling mode;
/// 2x2 at stride 2 has a kernel of its own.
pub(crate) fn max_pool(pool: &MaxPool2d, x: Tensor<4>) -> Tensor<4> {
    let plain = pool.dilation == [1, 1] && !pool.ceil_mode;
    if !plain || x.dtype() != DType::F32 || !kernels_apply(&x.device()) {
        return pool.forward(x);
    }
    let pad = match pool.padding {
        PaddingConfig2d::Valid => [0, 0],
        PaddingConfig2d::Explicit(top, left, bottom, right) if top == bottom && left == right => {
            [top, left]
        }
        _ => return pool.forward(x),
    };
    if pool.kernel_size == [2, 2] && pool.stride == [2, 2] && pad == [0, 0] {
        return Tensor::from_dispatch(<Dispatch as KernelBackend>::exa_max_pool_2x2(
            x.into_dispatch(),
        ));
    }
    let [n, c, h, w] = x.dims();
    match PoolGeometry::new(n * c, [h, w], pool.kernel_size, pool.stride, pad) {
        Ok(geometry) => Tensor::from_dispatch(<Dispatch as KernelBackend>::exa_max_pool2d(
            x.into_dispatch(),
            geometry,
        )),
        Err(_) => pool.forward(x),
    }
}

/// `norm.forward(x)`: batch statistics (and a running-statistics update)
/// when training, running statistics otherwise, as Burn's `BatchNorm`
/// decides.
pub(crate) fn batch_norm<const D: usize>(norm: &BatchNorm, x: Tensor<D>) -> Tensor<D> {
    let device = x.device();
    let f32_parameters = [norm.gamma.dtype(), norm.beta.dtype()] == [DType::F32; 2];
    let empty = x.shape().num_elements() == 0;
    if x.dtype() != DType::F32 || !f32_parameters || empty || !kernels_apply(&device) {
        return norm.forward(x);
    }
    let training = device.is_autodiff() && norm.training.is_enabled();
    if !training {
        if device.is_autodiff() {
            // A frozen layer under autodiff: gradients still flow through
            // it, which the fused pass does not record.
            return norm.forward(x);
        }
        let out = <Dispatch as KernelBackend>::exa_batch_norm(
            x.into_dispatch(),
            norm.gamma.val().into_dispatch(),
            norm.beta.val().into_dispatch(),
            norm.running_mean.value().into_dispatch(),
            norm.running_var.value().into_dispatch(),
            norm.epsilon,
        );
        return Tensor::from_dispatch(out);
    }
    let (out, mean, variance) = <Dispatch as KernelBackend>::exa_batch_norm_train(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        norm.beta.val().into_dispatch(),
        norm.epsilon,
    );
    let (mean, variance) = (
        Tensor::<1>::from_dispatch(mean),
        Tensor::<1>::from_dispatch(variance),
    );
    let momentum = norm.momentum;
    let running_mean = norm.running_mean.value_sync().to_device(&device);
    let running_var = norm.running_var.value_sync().to_device(&device);
    let running_mean = running_mean
        .mul_scalar(1.0 - momentum)
        .add(mean.detach().mul_scalar(momentum));
    let running_var = running_var
        .mul_scalar(1.0 - momentum)
        .add(variance.detach().mul_scalar(momentum));
    norm.running_mean.update(running_mean.detach());
    norm.running_var.update(running_var.detach());
    Tensor::from_dispatch(out)
}

/// `module.forward(x)` for a transposed convolution: the input gradient of
/// the convolution it transposes, through the same kernels.
pub(crate) fn conv_transpose2d(module: &ConvTranspose2d, x: Tensor<4>) -> Tensor<4> {
    let Some(geometry) = transpose_geometry(module, &x) else {
        return module.forward(x);
    };
    let weight = module.weight.val();
    let out = <Dispatch as KernelBackend>::exa_conv_transpose2d(
        x.into_dispatch(),
        weight.into_dispatch(),
        geometry,
    );
    let out = Tensor::<4>::from_dispatch(out);
    match &module.bias {
        Some(bias) => out + bias.val().reshape([1, geometry.in_channels as i32, 1, 1]),
        None => out,
    }
}

/// The convolution that `module` transposes, as seen from its output:
/// `in_*` describe the transposed convolution's output, `out_*` its input.
fn transpose_geometry(module: &ConvTranspose2d, x: &Tensor<4>) -> Option<ConvGeometry> {
    if module.groups != 1 || module.dilation != [1, 1] || x.dtype() != DType::F32 {
        return None;
    }
    if !kernels_apply(&x.device()) || module.weight.dtype() != DType::F32 {
        return None;
    }
    let [cin, cout, kh, kw] = module.weight.shape().dims::<4>();
    let [batch, channels, h, w] = x.dims();
    if channels != cin {
        return None;
    }
    let (k, s, p, po) = ([kh, kw], module.stride, module.padding, module.padding_out);
    // (in - 1) * stride - 2 * padding + kernel + padding_out, per axis.
    let out = [0, 1].map(|d| {
        let size = [h, w][d];
        ((size - 1) * s[d] + k[d] + po[d]).checked_sub(2 * p[d])
    });
    let [Some(oh), Some(ow)] = out else {
        return None;
    };
    let pad = [0, 1].map(|d| (p[d], p[d].saturating_sub(po[d])));
    let geometry = ConvGeometry::new(batch, cout, [oh, ow], cin, k, s, pad).ok()?;
    (geometry.out_size == [h, w]).then_some(geometry)
}

/// The kernels' geometry for `module` on `x`, or `None` where Burn's own
/// convolution must run.
fn fast_geometry(module: &Conv2d, x: &Tensor<4>) -> Option<ConvGeometry> {
    if module.groups != 1 || module.dilation != [1, 1] || x.dtype() != DType::F32 {
        return None;
    }
    if !kernels_apply(&x.device()) {
        return None;
    }
    let weight_dims = module.weight.shape().dims::<4>();
    let [batch, channels, h, w] = x.dims();
    if weight_dims[1] != channels || module.weight.dtype() != DType::F32 {
        return None;
    }
    let pad = padding(&module.padding, [h, w], module.kernel_size, module.stride);
    ConvGeometry::new(
        batch,
        channels,
        [h, w],
        weight_dims[0],
        module.kernel_size,
        module.stride,
        pad,
    )
    .ok()
}

/// `(before, after)` padding per axis, as Burn's `Conv2d` pads: `Same`
/// pads the total `(ceil(in / stride) - 1) * stride + kernel - in`, the
/// smaller half first.
fn padding(
    config: &PaddingConfig2d,
    size: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
) -> [(usize, usize); 2] {
    match *config {
        PaddingConfig2d::Valid => [(0, 0); 2],
        PaddingConfig2d::Explicit(top, left, bottom, right) => [(top, bottom), (left, right)],
        PaddingConfig2d::Same => [0, 1].map(|d| {
            let needed = (size[d].div_ceil(stride[d]).max(1) - 1) * stride[d] + kernel[d];
            let total = needed.saturating_sub(size[d]);
            (total / 2, total - total / 2)
        }),
    }
}

#[cfg(test)]
mod tests;
