//! Fuzz the PyTorch import: the input as `weights.pt` (a zip of pickles, or
//! a legacy pickle), read by `load_pytorch` into a small CNN (built once).
//! No panic, no allocation past the budget, no hang.
#![no_main]

mod scratch;

use exahealth_nn::pytorch::load_pytorch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scratch::small_budget();
    let path = scratch::file("weights.pt", data);
    let mut model = scratch::small_cnn().clone();
    let _ = load_pytorch(&mut model, &path, &[]);
});
