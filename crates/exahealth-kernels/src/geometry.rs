//! The shape of one 2-D convolution, checked once so that the kernels can
//! index without overflow, and the crate's error type.

use thiserror::Error;

/// Why a kernel refused its shapes or buffers.
#[derive(Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum KernelError {
    /// A size that must be positive is zero.
    #[error("convolution {what} must be positive")]
    Zero {
        /// Which size, e.g. "input channels" or "stride".
        what: &'static str,
    },
    /// The padded input is smaller than the kernel.
    #[error("kernel {kernel}x{kernel_w} does not fit the padded input {h}x{w}", kernel = .kernel[0], kernel_w = .kernel[1], h = .padded[0], w = .padded[1])]
    KernelTooLarge {
        /// Kernel `[height, width]`.
        kernel: [usize; 2],
        /// Input `[height, width]` with its padding added.
        padded: [usize; 2],
    },
    /// Some buffer would not fit in memory's address range.
    #[error("convolution buffers overflow the address space")]
    TooLarge,
    /// A slice handed in does not have the length the geometry implies.
    #[error("{what} has {actual} elements, expected {expected}")]
    Length {
        /// Which slice, e.g. "weight" or "output gradient".
        what: &'static str,
        /// Elements handed in.
        actual: usize,
        /// Elements the geometry implies.
        expected: usize,
    },
}

/// Batch, channels, sizes, kernel, stride and padding of a convolution
/// (dilation 1, one group), with the derived output size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvGeometry {
    /// Images in the batch (N).
    pub batch: usize,
    /// Channels of each input image (C).
    pub in_channels: usize,
    /// Input `[height, width]` in pixels.
    pub in_size: [usize; 2],
    /// Channels of each output image, one per filter.
    pub out_channels: usize,
    /// Kernel `[height, width]` in pixels.
    pub kernel: [usize; 2],
    /// Step between windows, `[vertical, horizontal]`.
    pub stride: [usize; 2],
    /// Padding before the first row and column. Padding after the last is
    /// implied by `out_size`.
    pub pad_start: [usize; 2],
    /// Output `[height, width]`, derived by [`ConvGeometry::new`].
    pub out_size: [usize; 2],
}

impl ConvGeometry {
    /// Checks the sizes and derives the output size, PyTorch's rule:
    /// `(in + start + end - kernel) / stride + 1`. `pad` is `[(top, bottom),
    /// (left, right)]`.
    pub fn new(
        batch: usize,
        in_channels: usize,
        in_size: [usize; 2],
        out_channels: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        pad: [(usize, usize); 2],
    ) -> Result<Self, KernelError> {
        for (what, v) in [
            ("batch", batch),
            ("input channels", in_channels),
            ("input height", in_size[0]),
            ("input width", in_size[1]),
            ("output channels", out_channels),
            ("kernel height", kernel[0]),
            ("kernel width", kernel[1]),
            ("stride", stride[0]),
            ("stride", stride[1]),
        ] {
            if v == 0 {
                return Err(KernelError::Zero { what });
            }
        }
        let mut padded = [0; 2];
        let mut out_size = [0; 2];
        for d in 0..2 {
            padded[d] = in_size[d]
                .checked_add(pad[d].0)
                .and_then(|v| v.checked_add(pad[d].1))
                .ok_or(KernelError::TooLarge)?;
            if padded[d] < kernel[d] {
                return Err(KernelError::KernelTooLarge { kernel, padded });
            }
            out_size[d] = (padded[d] - kernel[d]) / stride[d] + 1;
        }
        let geometry = Self {
            batch,
            in_channels,
            in_size,
            out_channels,
            kernel,
            stride,
            pad_start: [pad[0].0, pad[1].0],
            out_size,
        };
        // Every buffer length below is a product of these; check the
        // largest ones once.
        let products = [
            [batch, in_channels, in_size[0], in_size[1]],
            [batch, out_channels, out_size[0], out_size[1]],
            [in_channels, kernel[0], kernel[1], out_size[0] * out_size[1]],
            [out_channels, in_channels, kernel[0], kernel[1]],
        ];
        for factors in products {
            factors
                .iter()
                .try_fold(1usize, |acc, &f| acc.checked_mul(f))
                .filter(|&n| n <= isize::MAX as usize / 4)
                .ok_or(KernelError::TooLarge)?;
        }
        Ok(geometry)
    }

    /// Elements of one input image.
    pub fn image_len(&self) -> usize {
        self.in_channels * self.in_size[0] * self.in_size[1]
    }

    /// Output pixels per channel.
    pub fn out_pixels(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }

    /// Rows of the column matrix: input channels times kernel taps.
    pub fn col_rows(&self) -> usize {
        self.in_channels * self.kernel[0] * self.kernel[1]
    }

    /// Elements of the whole input, `[batch, in_channels, h, w]`.
    pub fn input_len(&self) -> usize {
        self.batch * self.image_len()
    }
    /// Elements of the whole output, `[batch, out_channels, out_h, out_w]`.
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_pixels()
    }
    /// Elements of the weights, `[out_channels, in_channels, kh, kw]`.
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.col_rows()
    }

    /// A 1x1 kernel at stride 1 without padding reads the input as its own
    /// column matrix: no im2col needed.
    pub(crate) fn is_pointwise(&self) -> bool {
        self.kernel == [1, 1] && self.stride == [1, 1] && self.pad_start == [0, 0]
    }
}

pub(crate) fn check_len(
    what: &'static str,
    actual: usize,
    expected: usize,
) -> Result<(), KernelError> {
    if actual == expected {
        Ok(())
    } else {
        Err(KernelError::Length {
            what,
            actual,
            expected,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_size_follows_pytorch() {
        // ResNet's stem: 224, kernel 7, stride 2, padding 3 -> 112.
        let g = ConvGeometry::new(1, 3, [224, 224], 64, [7, 7], [2, 2], [(3, 3), (3, 3)]).unwrap();
        assert_eq!(g.out_size, [112, 112]);
        // Odd input, stride 2, kernel 3, padding 1: 7 -> 4.
        let g = ConvGeometry::new(1, 1, [7, 5], 1, [3, 3], [2, 2], [(1, 1), (1, 1)]).unwrap();
        assert_eq!(g.out_size, [4, 3]);
        // Asymmetric "same" padding for an even kernel keeps the size.
        let g = ConvGeometry::new(1, 1, [6, 6], 1, [2, 2], [1, 1], [(0, 1), (0, 1)]).unwrap();
        assert_eq!(g.out_size, [6, 6]);
    }

    #[test]
    fn bad_shapes_are_refused() {
        assert_eq!(
            ConvGeometry::new(0, 3, [8, 8], 4, [3, 3], [1, 1], [(1, 1), (1, 1)]),
            Err(KernelError::Zero { what: "batch" })
        );
        assert!(matches!(
            ConvGeometry::new(1, 3, [2, 8], 4, [5, 5], [1, 1], [(1, 1), (1, 1)]),
            Err(KernelError::KernelTooLarge { .. })
        ));
        assert_eq!(
            ConvGeometry::new(
                1 << 40,
                1 << 20,
                [1 << 10, 1 << 10],
                1,
                [1, 1],
                [1, 1],
                [(0, 0), (0, 0)]
            ),
            Err(KernelError::TooLarge)
        );
    }
}
