//! Quality-control images of a plan's tissue mask.

use std::path::Path;

use exahealth_slide::RgbaImage;

use super::store::write_atomic;
use super::{PlanError, Planned};
use crate::annotations::{Annotation, AnnotationSet, Geometry, Point, Polygon};

/// The mask as a grey PNG: white tissue, black background.
pub const MASK_FILE: &str = "tissue_mask.png";
/// The mask's image with tissue tinted green and its outline drawn.
pub const OVERLAY_FILE: &str = "tissue.png";

/// The tissue outlines in level-0 pixels, class `Tissue`, for viewers
/// such as QuPath.
pub const TISSUE_GEOJSON: &str = "tissue.geojson";

/// Writes [`MASK_FILE`], [`OVERLAY_FILE`] and [`TISSUE_GEOJSON`] into
/// `dir`, atomically.
pub fn write_qc(planned: &Planned, dir: &Path) -> Result<(), PlanError> {
    let [sx, sy] = planned.plan.mask.downsample;
    let ring =
        |r: &[(f64, f64)]| -> Vec<Point> { r.iter().map(|&(x, y)| Point::new(x, y)).collect() };
    let set = AnnotationSet {
        annotations: planned
            .tissue
            .polygons
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let p = p.scaled(sx, sy);
                let mut polygon = Polygon::new(ring(&p.exterior));
                polygon.holes = p.holes.iter().map(|h| ring(h)).collect();
                Annotation {
                    name: format!("tissue {}", i + 1),
                    class: Some("Tissue".into()),
                    color: Some([0, 200, 0]),
                    geometry: Geometry::Polygon(polygon),
                }
            })
            .collect(),
        groups: Vec::new(),
    };
    crate::annotations::write(&set, &dir.join(TISSUE_GEOJSON))?;

    let mask = &planned.tissue.mask;
    let (h, w) = mask.dim();
    let gray: Vec<u8> = mask.iter().copied().collect();
    write_atomic(&dir.join(MASK_FILE), &encode_png(&gray, w, h, false)?)?;

    let thumb: &RgbaImage = &planned.thumbnail;
    let rgb = thumb.to_rgb_on_white();
    let inside = |x: isize, y: isize| {
        x >= 0
            && y >= 0
            && (x as usize) < w
            && (y as usize) < h
            && mask[(y as usize, x as usize)] != 0
    };
    let mut out = Vec::with_capacity(rgb.len());
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) * 3;
            let px = [rgb[i], rgb[i + 1], rgb[i + 2]];
            let (xi, yi) = (x as isize, y as isize);
            let here = inside(xi, yi);
            let edge = here
                && !(inside(xi - 1, yi)
                    && inside(xi + 1, yi)
                    && inside(xi, yi - 1)
                    && inside(xi, yi + 1));
            let c = if edge {
                [0, 200, 0]
            } else if here {
                // A light green tint keeps the tissue's look visible.
                [
                    (u16::from(px[0]) * 3 / 4) as u8,
                    ((u16::from(px[1]) * 3 + 255) / 4) as u8,
                    (u16::from(px[2]) * 3 / 4) as u8,
                ]
            } else {
                px
            };
            out.extend_from_slice(&c);
        }
    }
    write_atomic(&dir.join(OVERLAY_FILE), &encode_png(&out, w, h, true)?)
}

pub(crate) fn encode_png(data: &[u8], w: usize, h: usize, rgb: bool) -> Result<Vec<u8>, PlanError> {
    let err = |e: png::EncodingError| PlanError::Encode {
        x: 0,
        y: 0,
        message: format!("PNG: {e}"),
    };
    let mut buf = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut buf, w as u32, h as u32);
        enc.set_color(if rgb {
            png::ColorType::Rgb
        } else {
            png::ColorType::Grayscale
        });
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut writer = enc.write_header().map_err(err)?;
        writer.write_image_data(data).map_err(err)?;
    }
    Ok(buf)
}
