//! Fuzz the JPEG-LS (ITU-T T.87) decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = std::hint::black_box(exahealth_codec::decode_jpegls(data));
});
