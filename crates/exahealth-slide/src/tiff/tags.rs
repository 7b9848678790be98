//! TIFF tag numbers used by the slide readers (TIFF 6.0, Adobe, Aperio, Hamamatsu).

pub const NEW_SUBFILE_TYPE: u16 = 254;
pub const IMAGE_WIDTH: u16 = 256;
pub const IMAGE_LENGTH: u16 = 257;
pub const BITS_PER_SAMPLE: u16 = 258;
pub const COMPRESSION: u16 = 259;
pub const PHOTOMETRIC: u16 = 262;
pub const IMAGE_DESCRIPTION: u16 = 270;
pub const MAKE: u16 = 271;
pub const MODEL: u16 = 272;
pub const STRIP_OFFSETS: u16 = 273;
pub const SAMPLES_PER_PIXEL: u16 = 277;
pub const ROWS_PER_STRIP: u16 = 278;
pub const STRIP_BYTE_COUNTS: u16 = 279;
pub const X_RESOLUTION: u16 = 282;
pub const Y_RESOLUTION: u16 = 283;
pub const PLANAR_CONFIGURATION: u16 = 284;
pub const RESOLUTION_UNIT: u16 = 296;
pub const SOFTWARE: u16 = 305;
pub const DATE_TIME: u16 = 306;
pub const PREDICTOR: u16 = 317;
pub const TILE_WIDTH: u16 = 322;
pub const TILE_LENGTH: u16 = 323;
pub const TILE_OFFSETS: u16 = 324;
pub const TILE_BYTE_COUNTS: u16 = 325;
pub const SUB_IFDS: u16 = 330;
pub const EXTRA_SAMPLES: u16 = 338;
pub const SAMPLE_FORMAT: u16 = 339;
pub const JPEG_TABLES: u16 = 347;
pub const YCBCR_SUBSAMPLING: u16 = 530;
pub const IMAGE_DEPTH: u16 = 32997;

// Hamamatsu NDPI private tags.
pub const NDPI_MARKER: u16 = 65420;
pub const NDPI_SOURCE_LENS: u16 = 65421;
pub const NDPI_X_OFFSET: u16 = 65422;
pub const NDPI_Y_OFFSET: u16 = 65423;
pub const NDPI_FOCAL_PLANE: u16 = 65424;
pub const NDPI_MCU_STARTS: u16 = 65426;
pub const NDPI_REFERENCE: u16 = 65427;
pub const NDPI_SCANNER_SERIAL: u16 = 65442;
pub const NDPI_CHANNEL: u16 = 65434;
pub const NDPI_PROPERTY_MAP: u16 = 65449;
pub const NDPI_OFFSET_HIGH_BYTES: u16 = 65324;

pub mod compression {
    pub const NONE: u16 = 1;
    pub const LZW: u16 = 5;
    pub const OLD_JPEG: u16 = 6;
    pub const JPEG: u16 = 7;
    pub const ADOBE_DEFLATE: u16 = 8;
    pub const DEFLATE: u16 = 32946;
    pub const APERIO_J2K_YCBCR: u16 = 33003;
    pub const APERIO_J2K_RGB: u16 = 33005;
    pub const JPEG2000: u16 = 34712;
    pub const ZSTD: u16 = 50000;
    pub const ZSTD_OLD: u16 = 34926;
}

pub mod photometric {
    pub const MIN_IS_WHITE: u16 = 0;
    pub const MIN_IS_BLACK: u16 = 1;
    pub const RGB: u16 = 2;
    pub const YCBCR: u16 = 6;
}
