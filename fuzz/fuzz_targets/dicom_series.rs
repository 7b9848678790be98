//! Fuzz reading a DICOM series folder: the input is split at `EXASPLIT`
//! into up to four files (`0.dcm`...), and `exahealth_image::io::read`
//! stacks the folder's largest series into a volume.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = common::fresh_dir("series");
    for (i, p) in common::split(data, 4).iter().enumerate() {
        common::write(&dir, &format!("{i}.dcm"), p);
    }
    if let Ok(img) = exahealth_image::io::read(&dir) {
        let n: usize = img.shape().iter().product();
        assert_eq!(n, img.data().to_f64().len());
        assert_eq!(img.dims().len(), img.layout().len());
    }
});
