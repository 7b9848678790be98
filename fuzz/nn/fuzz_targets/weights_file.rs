//! Fuzz the weights reader of model folders and checkpoints: the input as
//! `model.safetensors`, loaded by `load_weights` into a small CNN (built
//! once). No panic and no allocation past the budget, whatever the header
//! declares.
#![no_main]

mod scratch;

use exahealth_nn::train::load_weights;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scratch::small_budget();
    let path = scratch::file("model.safetensors", data);
    let _ = load_weights(scratch::small_cnn().clone(), &path);
});
