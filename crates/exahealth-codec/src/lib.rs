//! Pure-Rust image codecs used by exahealth to read compressed medical images.
//!
//! Currently this is a JPEG-LS decoder (ITU-T T.87 / ISO/IEC 14495-1), the
//! codec behind the DICOM transfer syntaxes 1.2.840.10008.1.2.4.80 (lossless)
//! and 1.2.840.10008.1.2.4.81 (near-lossless). All decoders treat their input
//! as untrusted: malformed data yields a [`CodecError`], never a panic, and no
//! buffer is sized from a header field before that field has been bounded
//! and held to the process memory budget (`exahealth_base::budget`).

#![forbid(unsafe_code)]

pub mod error;
pub mod jpegls;

pub use error::CodecError;
pub use jpegls::{decode_jpegls, read_jpegls_header, JlsHeader, JlsImage, JlsSamples};
