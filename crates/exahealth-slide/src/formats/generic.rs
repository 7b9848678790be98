//! Generic tiled pyramidal TIFF and BigTIFF, and the same layout written by
//! Philips and OME: every tiled directory (or OME sub-directory) is a level.

use super::tiff_props::{tiff_mpp, tiff_properties};
use crate::error::{Result, SlideError};
use crate::parts::{Level, Parts};
use crate::source::ReadAt;
use crate::tiff::{self, tags, TiffFile, TiffTiles};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub(crate) fn open(
    src: Arc<dyn ReadAt>,
    path: &Path,
    tiff: &TiffFile,
    vendor: &'static str,
) -> Result<Parts> {
    let first = &tiff.ifds[0];
    let mut properties = tiff_properties(first);
    let mut ifds: Vec<tiff::Ifd> = tiff.ifds.iter().filter(|d| d.is_tiled()).cloned().collect();
    if vendor == "ome-tiff" {
        // OME stores reduced resolutions as sub-directories of the first image.
        if let Some(subs) = first.u64s(tags::SUB_IFDS) {
            let subs = &subs[..subs.len().min(64)];
            ifds.extend(tiff::parser::read_ifds_at(&*src, path, tiff, subs)?);
        }
        ifds.retain(|d| d.is_tiled());
    }
    if ifds.is_empty() {
        return Err(SlideError::Unsupported {
            path: path.to_path_buf(),
            what: "TIFF without tiles (a plain image, not a pyramidal slide); \
                   open it as an image instead"
                .into(),
        });
    }
    // Levels must share level 0's sample layout; smaller images that are not
    // (masks, differently-coded thumbnails) would otherwise become levels.
    let spp0 = ifds[0].u64(tags::SAMPLES_PER_PIXEL);
    ifds.retain(|d| d.u64(tags::SAMPLES_PER_PIXEL) == spp0);
    ifds.sort_by_key(|d| std::cmp::Reverse(d.width()));
    ifds.dedup_by_key(|d| d.width());
    let mut levels = Vec::new();
    for ifd in &ifds {
        levels.push(Level::new(Box::new(TiffTiles::new(
            src.clone(),
            path,
            ifd,
        )?)));
    }
    let mpp = if vendor == "philips" {
        philips_mpp(first.ascii(tags::IMAGE_DESCRIPTION).unwrap_or(""))
    } else {
        tiff_mpp(&ifds[0])
    };
    if vendor == "philips" {
        properties.insert(
            "philips.DICOM_PIXEL_SPACING".into(),
            mpp.map(|m| format!("{} {}", m.0 / 1000.0, m.1 / 1000.0))
                .unwrap_or_default(),
        );
    }
    Ok(Parts {
        vendor,
        levels,
        properties,
        associated: BTreeMap::new(),
        mpp,
        objective_power: None,
        channels: Vec::new(),
    })
}

/// Philips writes the level-0 pixel spacing (millimetres, row then column)
/// in its XML as `<Attribute Name="DICOM_PIXEL_SPACING" ...>"0.00025" "0.00025"`.
/// The description is the scanner's text, not ours: anything unexpected
/// leaves the spacing unknown.
fn philips_mpp(xml: &str) -> Option<(f64, f64)> {
    let (_, rest) = xml.split_once("DICOM_PIXEL_SPACING")?;
    let body = rest
        .split_once('>')
        .and_then(|(_, value)| value.split_once("</"))
        .map(|(body, _)| body);
    let nums: Vec<f64> = body
        .unwrap_or("")
        .split(|c: char| c == '"' || c.is_whitespace())
        .filter_map(|t| t.parse().ok())
        .collect();
    match nums.as_slice() {
        [row, col, ..] if [row, col].iter().all(|v| v.is_finite() && **v > 0.0) => {
            Some((col * 1000.0, row * 1000.0))
        }
        _ => {
            tracing::warn!("Philips DICOM_PIXEL_SPACING is unreadable; microns per pixel unknown");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn philips_spacing_is_millimetres() {
        let xml = r#"<Attribute Name="DICOM_PIXEL_SPACING" Group="0x0028" Element="0x0030" PMSVR="IDoubleArray">&quot;0.000227&quot; &quot;0.000227&quot;</Attribute>"#
            .replace("&quot;", "\"");
        let (x, y) = super::philips_mpp(&xml).expect("parsed");
        assert!((x - 0.227).abs() < 1e-9 && (y - 0.227).abs() < 1e-9);
    }
}
