//! NumPy `.npy` (version 1.0) output: the array exactly as stored, for
//! comparisons against Python readers and for quick inspection.

use crate::{DataType, Image};

fn descr(dt: DataType) -> &'static str {
    match dt {
        DataType::U8 => "|u1",
        DataType::I8 => "|i1",
        DataType::U16 => "<u2",
        DataType::I16 => "<i2",
        DataType::U32 => "<u4",
        DataType::I32 => "<i4",
        DataType::F32 => "<f4",
        DataType::F64 => "<f8",
    }
}

/// The `.npy` bytes of `img`'s array (ndarray axis order, C order).
pub fn encode(img: &Image) -> Vec<u8> {
    let shape = img.shape();
    let dims = match shape.len() {
        0 => String::new(),
        1 => format!("{},", shape[0]),
        _ => shape
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", "),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({dims}), }}",
        descr(img.dtype())
    );
    // Magic (6) + version (2) + length (2) + header, padded to 64 with a final newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    super::bytes::append_le(&mut out, img.data());
    out
}
