//! Streams that are valid JPEG-LS but ask for more memory than the process
//! budget allows. The budget is process-wide, so these tests live in their
//! own test binary with a small budget set once.

use exahealth_codec::{decode_jpegls, read_jpegls_header, CodecError, JlsHeader, JlsSamples};

const BUDGET: u64 = 64 << 20;

fn small_budget() {
    exahealth_base::budget::set_limit(BUDGET);
}

/// Run-length order table J from T.87 A.7.1.
const J: [u32; 32] = [
    0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13,
    14, 15,
];

/// Bits as a JPEG-LS encoder writes them: after a 0xFF byte the next byte
/// carries only 7 bits (its top bit is a stuffed zero).
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    byte: u8,
    used: u32,
}

impl BitWriter {
    fn capacity(&self) -> u32 {
        if self.out.last() == Some(&0xFF) {
            7
        } else {
            8
        }
    }

    fn bit(&mut self, b: bool) {
        let cap = self.capacity();
        self.byte |= u8::from(b) << (cap - 1 - self.used);
        self.used += 1;
        if self.used == cap {
            self.out.push(self.byte);
            self.byte = 0;
            self.used = 0;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.out.push(self.byte);
        }
        self.out
    }
}

/// A complete lossless stream of a one-component all-zero image: every
/// line is a run, each `1` bit extending it by 2^J[run index] samples.
fn zero_image(bits: u8, width: u16, height: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xD8, 0xFF, 0xF7, 0, 11, bits];
    s.extend(height.to_be_bytes());
    s.extend(width.to_be_bytes());
    s.extend([1, 1, 0x11, 0]);
    s.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0]);
    let mut w = BitWriter::default();
    let mut run_index = 0usize;
    for _ in 0..height {
        let mut len = 0usize;
        while len < usize::from(width) {
            w.bit(true);
            let segment = 1usize << J[run_index];
            let take = segment.min(usize::from(width) - len);
            len += take;
            if take == segment && run_index < 31 {
                run_index += 1;
            }
        }
    }
    s.extend(w.finish());
    s.extend([0xFF, 0xD9]);
    s
}

#[test]
fn the_zero_image_builder_makes_a_stream_that_decodes() {
    small_budget();
    let img = decode_jpegls(&zero_image(8, 37, 5)).expect("valid stream");
    assert_eq!((img.width, img.height, img.components), (37, 5, 1));
    assert_eq!(img.samples, JlsSamples::U8(vec![0; 37 * 5]));
}

#[test]
fn a_few_kilobytes_cannot_ask_for_a_gigabyte_image() {
    small_budget();
    // All-zero 32768 x 32768: one bit per line once the run order peaks,
    // so about 4 KiB of legitimate coded data describes 2^30 samples (3 GiB
    // of decoder memory).
    let stream = zero_image(8, 32768, 32768);
    assert!(stream.len() < 8 << 10, "{} bytes", stream.len());
    let start = std::time::Instant::now();
    let e = decode_jpegls(&stream).unwrap_err();
    match &e {
        CodecError::Budget(b) => {
            assert_eq!(b.needed, Some(3 << 30), "{e}");
            assert_eq!(b.limit, BUDGET);
        }
        other => panic!("expected a budget error, got {other:?}"),
    }
    assert!(start.elapsed().as_secs() < 5, "took {:?}", start.elapsed());
}

#[test]
fn a_plane_filled_line_by_line_holds_exactly_its_samples() {
    small_budget();
    // One 16-bit plane is handed over as the output: growing it by doubling
    // would leave up to twice the image allocated.
    let img = decode_jpegls(&zero_image(16, 100, 100)).expect("valid stream");
    let JlsSamples::U16(v) = img.samples else {
        panic!("16-bit samples expected")
    };
    assert_eq!(v.len(), 10_000);
    assert_eq!(v.capacity(), 10_000);
}

#[test]
fn the_header_is_read_without_decoding() {
    small_budget();
    // SOF with 0 x 0, then LSE id 4 with 3 rows of 100000 columns, and a
    // scan with no coded data at all.
    let mut s = vec![0xFF, 0xD8, 0xFF, 0xF7, 0, 11, 12, 0, 0, 0, 0, 1, 1, 0x11, 0];
    s.extend([0xFF, 0xF8, 0, 12, 4, 4, 0, 0, 0, 3, 0, 1, 0x86, 0xA0]);
    s.extend([0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0]);
    let h = read_jpegls_header(&s).unwrap();
    assert_eq!(
        h,
        JlsHeader {
            width: 100_000,
            height: 3,
            components: 1,
            bits_per_sample: 12
        }
    );
    assert!(decode_jpegls(&s).is_err());
    // No frame header before the scan, or no scan at all.
    assert!(read_jpegls_header(&[0xFF, 0xD8, 0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 0, 0]).is_err());
    assert!(read_jpegls_header(&s[..s.len() - 10]).is_err());
}
