//! A reader for the subset of ONNX's protobuf messages needed to run a
//! model: model, graph, node, attribute, tensor, value info.
//!
//! Hand-written over the protobuf wire format (varints and length-delimited
//! fields) rather than generated: the schema subset is small, it avoids a
//! `protoc` build step, and every length is checked against the bytes that
//! remain, so a hostile file cannot make it allocate more than its own size
//! or read out of bounds. Unknown fields are skipped, as protobuf requires.

use super::OnnxError;

fn bad(what: impl Into<String>) -> OnnxError {
    OnnxError::Malformed(what.into())
}

/// A cursor over one message's bytes.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf, pos: 0 }
    }

    fn varint(&mut self) -> Result<u64, OnnxError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let b = *self
                .buf
                .get(self.pos)
                .ok_or_else(|| bad("truncated varint"))?;
            self.pos += 1;
            if shift == 63 && b > 1 {
                return Err(bad("varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint longer than 10 bytes"))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], OnnxError> {
        let end = self.pos.checked_add(N).filter(|&e| e <= self.buf.len());
        let end = end.ok_or_else(|| bad("truncated fixed-width field"))?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.buf[self.pos..end]);
        self.pos = end;
        Ok(out)
    }

    fn bytes(&mut self) -> Result<&'a [u8], OnnxError> {
        let len = self.varint()?;
        let remaining = (self.buf.len() - self.pos) as u64;
        if len > remaining {
            return Err(bad(format!(
                "field of {len} bytes overruns its message ({remaining} left)"
            )));
        }
        let start = self.pos;
        self.pos += len as usize;
        Ok(&self.buf[start..self.pos])
    }

    /// The next (field number, wire type), or `None` at the end.
    fn key(&mut self) -> Result<Option<(u64, u8)>, OnnxError> {
        if self.pos >= self.buf.len() {
            return Ok(None);
        }
        let k = self.varint()?;
        Ok(Some((k >> 3, (k & 7) as u8)))
    }

    fn skip(&mut self, wire: u8) -> Result<(), OnnxError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.fixed::<8>().map(drop),
            2 => self.bytes().map(drop),
            5 => self.fixed::<4>().map(drop),
            w => Err(bad(format!("unsupported wire type {w}"))),
        }
    }

    fn string(&mut self) -> Result<String, OnnxError> {
        let b = self.bytes()?;
        String::from_utf8(b.to_vec()).map_err(|_| bad("string is not UTF-8"))
    }

    /// A repeated varint field, packed (wire 2) or not (wire 0).
    fn varints(&mut self, wire: u8, out: &mut Vec<i64>) -> Result<(), OnnxError> {
        if wire == 2 {
            let mut r = Reader::new(self.bytes()?);
            while r.pos < r.buf.len() {
                out.push(r.varint()? as i64);
            }
            Ok(())
        } else if wire == 0 {
            out.push(self.varint()? as i64);
            Ok(())
        } else {
            Err(bad(format!("integer field with wire type {wire}")))
        }
    }

    /// A repeated float field, packed (wire 2) or not (wire 5).
    fn floats(&mut self, wire: u8, out: &mut Vec<f32>) -> Result<(), OnnxError> {
        if wire == 2 {
            let b = self.bytes()?;
            if b.len() % 4 != 0 {
                return Err(bad("packed floats not a multiple of 4 bytes"));
            }
            out.extend(
                b.chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            Ok(())
        } else if wire == 5 {
            out.push(f32::from_le_bytes(self.fixed::<4>()?));
            Ok(())
        } else {
            Err(bad(format!("float field with wire type {wire}")))
        }
    }

    /// A repeated double field, packed (wire 2) or not (wire 1).
    fn doubles(&mut self, wire: u8, out: &mut Vec<f64>) -> Result<(), OnnxError> {
        if wire == 2 {
            let b = self.bytes()?;
            if b.len() % 8 != 0 {
                return Err(bad("packed doubles not a multiple of 8 bytes"));
            }
            out.extend(b.chunks_exact(8).map(|c| {
                let mut a = [0u8; 8];
                a.copy_from_slice(c);
                f64::from_le_bytes(a)
            }));
            Ok(())
        } else if wire == 1 {
            out.push(f64::from_le_bytes(self.fixed::<8>()?));
            Ok(())
        } else {
            Err(bad(format!("double field with wire type {wire}")))
        }
    }
}

/// `TensorProto`: a constant tensor (weights, constants).
#[derive(Debug, Clone, Default)]
pub struct TensorProto {
    pub name: String,
    pub dims: Vec<i64>,
    pub data_type: i32,
    pub float_data: Vec<f32>,
    pub int32_data: Vec<i64>,
    pub int64_data: Vec<i64>,
    pub double_data: Vec<f64>,
    pub raw_data: Vec<u8>,
    /// 1 = stored in an external file (unsupported).
    pub data_location: i32,
    pub has_external_data: bool,
}

impl TensorProto {
    fn parse(buf: &[u8]) -> Result<Self, OnnxError> {
        let mut t = Self::default();
        let mut r = Reader::new(buf);
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, _) => r.varints(wire, &mut t.dims)?,
                (2, 0) => t.data_type = r.varint()? as i32,
                (4, _) => r.floats(wire, &mut t.float_data)?,
                (5, _) => r.varints(wire, &mut t.int32_data)?,
                (7, _) => r.varints(wire, &mut t.int64_data)?,
                (8, 2) => t.name = r.string()?,
                (9, 2) => t.raw_data = r.bytes()?.to_vec(),
                (10, _) => r.doubles(wire, &mut t.double_data)?,
                (13, 2) => {
                    r.bytes()?;
                    t.has_external_data = true;
                }
                (14, 0) => t.data_location = r.varint()? as i32,
                _ => r.skip(wire)?,
            }
        }
        Ok(t)
    }
}

/// `AttributeProto` (sub-graphs are skipped: no control-flow operators).
#[derive(Debug, Clone, Default)]
pub struct AttributeProto {
    pub name: String,
    pub f: Option<f32>,
    pub i: Option<i64>,
    pub s: Option<Vec<u8>>,
    pub t: Option<TensorProto>,
    pub floats: Vec<f32>,
    pub ints: Vec<i64>,
    pub has_graph: bool,
}

impl AttributeProto {
    fn parse(buf: &[u8]) -> Result<Self, OnnxError> {
        let mut a = Self::default();
        let mut r = Reader::new(buf);
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, 2) => a.name = r.string()?,
                (2, 5) => a.f = Some(f32::from_le_bytes(r.fixed::<4>()?)),
                (3, 0) => a.i = Some(r.varint()? as i64),
                (4, 2) => a.s = Some(r.bytes()?.to_vec()),
                (5, 2) => a.t = Some(TensorProto::parse(r.bytes()?)?),
                (6 | 11, 2) => {
                    r.bytes()?;
                    a.has_graph = true;
                }
                (7, _) => r.floats(wire, &mut a.floats)?,
                (8, _) => r.varints(wire, &mut a.ints)?,
                _ => r.skip(wire)?,
            }
        }
        Ok(a)
    }
}

/// `NodeProto`: one operator application.
#[derive(Debug, Clone, Default)]
pub struct NodeProto {
    pub name: String,
    pub op_type: String,
    pub domain: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attributes: Vec<AttributeProto>,
}

impl NodeProto {
    fn parse(buf: &[u8]) -> Result<Self, OnnxError> {
        let mut n = Self::default();
        let mut r = Reader::new(buf);
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, 2) => n.inputs.push(r.string()?),
                (2, 2) => n.outputs.push(r.string()?),
                (3, 2) => n.name = r.string()?,
                (4, 2) => n.op_type = r.string()?,
                (5, 2) => n.attributes.push(AttributeProto::parse(r.bytes()?)?),
                (7, 2) => n.domain = r.string()?,
                _ => r.skip(wire)?,
            }
        }
        Ok(n)
    }
}

/// `ValueInfoProto` reduced to a name, an element type and a shape
/// (`None` for symbolic or unknown dimensions).
#[derive(Debug, Clone, Default)]
pub struct ValueInfo {
    pub name: String,
    pub elem_type: i32,
    pub dims: Vec<Option<i64>>,
}

impl ValueInfo {
    fn parse(buf: &[u8]) -> Result<Self, OnnxError> {
        let mut v = Self::default();
        let mut r = Reader::new(buf);
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, 2) => v.name = r.string()?,
                (2, 2) => {
                    // TypeProto.tensor_type (1) -> elem_type (1), shape (2).
                    let mut tp = Reader::new(r.bytes()?);
                    while let Some((f, w)) = tp.key()? {
                        if (f, w) != (1, 2) {
                            tp.skip(w)?;
                            continue;
                        }
                        let mut tt = Reader::new(tp.bytes()?);
                        while let Some((f, w)) = tt.key()? {
                            match (f, w) {
                                (1, 0) => v.elem_type = tt.varint()? as i32,
                                (2, 2) => v.dims = parse_shape(tt.bytes()?)?,
                                _ => tt.skip(w)?,
                            }
                        }
                    }
                }
                _ => r.skip(wire)?,
            }
        }
        Ok(v)
    }
}

fn parse_shape(buf: &[u8]) -> Result<Vec<Option<i64>>, OnnxError> {
    let mut dims = Vec::new();
    let mut r = Reader::new(buf);
    while let Some((f, w)) = r.key()? {
        if (f, w) != (1, 2) {
            r.skip(w)?;
            continue;
        }
        let mut d = Reader::new(r.bytes()?);
        let mut value = None;
        while let Some((f, w)) = d.key()? {
            match (f, w) {
                (1, 0) => value = Some(d.varint()? as i64).filter(|&v| v >= 0),
                _ => d.skip(w)?,
            }
        }
        dims.push(value);
    }
    Ok(dims)
}

/// `GraphProto`.
#[derive(Debug, Clone, Default)]
pub struct GraphProto {
    pub name: String,
    pub nodes: Vec<NodeProto>,
    pub initializers: Vec<TensorProto>,
    pub inputs: Vec<ValueInfo>,
    pub outputs: Vec<ValueInfo>,
}

impl GraphProto {
    fn parse(buf: &[u8]) -> Result<Self, OnnxError> {
        let mut g = Self::default();
        let mut r = Reader::new(buf);
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, 2) => g.nodes.push(NodeProto::parse(r.bytes()?)?),
                (2, 2) => g.name = r.string()?,
                (5, 2) => g.initializers.push(TensorProto::parse(r.bytes()?)?),
                (11, 2) => g.inputs.push(ValueInfo::parse(r.bytes()?)?),
                (12, 2) => g.outputs.push(ValueInfo::parse(r.bytes()?)?),
                _ => r.skip(wire)?,
            }
        }
        Ok(g)
    }
}

/// `ModelProto`.
#[derive(Debug, Clone, Default)]
pub struct ModelProto {
    pub ir_version: i64,
    pub producer_name: String,
    /// (domain, version); the default domain is `""` or `"ai.onnx"`.
    pub opset_import: Vec<(String, i64)>,
    pub graph: GraphProto,
}

impl ModelProto {
    /// Parses a serialised `ModelProto`.
    pub fn parse(buf: &[u8]) -> Result<Self, OnnxError> {
        let mut m = Self::default();
        let mut r = Reader::new(buf);
        let mut has_graph = false;
        while let Some((field, wire)) = r.key()? {
            match (field, wire) {
                (1, 0) => m.ir_version = r.varint()? as i64,
                (2, 2) => m.producer_name = r.string()?,
                (7, 2) => {
                    m.graph = GraphProto::parse(r.bytes()?)?;
                    has_graph = true;
                }
                (8, 2) => {
                    let mut o = Reader::new(r.bytes()?);
                    let (mut domain, mut version) = (String::new(), 0);
                    while let Some((f, w)) = o.key()? {
                        match (f, w) {
                            (1, 2) => domain = o.string()?,
                            (2, 0) => version = o.varint()? as i64,
                            _ => o.skip(w)?,
                        }
                    }
                    m.opset_import.push((domain, version));
                }
                _ => r.skip(wire)?,
            }
        }
        if !has_graph {
            return Err(bad("no graph: not an ONNX model"));
        }
        Ok(m)
    }

    /// Opset version of the default (`ai.onnx`) domain.
    pub fn opset(&self) -> i64 {
        self.opset_import
            .iter()
            .find(|(d, _)| d.is_empty() || d == "ai.onnx")
            .map(|(_, v)| *v)
            .unwrap_or(1)
    }
}
