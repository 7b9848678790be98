//! ONNX models at run time: `OnnxModel::load(path)` then `run(inputs)`.
//!
//! A small interpreter of our own rather than `burn-onnx`: burn-onnx
//! generates Rust code from a `.onnx` file at build time, so each model
//! would need a rebuild, and `exahealth predict --model model.onnx` needs
//! models chosen at run time. The protobuf is read by a hand-written reader
//! of the few message types involved (`proto.rs`), constants are
//! decoded once and every sub-graph that depends only on constants is
//! evaluated at load time; the rest runs on Burn tensors, so it uses
//! whatever backend the device is (Flex on the CPU by default).
//!
//! Operators: see [`SUPPORTED_OPERATORS`] (the ones CNN classifiers
//! exported from PyTorch, PaddlePaddle or TensorFlow use: convolution,
//! pooling, batch normalisation, dense layers, activations, shape
//! arithmetic). Float tensors up to rank 4. A model using anything else is
//! refused at load time with the list of operators it lacks.

mod attrs;
mod inputs;
mod nn_ops;
mod ops;
mod proto;
mod shape_ops;
mod value;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use burn::tensor::Device;
use ndarray::ArrayD;

use ops::{run_node, Ctx};
use proto::{ModelProto, NodeProto};
use value::{decode, FTensor, Value};

/// The operators [`OnnxModel`] can run.
pub const SUPPORTED_OPERATORS: &[&str] = ops::SUPPORTED;

/// ONNX files above 2 GiB cannot be a single protobuf message.
const MAX_FILE_BYTES: u64 = 2 << 30;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// Reading the file failed.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The bytes are not a valid ONNX model.
    #[error("malformed ONNX model: {0}")]
    Malformed(String),
    /// A valid model that uses something this interpreter lacks.
    #[error("unsupported ONNX feature: {0}")]
    Unsupported(String),
    /// The inputs given to `run` do not fit the model.
    #[error("bad input: {0}")]
    Input(String),
    /// A tensor operation failed while running.
    #[error("inference failed: {0}")]
    Runtime(String),
}

/// A graph input: its name and declared shape (`None` = any size).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputInfo {
    /// Input name in the graph.
    pub name: String,
    /// Declared dimensions.
    pub dims: Vec<Option<usize>>,
}

/// A loaded ONNX model, ready to run on one device.
pub struct OnnxModel {
    device: Device,
    opset: i64,
    producer: String,
    consts: HashMap<String, Value>,
    nodes: Vec<NodeProto>,
    /// For each run-time node, the values whose last use it is.
    frees: Vec<Vec<String>>,
    inputs: Vec<InputInfo>,
    outputs: Vec<String>,
    operators: BTreeMap<String, usize>,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("opset", &self.opset)
            .field("producer", &self.producer)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("operators", &self.operators)
            .finish_non_exhaustive()
    }
}

impl OnnxModel {
    /// Reads and prepares the model in `path` for `device`.
    pub fn load(path: &Path, device: &Device) -> Result<Self, OnnxError> {
        let io = |source| OnnxError::Io {
            path: path.to_path_buf(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > MAX_FILE_BYTES {
            return Err(OnnxError::Unsupported(format!(
                "{len}-byte file (single-file ONNX models are under 2 GiB)"
            )));
        }
        drop(file);
        // Read up to the memory budget, counting what arrives.
        let bytes = exahealth_base::budget::read_file(path, MAX_FILE_BYTES).map_err(io)?;
        Self::from_bytes(&bytes, device)
    }

    /// Prepares a serialised model for `device`.
    pub fn from_bytes(bytes: &[u8], device: &Device) -> Result<Self, OnnxError> {
        let model = ModelProto::parse(bytes)?;
        let opset = model.opset();
        let graph = model.graph;
        let mut operators = BTreeMap::new();
        for n in &graph.nodes {
            *operators.entry(n.op_type.clone()).or_insert(0) += 1;
        }
        let missing: Vec<&str> = operators
            .keys()
            .map(String::as_str)
            .filter(|op| !SUPPORTED_OPERATORS.contains(op))
            .collect();
        if !missing.is_empty() {
            return Err(OnnxError::Unsupported(format!(
                "operators {} (supported: {})",
                missing.join(", "),
                SUPPORTED_OPERATORS.join(", ")
            )));
        }

        let ctx = Ctx { device, opset };
        // Constants stay for the model's life, folded ones included: a
        // chain of nodes over one large constant must not multiply it
        // beyond the memory budget.
        let mut held = 0u64;
        let mut hold = |v: &Value| -> Result<(), OnnxError> {
            held = held.saturating_add(v.bytes());
            exahealth_base::budget::check("the constants of the model", held)
                .map(drop)
                .map_err(|e| OnnxError::Unsupported(e.to_string()))
        };
        let mut consts = HashMap::new();
        for t in &graph.initializers {
            let v = decode(t, device)?;
            hold(&v)?;
            consts.insert(t.name.clone(), v);
        }
        // Graph inputs that an initializer also names are constants (old
        // exporters list weights as inputs).
        let inputs: Vec<InputInfo> = graph
            .inputs
            .iter()
            .filter(|v| !consts.contains_key(&v.name))
            .map(|v| InputInfo {
                name: v.name.clone(),
                dims: v.dims.iter().map(|d| d.map(|d| d as usize)).collect(),
            })
            .collect();
        let mut defined: HashSet<String> = inputs.iter().map(|i| i.name.clone()).collect();
        defined.extend(consts.keys().cloned());

        // Fold every node whose inputs are all constants; keep the rest.
        let mut nodes = Vec::new();
        for node in graph.nodes {
            for i in node.inputs.iter().filter(|i| !i.is_empty()) {
                if !defined.contains(i) {
                    return Err(OnnxError::Malformed(format!(
                        "node {:?} ({}) uses {i:?} before it is defined",
                        node.name, node.op_type
                    )));
                }
            }
            defined.extend(node.outputs.iter().cloned());
            let all_const = node
                .inputs
                .iter()
                .all(|i| i.is_empty() || consts.contains_key(i));
            if all_const {
                let args: Vec<Option<&Value>> = node.inputs.iter().map(|i| consts.get(i)).collect();
                let outs = run_node(&node, &args, &ctx)?;
                for (name, v) in node.outputs.iter().zip(outs) {
                    hold(&v)?;
                    consts.insert(name.clone(), v);
                }
            } else {
                nodes.push(node);
            }
        }
        let outputs: Vec<String> = graph.outputs.iter().map(|o| o.name.clone()).collect();
        for o in &outputs {
            if !defined.contains(o) {
                return Err(OnnxError::Malformed(format!(
                    "output {o:?} is never computed"
                )));
            }
        }
        // Free each intermediate after its last use to bound memory.
        let mut last_use: HashMap<&str, usize> = HashMap::new();
        for (k, n) in nodes.iter().enumerate() {
            for i in &n.inputs {
                last_use.insert(i.as_str(), k);
            }
        }
        let output_set: HashSet<&str> = outputs.iter().map(String::as_str).collect();
        let mut frees = vec![Vec::new(); nodes.len()];
        for (name, k) in last_use {
            if !output_set.contains(name) && !consts.contains_key(name) {
                frees[k].push(name.to_string());
            }
        }
        Ok(Self {
            device: device.clone(),
            opset,
            producer: model.producer_name,
            consts,
            nodes,
            frees,
            inputs,
            outputs,
            operators,
        })
    }

    /// The graph's inputs, in order.
    pub fn inputs(&self) -> &[InputInfo] {
        &self.inputs
    }

    /// Names of the graph's outputs, in order.
    pub fn outputs(&self) -> &[String] {
        &self.outputs
    }

    /// Operator counts of the graph.
    pub fn operators(&self) -> &BTreeMap<String, usize> {
        &self.operators
    }

    /// Opset version of the default domain.
    pub fn opset(&self) -> i64 {
        self.opset
    }

    /// The tool that wrote the file.
    pub fn producer(&self) -> &str {
        &self.producer
    }

    /// Runs the model on one array per graph input (in [`inputs`](Self::inputs)
    /// order); returns one array per output. Integer outputs are converted
    /// to `f32`.
    pub fn run(&self, inputs: &[ArrayD<f32>]) -> Result<Vec<ArrayD<f32>>, OnnxError> {
        if inputs.len() != self.inputs.len() {
            return Err(OnnxError::Input(format!(
                "{} inputs given, the model takes {} ({})",
                inputs.len(),
                self.inputs.len(),
                self.inputs
                    .iter()
                    .map(|i| i.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let mut values: HashMap<&str, Value> = HashMap::new();
        for (info, array) in self.inputs.iter().zip(inputs) {
            let shape = array.shape().to_vec();
            let fits = shape.len() == info.dims.len()
                && shape
                    .iter()
                    .zip(&info.dims)
                    .all(|(s, d)| d.is_none_or(|d| d == *s));
            if !fits || shape.contains(&0) {
                return Err(OnnxError::Input(format!(
                    "input {:?} has shape {shape:?}, the model expects {:?} (None = any)",
                    info.name, info.dims
                )));
            }
            let data: Vec<f32> = array.iter().copied().collect();
            let t = FTensor::from_vec(data, shape, &self.device)
                .map_err(|e| OnnxError::Input(e.to_string()))?;
            values.insert(info.name.as_str(), Value::F(t));
        }
        let ctx = Ctx {
            device: &self.device,
            opset: self.opset,
        };
        for (node, frees) in self.nodes.iter().zip(&self.frees) {
            let outs = {
                let args: Vec<Option<&Value>> = node
                    .inputs
                    .iter()
                    .map(|i| {
                        if i.is_empty() {
                            None
                        } else {
                            values.get(i.as_str()).or_else(|| self.consts.get(i))
                        }
                    })
                    .collect();
                run_node(node, &args, &ctx)?
            };
            for f in frees {
                values.remove(f.as_str());
            }
            for (name, v) in node.outputs.iter().zip(outs) {
                values.insert(name.as_str(), v);
            }
        }
        self.outputs
            .iter()
            .map(|name| {
                let v = values
                    .get(name.as_str())
                    .or_else(|| self.consts.get(name))
                    .ok_or_else(|| {
                        OnnxError::Runtime(format!("output {name:?} was not computed"))
                    })?;
                let (shape, data) = match v {
                    Value::F(f) => (f.shape.clone(), f.to_vec()?),
                    Value::I(i) => (i.shape.clone(), i.data.iter().map(|&x| x as f32).collect()),
                };
                ArrayD::from_shape_vec(shape, data).map_err(|e| OnnxError::Runtime(e.to_string()))
            })
            .collect()
    }
}
