//! PerkinElmer/Akoya QPTIFF: one grayscale page per fluorescence channel at
//! full resolution, then the same per reduced resolution, then thumbnail,
//! overview and label. A `Slide` shows one channel, as grayscale.

use super::tiff_props::{tiff_mpp, tiff_properties};
use crate::error::{Result, SlideError};
use crate::parts::{AssociatedSource, Level, Parts};
use crate::source::ReadAt;
use crate::tiff::{tags, Ifd, TiffAssociated, TiffFile, TiffTiles};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// Text of the first `<name>...</name>` element in `xml`.
fn xml_field<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let (_, after) = xml.split_once(&format!("<{name}>"))?;
    let (body, _) = after.split_once(&format!("</{name}>"))?;
    Some(body.trim())
}

pub(crate) fn open(
    src: Arc<dyn ReadAt>,
    path: &Path,
    tiff: &TiffFile,
    channel: Option<usize>,
) -> Result<Parts> {
    let mut full: Vec<&Ifd> = Vec::new();
    let mut reduced: Vec<&Ifd> = Vec::new();
    let mut associated: BTreeMap<String, Box<dyn AssociatedSource>> = BTreeMap::new();
    let mut names = Vec::new();
    for ifd in &tiff.ifds {
        let desc = ifd.ascii(tags::IMAGE_DESCRIPTION).unwrap_or("");
        let kind = xml_field(desc, "ImageType").unwrap_or("");
        match kind {
            "FullResolution" => {
                names.push(xml_field(desc, "Name").unwrap_or("").to_string());
                full.push(ifd);
            }
            "ReducedResolution" => reduced.push(ifd),
            "Thumbnail" | "Overview" | "Label" => {
                associated.insert(
                    kind.to_ascii_lowercase().replace("overview", "macro"),
                    Box::new(TiffAssociated {
                        src: src.clone(),
                        path: path.to_path_buf(),
                        ifd: ifd.clone(),
                    }),
                );
            }
            _ => {}
        }
    }
    if full.is_empty() {
        return Err(SlideError::Malformed {
            path: path.to_path_buf(),
            format: "QPTIFF",
            reason: "no FullResolution pages".into(),
        });
    }
    let n = full.len();
    for (i, name) in names.iter_mut().enumerate() {
        if name.is_empty() {
            *name = format!("channel {i}");
        }
    }
    let c = channel.unwrap_or(0);
    if c >= n {
        return Err(SlideError::InvalidArgument(format!(
            "channel {c} does not exist; this slide has {n}: {}",
            names.join(", ")
        )));
    }
    // Reduced pages come in groups of one page per channel.
    let mut pages = vec![full[c]];
    pages.extend(reduced.chunks(n).filter_map(|g| g.get(c).copied()));
    let mut levels = Vec::new();
    for ifd in &pages {
        levels.push(Level::new(Box::new(TiffTiles::new(
            src.clone(),
            path,
            ifd,
        )?)));
    }
    let mut properties = tiff_properties(full[c]);
    properties.insert("qptiff.channel".into(), names[c].clone());
    properties.insert("qptiff.channel-count".into(), n.to_string());
    Ok(Parts {
        vendor: "qptiff",
        levels,
        properties,
        associated,
        mpp: tiff_mpp(full[0]),
        objective_power: None,
        channels: names,
    })
}
