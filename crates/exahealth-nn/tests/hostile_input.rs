//! Hostile input never crashes or exhausts memory: crafted ONNX models,
//! PyTorch checkpoints and embeddings files, built here byte by byte, each
//! of a class that panicked, aborted or allocated past the memory budget
//! before. Every reader must answer them with a typed error.
//!
//! All tests run under one small memory budget (set identically by each,
//! since the budget is process-wide), so "over the budget" needs only a
//! few tens of megabytes.

use exahealth_nn::cpu_device;
use exahealth_nn::onnx::{OnnxError, OnnxModel};

/// The budget of every test in this file.
const BUDGET: u64 = 32 << 20;

fn budget() {
    exahealth_base::budget::set_limit(BUDGET);
}

// ---------------------------------------------------------------------------
// A protobuf writer of just enough ONNX.

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn key(out: &mut Vec<u8>, field: u64, wire: u64) {
    varint(out, (field << 3) | wire);
}

fn int_field(out: &mut Vec<u8>, field: u64, v: i64) {
    key(out, field, 0);
    varint(out, v as u64);
}

fn bytes_field(out: &mut Vec<u8>, field: u64, b: &[u8]) {
    key(out, field, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `TensorProto` with `raw_data`.
fn tensor(name: &str, data_type: i64, dims: &[i64], raw: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    for &d in dims {
        int_field(&mut t, 1, d);
    }
    int_field(&mut t, 2, data_type);
    bytes_field(&mut t, 8, name.as_bytes());
    if !raw.is_empty() {
        bytes_field(&mut t, 9, raw);
    }
    t
}

fn f32_tensor(name: &str, dims: &[i64], values: &[f32]) -> Vec<u8> {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, 1, dims, &raw)
}

fn i64_tensor(name: &str, dims: &[i64], values: &[i64]) -> Vec<u8> {
    let raw: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    tensor(name, 7, dims, &raw)
}

enum Attr<'a> {
    Int(i64),
    Float(f32),
    Ints(&'a [i64]),
    Tensor(Vec<u8>),
}

fn attribute(name: &str, value: Attr) -> Vec<u8> {
    let mut a = Vec::new();
    bytes_field(&mut a, 1, name.as_bytes());
    match value {
        Attr::Int(i) => int_field(&mut a, 3, i),
        Attr::Float(f) => {
            key(&mut a, 2, 5);
            a.extend_from_slice(&f.to_le_bytes());
        }
        Attr::Ints(v) => {
            for &i in v {
                int_field(&mut a, 8, i);
            }
        }
        Attr::Tensor(t) => bytes_field(&mut a, 5, &t),
    }
    a
}

fn node(op: &str, inputs: &[&str], outputs: &[&str], attrs: Vec<(&str, Attr)>) -> Vec<u8> {
    let mut n = Vec::new();
    for i in inputs {
        bytes_field(&mut n, 1, i.as_bytes());
    }
    for o in outputs {
        bytes_field(&mut n, 2, o.as_bytes());
    }
    bytes_field(&mut n, 4, op.as_bytes());
    for (name, value) in attrs {
        bytes_field(&mut n, 5, &attribute(name, value));
    }
    n
}

/// A `ModelProto` whose graph has `nodes`, `initializers` and the graph
/// outputs `outputs`, in the default domain at `opset`.
fn model(opset: i64, nodes: &[Vec<u8>], initializers: &[Vec<u8>], outputs: &[&str]) -> Vec<u8> {
    let mut g = Vec::new();
    for n in nodes {
        bytes_field(&mut g, 1, n);
    }
    bytes_field(&mut g, 2, b"hostile");
    for t in initializers {
        bytes_field(&mut g, 5, t);
    }
    for o in outputs {
        let mut v = Vec::new();
        bytes_field(&mut v, 1, o.as_bytes());
        bytes_field(&mut g, 12, &v);
    }
    let mut m = Vec::new();
    int_field(&mut m, 1, 7);
    bytes_field(&mut m, 2, b"exahealth-hostile");
    bytes_field(&mut m, 7, &g);
    let mut o = Vec::new();
    bytes_field(&mut o, 1, b"");
    int_field(&mut o, 2, opset);
    bytes_field(&mut m, 8, &o);
    m
}

fn load(bytes: &[u8]) -> Result<OnnxModel, OnnxError> {
    budget();
    OnnxModel::from_bytes(bytes, &cpu_device())
}

/// Asserts a typed error that is not a run-time failure of a valid model.
fn refused(bytes: &[u8]) -> OnnxError {
    match load(bytes) {
        Ok(m) => panic!("hostile model accepted: {m:?}"),
        Err(e @ (OnnxError::Malformed(_) | OnnxError::Unsupported(_))) => e,
        Err(e) => panic!("unexpected error kind: {e}"),
    }
}

fn over_budget(bytes: &[u8]) {
    let e = refused(bytes);
    assert!(e.to_string().contains("memory budget"), "{e}");
}

fn scalar_const(name: &str, v: f32) -> Vec<u8> {
    node(
        "Constant",
        &[],
        &[name],
        vec![("value_float", Attr::Float(v))],
    )
}

// ---------------------------------------------------------------------------
// The protobuf reader (these held before; kept as guards).

#[test]
fn onnx_tensor_whose_dims_multiply_to_2_pow_40_is_refused() {
    let t = f32_tensor("w", &[1 << 20, 1 << 20], &[]);
    let m = model(
        13,
        &[node("Relu", &["w"], &["y"], vec![])],
        std::slice::from_ref(&t),
        &["y"],
    );
    refused(&m);
    // The same tensor as a Constant node's value.
    let c = node("Constant", &[], &["y"], vec![("value", Attr::Tensor(t))]);
    refused(&model(13, &[c], &[], &["y"]));
}

#[test]
fn onnx_length_past_the_end_is_malformed() {
    let mut m = model(13, &[], &[], &[]);
    // A graph field claiming 2^40 bytes, and one claiming u64::MAX.
    for len in [1u64 << 40, u64::MAX] {
        let mut bad = m.clone();
        key(&mut bad, 7, 2);
        varint(&mut bad, len);
        bad.extend_from_slice(b"xyz");
        assert!(matches!(load(&bad), Err(OnnxError::Malformed(_))));
    }
    m.truncate(m.len() - 3);
    assert!(load(&m).is_err());
}

// ---------------------------------------------------------------------------
// Operators on scalars: axis 0 of a rank-0 value indexed an empty shape.

#[test]
fn onnx_concat_of_scalars_is_an_error_not_a_panic() {
    let m = model(
        13,
        &[
            scalar_const("a", 1.0),
            scalar_const("b", 2.0),
            node("Concat", &["a", "b"], &["y"], vec![("axis", Attr::Int(0))]),
        ],
        &[],
        &["y"],
    );
    refused(&m);
}

#[test]
fn onnx_gather_on_a_scalar_is_an_error_not_a_panic() {
    let m = model(
        13,
        &[
            scalar_const("a", 1.0),
            node(
                "Constant",
                &[],
                &["i"],
                vec![("value_ints", Attr::Ints(&[0]))],
            ),
            node("Gather", &["a", "i"], &["y"], vec![]),
        ],
        &[],
        &["y"],
    );
    refused(&m);
}

#[test]
fn onnx_squeeze_of_a_scalar_is_an_error_not_a_panic() {
    let m = model(
        11,
        &[
            scalar_const("a", 1.0),
            node("Squeeze", &["a"], &["y"], vec![("axes", Attr::Ints(&[0]))]),
        ],
        &[],
        &["y"],
    );
    refused(&m);
}

#[test]
fn onnx_softmax_of_a_scalar_is_an_error_not_a_panic() {
    let m = model(
        13,
        &[
            scalar_const("a", 1.0),
            node("Softmax", &["a"], &["y"], vec![("axis", Attr::Int(0))]),
        ],
        &[],
        &["y"],
    );
    refused(&m);
}

#[test]
fn onnx_integer_add_of_an_empty_tensor_and_a_scalar_is_total() {
    // [] + 1 indexed the empty side at 0.
    let m = model(
        13,
        &[
            node(
                "Constant",
                &[],
                &["e"],
                vec![("value_ints", Attr::Ints(&[]))],
            ),
            node("Constant", &[], &["one"], vec![("value_int", Attr::Int(1))]),
            node("Add", &["e", "one"], &["y"], vec![]),
        ],
        &[],
        &["y"],
    );
    // Broadcasting an empty vector with a scalar is valid ONNX: an empty result.
    let model = load(&m).expect("[] + 1 is []");
    let out = model.run(&[]).unwrap();
    assert_eq!(out[0].len(), 0);
}

#[test]
fn onnx_empty_float_tensors_are_refused() {
    // A max over an empty axis panics inside Burn.
    let t = f32_tensor("x", &[1, 1, 0, 0], &[]);
    let m = model(
        13,
        &[node("GlobalMaxPool", &["x"], &["y"], vec![])],
        &[t],
        &["y"],
    );
    refused(&m);
    // An empty slice of a float tensor, then a max over it.
    let t = f32_tensor("x", &[1, 1, 1, 4], &[1.0, 2.0, 3.0, 4.0]);
    let m = model(
        13,
        &[
            node(
                "Constant",
                &[],
                &["s"],
                vec![("value_ints", Attr::Ints(&[2]))],
            ),
            node(
                "Constant",
                &[],
                &["a"],
                vec![("value_ints", Attr::Ints(&[3]))],
            ),
            node("Slice", &["x", "s", "s", "a"], &["e"], vec![]),
            node("GlobalMaxPool", &["e"], &["y"], vec![]),
        ],
        &[t],
        &["y"],
    );
    refused(&m);
}

// ---------------------------------------------------------------------------
// Small files, large results: each would allocate 64 MiB (twice the budget
// of these tests) from a few kilobytes.

#[test]
fn onnx_broadcast_to_n_squared_is_held_to_the_budget() {
    let col = f32_tensor("a", &[4096, 1], &[1.0; 4096]);
    let row = f32_tensor("b", &[1, 4096], &[1.0; 4096]);
    let m = model(
        13,
        &[node("Add", &["a", "b"], &["y"], vec![])],
        &[col, row],
        &["y"],
    );
    over_budget(&m);
}

#[test]
fn onnx_matmul_outer_product_is_held_to_the_budget() {
    let col = f32_tensor("a", &[4096, 1], &[1.0; 4096]);
    let row = f32_tensor("b", &[1, 4096], &[1.0; 4096]);
    let m = model(
        13,
        &[node("MatMul", &["a", "b"], &["y"], vec![])],
        &[col, row],
        &["y"],
    );
    over_budget(&m);
}

#[test]
fn onnx_conv_with_huge_padding_is_held_to_the_budget() {
    // A 1x1 pixel through 16 filters padded by 1024 on each side:
    // [1, 16, 2049, 2049], 268 MB.
    let x = f32_tensor("x", &[1, 1, 1, 1], &[1.0]);
    let w = f32_tensor("w", &[16, 1, 1, 1], &[1.0; 16]);
    let m = model(
        13,
        &[node(
            "Conv",
            &["x", "w"],
            &["y"],
            vec![("pads", Attr::Ints(&[1024; 4]))],
        )],
        &[x, w],
        &["y"],
    );
    over_budget(&m);
}

#[test]
fn onnx_gather_repeating_one_row_is_held_to_the_budget() {
    let x = f32_tensor("x", &[1, 4096], &[1.0; 4096]);
    let i = i64_tensor("i", &[4096], &[0; 4096]);
    let m = model(
        13,
        &[node(
            "Gather",
            &["x", "i"],
            &["y"],
            vec![("axis", Attr::Int(0))],
        )],
        &[x, i],
        &["y"],
    );
    over_budget(&m);
}

#[test]
fn onnx_concat_of_one_input_many_times_is_held_to_the_budget() {
    let x = f32_tensor("x", &[1, 1024], &[1.0; 1024]);
    let inputs = vec!["x"; 16384];
    let m = model(
        13,
        &[node(
            "Concat",
            &inputs,
            &["y"],
            vec![("axis", Attr::Int(0))],
        )],
        &[x],
        &["y"],
    );
    over_budget(&m);
}

#[test]
fn onnx_folded_constants_together_are_held_to_the_budget() {
    // One 8 MB integer constant and eight Identity nodes, each a copy kept
    // for the model's life: 72 MB.
    let n = 1 << 20;
    let x = i64_tensor("x0", &[n as i64], &vec![7; n]);
    let names: Vec<String> = (0..=8).map(|k| format!("x{k}")).collect();
    let nodes: Vec<Vec<u8>> = (0..8)
        .map(|k| node("Identity", &[&names[k]], &[&names[k + 1]], vec![]))
        .collect();
    let m = model(13, &nodes, &[x], &["x8"]);
    over_budget(&m);
}

#[test]
fn onnx_integer_tensor_of_huge_rank_is_refused() {
    // 100,000 axes of length 1: Squeeze walked them once per axis
    // (10^10 steps).
    let dims = vec![1i64; 100_000];
    let x = i64_tensor("x", &dims, &[5]);
    let m = model(11, &[node("Squeeze", &["x"], &["y"], vec![])], &[x], &["y"]);
    let started = std::time::Instant::now();
    refused(&m);
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn onnx_file_over_the_budget_is_not_read_whole() {
    budget();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.onnx");
    // A valid prefix followed by more bytes than the budget.
    let mut bytes = model(13, &[], &[], &[]);
    bytes.resize(BUDGET as usize + 1024, 0);
    std::fs::write(&path, &bytes).unwrap();
    match OnnxModel::load(&path, &cpu_device()) {
        Err(OnnxError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge)
        }
        other => panic!("expected a FileTooLarge error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Embeddings files.

#[test]
fn features_file_over_the_budget_is_not_read_whole() {
    use exahealth_nn::features::read_features;
    use exahealth_nn::NnError;
    budget();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("features.safetensors");
    std::fs::write(&path, vec![0u8; BUDGET as usize + 1]).unwrap();
    match read_features(&path) {
        Err(NnError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::FileTooLarge)
        }
        other => panic!("expected a FileTooLarge error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------
// PyTorch checkpoints: a stored ZIP holding a pickle, written by hand.

#[cfg(feature = "pytorch")]
mod pytorch {
    use super::*;
    use exahealth_nn::pytorch::{load_pytorch, PytorchError};

    fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
        exahealth_hostile::zip::stored(entries)
    }

    fn unicode(p: &mut Vec<u8>, s: &str) {
        p.push(b'X');
        p.extend_from_slice(&(s.len() as u32).to_le_bytes());
        p.extend_from_slice(s.as_bytes());
    }

    fn int(p: &mut Vec<u8>, v: i32) {
        p.push(b'J');
        p.extend_from_slice(&v.to_le_bytes());
    }

    fn ordered_dict(p: &mut Vec<u8>) {
        p.extend_from_slice(b"ccollections\nOrderedDict\n)R");
    }

    /// `{name: tensor}` where the tensor views storage "0" (one float)
    /// with `shape` and `stride`.
    fn state_dict(name: &str, shape: &[i32], stride: &[i32]) -> Vec<u8> {
        let mut p = vec![0x80, 0x02];
        ordered_dict(&mut p);
        p.push(b'(');
        unicode(&mut p, name);
        p.extend_from_slice(b"ctorch._utils\n_rebuild_tensor_v2\n(");
        // persistent id ("storage", FloatStorage, "0", "cpu", 1)
        p.push(b'(');
        unicode(&mut p, "storage");
        p.extend_from_slice(b"ctorch\nFloatStorage\n");
        unicode(&mut p, "0");
        unicode(&mut p, "cpu");
        int(&mut p, 1);
        p.extend_from_slice(b"tQ");
        int(&mut p, 0);
        p.push(b'(');
        for &d in shape {
            int(&mut p, d);
        }
        p.push(b't');
        p.push(b'(');
        for &s in stride {
            int(&mut p, s);
        }
        p.push(b't');
        p.push(0x89); // False
        ordered_dict(&mut p);
        p.extend_from_slice(b"tR");
        p.extend_from_slice(b"u.");
        p
    }

    fn checkpoint(pickle: &[u8]) -> Vec<u8> {
        zip(&[
            ("archive/data.pkl", pickle),
            ("archive/byteorder", b"little"),
            ("archive/data/0", &1.0f32.to_le_bytes()),
            ("archive/version", b"3\n"),
        ])
    }

    fn linear() -> exahealth_nn::burn::nn::Linear {
        exahealth_nn::burn::nn::LinearConfig::new(2, 2).init(&cpu_device())
    }

    #[test]
    fn pytorch_checkpoint_builder_makes_readable_files() {
        // The builder is right: a fitting bias loads.
        budget();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ok.pt");
        std::fs::write(&path, checkpoint(&state_dict("bias", &[2], &[0]))).unwrap();
        let mut model = linear();
        match load_pytorch(&mut model, &path, &[]) {
            // The weight is missing; the bias was read and applied.
            Err(PytorchError::Mismatch { message, .. }) => {
                assert!(message.contains("weight"), "{message}");
                assert!(!message.contains("bias"), "{message}");
            }
            other => panic!("expected a mismatch on the missing weight, got {other:?}"),
        }
    }

    #[test]
    fn pytorch_zero_stride_view_promising_more_than_the_budget_is_refused() {
        // One float of storage viewed as 16M floats (64 MiB): the store
        // materialised it before comparing shapes.
        budget();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broadcast.pt");
        std::fs::write(&path, checkpoint(&state_dict("bias", &[1 << 24], &[0]))).unwrap();
        let mut model = linear();
        match load_pytorch(&mut model, &path, &[]) {
            Err(PytorchError::Read { message, .. }) => {
                assert!(message.contains("memory budget"), "{message}")
            }
            other => panic!("expected a budget error, got {other:?}"),
        }
    }
}
