//! The backend extension: the forward passes on Flex tensors.

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, DispatchDevice, Flex, TensorMetadata};
use burn::tensor::{Device, Shape, TensorData};
use burn_flex::FlexTensor;
use exahealth_kernels::{ConvGeometry, NormShape, PoolGeometry};

/// Operations run by exahealth-kernels. Implemented for Flex and for
/// autodiff over Flex.
#[backend_extension(Flex, Autodiff)]
pub(crate) trait KernelBackend: Backend {
    /// A convolution without bias (the caller adds it).
    fn exa_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self>;
    /// A transposed convolution without bias: the input gradient of the
    /// convolution `geometry` describes, with `x` in the place of that
    /// convolution's output gradient.
    fn exa_conv_transpose2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self>;
    /// A 2x2 max-pool at stride 2 over `[n, c, h, w]`.
    fn exa_max_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;
    /// A max-pool of any kernel, stride and padding over `[n, c, h, w]`
    /// (`geometry.planes` is `n * c`).
    fn exa_max_pool2d(x: FloatTensor<Self>, geometry: PoolGeometry) -> FloatTensor<Self>;
    /// Batch normalisation with given (running) statistics.
    fn exa_batch_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self>;
    /// Batch normalisation with the batch's own statistics: the output,
    /// the mean and the biased variance (Burn's `batch_norm_train`).
    fn exa_batch_norm_train(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

impl KernelBackend for Flex {
    fn exa_conv2d(x: FlexTensor, weight: FlexTensor, geometry: ConvGeometry) -> FlexTensor {
        let out = with_f32(&x, |x| {
            with_f32(&weight, |w| exahealth_kernels::conv2d(x, w, &geometry))
        });
        from_vec(out, geometry.output_shape())
    }

    fn exa_conv_transpose2d(
        x: FlexTensor,
        weight: FlexTensor,
        geometry: ConvGeometry,
    ) -> FlexTensor {
        let out = with_f32(&weight, |w| {
            with_f32(&x, |x| {
                exahealth_kernels::conv2d_input_grad(w, x, &geometry)
            })
        });
        from_vec(out, geometry.input_shape())
    }

    fn exa_max_pool_2x2(x: FlexTensor) -> FlexTensor {
        let [n, c, h, w] = dims4(&x);
        let out = with_f32(&x, |x| exahealth_kernels::max_pool_2x2(x, n * c, [h, w]));
        from_vec(out, Shape::new([n, c, h / 2, w / 2]))
    }

    fn exa_max_pool2d(x: FlexTensor, geometry: PoolGeometry) -> FlexTensor {
        let [n, c, _, _] = dims4(&x);
        let out = with_f32(&x, |x| exahealth_kernels::max_pool2d(x, &geometry));
        let [oh, ow] = geometry.out_size;
        from_vec(out, Shape::new([n, c, oh, ow]))
    }

    fn exa_batch_norm(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        mean: FlexTensor,
        variance: FlexTensor,
        epsilon: f64,
    ) -> FlexTensor {
        let shape = norm_shape(&x);
        let (scale, shift) = exahealth_kernels::norm_affine(
            &to_vec(&gamma),
            &to_vec(&beta),
            &to_vec(&mean),
            &to_vec(&variance),
            epsilon,
        );
        let out = with_f32(&x, |x| {
            exahealth_kernels::channel_affine(x, shape, &scale, &shift)
        });
        from_vec(out, x.shape())
    }

    fn exa_batch_norm_train(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let shape = norm_shape(&x);
        let stats = with_f32(&x, |x| exahealth_kernels::batch_norm_stats(x, shape));
        let (mean, variance) = stats.unwrap_or_else(|e| panic!("batch norm kernel: {e}"));
        let (scale, shift) = with_f32(&gamma, |g| {
            with_f32(&beta, |b| {
                exahealth_kernels::norm_affine(g, b, &mean, &variance, epsilon)
            })
        });
        let out = with_f32(&x, |x| {
            exahealth_kernels::channel_affine(x, shape, &scale, &shift)
        });
        let channels = Shape::new([shape.channels]);
        (
            from_vec(out, x.shape()),
            from_vec(Ok(mean), channels.clone()),
            from_vec(Ok(variance), channels),
        )
    }
}

/// `[batch, channels, everything else]` of a batch-normalised tensor.
pub(super) fn norm_shape(x: &FlexTensor) -> NormShape {
    let shape = x.shape();
    let (batch, channels) = (shape[0], shape[1]);
    NormShape {
        batch,
        channels,
        pixels: shape.num_elements() / (batch * channels).max(1),
    }
}

/// The dimensions of a 4-D tensor (the pooling callers pass `Tensor<4>`).
pub(super) fn dims4(x: &FlexTensor) -> [usize; 4] {
    let shape = x.shape();
    [shape[0], shape[1], shape[2], shape[3]]
}

/// Whether `device` is the Flex CPU device, with or without autodiff.
pub(super) fn is_flex(device: &Device) -> bool {
    matches!(
        device.clone().without_autodiff().as_dispatch(),
        DispatchDevice::Flex(_)
    )
}

/// Runs `f` on the tensor's elements in row-major order.
pub(super) fn with_f32<R>(tensor: &FlexTensor, f: impl FnOnce(&[f32]) -> R) -> R {
    match tensor.as_slice::<f32>() {
        Some(data) => f(data),
        None => {
            let contiguous = tensor.to_contiguous();
            // The wrappers in `kernels` admit f32 tensors only, and a
            // contiguous f32 tensor always has a slice.
            f(contiguous
                .as_slice::<f32>()
                .expect("a contiguous f32 tensor"))
        }
    }
}

/// A small tensor's elements (per-channel parameters).
fn to_vec(tensor: &FlexTensor) -> Vec<f32> {
    with_f32(tensor, <[f32]>::to_vec)
}

/// A kernel's output as a Flex tensor. The kernels fail only on lengths
/// that disagree with the geometry, which `fast_geometry` derived from
/// these very tensors: an error here is a bug, not bad input.
pub(super) fn from_vec(
    data: Result<Vec<f32>, exahealth_kernels::KernelError>,
    shape: Shape,
) -> FlexTensor {
    let data = data.unwrap_or_else(|e| panic!("convolution kernel: {e}"));
    FlexTensor::from_data(TensorData::new(data, shape))
}

/// Shapes of the kernels' outputs, as Burn shapes.
pub(super) trait GeometryShapes {
    fn input_shape(&self) -> Shape;
    fn output_shape(&self) -> Shape;
    fn weight_shape(&self) -> Shape;
}

impl GeometryShapes for ConvGeometry {
    fn input_shape(&self) -> Shape {
        Shape::new([
            self.batch,
            self.in_channels,
            self.in_size[0],
            self.in_size[1],
        ])
    }
    fn output_shape(&self) -> Shape {
        Shape::new([
            self.batch,
            self.out_channels,
            self.out_size[0],
            self.out_size[1],
        ])
    }
    fn weight_shape(&self) -> Shape {
        Shape::new([
            self.out_channels,
            self.in_channels,
            self.kernel[0],
            self.kernel[1],
        ])
    }
}
