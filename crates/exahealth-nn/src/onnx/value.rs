//! Run-time values of a graph: float tensors on the Burn device, integer
//! tensors (shapes, indices) on the host.
//!
//! Burn tensors have a static rank, ONNX values a dynamic one. A float value
//! is kept as a rank-4 Burn tensor whose shape is the logical shape padded
//! with leading ones: that is exactly NumPy's broadcasting alignment, so
//! element-wise ops broadcast correctly with no per-rank code. Ranks above 4
//! are rejected (2-D CNNs need no more).

use burn::tensor::{Device, Tensor, TensorData};

use super::proto::TensorProto;
use super::OnnxError;

/// Largest rank a value may have.
pub const MAX_RANK: usize = 4;
/// Largest element count of one tensor built from a file or a shape value.
const MAX_ELEMENTS: usize = 1 << 31;

fn malformed(s: impl Into<String>) -> OnnxError {
    OnnxError::Malformed(s.into())
}

/// Element count of `dims`, checked.
pub fn numel(dims: &[usize]) -> Result<usize, OnnxError> {
    numel_of(dims, 4)
}

/// Element count of `dims`, checked, with `width` bytes per element held
/// to the budget.
pub fn numel_of(dims: &[usize], width: u64) -> Result<usize, OnnxError> {
    let n = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| malformed(format!("tensor of shape {dims:?} is too large")))?;
    // Shapes come from the model file: its f32 data is held to the budget.
    exahealth_base::budget::check(format!("a tensor of shape {dims:?}"), n as u64 * width)
        .map_err(|e| malformed(e.to_string()))?;
    Ok(n)
}

/// `dims` padded with leading ones to rank 4.
pub fn pad4(dims: &[usize]) -> Result<[usize; 4], OnnxError> {
    if dims.len() > MAX_RANK {
        return Err(OnnxError::Unsupported(format!(
            "rank-{} tensor (at most {MAX_RANK})",
            dims.len()
        )));
    }
    let mut out = [1; 4];
    out[4 - dims.len()..].copy_from_slice(dims);
    Ok(out)
}

/// A float tensor with its logical (ONNX) shape.
#[derive(Clone, Debug)]
pub struct FTensor {
    pub t: Tensor<4>,
    pub shape: Vec<usize>,
}

impl FTensor {
    pub fn from_vec(data: Vec<f32>, shape: Vec<usize>, device: &Device) -> Result<Self, OnnxError> {
        let n = numel(&shape)?;
        if n == 0 {
            // Burn's kernels assume at least one element (a max over an
            // empty axis panics): empty float tensors are refused here.
            return Err(OnnxError::Unsupported(format!(
                "empty float tensor of shape {shape:?}"
            )));
        }
        if n != data.len() {
            return Err(malformed(format!(
                "{} values for shape {shape:?}",
                data.len()
            )));
        }
        let t = Tensor::from_data(TensorData::new(data, pad4(&shape)?), device);
        Ok(Self { t, shape })
    }

    /// Wraps a Burn tensor whose dims are the padded `shape`.
    pub fn wrap(t: Tensor<4>, shape: Vec<usize>) -> Self {
        Self { t, shape }
    }

    /// A result whose logical rank is `rank` and whose dims are those of `t`.
    pub fn with_rank(t: Tensor<4>, rank: usize) -> Self {
        let dims = t.dims();
        Self {
            shape: dims[4 - rank..].to_vec(),
            t,
        }
    }

    pub fn rank(&self) -> usize {
        self.shape.len()
    }

    /// The Burn dimension of logical axis `axis` (already normalised).
    pub fn phys(&self, axis: usize) -> usize {
        axis + 4 - self.rank()
    }

    /// Normalises a possibly negative ONNX axis against this rank.
    pub fn axis(&self, axis: i64) -> Result<usize, OnnxError> {
        norm_axis(axis, self.rank())
    }

    pub fn reshape(self, shape: Vec<usize>) -> Result<Self, OnnxError> {
        if numel(&shape)? != numel(&self.shape)? {
            return Err(malformed(format!(
                "cannot reshape {:?} to {shape:?}",
                self.shape
            )));
        }
        let t = self.t.reshape(pad4(&shape)?);
        Ok(Self { t, shape })
    }

    pub fn to_vec(&self) -> Result<Vec<f32>, OnnxError> {
        self.t
            .clone()
            .into_data()
            .convert::<f32>()
            .try_into_vec::<f32>()
            .map_err(|e| OnnxError::Runtime(format!("cannot read tensor data: {e:?}")))
    }
}

/// An integer tensor on the host (shapes, axes, indices).
#[derive(Clone, Debug, PartialEq)]
pub struct ITensor {
    pub shape: Vec<usize>,
    pub data: Vec<i64>,
}

impl ITensor {
    pub fn new(data: Vec<i64>, shape: Vec<usize>) -> Result<Self, OnnxError> {
        // Shape operators walk the axes of a value, some once per axis:
        // a rank from the file must stay small.
        if shape.len() > MAX_RANK {
            return Err(OnnxError::Unsupported(format!(
                "rank-{} integer tensor (at most {MAX_RANK})",
                shape.len()
            )));
        }
        if numel_of(&shape, 8)? != data.len() {
            return Err(malformed(format!(
                "{} integers for shape {shape:?}",
                data.len()
            )));
        }
        Ok(Self { shape, data })
    }

    pub fn vector(data: Vec<i64>) -> Self {
        Self {
            shape: vec![data.len()],
            data,
        }
    }
}

/// A value flowing along a graph edge.
// Values live in a map and are moved once per node: boxing the larger
// variant would cost an allocation per node for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Value {
    F(FTensor),
    I(ITensor),
}

impl Value {
    /// Bytes the value holds (f32 floats, i64 integers).
    pub fn bytes(&self) -> u64 {
        match self {
            Value::F(f) => f.shape.iter().product::<usize>() as u64 * 4,
            Value::I(i) => i.data.len() as u64 * 8,
        }
    }

    pub fn shape(&self) -> &[usize] {
        match self {
            Value::F(f) => &f.shape,
            Value::I(i) => &i.shape,
        }
    }
}

pub fn norm_axis(axis: i64, rank: usize) -> Result<usize, OnnxError> {
    let r = rank as i64;
    let a = if axis < 0 { axis + r } else { axis };
    // A scalar has no axis: `0` of rank 0 would index an empty shape.
    if a < 0 || a >= r {
        return Err(malformed(format!(
            "axis {axis} out of range for rank {rank}"
        )));
    }
    Ok(a as usize)
}

/// NumPy broadcast of two shapes.
pub fn broadcast(a: &[usize], b: &[usize]) -> Result<Vec<usize>, OnnxError> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => {
                return Err(malformed(format!(
                    "shapes {a:?} and {b:?} do not broadcast"
                )))
            }
        };
    }
    // The result is allocated: a broadcast of [n, 1] and [1, n] holds n^2
    // values built from 2n in the file.
    numel(&out)?;
    Ok(out)
}

/// Decodes a constant tensor: floats (FLOAT, DOUBLE) to the device,
/// integers (INT32, INT64, and BOOL/UINT8/INT8 as 0/1 or values) to the host.
pub fn decode(t: &TensorProto, device: &Device) -> Result<Value, OnnxError> {
    if t.data_location == 1 || t.has_external_data {
        return Err(OnnxError::Unsupported(format!(
            "tensor {:?} keeps its data in an external file",
            t.name
        )));
    }
    if t.dims.len() > MAX_RANK {
        return Err(OnnxError::Unsupported(format!(
            "tensor {:?} of rank {} (at most {MAX_RANK})",
            t.name,
            t.dims.len()
        )));
    }
    let mut shape = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        shape.push(
            usize::try_from(d)
                .map_err(|_| malformed(format!("negative dimension in {:?}", t.name)))?,
        );
    }
    let n = numel(&shape)?;
    let raw = &t.raw_data;
    let raw_len = |width: usize| -> Result<(), OnnxError> {
        if raw.len() != n * width {
            return Err(malformed(format!(
                "tensor {:?}: {} raw bytes for {n} elements of {width} bytes",
                t.name,
                raw.len()
            )));
        }
        Ok(())
    };
    match t.data_type {
        // FLOAT
        1 => {
            let data = if !raw.is_empty() {
                raw_len(4)?;
                raw.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.float_data.clone()
            };
            Ok(Value::F(FTensor::from_vec(data, shape, device)?))
        }
        // DOUBLE: computed in f32.
        11 => {
            let data = if !raw.is_empty() {
                raw_len(8)?;
                raw.chunks_exact(8)
                    .map(|c| {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(c);
                        f64::from_le_bytes(a) as f32
                    })
                    .collect()
            } else {
                t.double_data.iter().map(|&v| v as f32).collect()
            };
            Ok(Value::F(FTensor::from_vec(data, shape, device)?))
        }
        // INT64
        7 => {
            let data = if !raw.is_empty() {
                raw_len(8)?;
                raw.chunks_exact(8)
                    .map(|c| {
                        let mut a = [0u8; 8];
                        a.copy_from_slice(c);
                        i64::from_le_bytes(a)
                    })
                    .collect()
            } else {
                t.int64_data.clone()
            };
            Ok(Value::I(ITensor::new(data, shape)?))
        }
        // INT32
        6 => {
            let data = if !raw.is_empty() {
                raw_len(4)?;
                raw.chunks_exact(4)
                    .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                    .collect()
            } else {
                t.int32_data.iter().map(|&v| i64::from(v as i32)).collect()
            };
            Ok(Value::I(ITensor::new(data, shape)?))
        }
        // UINT8, INT8, BOOL: stored one per byte (raw) or in int32_data.
        2 | 3 | 9 => {
            let data = if !raw.is_empty() {
                raw_len(1)?;
                raw.iter()
                    .map(|&b| if t.data_type == 3 { i64::from(b as i8) } else { i64::from(b) })
                    .collect()
            } else {
                t.int32_data.clone()
            };
            Ok(Value::I(ITensor::new(data, shape)?))
        }
        other => Err(OnnxError::Unsupported(format!(
            "tensor {:?} has element type {other} (supported: float, double, int32, int64, int8, uint8, bool)",
            t.name
        ))),
    }
}
