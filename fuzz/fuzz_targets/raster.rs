//! Fuzz `exahealth_image::io::read_bytes`: gzip unwrapping, content
//! sniffing and the PNG / JPEG / TIFF / NIfTI / DICOM readers behind it.
#![no_main]

use exahealth_image::io::read_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = read_bytes(data.to_vec()) {
        // An image that read must be self-consistent.
        let n: usize = img.shape().iter().product();
        assert_eq!(n, img.data().to_f64().len());
        assert_eq!(img.dims().len(), img.layout().len());
    }
});
