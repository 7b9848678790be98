//! Format detection and the per-vendor readers.

mod aperio;
mod dicom;
mod dicom_parse;
mod generic;
mod ndpi;
mod qptiff;
mod tiff_props;

pub use dicom::{parse_frame_index, FrameIndex};

use crate::error::{Result, SlideError};
use crate::parts::{OpenOptions, Parts};
use crate::source::{FileSource, ReadAt};
use crate::tiff::{self, tags};
use std::path::Path;
use std::sync::Arc;

/// Names the format of `path` without opening it fully (OpenSlide's
/// `detect_vendor`); `None` if no reader claims it.
pub fn detect_vendor(path: &Path) -> Option<&'static str> {
    if path.is_dir() || dicom::looks_like_dicom(path) {
        return Some("dicom");
    }
    let src = FileSource::open(path).ok()?;
    let tiff = tiff::parse(&src, path).ok()?;
    Some(tiff_vendor(&tiff))
}

fn tiff_vendor(tiff: &tiff::TiffFile) -> &'static str {
    let first = &tiff.ifds[0];
    let desc = first.ascii(tags::IMAGE_DESCRIPTION).unwrap_or("");
    if tiff.kind == tiff::TiffKind::Ndpi || first.entries.contains_key(&tags::NDPI_MARKER) {
        "hamamatsu"
    } else if desc.starts_with("Aperio") {
        "aperio"
    } else if desc.contains("PerkinElmer-QPI-ImageDescription") {
        "qptiff"
    } else if desc.contains("DPUfsImport") {
        "philips"
    } else if desc.contains("<OME") {
        "ome-tiff"
    } else {
        "generic-tiff"
    }
}

pub(crate) fn open_parts(path: &Path, options: &OpenOptions) -> Result<Parts> {
    if path.is_dir() || dicom::looks_like_dicom(path) {
        return dicom::open(path);
    }
    let src: Arc<dyn ReadAt> = Arc::new(FileSource::open(path)?);
    let tiff = tiff::parse(&*src, path).map_err(|e| match e {
        SlideError::UnknownFormat { path, reason } => SlideError::UnknownFormat {
            path,
            reason: format!(
                "{reason}; supported: Aperio SVS, generic/pyramidal TIFF and BigTIFF, \
                 Hamamatsu NDPI, Philips/OME TIFF, QPTIFF and DICOM WSI"
            ),
        },
        other => other,
    })?;
    match tiff_vendor(&tiff) {
        "hamamatsu" => ndpi::open(src, path, &tiff),
        "aperio" => aperio::open(src, path, &tiff),
        "qptiff" => qptiff::open(src, path, &tiff, options.channel),
        vendor => generic::open(src, path, &tiff, vendor),
    }
}
