//! Image file I/O: one entry point per direction.
//!
//! - [`read`] sniffs the content (not the extension) and reads a DICOM file
//!   (with or without preamble, gzipped or not), a folder of DICOM slices (one
//!   series, sorted into a volume), NIfTI-1/2 (`.nii`, `.nii.gz`), PNG, JPEG
//!   or TIFF.
//! - [`write`] picks the format from the extension: `.nii`, `.nii.gz`,
//!   `.png`, `.jpg`/`.jpeg`, `.tif`/`.tiff`, `.dcm` (a Secondary Capture),
//!   `.npy` (raw array dump). Every write is atomic: temp file, fsync, rename.
//!
//! Readers keep stored values (no rescale); [`modality_lut`] and
//! [`to_display_u8`] turn them into physical values and 8-bit pictures.

mod bytes;
pub mod dicom;
mod dicom_check;
mod dicom_write;
mod display;
mod jpeg12;
pub mod nifti;
mod npy;
mod patient_space;
mod raster;
mod rle;
mod series;

use std::io::{Read, Write};
use std::path::Path;

pub use bytes::Endian;
pub use dicom::read_dicom_bytes;
pub use display::{auto_window, modality_lut, to_display_u8, window_from_meta};
pub use series::read_series;

use crate::{Image, ImageError};

/// Largest file (or decompressed `.gz`) we read into memory: 4 GiB.
pub const MAX_FILE_BYTES: u64 = 4 << 30;

/// The kinds of input [`read`] recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One DICOM file.
    Dicom,
    /// A folder of DICOM slices of one series.
    DicomSeries,
    /// NIfTI-1 or NIfTI-2, gzipped or not.
    Nifti,
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// TIFF.
    Tiff,
}

impl Format {
    /// The format's name as the CLI prints it (`dicom`, `nifti`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Format::Dicom => "dicom",
            Format::DicomSeries => "dicom-series",
            Format::Nifti => "nifti",
            Format::Png => "png",
            Format::Jpeg => "jpeg",
            Format::Tiff => "tiff",
        }
    }
}

/// Reads a whole file, transparently un-gzipping it, bounded by [`MAX_FILE_BYTES`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, ImageError> {
    let read_err = |e| ImageError::io("read", path, e);
    let f = std::fs::File::open(path).map_err(read_err)?;
    let mut raw = Vec::new();
    f.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(read_err)?;
    if raw.len() as u64 > MAX_FILE_BYTES {
        return Err(ImageError::Unsupported(format!(
            "{} is larger than {MAX_FILE_BYTES} bytes",
            path.display()
        )));
    }
    Ok(raw)
}

/// Un-gzips `raw` if it is gzip and not NIfTI (the NIfTI reader streams its
/// own gzip so that it can bound the output by the header).
fn maybe_gunzip(raw: Vec<u8>) -> Result<Vec<u8>, ImageError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    // A gzip bomb stops at the budget (one byte over it, to tell the two apart).
    let cap = exahealth_base::budget::limit().min(MAX_FILE_BYTES);
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(raw.as_slice())
        .take(cap + 1)
        .read_to_end(&mut out)
        .map_err(|e| ImageError::Malformed {
            format: "gzip",
            why: e.to_string(),
        })?;
    if out.len() as u64 > MAX_FILE_BYTES {
        return Err(ImageError::Unsupported(
            "gzip stream expands beyond the 4 GiB limit".into(),
        ));
    }
    exahealth_base::budget::check("the decompressed gzip stream", out.len() as u64)?;
    Ok(out)
}

/// Format of a file's (decompressed) first bytes, if recognised.
pub fn sniff(head: &[u8]) -> Option<Format> {
    // DICM at 128 first: several DICOM files carry a TIFF header in their preamble.
    if head.get(128..132) == Some(b"DICM".as_slice()) || head.starts_with(b"DICM") {
        return Some(Format::Dicom);
    }
    if nifti::sniff(head) {
        return Some(Format::Nifti);
    }
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Format::Png);
    }
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Format::Jpeg);
    }
    if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        return Some(Format::Tiff);
    }
    if dicom::looks_like_raw_dataset(head) {
        return Some(Format::Dicom);
    }
    None
}

/// What [`read`] would make of `path`, without decoding pixels.
pub fn detect(path: &Path) -> Result<Format, ImageError> {
    if path.is_dir() {
        return Ok(Format::DicomSeries);
    }
    let read_err = |e| ImageError::io("read", path, e);
    let mut f = std::fs::File::open(path).map_err(read_err)?;
    let mut head = Vec::new();
    (&mut f)
        .take(1024)
        .read_to_end(&mut head)
        .map_err(read_err)?;
    if head.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::read::GzDecoder::new(&head[..]);
        let mut out = Vec::new();
        // A partial gzip stream is expected here: keep what decoded.
        let _ = (&mut gz).take(1024).read_to_end(&mut out);
        if out.is_empty() {
            let raw = read_file(path)?;
            out = maybe_gunzip(raw)?;
            out.truncate(1024);
        }
        head = out;
    }
    sniff(&head).ok_or_else(|| unknown(path))
}

fn unknown(path: &Path) -> ImageError {
    ImageError::Unsupported(format!(
        "{}: not a DICOM, NIfTI, PNG, JPEG or TIFF file (content sniffed, extension ignored)",
        path.display()
    ))
}

/// Reads any supported image: a DICOM file or series folder, NIfTI, PNG, JPEG or TIFF.
pub fn read(path: impl AsRef<Path>) -> Result<Image, ImageError> {
    let path = path.as_ref();
    if path.is_dir() {
        return read_series(path);
    }
    let raw = read_file(path)?;
    read_bytes(raw).map_err(|e| match e {
        ImageError::Unsupported(m) if m == UNKNOWN => unknown(path),
        ImageError::NoPixelData { what, .. } => ImageError::NoPixelData {
            path: path.to_path_buf(),
            what,
        },
        e => e,
    })
}

const UNKNOWN: &str = "unrecognised content";

/// Reads an image from the bytes of a file (gzip-wrapped or not).
pub fn read_bytes(raw: Vec<u8>) -> Result<Image, ImageError> {
    if raw.starts_with(&[0x1f, 0x8b]) {
        // NIfTI streams its own gzip; peek at the header to decide.
        let mut head = Vec::new();
        let _ = flate2::read::GzDecoder::new(raw.as_slice())
            .take(nifti::HEADER_PROBE as u64)
            .read_to_end(&mut head);
        if nifti::sniff(&head) {
            return nifti::read_bytes(&raw);
        }
    }
    let bytes = maybe_gunzip(raw)?;
    let fmt = sniff(bytes.get(..1024).unwrap_or(&bytes))
        .ok_or_else(|| ImageError::Unsupported(UNKNOWN.into()))?;
    match fmt {
        Format::Dicom => read_dicom_bytes(&bytes),
        Format::Nifti => nifti::read_bytes(&bytes),
        Format::Png | Format::Jpeg | Format::Tiff => raster::read(&bytes, fmt),
        Format::DicomSeries => Err(ImageError::Unsupported(UNKNOWN.into())),
    }
}

/// Writes `img` in the format its extension names (see the module docs).
pub fn write(path: impl AsRef<Path>, img: &Image) -> Result<(), ImageError> {
    let path = path.as_ref();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let bytes = if name.ends_with(".nii.gz") {
        gzip(path, &nifti::encode(img)?)?
    } else if name.ends_with(".nii") {
        nifti::encode(img)?
    } else if name.ends_with(".png") {
        raster::encode(img, Format::Png)?
    } else if name.ends_with(".jpg") || name.ends_with(".jpeg") {
        raster::encode(img, Format::Jpeg)?
    } else if name.ends_with(".tif") || name.ends_with(".tiff") {
        raster::encode(img, Format::Tiff)?
    } else if name.ends_with(".dcm") {
        dicom_write::encode(img)?
    } else if name.ends_with(".npy") {
        npy::encode(img)
    } else {
        return Err(ImageError::Unsupported(format!(
            "{}: unknown output extension; use .nii, .nii.gz, .png, .jpg, .tif, .dcm or .npy",
            path.display()
        )));
    };
    write_atomic(path, &bytes)
}

/// Gzips the bytes to be written to `path` (in memory: it fails only if
/// the allocator does, but the error still names the file).
fn gzip(path: &Path, data: &[u8]) -> Result<Vec<u8>, ImageError> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    enc.write_all(data)
        .and_then(|_| enc.finish())
        .map_err(|e| ImageError::io("compress", path, e))
}

/// Writes `bytes` to `path` durably (the workspace's one helper), so readers
/// never see a half-written image.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ImageError> {
    exahealth_base::durable::write(path, bytes).map_err(|e| ImageError::io("write", path, e))
}
