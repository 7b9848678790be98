//! TIFF tag numbers used by the slide readers (TIFF 6.0, Adobe, Aperio, Hamamatsu).

/// Kind of image in this directory: bit 0 set for a reduced-resolution level.
pub const NEW_SUBFILE_TYPE: u16 = 254;
/// Width in pixels.
pub const IMAGE_WIDTH: u16 = 256;
/// Height in pixels.
pub const IMAGE_LENGTH: u16 = 257;
/// Bits of each sample, one value per sample.
pub const BITS_PER_SAMPLE: u16 = 258;
/// How strips or tiles are coded; values in [`compression`].
pub const COMPRESSION: u16 = 259;
/// Colour space of the samples; values in [`photometric`].
pub const PHOTOMETRIC: u16 = 262;
/// Free text; Aperio keeps its `key = value` metadata here, OME its XML.
pub const IMAGE_DESCRIPTION: u16 = 270;
/// Scanner maker.
pub const MAKE: u16 = 271;
/// Scanner model.
pub const MODEL: u16 = 272;
/// File offset of each strip.
pub const STRIP_OFFSETS: u16 = 273;
/// Samples per pixel: 1 grey, 3 RGB, 4 with alpha.
pub const SAMPLES_PER_PIXEL: u16 = 277;
/// Rows in each strip but the last.
pub const ROWS_PER_STRIP: u16 = 278;
/// Byte length of each strip.
pub const STRIP_BYTE_COUNTS: u16 = 279;
/// Pixels per resolution unit along x (a rational).
pub const X_RESOLUTION: u16 = 282;
/// Pixels per resolution unit along y (a rational).
pub const Y_RESOLUTION: u16 = 283;
/// 1: samples interleaved per pixel; 2: one plane per sample.
pub const PLANAR_CONFIGURATION: u16 = 284;
/// Unit of the resolutions: 1 none, 2 inch, 3 centimetre.
pub const RESOLUTION_UNIT: u16 = 296;
/// Software that wrote the file; identifies Philips and some vendors.
pub const SOFTWARE: u16 = 305;
/// Creation time, `YYYY:MM:DD HH:MM:SS`.
pub const DATE_TIME: u16 = 306;
/// Differencing applied before compression: 1 none, 2 horizontal.
pub const PREDICTOR: u16 = 317;
/// Tile width in pixels (a multiple of 16).
pub const TILE_WIDTH: u16 = 322;
/// Tile height in pixels (a multiple of 16).
pub const TILE_LENGTH: u16 = 323;
/// File offset of each tile, row-major.
pub const TILE_OFFSETS: u16 = 324;
/// Byte length of each tile, row-major.
pub const TILE_BYTE_COUNTS: u16 = 325;
/// Offsets of child directories (OME TIFF keeps its lower levels there).
pub const SUB_IFDS: u16 = 330;
/// Meaning of samples beyond the colour ones (alpha, unspecified).
pub const EXTRA_SAMPLES: u16 = 338;
/// Sample type: 1 unsigned, 2 signed, 3 floating point.
pub const SAMPLE_FORMAT: u16 = 339;
/// JPEG quantisation and Huffman tables shared by every tile of the level.
pub const JPEG_TABLES: u16 = 347;
/// Chroma subsampling of YCbCr data, horizontal and vertical factors.
pub const YCBCR_SUBSAMPLING: u16 = 530;
/// SGI image depth: planes along z; more than 1 marks a volume.
pub const IMAGE_DEPTH: u16 = 32997;

// Hamamatsu NDPI private tags.
/// Present (value 1) in every NDPI directory; identifies the format.
pub const NDPI_MARKER: u16 = 65420;
/// Objective magnification of the level; -1 for the macro image, -2 for the map.
pub const NDPI_SOURCE_LENS: u16 = 65421;
/// Offset of the image centre from the slide centre along x, in nanometres.
pub const NDPI_X_OFFSET: u16 = 65422;
/// Offset of the image centre from the slide centre along y, in nanometres.
pub const NDPI_Y_OFFSET: u16 = 65423;
/// Focal plane offset, in nanometres (0 for the in-focus plane).
pub const NDPI_FOCAL_PLANE: u16 = 65424;
/// Byte offsets of the JPEG restart intervals, to decode a region without
/// the whole strip.
pub const NDPI_MCU_STARTS: u16 = 65426;
/// The slide's reference (barcode) text.
pub const NDPI_REFERENCE: u16 = 65427;
/// Serial number of the scanner.
pub const NDPI_SCANNER_SERIAL: u16 = 65442;
/// Fluorescence channel of the directory.
pub const NDPI_CHANNEL: u16 = 65434;
/// Scanner properties as `key=value` lines.
pub const NDPI_PROPERTY_MAP: u16 = 65449;
/// High 32 bits of offsets in files past 4 GiB.
pub const NDPI_OFFSET_HIGH_BYTES: u16 = 65324;

/// Values of [`COMPRESSION`].
pub mod compression {
    /// Uncompressed.
    pub const NONE: u16 = 1;
    /// Lempel-Ziv-Welch.
    pub const LZW: u16 = 5;
    /// TIFF 6.0's original JPEG scheme; named in the error, not decoded.
    pub const OLD_JPEG: u16 = 6;
    /// JPEG per tile or strip, tables possibly in [`super::JPEG_TABLES`].
    pub const JPEG: u16 = 7;
    /// Deflate (zlib), the Adobe code.
    pub const ADOBE_DEFLATE: u16 = 8;
    /// Deflate (zlib), the older private code.
    pub const DEFLATE: u16 = 32946;
    /// Aperio JPEG 2000 with YCbCr components.
    pub const APERIO_J2K_YCBCR: u16 = 33003;
    /// Aperio JPEG 2000 with RGB components.
    pub const APERIO_J2K_RGB: u16 = 33005;
    /// JPEG 2000 codestreams, as libtiff registers them.
    pub const JPEG2000: u16 = 34712;
    /// Zstandard, the code libtiff writes.
    pub const ZSTD: u16 = 50000;
    /// Zstandard, the earlier provisional code.
    pub const ZSTD_OLD: u16 = 34926;
}

/// Values of [`PHOTOMETRIC`].
pub mod photometric {
    /// Greyscale, 0 is white.
    pub const MIN_IS_WHITE: u16 = 0;
    /// Greyscale, 0 is black.
    pub const MIN_IS_BLACK: u16 = 1;
    /// Red, green, blue.
    pub const RGB: u16 = 2;
    /// Luma and chroma; JPEG tiles are usually stored this way.
    pub const YCBCR: u16 = 6;
}
