//! Slide annotations: read, write, convert, summarise and rasterise.
//!
//! One model ([`AnnotationSet`] of [`Annotation`]s with a [`Geometry`] in
//! level-0 pixel coordinates, a name, a class and a colour) and these
//! formats:
//!
//! | format | read | write | extension |
//! |---|---|---|---|
//! | ASAP XML ([`parse_asap`], [`to_asap_string`]) | yes | yes | `.xml` |
//! | QuPath GeoJSON ([`parse_geojson`], [`to_geojson_string`]) | yes | yes | `.geojson`, `.json` |
//! | Sedeen session XML ([`parse_sedeen`]) | yes | no | `.xml` (root `<session>`) |
//! | Halo XML ([`parse_halo`]) | yes | no | `.xml` (root `<Annotations>`) |
//!
//! [`read`] picks the format from the extension (and, for `.xml`, the root
//! element); [`write`] from the extension; [`convert`] does both. Writes are
//! atomic: a temporary file beside the target, fsync, rename.
//!
//! [`rasterize`] turns a set into a label mask at any downsample (pixel
//! centre sampling, even-odd fill, holes left unpainted), and
//! [`AnnotationSet::summary`] counts annotations per geometry and class.
//!
//! Every parser returns a typed [`AnnotationError`] naming the file and the
//! line (XML) or feature index (GeoJSON) for bad input; none panics.
//!
//! ```no_run
//! use exahealth_data::annotations::{self, rasterize};
//! let set = annotations::read("slide.xml".as_ref())?;
//! let label = |class: Option<&str>| match class {
//!     Some("Tumor") => Some(1),
//!     Some("Exclusion") => Some(0),
//!     _ => None,
//! };
//! // A mask at downsample 32 for a 100,000 x 80,000 slide.
//! let mask = rasterize(&set, 3125, 2500, 32.0, &label)?;
//! annotations::write(&set, "slide.geojson".as_ref())?;
//! # Ok::<(), exahealth_data::annotations::AnnotationError>(())
//! ```

mod asap;
mod error;
mod foreign;
mod geojson;
mod model;
mod raster;
mod summary;
mod xml;

pub use asap::{parse_asap, to_asap_string};
pub use error::{AnnotationError, Location};
pub use foreign::{parse_halo, parse_sedeen};
pub use geojson::{parse_geojson, to_geojson_string};
pub use model::{
    spline_to_polygon, Annotation, AnnotationSet, Geometry, GeometryKind, Group, Point, Polygon,
    SPLINE_STEPS,
};
pub use raster::{rasterize, rasterize_region, MAX_MASK_PIXELS};
pub use summary::{Bounds, ClassCount, Summary};

use std::path::Path;

/// An annotation file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ASAP XML, as the CAMELYON challenges publish; read and written.
    Asap,
    /// QuPath's GeoJSON FeatureCollection; read and written.
    GeoJson,
    /// Read only.
    Sedeen,
    /// Read only.
    Halo,
}

impl Format {
    /// The name used in messages, e.g. "ASAP XML".
    pub fn name(self) -> &'static str {
        match self {
            Format::Asap => "ASAP XML",
            Format::GeoJson => "GeoJSON",
            Format::Sedeen => "Sedeen XML",
            Format::Halo => "Halo XML",
        }
    }

    /// The format written for this path's extension: `.xml` ASAP,
    /// `.geojson` or `.json` GeoJSON (case-insensitive).
    pub fn for_output(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "xml" => Some(Format::Asap),
            "geojson" | "json" => Some(Format::GeoJson),
            _ => None,
        }
    }
}

/// Detects the format of file content: XML by root element (ASAP, Sedeen,
/// Halo), JSON as GeoJSON.
pub fn detect_format(bytes: &[u8], file: &str) -> Result<Format, AnnotationError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Ok(Format::GeoJson),
        Some(b'<') => {
            let root = xml::root_name(xml::decode(bytes, file)?, file)?;
            match asap::dialect_of_root(&root) {
                Some("Sedeen") => Ok(Format::Sedeen),
                Some("Halo") => Ok(Format::Halo),
                Some(_) => Ok(Format::Asap),
                None => Err(AnnotationError::NotAsap {
                    file: file.to_owned(),
                    root,
                    dialect: None,
                }),
            }
        }
        _ => Err(AnnotationError::UnknownFormat {
            file: file.to_owned(),
        }),
    }
}

/// Parses content in a known format.
pub fn parse(bytes: &[u8], format: Format, file: &str) -> Result<AnnotationSet, AnnotationError> {
    match format {
        Format::Asap => parse_asap(bytes, file),
        Format::GeoJson => parse_geojson(bytes, file),
        Format::Sedeen => parse_sedeen(bytes, file),
        Format::Halo => parse_halo(bytes, file),
    }
}

/// Reads an annotation file; see [`read_with_format`].
pub fn read(path: &Path) -> Result<AnnotationSet, AnnotationError> {
    read_with_format(path).map(|(set, _)| set)
}

/// Reads an annotation file and says which format it was: `.geojson` and
/// `.json` are GeoJSON, `.xml` ASAP, Sedeen or Halo by root element, other
/// extensions by content.
pub fn read_with_format(path: &Path) -> Result<(AnnotationSet, Format), AnnotationError> {
    let file = path.display().to_string();
    // Annotation files of whole-slide cell detections reach hundreds of MB.
    let bytes =
        exahealth_base::budget::read_file(path, 2 << 30).map_err(|error| AnnotationError::Io {
            path: path.to_owned(),
            error,
        })?;
    let format = match Format::for_output(path) {
        Some(Format::GeoJson) => Format::GeoJson,
        _ => detect_format(&bytes, &file)?,
    };
    let set = parse(&bytes, format, &file)?;
    tracing::debug!(
        file,
        format = format.name(),
        annotations = set.annotations.len(),
        "read annotations"
    );
    Ok((set, format))
}

/// Writes `set` in the format of `path`'s extension (`.xml` ASAP XML,
/// `.geojson`/`.json` GeoJSON), atomically. Returns the format written.
pub fn write(set: &AnnotationSet, path: &Path) -> Result<Format, AnnotationError> {
    let format = Format::for_output(path).ok_or_else(|| AnnotationError::UnknownFormat {
        file: path.display().to_string(),
    })?;
    let text = match format {
        Format::GeoJson => to_geojson_string(set)?,
        _ => to_asap_string(set)?,
    };
    write_atomic(path, text.as_bytes())?;
    Ok(format)
}

/// Reads `input` and writes it to `output`, formats by extension. Returns
/// the set that was converted and the two formats.
pub fn convert(
    input: &Path,
    output: &Path,
) -> Result<(AnnotationSet, Format, Format), AnnotationError> {
    let (set, from) = read_with_format(input)?;
    let to = write(&set, output)?;
    Ok((set, from, to))
}

/// Writes `bytes` to `path` durably (the workspace's one helper).
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AnnotationError> {
    exahealth_base::durable::write(path, bytes).map_err(|error| AnnotationError::Io {
        path: path.to_owned(),
        error,
    })
}
