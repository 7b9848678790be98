//! The N-D image type shared by I/O, processing and augmentation.
//!
//! Data is an `ndarray::ArrayD` in row-major order. `axes` names each array
//! axis from slowest to fastest; ECVL writes its layout the other way round
//! (fastest first: `"xyc"` is planar, `"cxy"` interleaved), so
//! [`Image::layout`] and [`Image::new`] speak ECVL's order while the array
//! itself stays an ordinary ndarray.

use std::collections::BTreeMap;

use ndarray::{Array3, ArrayD, IxDyn};

use crate::ImageError;

/// `(height, width, channels)` of an interleaved 2-D image.
pub type Hwc = (usize, usize, usize);
/// Element type of an image's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataType {
    /// Unsigned 8-bit.
    U8,
    /// Signed 8-bit.
    I8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// Unsigned 32-bit.
    U32,
    /// Signed 32-bit.
    I32,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

impl DataType {
    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            DataType::U8 | DataType::I8 => 1,
            DataType::U16 | DataType::I16 => 2,
            DataType::U32 | DataType::I32 | DataType::F32 => 4,
            DataType::F64 => 8,
        }
    }

    /// The smallest and largest representable value (for floats, the
    /// conventional intensity range 0..1 is *not* assumed: this is the type's range).
    pub fn range(self) -> (f64, f64) {
        match self {
            DataType::U8 => (0.0, u8::MAX as f64),
            DataType::I8 => (i8::MIN as f64, i8::MAX as f64),
            DataType::U16 => (0.0, u16::MAX as f64),
            DataType::I16 => (i16::MIN as f64, i16::MAX as f64),
            DataType::U32 => (0.0, u32::MAX as f64),
            DataType::I32 => (i32::MIN as f64, i32::MAX as f64),
            DataType::F32 => (f32::MIN as f64, f32::MAX as f64),
            DataType::F64 => (f64::MIN, f64::MAX),
        }
    }

    /// The type's name in NumPy's and ECVL's spelling (`uint8`, `float32`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DataType::U8 => "uint8",
            DataType::I8 => "int8",
            DataType::U16 => "uint16",
            DataType::I16 => "int16",
            DataType::U32 => "uint32",
            DataType::I32 => "int32",
            DataType::F32 => "float32",
            DataType::F64 => "float64",
        }
    }
}

/// The samples of an image, one variant per element type.
#[derive(Debug, Clone, PartialEq)]
pub enum ImageData {
    /// Unsigned 8-bit samples.
    U8(ArrayD<u8>),
    /// Signed 8-bit samples.
    I8(ArrayD<i8>),
    /// Unsigned 16-bit samples.
    U16(ArrayD<u16>),
    /// Signed 16-bit samples.
    I16(ArrayD<i16>),
    /// Unsigned 32-bit samples.
    U32(ArrayD<u32>),
    /// Signed 32-bit samples.
    I32(ArrayD<i32>),
    /// 32-bit float samples.
    F32(ArrayD<f32>),
    /// 64-bit float samples.
    F64(ArrayD<f64>),
}

/// Runs `$body` with `$a` bound to the inner array, whatever its type.
macro_rules! with_array {
    ($data:expr, $a:ident => $body:expr) => {
        match $data {
            ImageData::U8($a) => $body,
            ImageData::I8($a) => $body,
            ImageData::U16($a) => $body,
            ImageData::I16($a) => $body,
            ImageData::U32($a) => $body,
            ImageData::I32($a) => $body,
            ImageData::F32($a) => $body,
            ImageData::F64($a) => $body,
        }
    };
}

/// A sample type that converts to and from `f64` (saturating on the way in).
pub trait Sample: Copy + Send + Sync + 'static {
    fn to_f64(self) -> f64;
    fn from_f64_saturating(v: f64) -> Self;
}

macro_rules! int_sample {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn to_f64(self) -> f64 { self as f64 }
            fn from_f64_saturating(v: f64) -> Self {
                // `as` saturates and maps NaN to 0; round first so 254.6 -> 255.
                v.round() as $t
            }
        }
    )*};
}
int_sample!(u8, i8, u16, i16, u32, i32);

impl Sample for f32 {
    fn to_f64(self) -> f64 {
        self as f64
    }
    fn from_f64_saturating(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64_saturating(v: f64) -> Self {
        v
    }
}

impl ImageData {
    /// The element type of the samples.
    pub fn dtype(&self) -> DataType {
        match self {
            ImageData::U8(_) => DataType::U8,
            ImageData::I8(_) => DataType::I8,
            ImageData::U16(_) => DataType::U16,
            ImageData::I16(_) => DataType::I16,
            ImageData::U32(_) => DataType::U32,
            ImageData::I32(_) => DataType::I32,
            ImageData::F32(_) => DataType::F32,
            ImageData::F64(_) => DataType::F64,
        }
    }

    /// Array shape, slowest axis first (ndarray order).
    pub fn shape(&self) -> &[usize] {
        with_array!(self, a => a.shape())
    }

    /// Every sample as `f64`, same shape.
    pub fn to_f64(&self) -> ArrayD<f64> {
        with_array!(self, a => a.mapv(|v| v.to_f64()))
    }

    /// Every sample as `f32`, same shape.
    pub fn to_f32(&self) -> ArrayD<f32> {
        with_array!(self, a => a.mapv(|v| v.to_f64() as f32))
    }

    /// Converts from `f32` samples into `dtype`, rounding and saturating
    /// for integer types (no copy when `dtype` is `F32`).
    pub fn from_f32(a: ArrayD<f32>, dtype: DataType) -> ImageData {
        fn conv<T: Sample>(a: &ArrayD<f32>) -> ArrayD<T> {
            a.mapv(|v| T::from_f64_saturating(v as f64))
        }
        match dtype {
            DataType::U8 => ImageData::U8(conv(&a)),
            DataType::I8 => ImageData::I8(conv(&a)),
            DataType::U16 => ImageData::U16(conv(&a)),
            DataType::I16 => ImageData::I16(conv(&a)),
            DataType::U32 => ImageData::U32(conv(&a)),
            DataType::I32 => ImageData::I32(conv(&a)),
            DataType::F32 => ImageData::F32(a),
            DataType::F64 => ImageData::F64(conv(&a)),
        }
    }

    /// Converts from `f64` samples into `dtype`, rounding and saturating
    /// for integer types.
    pub fn from_f64(a: &ArrayD<f64>, dtype: DataType) -> ImageData {
        fn conv<T: Sample>(a: &ArrayD<f64>) -> ArrayD<T> {
            a.mapv(T::from_f64_saturating)
        }
        match dtype {
            DataType::U8 => ImageData::U8(conv(a)),
            DataType::I8 => ImageData::I8(conv(a)),
            DataType::U16 => ImageData::U16(conv(a)),
            DataType::I16 => ImageData::I16(conv(a)),
            DataType::U32 => ImageData::U32(conv(a)),
            DataType::I32 => ImageData::I32(conv(a)),
            DataType::F32 => ImageData::F32(conv(a)),
            DataType::F64 => ImageData::F64(a.clone()),
        }
    }

    /// The same samples with array axes permuted (`order[i]` is the old axis
    /// that becomes axis `i`), stored contiguously.
    fn permuted(&self, order: &[usize]) -> ImageData {
        macro_rules! p {
            ($v:ident, $a:expr) => {
                ImageData::$v(
                    $a.clone()
                        .permuted_axes(IxDyn(order))
                        .as_standard_layout()
                        .into_owned(),
                )
            };
        }
        match self {
            ImageData::U8(a) => p!(U8, a),
            ImageData::I8(a) => p!(I8, a),
            ImageData::U16(a) => p!(U16, a),
            ImageData::I16(a) => p!(I16, a),
            ImageData::U32(a) => p!(U32, a),
            ImageData::I32(a) => p!(I32, a),
            ImageData::F32(a) => p!(F32, a),
            ImageData::F64(a) => p!(F64, a),
        }
    }
}

/// One axis of an image, in ECVL's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Width (columns).
    X,
    /// Height (rows).
    Y,
    /// Depth (slices).
    Z,
    /// Colour or other channels.
    C,
    /// Time (or any other "frame" axis, e.g. diffusion directions).
    T,
}

impl Axis {
    /// The axis's letter in a layout string (`x y z c t`).
    pub fn letter(self) -> char {
        match self {
            Axis::X => 'x',
            Axis::Y => 'y',
            Axis::Z => 'z',
            Axis::C => 'c',
            Axis::T => 't',
        }
    }

    fn from_letter(c: char) -> Option<Axis> {
        Some(match c {
            'x' => Axis::X,
            'y' => Axis::Y,
            'z' => Axis::Z,
            'c' => Axis::C,
            't' => Axis::T,
            _ => return None,
        })
    }
}

/// What the channel axis means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ColorType {
    /// No colour meaning (e.g. a CT volume, a label mask, feature maps).
    None,
    /// One grey channel.
    Gray,
    /// Red, green, blue.
    Rgb,
    /// Red, green, blue, alpha.
    Rgba,
    /// Luma and two chroma channels.
    YCbCr,
    /// Hue, saturation, value.
    Hsv,
}

impl ColorType {
    /// Channels this colour type needs, if it fixes the number.
    pub fn channels(self) -> Option<usize> {
        match self {
            ColorType::None => None,
            ColorType::Gray => Some(1),
            ColorType::Rgb | ColorType::YCbCr | ColorType::Hsv => Some(3),
            ColorType::Rgba => Some(4),
        }
    }
}

/// An N-D image: samples, their axis layout, spacing, colour meaning and metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    data: ImageData,
    /// Array axes, slowest first (ndarray order).
    axes: Vec<Axis>,
    /// Physical size of one step along each array axis (same order as
    /// `axes`), in millimetres for spatial axes; 1.0 where unknown.
    spacing: Vec<f64>,
    color: ColorType,
    /// Free-form metadata (DICOM tags, NIfTI header fields, ...).
    pub meta: BTreeMap<String, String>,
}

impl Image {
    /// Wraps `data` whose array axes are described by `layout` in ECVL
    /// order (fastest-varying first, e.g. `"cxy"` for an interleaved
    /// height x width x 3 array).
    pub fn new(data: ImageData, layout: &str, color: ColorType) -> Result<Image, ImageError> {
        let bad = |why: String| ImageError::Layout {
            layout: layout.to_string(),
            why,
        };
        let mut axes = Vec::with_capacity(layout.len());
        for ch in layout.chars().rev() {
            let ax = Axis::from_letter(ch)
                .ok_or_else(|| bad(format!("{ch:?} is not one of x, y, z, c, t")))?;
            if axes.contains(&ax) {
                return Err(bad(format!("axis {ch:?} appears twice")));
            }
            axes.push(ax);
        }
        if axes.len() != data.shape().len() {
            return Err(bad(format!(
                "{} letters for an array of {} dimensions",
                axes.len(),
                data.shape().len()
            )));
        }
        if let Some(n) = color.channels() {
            let c = axes
                .iter()
                .position(|a| *a == Axis::C)
                .map(|i| data.shape()[i])
                .unwrap_or(1);
            if c != n {
                return Err(bad(format!(
                    "{color:?} needs {n} channels, the array has {c}"
                )));
            }
        }
        let spacing = vec![1.0; axes.len()];
        Ok(Image {
            data,
            axes,
            spacing,
            color,
            meta: BTreeMap::new(),
        })
    }

    /// An interleaved height x width x channels 8-bit image.
    pub fn from_hwc_u8(
        width: usize,
        height: usize,
        channels: usize,
        pixels: Vec<u8>,
        color: ColorType,
    ) -> Result<Image, ImageError> {
        let a = ArrayD::from_shape_vec(IxDyn(&[height, width, channels]), pixels).map_err(|e| {
            ImageError::Unsupported(format!(
                "{width}x{height}x{channels} does not match the buffer: {e}"
            ))
        })?;
        Image::new(ImageData::U8(a), "cxy", color)
    }

    /// An interleaved `[height, width, channels]` float array as an image.
    pub fn from_hwc_f32(a: Array3<f32>, color: ColorType) -> Result<Image, ImageError> {
        Image::new(ImageData::F32(a.into_dyn()), "cxy", color)
    }

    /// The samples.
    pub fn data(&self) -> &ImageData {
        &self.data
    }

    /// The samples, consuming the image.
    pub fn into_data(self) -> ImageData {
        self.data
    }

    /// The element type of the samples.
    pub fn dtype(&self) -> DataType {
        self.data.dtype()
    }

    /// Array shape, slowest axis first (ndarray order).
    pub fn shape(&self) -> &[usize] {
        self.data.shape()
    }

    /// Array axes, slowest first.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// ECVL's layout string: axis letters, fastest-varying first.
    pub fn layout(&self) -> String {
        self.axes.iter().rev().map(|a| a.letter()).collect()
    }

    /// ECVL's `dims_`: sizes in layout order (fastest first).
    pub fn dims(&self) -> Vec<usize> {
        self.shape().iter().rev().copied().collect()
    }

    /// What the channel axis means.
    pub fn color(&self) -> ColorType {
        self.color
    }

    /// Sets what the channel axis means (the samples are not converted).
    pub fn set_color(&mut self, color: ColorType) {
        self.color = color;
    }

    /// Length of `axis`, or 1 if the image has no such axis.
    pub fn len_of(&self, axis: Axis) -> usize {
        self.axes
            .iter()
            .position(|a| *a == axis)
            .map(|i| self.shape()[i])
            .unwrap_or(1)
    }

    /// Spacing along `axis` (1.0 if unknown or absent).
    pub fn spacing_of(&self, axis: Axis) -> f64 {
        self.axes
            .iter()
            .position(|a| *a == axis)
            .map(|i| self.spacing[i])
            .unwrap_or(1.0)
    }

    /// Spacing per array axis, slowest first.
    pub fn spacing(&self) -> &[f64] {
        &self.spacing
    }

    /// Sets the spacing along `axis`; ignored if the image has no such axis.
    pub fn set_spacing(&mut self, axis: Axis, value: f64) {
        if let Some(i) = self.axes.iter().position(|a| *a == axis) {
            self.spacing[i] = value;
        }
    }

    /// The same image with samples converted to `dtype` (rounded and
    /// saturated for integer targets; no rescaling).
    pub fn cast(&self, dtype: DataType) -> Image {
        if dtype == self.dtype() {
            return self.clone();
        }
        Image {
            data: ImageData::from_f64(&self.data.to_f64(), dtype),
            ..self.clone_meta_only()
        }
    }

    /// The same image re-laid out to `layout` (ECVL order), e.g. `"xyc"` to
    /// `"cxy"`. Axes missing from the image are not added: use
    /// [`Image::to_hwc_f32`] for a fixed 2-D view.
    pub fn to_layout(&self, layout: &str) -> Result<Image, ImageError> {
        let bad = |why: String| ImageError::Layout {
            layout: layout.to_string(),
            why,
        };
        if layout.len() != self.axes.len() {
            return Err(bad(format!("the image has layout {:?}", self.layout())));
        }
        let mut order = Vec::with_capacity(self.axes.len());
        let mut spacing = Vec::with_capacity(self.axes.len());
        let mut axes = Vec::with_capacity(self.axes.len());
        for ch in layout.chars().rev() {
            let ax = Axis::from_letter(ch).ok_or_else(|| bad(format!("{ch:?} is not an axis")))?;
            let i = self
                .axes
                .iter()
                .position(|a| *a == ax)
                .ok_or_else(|| bad(format!("the image has no {ch:?} axis")))?;
            if order.contains(&i) {
                return Err(bad(format!("axis {ch:?} appears twice")));
            }
            order.push(i);
            spacing.push(self.spacing[i]);
            axes.push(ax);
        }
        Ok(Image {
            data: self.data.permuted(&order),
            axes,
            spacing,
            color: self.color,
            meta: self.meta.clone(),
        })
    }

    /// The same image in the order file formats store pixels: channels
    /// fastest, then x, y, z, t (ECVL `"cxyzt"` restricted to the axes the
    /// image has).
    pub fn to_interleaved(&self) -> Result<Image, ImageError> {
        let order: String = [Axis::C, Axis::X, Axis::Y, Axis::Z, Axis::T]
            .iter()
            .filter(|a| self.axes.contains(a))
            .map(|a| a.letter())
            .collect();
        self.to_layout(&order)
    }

    /// A 2-D image as an interleaved `[height, width, channels]` float array
    /// (channels = 1 when the image has no channel axis). Errors for images
    /// with a z or t axis longer than 1.
    pub fn to_hwc_f32(&self) -> Result<Array3<f32>, ImageError> {
        // Common case: samples already stored y-major, x, then channels
        // (any other axes of length 1): one conversion pass, no re-layout.
        if self.stored_hwc() {
            let dims = (
                self.len_of(Axis::Y),
                self.len_of(Axis::X),
                self.len_of(Axis::C),
            );
            let flat: Option<Vec<f32>> = with_array!(&self.data, a => a.as_slice().map(|s| s.iter().map(|v| v.to_f64() as f32).collect()));
            if let Some(v) = flat {
                return Array3::from_shape_vec(dims, v)
                    .map_err(|e| ImageError::Unsupported(format!("re-layout failed: {e}")));
            }
        }
        let f = self.to_hwc_data()?.to_f32();
        f.into_dimensionality::<ndarray::Ix3>()
            .map_err(|e| ImageError::Unsupported(format!("not 3-D after re-layout: {e}")))
    }

    /// The samples of an 8-bit 2-D image, borrowed, with `(height, width,
    /// channels)`, when they are stored y-major, x, then channels in one
    /// contiguous block (what readers and `cxy` operations produce);
    /// `None` otherwise (use [`Image::to_hwc_data`]).
    pub fn hwc_u8_slice(&self) -> Option<(&[u8], Hwc)> {
        let ImageData::U8(a) = &self.data else {
            return None;
        };
        if !self.stored_hwc() {
            return None;
        }
        let dims = (
            self.len_of(Axis::Y),
            self.len_of(Axis::X),
            self.len_of(Axis::C),
        );
        a.as_slice().map(|s| (s, dims))
    }

    /// Whether the axes longer than 1 are y, x, c in that storage order
    /// (z and t absent or of length 1).
    fn stored_hwc(&self) -> bool {
        let present: Vec<Axis> = self
            .axes
            .iter()
            .zip(self.shape())
            .filter(|(_, n)| **n > 1)
            .map(|(a, _)| *a)
            .collect();
        present.windows(2).all(|p| {
            let rank = |a: Axis| match a {
                Axis::Y => 0,
                Axis::X => 1,
                Axis::C => 2,
                _ => 3,
            };
            rank(p[0]) < rank(p[1])
        }) && present
            .iter()
            .all(|a| matches!(a, Axis::X | Axis::Y | Axis::C))
    }

    /// A 2-D image's samples re-laid out as `[height, width, channels]`
    /// (missing axes become length 1), element type unchanged. Errors for
    /// images with a z or t axis longer than 1.
    pub fn to_hwc_data(&self) -> Result<ImageData, ImageError> {
        for ax in [Axis::Z, Axis::T] {
            if self.len_of(ax) > 1 {
                return Err(ImageError::Unsupported(format!(
                    "a 2-D operation on an image with layout {:?} and shape {:?}; take a slice first",
                    self.layout(),
                    self.dims()
                )));
            }
        }
        let hwc = [
            self.len_of(Axis::Y),
            self.len_of(Axis::X),
            self.len_of(Axis::C),
        ];
        // Y, X, C first (those present), then the length-1 z/t axes: the
        // standard-layout result then reshapes to [h, w, c] without moving data.
        let mut order: Vec<usize> = [Axis::Y, Axis::X, Axis::C]
            .iter()
            .filter_map(|ax| self.axes.iter().position(|a| a == ax))
            .collect();
        for (i, a) in self.axes.iter().enumerate() {
            if matches!(a, Axis::Z | Axis::T) {
                order.push(i);
            }
        }
        macro_rules! p {
            ($v:ident, $a:expr) => {
                ImageData::$v(
                    $a.view()
                        .permuted_axes(IxDyn(&order))
                        .as_standard_layout()
                        .into_owned()
                        .into_shape_with_order(IxDyn(&hwc))
                        .map_err(|e| ImageError::Unsupported(format!("re-layout failed: {e}")))?,
                )
            };
        }
        Ok(match &self.data {
            ImageData::U8(a) => p!(U8, a),
            ImageData::I8(a) => p!(I8, a),
            ImageData::U16(a) => p!(U16, a),
            ImageData::I16(a) => p!(I16, a),
            ImageData::U32(a) => p!(U32, a),
            ImageData::I32(a) => p!(I32, a),
            ImageData::F32(a) => p!(F32, a),
            ImageData::F64(a) => p!(F64, a),
        })
    }

    /// Replaces the samples with a `[height, width, channels]` array of any
    /// element type, keeping spacing, colour (reset to `None` when the
    /// channel count no longer fits) and metadata; layout becomes `"cxy"`.
    pub fn with_hwc_data(&self, data: ImageData) -> Result<Image, ImageError> {
        if data.shape().len() != 3 {
            return Err(ImageError::Unsupported(format!(
                "expected a [height, width, channels] array, got shape {:?}",
                data.shape()
            )));
        }
        let (sx, sy) = (self.spacing_of(Axis::X), self.spacing_of(Axis::Y));
        let mut img = Image {
            data,
            axes: vec![Axis::Y, Axis::X, Axis::C],
            spacing: vec![sy, sx, 1.0],
            color: self.color,
            meta: self.meta.clone(),
        };
        if img
            .color
            .channels()
            .is_some_and(|n| n != img.len_of(Axis::C))
        {
            img.color = ColorType::None;
        }
        Ok(img)
    }

    /// Replaces the samples with an interleaved `[height, width, channels]`
    /// array converted to `dtype`, keeping spacing, colour and metadata;
    /// the result has layout `"cxy"`.
    pub fn with_hwc_f32(&self, a: Array3<f32>, dtype: DataType) -> Image {
        let (sx, sy) = (self.spacing_of(Axis::X), self.spacing_of(Axis::Y));
        let mut img = Image {
            data: ImageData::from_f32(a.into_dyn(), dtype),
            axes: vec![Axis::Y, Axis::X, Axis::C],
            spacing: vec![sy, sx, 1.0],
            color: self.color,
            meta: self.meta.clone(),
        };
        if img
            .color
            .channels()
            .is_some_and(|n| n != img.len_of(Axis::C))
        {
            img.color = ColorType::None;
        }
        img
    }

    /// The sub-image at `index` along `axis`, with that axis removed
    /// (e.g. one z slice of an `"xyz"` volume is an `"xy"` image).
    pub fn index_axis(&self, axis: Axis, index: usize) -> Result<Image, ImageError> {
        let i = self.axes.iter().position(|a| *a == axis).ok_or_else(|| {
            ImageError::Unsupported(format!(
                "no {:?} axis in layout {:?}",
                axis.letter(),
                self.layout()
            ))
        })?;
        let n = self.shape()[i];
        if index >= n {
            return Err(ImageError::Unsupported(format!(
                "index {index} is outside axis {:?} of length {n} (valid: 0..{})",
                axis.letter(),
                n.saturating_sub(1)
            )));
        }
        macro_rules! ix {
            ($v:ident, $a:expr) => {
                ImageData::$v($a.index_axis(ndarray::Axis(i), index).to_owned())
            };
        }
        let data = match &self.data {
            ImageData::U8(a) => ix!(U8, a),
            ImageData::I8(a) => ix!(I8, a),
            ImageData::U16(a) => ix!(U16, a),
            ImageData::I16(a) => ix!(I16, a),
            ImageData::U32(a) => ix!(U32, a),
            ImageData::I32(a) => ix!(I32, a),
            ImageData::F32(a) => ix!(F32, a),
            ImageData::F64(a) => ix!(F64, a),
        };
        let mut axes = self.axes.clone();
        axes.remove(i);
        let mut spacing = self.spacing.clone();
        spacing.remove(i);
        Ok(Image {
            data,
            axes,
            spacing,
            color: if axis == Axis::C {
                ColorType::None
            } else {
                self.color
            },
            meta: self.meta.clone(),
        })
    }

    fn clone_meta_only(&self) -> Image {
        Image {
            data: ImageData::U8(ArrayD::zeros(IxDyn(&[]))),
            axes: self.axes.clone(),
            spacing: self.spacing.clone(),
            color: self.color,
            meta: self.meta.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb_2x3() -> Image {
        let px: Vec<u8> = (0..18).collect();
        Image::from_hwc_u8(3, 2, 3, px, ColorType::Rgb).unwrap()
    }

    #[test]
    fn ecvl_layout_is_fastest_first() {
        let img = rgb_2x3();
        assert_eq!(img.layout(), "cxy");
        assert_eq!(img.dims(), vec![3, 3, 2]);
        assert_eq!(img.shape(), &[2, 3, 3]);
        let planar = img.to_layout("xyc").unwrap();
        assert_eq!(planar.shape(), &[3, 2, 3]);
        // Pixel (x=1, y=1), green = 3*(1*3+1)+1 = 13, now at [c=1][y=1][x=1].
        match planar.data() {
            ImageData::U8(a) => assert_eq!(a[IxDyn(&[1, 1, 1])], 13),
            _ => panic!("type changed"),
        }
        assert_eq!(planar.to_hwc_f32().unwrap(), img.to_hwc_f32().unwrap());
    }

    #[test]
    fn bad_layouts_are_errors() {
        let a = ImageData::U8(ArrayD::zeros(IxDyn(&[2, 2])));
        assert!(Image::new(a.clone(), "xyz", ColorType::None).is_err());
        assert!(Image::new(a.clone(), "xx", ColorType::None).is_err());
        assert!(Image::new(a.clone(), "xq", ColorType::None).is_err());
        assert!(Image::new(a, "xy", ColorType::Rgb).is_err());
    }

    #[test]
    fn cast_rounds_and_saturates() {
        let a = ArrayD::from_shape_vec(IxDyn(&[4]), vec![-3.0f32, 1.5, 254.6, 300.0]).unwrap();
        let img = Image::new(ImageData::F32(a), "x", ColorType::None).unwrap();
        match img.cast(DataType::U8).data() {
            ImageData::U8(a) => assert_eq!(a.as_slice().unwrap(), &[0, 2, 255, 255]),
            _ => panic!("not u8"),
        }
    }

    #[test]
    fn spacing_follows_axes() {
        let a = ImageData::I16(ArrayD::zeros(IxDyn(&[4, 5, 6])));
        let mut img = Image::new(a, "xyz", ColorType::None).unwrap();
        img.set_spacing(Axis::Z, 2.5);
        img.set_spacing(Axis::X, 0.7);
        let r = img.to_layout("zxy").unwrap();
        assert_eq!(r.spacing_of(Axis::Z), 2.5);
        assert_eq!(r.spacing_of(Axis::X), 0.7);
        assert_eq!(r.dims(), vec![4, 6, 5]);
    }
}
