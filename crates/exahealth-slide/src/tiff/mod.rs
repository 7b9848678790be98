//! TIFF structure: the directory parser and tile access shared by every
//! TIFF-based format (Aperio, generic, NDPI, QPTIFF, Philips, OME).

pub mod parser;
pub mod tags;
mod tiles;

pub use parser::{parse, parse_bytes, Ifd, TiffFile, TiffKind, Value};
pub(crate) use tiles::{TiffAssociated, TiffTiles};
