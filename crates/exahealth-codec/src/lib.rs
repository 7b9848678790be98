//! Pure-Rust image codecs used by exahealth to read compressed medical images.
//!
//! Currently this is a JPEG-LS decoder (ITU-T T.87 / ISO/IEC 14495-1), the
//! codec behind the DICOM transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless)
//! and 1.2.840.10008.1.2.4.81 (near-lossless). All decoders treat their input
//! as untrusted: malformed data yields a [`CodecError`], never a panic, and no
//! buffer is sized from a header field before that field has been bounded
//! and held to the process memory budget (`exahealth_base::budget`).
//!
//! ```no_run
//! use exahealth_codec::{decode_jpegls, read_jpegls_header, JlsSamples};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // One JPEG-LS frame, as a DICOM fragment or a .jls file holds it.
//!     let data = std::fs::read("frame.jls")?;
//!
//!     // The headers alone, to check them against the container's metadata.
//!     let header = read_jpegls_header(&data)?;
//!     println!("{}x{}, {} bits", header.width, header.height, header.bits_per_sample);
//!
//!     // The pixels, interleaved whatever the stream's interleave mode.
//!     let image = decode_jpegls(&data)?;
//!     match &image.samples {
//!         JlsSamples::U8(s) => println!("{} 8-bit samples", s.len()),
//!         JlsSamples::U16(s) => println!("{} 16-bit samples", s.len()),
//!     }
//!     Ok(())
//! }
//! ```

#![forbid(unsafe_code)]

pub mod error;
pub mod jpegls;

pub use error::CodecError;
pub use jpegls::{decode_jpegls, read_jpegls_header, JlsHeader, JlsImage, JlsSamples};
