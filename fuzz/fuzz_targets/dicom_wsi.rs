//! Fuzz `Slide::open` on DICOM VL whole-slide files: the input is split at
//! `EXASPLIT` into up to four files of one folder (levels, label, overview
//! of one series), then the slide is opened from its first file, or from
//! the folder when there are several files and the input's last byte is
//! odd, and read as in `slide_open`.
#![no_main]

mod common;

use exahealth_slide::Slide;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = common::split(data, 4);
    if parts[0].get(128..132) != Some(b"DICM".as_slice()) {
        return;
    }
    let dir = common::fresh_dir("wsi");
    for (i, p) in parts.iter().enumerate() {
        common::write(&dir, &format!("{i}.dcm"), p);
    }
    let target = if parts.len() > 1 && data.last().is_some_and(|b| b & 1 == 1) {
        dir.clone()
    } else {
        dir.join("0.dcm")
    };
    if let Ok(slide) = Slide::open(&target) {
        common::exercise_slide(&slide);
    }
});
