//! Fuzz DICOM parsing (preamble / bare data set detection, file meta,
//! attributes) and pixel decoding through `read_dicom_bytes`.
#![no_main]

use exahealth_image::io::read_dicom_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(img) = read_dicom_bytes(data) {
        // An image that read must be self-consistent.
        let n: usize = img.shape().iter().product();
        assert_eq!(n, img.data().to_f64().len());
        assert_eq!(img.dims().len(), img.layout().len());
    }
});
