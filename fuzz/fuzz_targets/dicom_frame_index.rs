//! Fuzz the DICOM header walk and frame (item) table on an in-memory file.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(index) = exahealth_slide::parse_frame_index(data) {
        let len = data.len() as u64;
        for (i, &(offset, size)) in index.frames.iter().enumerate() {
            let end = offset.checked_add(size);
            assert!(
                matches!(end, Some(end) if end <= len),
                "frame {i} (offset {offset}, length {size}) lies outside the {len}-byte input \
                 (encapsulated: {})",
                index.encapsulated
            );
        }
    }
});
