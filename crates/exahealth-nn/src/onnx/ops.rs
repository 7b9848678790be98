//! Operator dispatch and the element-wise operators.

use burn::tensor::activation;
use burn::tensor::Device;

use super::attrs::Attrs;
use super::inputs::{float, input, scalar};
use super::proto::NodeProto;
use super::value::{broadcast, decode, FTensor, ITensor, Value};
use super::{nn_ops, shape_ops, OnnxError};

/// What every operator may need besides its inputs.
pub struct Ctx<'a> {
    pub device: &'a Device,
    /// Opset of the default domain: some operators changed meaning.
    pub opset: i64,
}

/// The operators this interpreter runs.
pub const SUPPORTED: &[&str] = &[
    "Abs",
    "Add",
    "AveragePool",
    "BatchNormalization",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "Conv",
    "Div",
    "Dropout",
    "Exp",
    "Flatten",
    "Gather",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "HardSigmoid",
    "HardSwish",
    "Identity",
    "LeakyRelu",
    "Log",
    "MatMul",
    "MaxPool",
    "Mul",
    "Neg",
    "Relu",
    "Reshape",
    "Shape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Tanh",
    "Transpose",
    "Unsqueeze",
];

/// Runs one node.
pub fn run_node(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    ctx: &Ctx,
) -> Result<Vec<Value>, OnnxError> {
    if !(node.domain.is_empty() || node.domain == "ai.onnx") {
        return Err(OnnxError::Unsupported(format!(
            "operator {}::{} (only the default ONNX domain is supported)",
            node.domain, node.op_type
        )));
    }
    let a = Attrs::new(&node.op_type, &node.attributes);
    let f = |i| float(node, inputs, i);
    let unary = |g: fn(burn::tensor::Tensor<4>) -> burn::tensor::Tensor<4>| -> Result<Vec<Value>, OnnxError> {
        let x = f(0)?;
        Ok(vec![Value::F(FTensor::wrap(g(x.t.clone()), x.shape.clone()))])
    };
    let out = match node.op_type.as_str() {
        "Identity" | "Dropout" => input(node, inputs, 0)?.clone(),
        "Constant" => constant(&a, ctx.device)?,
        "Add" | "Sub" | "Mul" | "Div" => binary(node, inputs)?,
        "Relu" => return unary(activation::relu),
        "Sigmoid" => return unary(activation::sigmoid),
        "Tanh" => return unary(|t| t.tanh()),
        "Exp" => return unary(|t| t.exp()),
        "Log" => return unary(|t| t.log()),
        "Sqrt" => return unary(|t| t.sqrt()),
        "Neg" => return unary(|t| t.neg()),
        "Abs" => return unary(|t| t.abs()),
        "HardSwish" => return unary(activation::hard_swish),
        "HardSigmoid" => {
            let x = f(0)?;
            let (alpha, beta) = (a.float("alpha", 0.2), a.float("beta", 0.5));
            let t = activation::hard_sigmoid(x.t.clone(), f64::from(alpha), f64::from(beta));
            Value::F(FTensor::wrap(t, x.shape.clone()))
        }
        "LeakyRelu" => {
            let x = f(0)?;
            let t = activation::leaky_relu(x.t.clone(), f64::from(a.float("alpha", 0.01)));
            Value::F(FTensor::wrap(t, x.shape.clone()))
        }
        "Clip" => {
            let x = f(0)?;
            let (lo, hi) = if ctx.opset < 11 {
                (a.float("min", f32::MIN), a.float("max", f32::MAX))
            } else {
                let bound =
                    |i: usize, d: f32| inputs.get(i).copied().flatten().map_or(Ok(d), scalar);
                (bound(1, f32::MIN)?, bound(2, f32::MAX)?)
            };
            if lo.is_nan() || hi.is_nan() || lo > hi {
                return Err(OnnxError::Malformed(format!(
                    "Clip node {:?}: min {lo} above max {hi}",
                    node.name
                )));
            }
            Value::F(FTensor::wrap(x.t.clone().clamp(lo, hi), x.shape.clone()))
        }
        "Conv" => nn_ops::conv(node, inputs, &a)?,
        "MaxPool" | "AveragePool" => nn_ops::pool(node, inputs, &a)?,
        "GlobalAveragePool" | "GlobalMaxPool" => nn_ops::global_pool(node, inputs)?,
        "BatchNormalization" => nn_ops::batch_norm(node, inputs, &a)?,
        "MatMul" => nn_ops::matmul(node, inputs)?,
        "Gemm" => nn_ops::gemm(node, inputs, &a)?,
        "Softmax" => nn_ops::softmax(node, inputs, &a, ctx.opset)?,
        "Reshape" => shape_ops::reshape(node, inputs, &a)?,
        "Flatten" => shape_ops::flatten(node, inputs, &a)?,
        "Shape" => shape_ops::shape(node, inputs, &a)?,
        "Cast" => shape_ops::cast(node, inputs, &a, ctx.device)?,
        "Slice" => shape_ops::slice(node, inputs, &a, ctx.opset)?,
        "Concat" => shape_ops::concat(node, inputs, &a)?,
        "Squeeze" | "Unsqueeze" => shape_ops::squeeze(node, inputs, &a, ctx.opset)?,
        "Transpose" => shape_ops::transpose(node, inputs, &a)?,
        "Gather" => shape_ops::gather(node, inputs, &a, ctx.device)?,
        other => {
            return Err(OnnxError::Unsupported(format!(
                "operator {other} (node {:?}); supported: {}",
                node.name,
                SUPPORTED.join(", ")
            )))
        }
    };
    Ok(vec![out])
}

fn constant(a: &Attrs, device: &Device) -> Result<Value, OnnxError> {
    if let Some(t) = a.tensor("value") {
        return decode(t, device);
    }
    if a.has("value_float") {
        return Ok(Value::F(FTensor::from_vec(
            vec![a.float("value_float", 0.0)],
            vec![],
            device,
        )?));
    }
    if let Some(v) = a.floats("value_floats") {
        return Ok(Value::F(FTensor::from_vec(
            v.to_vec(),
            vec![v.len()],
            device,
        )?));
    }
    if a.has("value_int") {
        return Ok(Value::I(ITensor::new(vec![a.int("value_int", 0)], vec![])?));
    }
    if let Some(v) = a.ints("value_ints") {
        return Ok(Value::I(ITensor::vector(v.to_vec())));
    }
    Err(OnnxError::Unsupported(
        "Constant without value, value_float(s) or value_int(s)".into(),
    ))
}

fn binary(node: &NodeProto, inputs: &[Option<&Value>]) -> Result<Value, OnnxError> {
    let op = node.op_type.as_str();
    match (input(node, inputs, 0)?, input(node, inputs, 1)?) {
        (Value::F(x), Value::F(y)) => {
            let shape = broadcast(&x.shape, &y.shape)?;
            let (l, r) = (x.t.clone(), y.t.clone());
            let t = match op {
                "Add" => l.add(r),
                "Sub" => l.sub(r),
                "Mul" => l.mul(r),
                _ => l.div(r),
            };
            Ok(Value::F(FTensor::wrap(t, shape)))
        }
        (Value::I(x), Value::I(y)) => {
            // Shape arithmetic: equal shapes or one side a single value
            // (which the other side's shape decides, even when that side
            // is empty).
            let (n, shape) = match (x.data.len(), y.data.len()) {
                (a, b) if a == b => (a, x.shape.clone()),
                (a, 1) => (a, x.shape.clone()),
                (1, b) => (b, y.shape.clone()),
                _ => {
                    return Err(OnnxError::Unsupported(format!(
                        "integer {op} of shapes {:?} and {:?}",
                        x.shape, y.shape
                    )))
                }
            };
            let at = |v: &ITensor, i: usize| v.data[if v.data.len() == 1 { 0 } else { i }];
            let mut data = Vec::with_capacity(n);
            for i in 0..n {
                let (p, q) = (at(x, i), at(y, i));
                data.push(match op {
                    "Add" => p.wrapping_add(q),
                    "Sub" => p.wrapping_sub(q),
                    "Mul" => p.wrapping_mul(q),
                    _ => p.checked_div(q).ok_or_else(|| {
                        OnnxError::Runtime(format!("integer division by zero in {:?}", node.name))
                    })?,
                });
            }
            Ok(Value::I(ITensor::new(data, shape)?))
        }
        _ => Err(OnnxError::Malformed(format!(
            "{op} node {:?} mixes float and integer inputs",
            node.name
        ))),
    }
}
