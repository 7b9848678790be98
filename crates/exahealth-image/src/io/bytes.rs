//! Raw sample bytes to and from typed arrays, in either byte order.

use ndarray::{ArrayD, IxDyn};

use crate::{DataType, ImageData, ImageError};

/// Byte order of stored samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endian {
    /// Least significant byte first.
    Little,
    /// Most significant byte first.
    Big,
}

macro_rules! chunks_to {
    ($bytes:expr, $t:ty, $endian:expr) => {{
        const N: usize = std::mem::size_of::<$t>();
        $bytes
            .chunks_exact(N)
            .map(|c| {
                let mut a = [0u8; N];
                a.copy_from_slice(c);
                match $endian {
                    Endian::Little => <$t>::from_le_bytes(a),
                    Endian::Big => <$t>::from_be_bytes(a),
                }
            })
            .collect::<Vec<$t>>()
    }};
}

/// Makes room for `more` elements, doubling as `Vec` does but never past
/// `cap` (the budget-checked final size): a buffer filled frame by frame
/// ends at its size instead of up to twice that, and never holds more than
/// the frames decoded so far justify.
pub(crate) fn grow_within<T>(v: &mut Vec<T>, more: usize, cap: usize) {
    let need = v.len().saturating_add(more);
    if need > v.capacity() {
        let target = v.capacity().saturating_mul(2).clamp(need, cap.max(need));
        v.reserve_exact(target - v.len());
    }
}

/// Decodes `bytes` (a whole number of samples) into a 1-D array of `dtype`.
pub fn decode_samples(
    bytes: &[u8],
    dtype: DataType,
    endian: Endian,
) -> Result<ImageData, ImageError> {
    if bytes.len() % dtype.size() != 0 {
        return Err(ImageError::Unsupported(format!(
            "{} bytes is not a whole number of {} samples",
            bytes.len(),
            dtype.name()
        )));
    }
    let n = bytes.len() / dtype.size();
    let shape = IxDyn(&[n]);
    // The vectors hold exactly `n` elements, so from_shape_vec cannot fail.
    macro_rules! arr {
        ($v:ident, $t:ty) => {
            ImageData::$v(
                ArrayD::from_shape_vec(shape, chunks_to!(bytes, $t, endian))
                    .map_err(|e| ImageError::Unsupported(e.to_string()))?,
            )
        };
    }
    Ok(match dtype {
        DataType::U8 => ImageData::U8(
            ArrayD::from_shape_vec(shape, bytes.to_vec())
                .map_err(|e| ImageError::Unsupported(e.to_string()))?,
        ),
        DataType::I8 => arr!(I8, i8),
        DataType::U16 => arr!(U16, u16),
        DataType::I16 => arr!(I16, i16),
        DataType::U32 => arr!(U32, u32),
        DataType::I32 => arr!(I32, i32),
        DataType::F32 => arr!(F32, f32),
        DataType::F64 => arr!(F64, f64),
    })
}

/// Appends every sample of `data`, in logical (row-major) order, as little-endian bytes.
pub fn append_le(out: &mut Vec<u8>, data: &ImageData) {
    macro_rules! put {
        ($a:expr) => {{
            out.reserve($a.len() * std::mem::size_of_val(&$a.first().copied().unwrap_or_default()));
            for v in $a.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }};
    }
    match data {
        ImageData::U8(a) => out.extend(a.iter().copied()),
        ImageData::I8(a) => put!(a),
        ImageData::U16(a) => put!(a),
        ImageData::I16(a) => put!(a),
        ImageData::U32(a) => put!(a),
        ImageData::I32(a) => put!(a),
        ImageData::F32(a) => put!(a),
        ImageData::F64(a) => put!(a),
    }
}

/// Gives a 1-D (or any) array of `data` the row-major `shape`.
pub fn reshape(data: ImageData, shape: &[usize]) -> Result<ImageData, ImageError> {
    let err = |e: ndarray::ShapeError| ImageError::Unsupported(format!("shape {shape:?}: {e}"));
    macro_rules! r {
        ($v:ident, $a:expr) => {
            ImageData::$v(
                ArrayD::from_shape_vec(IxDyn(shape), $a.into_raw_vec_and_offset().0)
                    .map_err(err)?,
            )
        };
    }
    Ok(match data {
        ImageData::U8(a) => r!(U8, a),
        ImageData::I8(a) => r!(I8, a),
        ImageData::U16(a) => r!(U16, a),
        ImageData::I16(a) => r!(I16, a),
        ImageData::U32(a) => r!(U32, a),
        ImageData::I32(a) => r!(I32, a),
        ImageData::F32(a) => r!(F32, a),
        ImageData::F64(a) => r!(F64, a),
    })
}
