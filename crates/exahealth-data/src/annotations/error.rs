//! The one error type of the annotation readers, writers and rasteriser.

use std::fmt;
use std::path::PathBuf;

/// Where in an input file a problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    /// A 1-based line of an XML file (ASAP, Sedeen, Halo).
    Line(u64),
    /// A 0-based feature index of a GeoJSON file.
    Feature(usize),
    /// Nowhere more precise than the file.
    File,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(l) => write!(f, ":{l}"),
            Location::Feature(i) => write!(f, ": feature {i}"),
            Location::File => Ok(()),
        }
    }
}

/// Everything that can go wrong reading, writing, converting or rasterising
/// annotations. Input errors name the file and, where possible, the line
/// (XML) or feature index (GeoJSON).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AnnotationError {
    /// The file could not be read or written.
    /// (The I/O error is part of the message, not a `source()`, so that
    /// error chains print it once.)
    #[error("{path}: {error}")]
    Io {
        /// File being read or written.
        path: PathBuf,
        /// What the operating system reported.
        error: std::io::Error,
    },
    /// The XML is not well formed (truncated, mismatched tags, bad encoding).
    #[error("{file}:{line}: malformed XML: {message}")]
    Xml {
        /// File being read.
        file: String,
        /// 1-based line of the problem.
        line: u64,
        /// The XML parser's complaint.
        message: String,
    },
    /// The JSON is not well formed or does not have the GeoJSON shape.
    #[error("{file}:{line}:{column}: not valid GeoJSON: {message}")]
    Json {
        /// File being read.
        file: String,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// The JSON parser's complaint.
        message: String,
    },
    /// An XML file that is not ASAP XML was given to the ASAP reader.
    #[error(
        "{file}: not an ASAP annotation file: the root element is <{root}>{guess}, \
         ASAP files start with <ASAP_Annotations>",
        guess = dialect.map(|d| format!(" (looks like a {d} export; \
            `annotations::read` detects and reads it)")).unwrap_or_default()
    )]
    NotAsap {
        /// File being read.
        file: String,
        /// Name of the root element found instead.
        root: String,
        /// The annotation tool the root element points to, when known.
        dialect: Option<&'static str>,
    },
    /// The file parses but its content is not a valid annotation: a polygon
    /// with fewer than 3 vertices, a NaN coordinate, a bad colour...
    #[error("{file}{at}: {message}")]
    Invalid {
        /// File being read.
        file: String,
        /// Line or feature of the bad annotation.
        at: Location,
        /// What is wrong with it.
        message: String,
    },
    /// The format could not be told from the file's extension or content.
    #[error(
        "{file}: unknown annotation format; use .xml (ASAP XML) or .geojson/.json \
         (QuPath GeoJSON)"
    )]
    UnknownFormat {
        /// File whose format could not be told.
        file: String,
    },
    /// An annotation cannot be written in the requested format.
    #[error("annotation {index} ({name:?}) cannot be written as {format}: {message}")]
    Unrepresentable {
        /// 0-based position of the annotation in the set.
        index: usize,
        /// The annotation's name.
        name: String,
        /// Format being written, e.g. "ASAP XML".
        format: &'static str,
        /// Why the format cannot hold it.
        message: String,
    },
    /// An in-memory annotation set holds an invalid geometry.
    #[error("annotation {index} ({name:?}) is invalid: {message}")]
    InvalidGeometry {
        /// 0-based position of the annotation in the set.
        index: usize,
        /// The annotation's name.
        name: String,
        /// What is wrong with the geometry.
        message: String,
    },
    /// The requested mask would be too large to hold in memory.
    #[error(
        "a mask of {width} x {height} pixels exceeds the limit of {limit} pixels; \
         rasterise at a larger downsample or a region at a time"
    )]
    MaskTooLarge {
        /// Mask width asked for, in pixels.
        width: usize,
        /// Mask height asked for, in pixels.
        height: usize,
        /// Most pixels a mask may have ([`MAX_MASK_PIXELS`](crate::annotations::MAX_MASK_PIXELS)).
        limit: u64,
    },
    /// The downsample factor is not a finite number above zero.
    #[error("the downsample must be a finite number above 0, got {0}")]
    InvalidDownsample(f64),
}

impl AnnotationError {
    pub(crate) fn invalid(file: &str, at: Location, message: impl Into<String>) -> Self {
        AnnotationError::Invalid {
            file: file.to_owned(),
            at,
            message: message.into(),
        }
    }
}
