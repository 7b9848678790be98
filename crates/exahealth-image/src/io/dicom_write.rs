//! DICOM Secondary Capture output (Explicit VR Little Endian, uncompressed)
//! for 8/16-bit grayscale (one or more frames) and 8-bit RGB images.
//! No patient data is written: the type-2 patient and study attributes are
//! present but empty.

use std::hash::{BuildHasher, Hasher};

use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::{FileMetaTableBuilder, InMemDicomObject};

use crate::{Axis, DataType, Image, ImageError};

const SC_IMAGE_STORAGE: &str = "1.2.840.10008.5.1.4.1.1.7";
const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// A fresh UID under the `2.25` (UUID-derived) root.
fn new_uid() -> String {
    let s = std::collections::hash_map::RandomState::new();
    let mut h1 = s.build_hasher();
    h1.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h1.write_u32(std::process::id());
    let a = h1.finish();
    let mut h2 = s.build_hasher();
    h2.write_u64(a);
    let b = h2.finish();
    // 2.25 + a 122-bit number: within the 64-character UID limit.
    let v = ((a as u128) << 64 | b as u128) >> 6;
    format!("2.25.{v}")
}

fn el(tag: Tag, vr: VR, v: impl Into<PrimitiveValue>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, vr, v.into())
}

/// Encodes `img` as a Secondary Capture file's bytes.
pub fn encode(img: &Image) -> Result<Vec<u8>, ImageError> {
    if img.len_of(Axis::T) > 1 {
        return Err(ImageError::Unsupported(
            "DICOM output of an image with a time axis; take one volume first".into(),
        ));
    }
    let spp = img.len_of(Axis::C);
    let (bits, signed) = match (img.dtype(), spp) {
        (DataType::U8, 1 | 3) => (8u16, false),
        (DataType::U16, 1) => (16, false),
        (DataType::I16, 1) => (16, true),
        (dt, c) => {
            return Err(ImageError::Unsupported(format!(
                "Secondary Capture output takes 8/16-bit gray or 8-bit RGB, not {c}-channel {}; \
                 cast or window the image first",
                dt.name()
            )))
        }
    };
    let o = img.to_interleaved()?;
    let (rows, cols, frames) = (
        img.len_of(Axis::Y),
        img.len_of(Axis::X),
        img.len_of(Axis::Z),
    );
    let (Ok(rows16), Ok(cols16)) = (u16::try_from(rows), u16::try_from(cols)) else {
        return Err(ImageError::Unsupported(format!(
            "{cols}x{rows} exceeds DICOM's 65535 limit"
        )));
    };
    let mut pixels = Vec::new();
    super::bytes::append_le(&mut pixels, o.data());
    if pixels.len() % 2 == 1 {
        pixels.push(0);
    }
    let sop_uid = new_uid();
    let mut obj = InMemDicomObject::new_empty();
    let photometric = if spp == 3 { "RGB" } else { "MONOCHROME2" };
    let modality = img
        .meta
        .get("modality")
        .cloned()
        .unwrap_or_else(|| "OT".into());
    for e in [
        el(tags::SOP_CLASS_UID, VR::UI, SC_IMAGE_STORAGE),
        el(tags::SOP_INSTANCE_UID, VR::UI, sop_uid.as_str()),
        el(tags::STUDY_INSTANCE_UID, VR::UI, new_uid()),
        el(tags::SERIES_INSTANCE_UID, VR::UI, new_uid()),
        el(tags::MODALITY, VR::CS, modality.as_str()),
        el(tags::CONVERSION_TYPE, VR::CS, "WSD"),
        el(
            tags::SECONDARY_CAPTURE_DEVICE_MANUFACTURER,
            VR::LO,
            "exahealth",
        ),
        el(tags::PATIENT_NAME, VR::PN, ""),
        el(tags::PATIENT_ID, VR::LO, ""),
        el(tags::PATIENT_BIRTH_DATE, VR::DA, ""),
        el(tags::PATIENT_SEX, VR::CS, ""),
        el(tags::STUDY_DATE, VR::DA, ""),
        el(tags::STUDY_TIME, VR::TM, ""),
        el(tags::REFERRING_PHYSICIAN_NAME, VR::PN, ""),
        el(tags::STUDY_ID, VR::SH, ""),
        el(tags::ACCESSION_NUMBER, VR::SH, ""),
        el(tags::SERIES_NUMBER, VR::IS, "1"),
        el(tags::INSTANCE_NUMBER, VR::IS, "1"),
        el(tags::SAMPLES_PER_PIXEL, VR::US, spp as u16),
        el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, photometric),
        el(tags::ROWS, VR::US, rows16),
        el(tags::COLUMNS, VR::US, cols16),
        el(tags::BITS_ALLOCATED, VR::US, bits),
        el(tags::BITS_STORED, VR::US, bits),
        el(tags::HIGH_BIT, VR::US, bits - 1),
        el(tags::PIXEL_REPRESENTATION, VR::US, signed as u16),
    ] {
        obj.put(e);
    }
    if spp == 3 {
        obj.put(el(tags::PLANAR_CONFIGURATION, VR::US, 0u16));
    }
    if frames > 1 {
        obj.put(el(tags::NUMBER_OF_FRAMES, VR::IS, frames.to_string()));
        obj.put(el(
            tags::SPACING_BETWEEN_SLICES,
            VR::DS,
            ds(img.spacing_of(Axis::Z)),
        ));
    }
    let (sy, sx) = (img.spacing_of(Axis::Y), img.spacing_of(Axis::X));
    obj.put(el(
        tags::PIXEL_SPACING,
        VR::DS,
        format!("{}\\{}", ds(sy), ds(sx)),
    ));
    let num = |k: &str| {
        img.meta
            .get(k)
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|v| v.is_finite())
    };
    if let (Some(s), Some(i)) = (num("rescale_slope"), num("rescale_intercept")) {
        obj.put(el(tags::RESCALE_SLOPE, VR::DS, ds(s)));
        obj.put(el(tags::RESCALE_INTERCEPT, VR::DS, ds(i)));
    }
    if let (Some(c), Some(w)) = (num("window_center"), num("window_width")) {
        obj.put(el(tags::WINDOW_CENTER, VR::DS, ds(c)));
        obj.put(el(tags::WINDOW_WIDTH, VR::DS, ds(w)));
    }
    let vr = if bits == 8 { VR::OB } else { VR::OW };
    obj.put(el(tags::PIXEL_DATA, vr, pixels));
    let file = obj
        .with_meta(
            FileMetaTableBuilder::new()
                .transfer_syntax(EXPLICIT_LE)
                .media_storage_sop_class_uid(SC_IMAGE_STORAGE)
                .media_storage_sop_instance_uid(sop_uid.as_str()),
        )
        .map_err(|e| ImageError::Unsupported(format!("DICOM file meta: {e}")))?;
    let mut out = Vec::new();
    file.write_all(&mut out)
        .map_err(|e| ImageError::Unsupported(format!("DICOM writer: {e}")))?;
    Ok(out)
}

/// A decimal string (DS) of at most 16 characters.
fn ds(v: f64) -> String {
    let s = format!("{v}");
    if s.len() <= 16 {
        return s;
    }
    for prec in (1..=10).rev() {
        let t = format!("{v:.prec$}");
        if t.len() <= 16 {
            return t;
        }
    }
    format!("{v:.3e}")
}
