//! Fuzz the ONNX reader: `OnnxModel::from_bytes` (protobuf parsing, graph
//! checks, initialisers as tensors, constant folding), then, for a model
//! that loads, one run on zeros of its declared input shapes when they are
//! small. No panic, no allocation past the budget; a run gives one array
//! per declared output.
#![no_main]

mod scratch;

use exahealth_nn::onnx::OnnxModel;
use libfuzzer_sys::fuzz_target;
use ndarray::{ArrayD, IxDyn};

fuzz_target!(|data: &[u8]| {
    scratch::small_budget();
    let device = exahealth_nn::cpu_device();
    let Ok(model) = OnnxModel::from_bytes(data, &device) else {
        return;
    };
    let mut inputs = Vec::new();
    for input in model.inputs() {
        let dims: Vec<usize> = input.dims.iter().map(|d| d.unwrap_or(1)).collect();
        let count = dims.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if !matches!(count, Some(n) if n <= 4096) {
            return;
        }
        inputs.push(ArrayD::<f32>::zeros(IxDyn(&dims)));
    }
    if let Ok(outputs) = model.run(&inputs) {
        assert_eq!(outputs.len(), model.outputs().len());
    }
});
