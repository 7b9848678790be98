//! Aperio SVS: a TIFF whose first description starts with "Aperio".

use super::tiff_props::tiff_properties;
use crate::error::Result;
use crate::parts::{AssociatedSource, Level, Parts};
use crate::source::ReadAt;
use crate::tiff::{tags, TiffAssociated, TiffFile, TiffTiles};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Splits "Aperio Image Library ...|AppMag = 20|MPP = 0.499" into
/// `aperio.AppMag` -> `20` and friends.
pub(crate) fn aperio_properties(desc: &str) -> BTreeMap<String, String> {
    let mut p = BTreeMap::new();
    for field in desc.split('|').skip(1) {
        if let Some((k, v)) = field.split_once('=') {
            let k = k.trim();
            if !k.is_empty() {
                p.insert(format!("aperio.{k}"), v.trim().to_string());
            }
        }
    }
    p
}

pub(crate) fn open(src: Arc<dyn ReadAt>, path: &Path, tiff: &TiffFile) -> Result<Parts> {
    let first = &tiff.ifds[0];
    let desc = first.ascii(tags::IMAGE_DESCRIPTION).unwrap_or("");
    let mut properties = tiff_properties(first);
    properties.extend(aperio_properties(desc));

    let mut levels = Vec::new();
    let mut associated: BTreeMap<String, Box<dyn AssociatedSource>> = BTreeMap::new();
    for (i, ifd) in tiff.ifds.iter().enumerate() {
        if ifd.is_tiled() {
            levels.push(Level::new(Box::new(TiffTiles::new(
                src.clone(),
                path,
                ifd,
            )?)));
            continue;
        }
        // Aperio's convention: the second directory is the thumbnail; label
        // and macro say what they are on the second line of their description.
        let d = ifd.ascii(tags::IMAGE_DESCRIPTION).unwrap_or("");
        let second_line = d.lines().nth(1).unwrap_or("");
        let name = if i == 1 {
            "thumbnail"
        } else if second_line.contains("label") {
            "label"
        } else if second_line.contains("macro") {
            "macro"
        } else {
            continue;
        };
        associated.insert(
            name.to_string(),
            Box::new(TiffAssociated {
                src: src.clone(),
                path: path.to_path_buf(),
                ifd: ifd.clone(),
            }),
        );
    }
    levels.sort_by_key(|l| std::cmp::Reverse(l.width));
    let mpp = properties
        .get("aperio.MPP")
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| *v > 0.0)
        .map(|v| (v, v));
    let objective_power = properties
        .get("aperio.AppMag")
        .and_then(|v| v.parse::<f64>().ok());
    Ok(Parts {
        vendor: "aperio",
        levels,
        properties,
        associated,
        mpp,
        objective_power,
        channels: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_aperio_description() {
        let p = aperio_properties(
            "Aperio Image Library v10.0.50\r\n2220x2967 [0,100 2220x2967] (240x240) JPEG/RGB Q=30|AppMag = 20|MPP = 0.4990|Date = 12/29/09",
        );
        assert_eq!(p["aperio.AppMag"], "20");
        assert_eq!(p["aperio.MPP"], "0.4990");
        assert_eq!(p["aperio.Date"], "12/29/09");
        assert!(!p.keys().any(|k| k.contains("Library")));
    }
}
