//! TIFF structure: the directory parser and tile access shared by every
//! TIFF-based format (Aperio, generic, NDPI, QPTIFF, Philips, OME).

pub mod parser;
/// The tag, compression and photometric numbers (kept outside this module
/// so the tile codecs can name them without depending on the parser).
pub use crate::tiff_tags as tags;
mod tiles;

pub use parser::{parse, parse_bytes, Ifd, TiffFile, TiffKind, Value};
pub(crate) use tiles::{TiffAssociated, TiffTiles};
