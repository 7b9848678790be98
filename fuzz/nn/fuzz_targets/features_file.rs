//! Fuzz the patch-embeddings reader: the input as `features.safetensors`,
//! read by `read_features`. A file that reads holds a `[patches, width]`
//! f32 matrix whose values came from the file.
#![no_main]

mod scratch;

use exahealth_nn::features::read_features;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    scratch::small_budget();
    let path = scratch::file("features.safetensors", data);
    let Ok(file) = read_features(&path) else {
        return;
    };
    let (rows, cols) = file.features.dim();
    assert!(rows * cols * 4 <= data.len(), "{rows} x {cols} from {} bytes", data.len());
});
