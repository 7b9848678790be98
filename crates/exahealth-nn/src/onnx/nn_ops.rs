//! Neural-network operators: convolution, pooling, normalisation, dense
//! layers, softmax.

use burn::tensor::activation;
use burn::tensor::module::{avg_pool2d, conv2d, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::Tensor;

use super::attrs::Attrs;
use super::inputs::float;
use super::proto::NodeProto;
use super::value::{broadcast, numel, FTensor, Value};
use super::OnnxError;

/// Sane bound on kernel sizes, strides, dilations and pads from a file.
const MAX_WINDOW: i64 = 1 << 12;

fn malformed(node: &NodeProto, msg: impl std::fmt::Display) -> OnnxError {
    OnnxError::Malformed(format!("{} node {:?}: {msg}", node.op_type, node.name))
}

fn need_rank(node: &NodeProto, x: &FTensor, rank: usize) -> Result<(), OnnxError> {
    if x.rank() != rank {
        return Err(OnnxError::Unsupported(format!(
            "{} node {:?} on a rank-{} tensor (only rank {rank}, i.e. 2-D images, is supported)",
            node.op_type,
            node.name,
            x.rank()
        )));
    }
    Ok(())
}

/// `(begin, end)` padding of the two spatial axes from `pads` / `auto_pad`.
fn padding(
    node: &NodeProto,
    a: &Attrs,
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
) -> Result<[(usize, usize); 2], OnnxError> {
    let auto = a.string("auto_pad").unwrap_or_else(|| "NOTSET".into());
    match auto.as_str() {
        "NOTSET" => {
            let p = a.dims::<4>("pads", [0; 4], 0, MAX_WINDOW)?;
            Ok([(p[0], p[2]), (p[1], p[3])])
        }
        "VALID" => Ok([(0, 0); 2]),
        "SAME_UPPER" | "SAME_LOWER" => {
            let mut out = [(0, 0); 2];
            for i in 0..2 {
                let o = input[i].div_ceil(stride[i]);
                let span = (kernel[i] - 1) * dilation[i] + 1;
                let total = ((o.saturating_sub(1)) * stride[i] + span).saturating_sub(input[i]);
                let small = total / 2;
                out[i] = if auto == "SAME_UPPER" {
                    (small, total - small)
                } else {
                    (total - small, small)
                };
            }
            Ok(out)
        }
        other => Err(malformed(node, format!("unknown auto_pad {other:?}"))),
    }
}

/// Checks that every window fits in the padded input.
fn check_windows(
    node: &NodeProto,
    input: [usize; 2],
    kernel: [usize; 2],
    dilation: [usize; 2],
    pads: [(usize, usize); 2],
) -> Result<(), OnnxError> {
    for i in 0..2 {
        let span = (kernel[i] - 1) * dilation[i] + 1;
        if input[i] + pads[i].0 + pads[i].1 < span {
            return Err(malformed(
                node,
                format!(
                    "window of {span} pixels is larger than the padded input ({})",
                    input[i]
                ),
            ));
        }
    }
    Ok(())
}

/// Checks the size of a windowed operator's output `[n, c, h, w]` before
/// it is allocated: padding from the file can make a large result from a
/// small input.
#[allow(clippy::too_many_arguments)]
fn check_output(
    n: usize,
    c: usize,
    input: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    dilation: [usize; 2],
    pads: [(usize, usize); 2],
    ceil: bool,
) -> Result<(), OnnxError> {
    let mut dims = vec![n, c];
    for i in 0..2 {
        let span = (kernel[i] - 1) * dilation[i] + 1;
        let room = input[i] + pads[i].0 + pads[i].1 - span;
        let steps = if ceil {
            room.div_ceil(stride[i])
        } else {
            room / stride[i]
        };
        dims.push(steps + 1);
    }
    numel(&dims).map(drop)
}

pub fn conv(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    let w = float(node, inputs, 1)?;
    need_rank(node, x, 4)?;
    need_rank(node, w, 4)?;
    let (c, hw) = (x.shape[1], [x.shape[2], x.shape[3]]);
    let (m, cg, k) = (w.shape[0], w.shape[1], [w.shape[2], w.shape[3]]);
    let group = a.int("group", 1);
    if !(1..=MAX_WINDOW * 16).contains(&group) {
        return Err(malformed(node, format!("group {group}")));
    }
    let group = group as usize;
    if cg * group != c || m % group != 0 || m == 0 || k.contains(&0) {
        return Err(malformed(
            node,
            format!(
                "weights {:?} do not fit input {:?} with {group} groups",
                w.shape, x.shape
            ),
        ));
    }
    if let Some(ks) = a.ints("kernel_shape") {
        if ks != [k[0] as i64, k[1] as i64] {
            return Err(malformed(
                node,
                format!("kernel_shape {ks:?} != weights {:?}", w.shape),
            ));
        }
    }
    let stride = a.dims::<2>("strides", [1, 1], 1, MAX_WINDOW)?;
    let dilation = a.dims::<2>("dilations", [1, 1], 1, MAX_WINDOW)?;
    let pads = padding(node, a, hw, k, stride, dilation)?;
    check_windows(node, hw, k, dilation, pads)?;
    check_output(x.shape[0], m, hw, k, stride, dilation, pads, false)?;
    let bias = match inputs.get(2).copied().flatten() {
        Some(Value::F(b)) if b.shape == [m] => Some(b.t.clone().reshape([m])),
        Some(_) => return Err(malformed(node, format!("bias must have shape [{m}]"))),
        None => None,
    };
    let opts = ConvOptions::new_with_padding(stride, pads, dilation, group);
    let y = conv2d(x.t.clone(), w.t.clone(), bias, opts);
    Ok(Value::F(FTensor::with_rank(y, 4)))
}

pub fn pool(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    need_rank(node, x, 4)?;
    if node.outputs.len() > 1 && !node.outputs[1].is_empty() {
        return Err(OnnxError::Unsupported("MaxPool's Indices output".into()));
    }
    let hw = [x.shape[2], x.shape[3]];
    let kernel = a.dims::<2>("kernel_shape", [0, 0], 1, MAX_WINDOW)?;
    if kernel.contains(&0) {
        return Err(malformed(node, "kernel_shape is required"));
    }
    let stride = a.dims::<2>("strides", [1, 1], 1, MAX_WINDOW)?;
    let dilation = a.dims::<2>("dilations", [1, 1], 1, MAX_WINDOW)?;
    let pads = padding(node, a, hw, kernel, stride, dilation)?;
    check_windows(node, hw, kernel, dilation, pads)?;
    for (i, p) in pads.iter().enumerate() {
        // Padding wider than the window would make all-padding windows.
        if p.0 >= kernel[i] || p.1 >= kernel[i] {
            return Err(malformed(node, "padding must be smaller than the kernel"));
        }
    }
    let ceil = a.int("ceil_mode", 0) != 0;
    check_output(
        x.shape[0], x.shape[1], hw, kernel, stride, dilation, pads, ceil,
    )?;
    let y = if node.op_type == "MaxPool" {
        let o = MaxPoolOptions::new(kernel)
            .with_stride(stride)
            .with_padding_pairs(pads)
            .with_dilation(dilation)
            .with_ceil_mode(ceil);
        max_pool2d(x.t.clone(), o)
    } else {
        if dilation != [1, 1] {
            return Err(OnnxError::Unsupported("AveragePool with dilations".into()));
        }
        let o = AvgPoolOptions::new(kernel)
            .with_stride(stride)
            .with_padding_pairs(pads)
            .with_count_include_pad(a.int("count_include_pad", 0) != 0)
            .with_ceil_mode(ceil);
        avg_pool2d(x.t.clone(), o)
    };
    Ok(Value::F(FTensor::with_rank(y, 4)))
}

pub fn global_pool(node: &NodeProto, inputs: &[Option<&Value>]) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    need_rank(node, x, 4)?;
    let t = x.t.clone();
    let y = if node.op_type == "GlobalAveragePool" {
        t.mean_dim(3).mean_dim(2)
    } else {
        t.max_dim(3).max_dim(2)
    };
    Ok(Value::F(FTensor::with_rank(y, 4)))
}

pub fn batch_norm(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    if x.rank() < 2 {
        return Err(malformed(node, "input needs a channel axis"));
    }
    if node.outputs.iter().skip(1).any(|o| !o.is_empty()) {
        return Err(OnnxError::Unsupported(
            "BatchNormalization in training mode (running statistics outputs)".into(),
        ));
    }
    let c = x.shape[1];
    // Parameters as [C] broadcast over the axes after the channel axis.
    let mut pshape = vec![1; x.rank()];
    pshape[1] = c;
    let mut p = Vec::with_capacity(4);
    for i in 1..5 {
        let v = float(node, inputs, i)?;
        if v.shape != [c] {
            return Err(malformed(
                node,
                format!("parameter {i} has shape {:?}, expected [{c}]", v.shape),
            ));
        }
        p.push(v.clone().reshape(pshape.clone())?.t);
    }
    let eps = f64::from(a.float("epsilon", 1e-5));
    let [scale, bias, mean, var]: [Tensor<4>; 4] = p
        .try_into()
        .map_err(|_| malformed(node, "four parameters expected"))?;
    let k = scale.div(var.add_scalar(eps).sqrt());
    let shift = bias.sub(mean.mul(k.clone()));
    let y = x.t.clone().mul(k).add(shift);
    Ok(Value::F(FTensor::wrap(y, x.shape.clone())))
}

/// NumPy `matmul` for ranks 2 to 4 (batch axes broadcast).
fn matmul_f(node: &NodeProto, x: &FTensor, y: &FTensor) -> Result<FTensor, OnnxError> {
    if x.rank() < 2 || y.rank() < 2 {
        return Err(OnnxError::Unsupported(format!(
            "MatMul node {:?} with a rank-1 operand",
            node.name
        )));
    }
    let (xr, yr) = (x.rank(), y.rank());
    let (n, k) = (x.shape[xr - 2], x.shape[xr - 1]);
    let (k2, m) = (y.shape[yr - 2], y.shape[yr - 1]);
    if k != k2 {
        return Err(malformed(
            node,
            format!("inner dimensions differ: {:?} x {:?}", x.shape, y.shape),
        ));
    }
    let mut shape = broadcast(&x.shape[..xr - 2], &y.shape[..yr - 2])?;
    shape.extend([n, m]);
    // [n, 1] x [1, m] is n * m values from n + m in the file.
    numel(&shape)?;
    Ok(FTensor::wrap(x.t.clone().matmul(y.t.clone()), shape))
}

pub fn matmul(node: &NodeProto, inputs: &[Option<&Value>]) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    let y = float(node, inputs, 1)?;
    Ok(Value::F(matmul_f(node, x, y)?))
}

pub fn gemm(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let mut x = float(node, inputs, 0)?.clone();
    let mut y = float(node, inputs, 1)?.clone();
    if x.rank() != 2 || y.rank() != 2 {
        return Err(malformed(node, "A and B must be matrices"));
    }
    if a.int("transA", 0) != 0 {
        x = FTensor::wrap(x.t.swap_dims(2, 3), vec![x.shape[1], x.shape[0]]);
    }
    if a.int("transB", 0) != 0 {
        y = FTensor::wrap(y.t.swap_dims(2, 3), vec![y.shape[1], y.shape[0]]);
    }
    let mut out = matmul_f(node, &x, &y)?;
    let alpha = a.float("alpha", 1.0);
    if alpha != 1.0 {
        out.t = out.t.mul_scalar(alpha);
    }
    if let Some(c) = inputs.get(2).copied().flatten() {
        let Value::F(c) = c else {
            return Err(malformed(node, "C must be a float tensor"));
        };
        let shape = broadcast(&out.shape, &c.shape)?;
        if shape != out.shape {
            return Err(malformed(
                node,
                format!("C {:?} does not broadcast to {:?}", c.shape, out.shape),
            ));
        }
        let beta = a.float("beta", 1.0);
        out.t = out.t.add(c.t.clone().mul_scalar(beta));
    }
    Ok(Value::F(out))
}

pub fn softmax(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
    opset: i64,
) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    if opset >= 13 {
        let axis = x.axis(a.int("axis", -1))?;
        let y = activation::softmax(x.t.clone(), x.phys(axis));
        return Ok(Value::F(FTensor::wrap(y, x.shape.clone())));
    }
    // Before opset 13: softmax over the flattened axes from `axis` on.
    let axis = x.axis(a.int("axis", 1))?;
    let rows: usize = x.shape[..axis].iter().product();
    let cols: usize = x.shape[axis..].iter().product();
    let flat = x.clone().reshape(vec![rows, cols])?;
    let y = activation::softmax(flat.t, 3);
    Ok(Value::F(
        FTensor::wrap(y, vec![rows, cols]).reshape(x.shape.clone())?,
    ))
}
