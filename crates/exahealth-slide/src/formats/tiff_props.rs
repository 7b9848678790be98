//! OpenSlide's `tiff.*` properties, shared by the TIFF-based readers.

use crate::tiff::{tags, Ifd};
use std::collections::BTreeMap;

pub(crate) fn tiff_properties(ifd: &Ifd) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    for (tag, name) in [
        (tags::IMAGE_DESCRIPTION, "ImageDescription"),
        (tags::MAKE, "Make"),
        (tags::MODEL, "Model"),
        (tags::SOFTWARE, "Software"),
        (tags::DATE_TIME, "DateTime"),
    ] {
        if let Some(v) = ifd.ascii(tag) {
            p.insert(format!("tiff.{name}"), v.to_string());
        }
    }
    for (tag, name) in [
        (tags::X_RESOLUTION, "XResolution"),
        (tags::Y_RESOLUTION, "YResolution"),
    ] {
        if let Some(v) = ifd.f64(tag) {
            p.insert(format!("tiff.{name}"), crate::parts::format_float(v));
        }
    }
    if let Some(u) = ifd.u64(tags::RESOLUTION_UNIT) {
        let unit = match u {
            1 => "none",
            2 => "inch",
            3 => "centimeter",
            _ => "unknown",
        };
        p.insert("tiff.ResolutionUnit".into(), unit.into());
    }
    p
}

/// Microns per pixel from the TIFF resolution tags, if they give a unit.
pub(crate) fn tiff_mpp(ifd: &Ifd) -> Option<(f64, f64)> {
    let per_unit = match ifd.u64(tags::RESOLUTION_UNIT).unwrap_or(2) {
        2 => 25_400.0,
        3 => 10_000.0,
        _ => return None,
    };
    let x = ifd.f64(tags::X_RESOLUTION).filter(|v| *v > 0.0)?;
    let y = ifd.f64(tags::Y_RESOLUTION).filter(|v| *v > 0.0)?;
    Some((per_unit / x, per_unit / y))
}
