//! The classes of hostile input, one function each. Every file is small
//! (at most a few MiB) and would, read naively, crash the reader or ask for
//! far more memory than the machine has.

use crate::dicom::{self, Element};
use crate::tiff::{self, TiffBuilder, Val};
use crate::xlsx;

/// Directories whose many tags all point at one 1 MiB block of SHORTs: each
/// tag copied and widened to 64 bits would ask for 4 MiB, ~190 GiB in all,
/// from a 1.6 MB file.
pub fn tiff_tag_bomb() -> Vec<u8> {
    const IFDS: usize = 12;
    const TAGS: u16 = 4000;
    let mut t = TiffBuilder::new();
    let shared = t.block(vec![0x11; 1 << 20]);
    let pixels = t.block(vec![0; 16 * 16 * 3]);
    let pixels_at = Val::Inline(t.offset_of(pixels));
    for _ in 0..IFDS {
        let mut entries = tiff::tiled_rgb_level((16, 16), (16, 16), 1, pixels_at, Val::Inline(768));
        // Private tags (>= 32768), so every reader keeps them as unknowns.
        entries.extend((0..TAGS).map(|i| (40_000 + i, tiff::SHORT, 1 << 19, Val::Block(shared))));
        t.ifd(entries);
    }
    t.build()
}

/// A tiled level 4,294,901,760 pixels wide and 16 high in 256 tiles of
/// 16,777,216 x 16, each listing 48 bytes: anything sized by the level's
/// width (a column map, a row buffer) asks for tens of GiB, a tile buffer
/// for 1 GiB.
pub fn tiff_wide_level() -> Vec<u8> {
    const TILES: u32 = 256;
    let mut t = TiffBuilder::new();
    let data = t.block(vec![0x80; 48]);
    let offsets = t.block(tiff::longs(TILES as usize, t.offset_of(data)));
    let counts = t.block(tiff::longs(TILES as usize, 48));
    t.ifd(tiff::tiled_rgb_level(
        (0xFFFF_0000, 16),
        (1 << 24, 16),
        TILES,
        Val::Block(offsets),
        Val::Block(counts),
    ));
    t.build()
}

/// A Philips TIFF whose pixel-spacing attribute closes before it opens.
pub fn philips_bad_spacing() -> Vec<u8> {
    let xml = "<?xml version=\"1.0\"?><DataObject ObjectType=\"DPUfsImport\">\
               <Attribute Name=\"DICOM_PIXEL_SPACING\"</Attribute> \"0.00025\">\
               </DataObject>\0";
    let mut t = TiffBuilder::new();
    let desc = t.block(xml.as_bytes().to_vec());
    let pixels = t.block(vec![200; 16 * 16 * 3]);
    let pixels_at = Val::Inline(t.offset_of(pixels));
    let mut entries = tiff::tiled_rgb_level((16, 16), (16, 16), 1, pixels_at, Val::Inline(768));
    entries.push((270, tiff::ASCII, xml.len() as u32, Val::Block(desc)));
    t.ifd(entries);
    t.build()
}

/// A report workbook with a header row and one report, the report's cell
/// at the last column of the last row: a dense reader allocates 17 billion
/// cells.
pub fn xlsx_far_cells() -> Vec<u8> {
    xlsx::workbook(
        &[
            ("A1", "id"),
            ("B1", "text"),
            (
                "XFD1048576",
                "Adenoma tubulare con displasia di basso grado.",
            ),
        ],
        "A1:XFD1048576",
    )
}

/// A report workbook whose shared-string table declares a trillion strings
/// (a reader that reserves room for them aborts) and holds one.
pub fn xlsx_shared_string_bomb() -> Vec<u8> {
    let strings = r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1000000000000" uniqueCount="1000000000000"><si><t>text</t></si></sst>"#;
    xlsx::workbook_with(
        &[("A1", "text"), ("A2", "Adenoma tubulare.")],
        "A1:A2",
        &[("xl/sharedStrings.xml", strings.to_string())],
    )
}

/// A DICOM image of 65535 x 65535 x 1000 frames, 16-bit, RLE, whose one
/// fragment is a few bytes: 8 TiB of samples, 64 TiB widened to f64.
pub fn dicom_rle_huge() -> Vec<u8> {
    // RLE header: one segment at offset 64, then a run of 128 zeros.
    let mut fragment = vec![0u8; 64];
    fragment[0] = 1;
    fragment[4] = 64;
    fragment.extend_from_slice(&[0x81, 0x00]);
    dicom::file(
        dicom::RLE,
        dicom::SECONDARY_CAPTURE,
        &dicom::mono_image(65535, 65535, 1000, 16),
        &dicom::encapsulated(&[], &[fragment]),
    )
}

/// A DICOM image of 60000 x 60000, JPEG-LS, whose frame is a valid 8-bit
/// JPEG-LS stream of another, tiny size.
pub fn dicom_jpegls_huge(jls_frame: &[u8]) -> Vec<u8> {
    dicom::file(
        dicom::JPEG_LS_LOSSLESS,
        dicom::SECONDARY_CAPTURE,
        &dicom::mono_image(60000, 60000, 1, 8),
        &dicom::encapsulated(&[], &[jls_frame.to_vec()]),
    )
}

/// A DICOM image of `frames` 1 x 1 frames, RLE, one valid 66-byte fragment
/// each, with a full basic offset table: matching each table entry by
/// scanning every fragment is `frames^2` steps (10^12 for a million frames,
/// a 74 MB file), while the file itself decodes in a second.
pub fn dicom_many_fragments(frames: u32) -> Vec<u8> {
    // RLE header: one segment at offset 64; the segment is a literal run of
    // one byte (control 0, then the byte).
    let mut fragment = vec![0u8; 64];
    fragment[0] = 1;
    fragment[4] = 64;
    fragment.extend_from_slice(&[0x00, 0x7F]);
    // Each item is 8 bytes of header plus the fragment.
    let step = 8 + fragment.len() as u32;
    let offsets: Vec<u32> = (0..frames).map(|i| i * step).collect();
    let fragments = vec![fragment; frames as usize];
    dicom::file(
        dicom::RLE,
        dicom::SECONDARY_CAPTURE,
        &dicom::mono_image(1, 1, frames, 8),
        &dicom::encapsulated(&offsets, &fragments),
    )
}

/// A one-frame VL whole-slide image whose header says RGB (3 samples) and
/// whose JPEG-LS frame holds one component.
pub fn dicom_wsi_jpegls_component_mismatch(
    gray_jls_frame: &[u8],
    width: u16,
    height: u16,
) -> Vec<u8> {
    let elements: Vec<Element> = vec![
        dicom::text(0x0008, 0x0008, "CS", "ORIGINAL\\PRIMARY\\VOLUME\\NONE"),
        dicom::text(0x0008, 0x0060, "CS", "SM"),
        dicom::text(0x0020, 0x000D, "UI", "1.2.3"),
        dicom::text(0x0020, 0x000E, "UI", "1.2.3.4"),
        dicom::text(0x0020, 0x9311, "CS", "TILED_FULL"),
        dicom::us(0x0028, 0x0002, 3),
        dicom::text(0x0028, 0x0004, "CS", "RGB"),
        dicom::us(0x0028, 0x0006, 0),
        dicom::text(0x0028, 0x0008, "IS", "1"),
        dicom::us(0x0028, 0x0010, height),
        dicom::us(0x0028, 0x0011, width),
        dicom::us(0x0028, 0x0100, 8),
        dicom::us(0x0028, 0x0101, 8),
        dicom::us(0x0028, 0x0102, 7),
        dicom::us(0x0028, 0x0103, 0),
        dicom::ul(0x0048, 0x0006, u32::from(width)),
        dicom::ul(0x0048, 0x0007, u32::from(height)),
    ];
    dicom::file(
        dicom::JPEG_LS_LOSSLESS,
        dicom::VL_WSI,
        &elements,
        &dicom::encapsulated(&[], &[gray_jls_frame.to_vec()]),
    )
}
