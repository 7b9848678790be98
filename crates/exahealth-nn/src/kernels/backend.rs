//! The backend extension: the forward passes on Flex tensors.

use burn::backend::tensor::FloatTensor;
use burn::backend::{backend_extension, Backend, DispatchDevice, Flex, TensorMetadata};
use burn::tensor::{Device, Shape, TensorData};
use burn_flex::FlexTensor;
use exahealth_kernels::ConvGeometry;

/// Operations run by exahealth-kernels. Implemented for Flex and for
/// autodiff over Flex.
#[backend_extension(Flex, Autodiff)]
pub(crate) trait ConvBackend: Backend {
    /// A convolution without bias (the caller adds it).
    fn exa_conv2d(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        geometry: ConvGeometry,
    ) -> FloatTensor<Self>;
    /// A 2x2 max-pool at stride 2 over `[n, c, h, w]`.
    fn exa_max_pool_2x2(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl ConvBackend for Flex {
    fn exa_conv2d(x: FlexTensor, weight: FlexTensor, geometry: ConvGeometry) -> FlexTensor {
        let out = with_f32(&x, |x| {
            with_f32(&weight, |w| exahealth_kernels::conv2d(x, w, &geometry))
        });
        from_vec(out, geometry.output_shape())
    }

    fn exa_max_pool_2x2(x: FlexTensor) -> FlexTensor {
        let [n, c, h, w] = dims4(&x);
        let out = with_f32(&x, |x| exahealth_kernels::max_pool_2x2(x, n * c, [h, w]));
        from_vec(out, Shape::new([n, c, h / 2, w / 2]))
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
            // `fast_geometry` admits f32 tensors only, and a contiguous
            // f32 tensor always has a slice.
            f(contiguous
                .as_slice::<f32>()
                .expect("a contiguous f32 tensor"))
        }
    }
}

/// A kernel's output as a Flex tensor. The kernels fail only on lengths
/// that disagree with the geometry, which `fast_geometry` derived from
/// these very tensors: an error here is a bug, not bad input.
pub(super) fn from_vec(
    data: Result<Vec<f32>, exahealth_kernels::ConvError>,
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
