//! How an operator takes its inputs: by position, checked for presence and
//! kind. Below the dispatcher (`ops`) and the operator families (`nn_ops`,
//! `shape_ops`), which all use it.

use super::proto::NodeProto;
use super::value::{FTensor, Value};
use super::OnnxError;

/// Input `i` of `node`, which must be present.
pub fn input<'v>(
    node: &NodeProto,
    inputs: &[Option<&'v Value>],
    i: usize,
) -> Result<&'v Value, OnnxError> {
    inputs.get(i).copied().flatten().ok_or_else(|| {
        OnnxError::Malformed(format!(
            "{} node {:?} lacks input {i}",
            node.op_type, node.name
        ))
    })
}

/// Input `i` of `node`, which must be a float tensor.
pub fn float<'v>(
    node: &NodeProto,
    inputs: &[Option<&'v Value>],
    i: usize,
) -> Result<&'v FTensor, OnnxError> {
    match input(node, inputs, i)? {
        Value::F(f) => Ok(f),
        Value::I(_) => Err(OnnxError::Malformed(format!(
            "{} node {:?}: input {i} must be a float tensor",
            node.op_type, node.name
        ))),
    }
}

/// A float tensor's single value (e.g. Clip's bounds).
pub fn scalar(v: &Value) -> Result<f32, OnnxError> {
    let data = match v {
        Value::F(f) => f.to_vec()?,
        Value::I(i) => i.data.iter().map(|&x| x as f32).collect(),
    };
    match data.as_slice() {
        [x] => Ok(*x),
        _ => Err(OnnxError::Malformed(format!(
            "expected one value, got {}",
            data.len()
        ))),
    }
}
