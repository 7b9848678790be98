//! Fuzz `Slide::open` on a TIFF-family file (the vendor layer: Aperio,
//! generic, NDPI, Philips, OME, QPTIFF) and then `read_region`,
//! `thumbnail` and the associated images, which decode tiles (JPEG,
//! JPEG 2000, LZW, deflate, zstd, raw). DICOM input is left to `dicom_wsi`.
#![no_main]

mod common;

use exahealth_slide::Slide;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.get(128..132) == Some(b"DICM".as_slice()) {
        return;
    }
    let dir = common::fresh_dir("slide");
    let path = common::write(&dir, "slide.tiff", data);
    if let Ok(slide) = Slide::open(&path) {
        common::exercise_slide(&slide);
    }
});
