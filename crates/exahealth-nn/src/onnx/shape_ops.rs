//! Shape and layout operators: Reshape, Flatten, Shape, Cast, Slice,
//! Concat, Squeeze/Unsqueeze, Transpose, Gather.

use burn::tensor::{Device, Int, Tensor, TensorData};

use super::attrs::Attrs;
use super::inputs::{float, input};
use super::proto::NodeProto;
use super::value::{norm_axis, numel, numel_of, FTensor, ITensor, Value, MAX_RANK};
use super::OnnxError;

fn malformed(node: &NodeProto, msg: impl std::fmt::Display) -> OnnxError {
    OnnxError::Malformed(format!("{} node {:?}: {msg}", node.op_type, node.name))
}

fn ints<'v>(
    node: &NodeProto,
    inputs: &[Option<&'v Value>],
    i: usize,
) -> Result<&'v ITensor, OnnxError> {
    match input(node, inputs, i)? {
        Value::I(t) => Ok(t),
        Value::F(_) => Err(malformed(
            node,
            format!("input {i} must be an integer tensor"),
        )),
    }
}

/// Gives `v` a new shape (same element count).
fn with_shape(node: &NodeProto, v: &Value, shape: Vec<usize>) -> Result<Value, OnnxError> {
    if shape.len() > MAX_RANK {
        return Err(OnnxError::Unsupported(format!(
            "rank-{} result",
            shape.len()
        )));
    }
    Ok(match v {
        Value::F(f) => Value::F(f.clone().reshape(shape)?),
        Value::I(i) => {
            if numel(&shape)? != i.data.len() {
                return Err(malformed(
                    node,
                    format!("cannot reshape {:?} to {shape:?}", i.shape),
                ));
            }
            Value::I(ITensor::new(i.data.clone(), shape)?)
        }
    })
}

pub fn reshape(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let x = input(node, inputs, 0)?;
    let target = ints(node, inputs, 1)?;
    let allow_zero = a.int("allowzero", 0) != 0;
    let total = numel(x.shape())?;
    if target.data.len() > MAX_RANK {
        return Err(OnnxError::Unsupported(format!(
            "reshape to rank {}",
            target.data.len()
        )));
    }
    let mut shape = Vec::with_capacity(target.data.len());
    let mut infer = None;
    for (i, &d) in target.data.iter().enumerate() {
        shape.push(match d {
            -1 if infer.is_none() => {
                infer = Some(i);
                1
            }
            0 if !allow_zero => *x
                .shape()
                .get(i)
                .ok_or_else(|| malformed(node, "0 refers to a missing input axis"))?,
            d if d >= 0 => d as usize,
            _ => {
                return Err(malformed(
                    node,
                    format!("invalid target shape {:?}", target.data),
                ))
            }
        });
    }
    if let Some(i) = infer {
        let known = numel(&shape)?;
        if known == 0 || total % known != 0 {
            return Err(malformed(
                node,
                format!("cannot infer -1 in {:?} for {total} elements", target.data),
            ));
        }
        shape[i] = total / known;
    }
    with_shape(node, x, shape)
}

pub fn flatten(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let x = input(node, inputs, 0)?;
    let rank = x.shape().len();
    let axis = a.int("axis", 1);
    let axis = if axis == rank as i64 {
        rank
    } else {
        norm_axis(axis, rank)?
    };
    let rows = numel(&x.shape()[..axis])?;
    let cols = numel(&x.shape()[axis..])?;
    with_shape(node, x, vec![rows, cols])
}

pub fn shape(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let dims: Vec<i64> = input(node, inputs, 0)?
        .shape()
        .iter()
        .map(|&d| d as i64)
        .collect();
    let r = dims.len() as i64;
    let clamp = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let start = clamp(a.int("start", 0));
    let end = clamp(a.int("end", r));
    Ok(Value::I(ITensor::vector(
        dims[start..end.max(start)].to_vec(),
    )))
}

pub fn cast(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
    device: &Device,
) -> Result<Value, OnnxError> {
    let x = input(node, inputs, 0)?;
    let to = a.int("to", 0);
    let to_float = matches!(to, 1 | 11);
    let to_int = matches!(to, 2 | 3 | 5 | 6 | 7 | 9 | 12 | 13);
    Ok(match (x, to_float, to_int) {
        (Value::F(_), true, _) | (Value::I(_), _, true) => x.clone(),
        (Value::I(i), true, _) => Value::F(FTensor::from_vec(
            i.data.iter().map(|&v| v as f32).collect(),
            i.shape.clone(),
            device,
        )?),
        (Value::F(f), _, true) => {
            // Truncation toward zero, as ONNX casts do; bool is != 0.
            let data = f
                .to_vec()?
                .into_iter()
                .map(|v| {
                    if to == 9 {
                        i64::from(v != 0.0)
                    } else {
                        v as i64
                    }
                })
                .collect();
            Value::I(ITensor::new(data, f.shape.clone())?)
        }
        _ => return Err(OnnxError::Unsupported(format!("Cast to element type {to}"))),
    })
}

/// `(start, end)` of each sliced axis, ONNX clamping rules, step 1.
fn slice_ranges(
    node: &NodeProto,
    shape: &[usize],
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> Result<Vec<(usize, usize)>, OnnxError> {
    let mut ranges: Vec<(usize, usize)> = shape.iter().map(|&d| (0, d)).collect();
    if starts.len() != ends.len() {
        return Err(malformed(node, "starts and ends differ in length"));
    }
    for (j, (&s, &e)) in starts.iter().zip(ends).enumerate() {
        let axis = match axes {
            Some(ax) => norm_axis(
                *ax.get(j).ok_or_else(|| malformed(node, "too few axes"))?,
                shape.len(),
            )?,
            None => j,
        };
        if axis >= shape.len() {
            return Err(malformed(node, "more starts than axes"));
        }
        if let Some(st) = steps {
            if st.get(j).copied().unwrap_or(1) != 1 {
                return Err(OnnxError::Unsupported(
                    "Slice with a step other than 1".into(),
                ));
            }
        }
        let d = shape[axis] as i64;
        let fix = |v: i64| (if v < 0 { v + d } else { v }).clamp(0, d) as usize;
        let (s, e) = (fix(s), fix(e));
        ranges[axis] = (s, e.max(s));
    }
    Ok(ranges)
}

pub fn slice(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
    opset: i64,
) -> Result<Value, OnnxError> {
    let x = input(node, inputs, 0)?;
    let ranges = if opset < 10 {
        let starts = a
            .ints("starts")
            .ok_or_else(|| malformed(node, "no starts"))?;
        let ends = a.ints("ends").ok_or_else(|| malformed(node, "no ends"))?;
        slice_ranges(node, x.shape(), starts, ends, a.ints("axes"), None)?
    } else {
        let opt = |i: usize| -> Result<Option<&ITensor>, OnnxError> {
            match inputs.get(i).copied().flatten() {
                Some(_) => ints(node, inputs, i).map(Some),
                None => Ok(None),
            }
        };
        let starts = ints(node, inputs, 1)?;
        let ends = ints(node, inputs, 2)?;
        let axes = opt(3)?.map(|t| t.data.as_slice());
        let steps = opt(4)?.map(|t| t.data.as_slice());
        slice_ranges(node, x.shape(), &starts.data, &ends.data, axes, steps)?
    };
    let shape: Vec<usize> = ranges.iter().map(|(s, e)| e - s).collect();
    Ok(match x {
        Value::F(_) if shape.contains(&0) => {
            return Err(OnnxError::Unsupported(format!(
                "Slice node {:?} gives an empty float tensor",
                node.name
            )))
        }
        Value::F(f) => {
            let mut t = f.t.clone();
            for (axis, &(s, e)) in ranges.iter().enumerate() {
                if (s, e) != (0, f.shape[axis]) {
                    t = t.slice_dim(f.phys(axis), s..e);
                }
            }
            Value::F(FTensor::wrap(t, shape))
        }
        Value::I(i) => {
            if i.shape.len() != 1 {
                return Err(OnnxError::Unsupported(
                    "Slice of a multi-axis integer tensor".into(),
                ));
            }
            let (s, e) = ranges[0];
            Value::I(ITensor::vector(i.data[s..e].to_vec()))
        }
    })
}

pub fn concat(node: &NodeProto, inputs: &[Option<&Value>], a: &Attrs) -> Result<Value, OnnxError> {
    let vals: Vec<&Value> = inputs.iter().copied().flatten().collect();
    let first = vals.first().ok_or_else(|| malformed(node, "no inputs"))?;
    let rank = first.shape().len();
    let axis = norm_axis(a.int("axis", 0), rank)?;
    let mut shape = first.shape().to_vec();
    shape[axis] = 0;
    for v in &vals {
        let s = v.shape();
        let same_others =
            s.len() == rank && (0..rank).all(|i| i == axis || s[i] == first.shape()[i]);
        if !same_others {
            return Err(malformed(
                node,
                format!("cannot concatenate {:?} with {:?}", first.shape(), s),
            ));
        }
        shape[axis] = shape[axis]
            .checked_add(s[axis])
            .ok_or_else(|| malformed(node, "concatenated axis overflows"))?;
    }
    // The result is allocated: one input repeated many times is a small
    // file and a large tensor.
    numel_of(&shape, if matches!(first, Value::I(_)) { 8 } else { 4 })?;
    match first {
        Value::F(f0) => {
            let mut ts = Vec::with_capacity(vals.len());
            for v in &vals {
                match v {
                    Value::F(f) => ts.push(f.t.clone()),
                    Value::I(_) => return Err(malformed(node, "mixes float and integer inputs")),
                }
            }
            let phys = f0.phys(axis);
            Ok(Value::F(FTensor::wrap(Tensor::cat(ts, phys), shape)))
        }
        Value::I(_) => {
            if rank != 1 {
                return Err(OnnxError::Unsupported(
                    "Concat of multi-axis integer tensors".into(),
                ));
            }
            let mut data = Vec::new();
            for v in &vals {
                match v {
                    Value::I(i) => data.extend_from_slice(&i.data),
                    Value::F(_) => return Err(malformed(node, "mixes float and integer inputs")),
                }
            }
            Ok(Value::I(ITensor::vector(data)))
        }
    }
}

pub fn squeeze(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
    opset: i64,
) -> Result<Value, OnnxError> {
    let x = input(node, inputs, 0)?;
    let axes: Option<Vec<i64>> = if opset >= 13 {
        match inputs.get(1).copied().flatten() {
            Some(_) => Some(ints(node, inputs, 1)?.data.clone()),
            None => None,
        }
    } else {
        a.ints("axes").map(<[i64]>::to_vec)
    };
    let mut shape = x.shape().to_vec();
    if node.op_type == "Unsqueeze" {
        let axes = axes.ok_or_else(|| malformed(node, "no axes"))?;
        let out_rank = shape.len() + axes.len();
        if out_rank > MAX_RANK {
            return Err(OnnxError::Unsupported(format!("rank-{out_rank} result")));
        }
        let mut norm: Vec<usize> = axes
            .iter()
            .map(|&ax| norm_axis(ax, out_rank))
            .collect::<Result<_, _>>()?;
        norm.sort_unstable();
        norm.dedup();
        if norm.len() != axes.len() {
            return Err(malformed(node, "repeated axis"));
        }
        for ax in norm {
            shape.insert(ax, 1);
        }
    } else {
        let rank = shape.len();
        let drop: Vec<usize> = match axes {
            Some(ax) => ax
                .iter()
                .map(|&v| norm_axis(v, rank))
                .collect::<Result<_, _>>()?,
            None => (0..rank).filter(|&i| shape[i] == 1).collect(),
        };
        if drop.iter().any(|&i| shape[i] != 1) {
            return Err(malformed(
                node,
                format!("cannot squeeze a non-unit axis of {shape:?}"),
            ));
        }
        shape = (0..rank)
            .filter(|i| !drop.contains(i))
            .map(|i| shape[i])
            .collect();
    }
    with_shape(node, x, shape)
}

pub fn transpose(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
) -> Result<Value, OnnxError> {
    let x = float(node, inputs, 0)?;
    let rank = x.rank();
    let perm: Vec<usize> = match a.ints("perm") {
        Some(p) => p
            .iter()
            .map(|&v| norm_axis(v, rank))
            .collect::<Result<_, _>>()?,
        None => (0..rank).rev().collect(),
    };
    let mut seen = perm.clone();
    seen.sort_unstable();
    if seen != (0..rank).collect::<Vec<_>>() {
        return Err(malformed(
            node,
            format!("perm {perm:?} is not a permutation of 0..{rank}"),
        ));
    }
    let off = 4 - rank;
    let mut full = [0, 1, 2, 3];
    for (i, &p) in perm.iter().enumerate() {
        full[off + i] = off + p;
    }
    let shape = perm.iter().map(|&p| x.shape[p]).collect();
    Ok(Value::F(FTensor::wrap(x.t.clone().permute(full), shape)))
}

pub fn gather(
    node: &NodeProto,
    inputs: &[Option<&Value>],
    a: &Attrs,
    device: &Device,
) -> Result<Value, OnnxError> {
    let x = input(node, inputs, 0)?;
    let idx = ints(node, inputs, 1)?;
    if idx.shape.len() > 1 {
        return Err(OnnxError::Unsupported(
            "Gather with multi-axis indices".into(),
        ));
    }
    let rank = x.shape().len();
    let axis = norm_axis(a.int("axis", 0), rank)?;
    let dim = x.shape()[axis] as i64;
    let mut picks = Vec::with_capacity(idx.data.len());
    for &i in &idx.data {
        let j = if i < 0 { i + dim } else { i };
        if !(0..dim).contains(&j) {
            return Err(malformed(
                node,
                format!("index {i} out of range for axis of {dim}"),
            ));
        }
        picks.push(j);
    }
    let mut shape = x.shape().to_vec();
    // Scalar indices remove the axis, a vector replaces its length.
    if idx.shape.is_empty() {
        shape.remove(axis);
    } else {
        shape[axis] = picks.len();
    }
    numel_of(&shape, if matches!(x, Value::I(_)) { 8 } else { 4 })?;
    match x {
        Value::F(_) if picks.is_empty() => Err(OnnxError::Unsupported(format!(
            "Gather node {:?} gives an empty float tensor",
            node.name
        ))),
        Value::F(f) => {
            let n = picks.len();
            let ind = Tensor::<1, Int>::from_data(TensorData::new(picks, [n]), device);
            let t = f.t.clone().select(f.phys(axis), ind);
            let mut out_shape = f.shape.clone();
            out_shape[axis] = n;
            FTensor::wrap(t, out_shape).reshape(shape).map(Value::F)
        }
        Value::I(i) => {
            if i.shape.len() != 1 {
                return Err(OnnxError::Unsupported(
                    "Gather on a multi-axis integer tensor".into(),
                ));
            }
            let data = picks.iter().map(|&j| i.data[j as usize]).collect();
            Ok(Value::I(ITensor::new(data, shape)?))
        }
    }
}
