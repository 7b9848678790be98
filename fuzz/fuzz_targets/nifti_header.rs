//! Fuzz the NIfTI-1/2 header parser and the voxel reader (plain and gzip).
#![no_main]

use exahealth_image::io::nifti;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = nifti::parse_header(data) {
        // The size the header claims must be computed without overflow or panic.
        let _ = nifti::data_len(&h);
        let _ = nifti::affine(&h);
    }
    if let Ok(img) = nifti::read_bytes(data) {
        // Voxels that read were really in the input (or its gzip stream).
        let n: usize = img.shape().iter().product();
        let bytes = n * img.dtype().size();
        if !data.starts_with(&[0x1f, 0x8b]) {
            assert!(
                bytes <= data.len(),
                "{bytes} voxel bytes from a {}-byte input",
                data.len()
            );
        }
    }
});
