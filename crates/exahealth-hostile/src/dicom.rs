//! A DICOM Part 10 writer (explicit VR little endian dataset) for crafted
//! files: just the elements a test names, in tag order.

/// Transfer syntax: explicit VR little endian, native (uncompressed) pixels.
pub const EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";
/// Transfer syntax: RLE lossless, encapsulated frames.
pub const RLE: &str = "1.2.840.10008.1.2.5";
/// Transfer syntax: JPEG-LS lossless, encapsulated frames.
pub const JPEG_LS_LOSSLESS: &str = "1.2.840.10008.1.2.4.80";
/// SOP class: secondary capture image (a plain single-frame picture).
pub const SECONDARY_CAPTURE: &str = "1.2.840.10008.5.1.4.1.1.7";
/// SOP class: VL whole-slide microscopy image (one pyramid level per file).
pub const VL_WSI: &str = "1.2.840.10008.5.1.4.1.1.77.1.6";

/// One element: group, element, VR and value bytes.
#[derive(Debug, Clone)]
pub struct Element {
    /// (group, element).
    pub tag: (u16, u16),
    /// Value representation, two ASCII letters (`*b"US"`).
    pub vr: [u8; 2],
    /// Value bytes as written, already padded to even length.
    pub value: Vec<u8>,
}

/// A text element (UI, CS, DS, IS, LO...), padded to even length.
pub fn text(group: u16, element: u16, vr: &str, value: &str) -> Element {
    let mut v = value.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(if vr == "UI" { 0 } else { b' ' });
    }
    Element {
        tag: (group, element),
        vr: vr_bytes(vr),
        value: v,
    }
}

/// An unsigned short (US).
pub fn us(group: u16, element: u16, value: u16) -> Element {
    Element {
        tag: (group, element),
        vr: *b"US",
        value: value.to_le_bytes().to_vec(),
    }
}

/// An unsigned long (UL).
pub fn ul(group: u16, element: u16, value: u32) -> Element {
    Element {
        tag: (group, element),
        vr: *b"UL",
        value: value.to_le_bytes().to_vec(),
    }
}

fn vr_bytes(vr: &str) -> [u8; 2] {
    let b = vr.as_bytes();
    [b[0], b[1]]
}

/// Encapsulated pixel data: a basic offset table (the given offsets) and
/// the fragments, as the (7FE0,0010) element with undefined length.
pub fn encapsulated(offsets: &[u32], fragments: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0x7FE0u16.to_le_bytes());
    out.extend_from_slice(&0x0010u16.to_le_bytes());
    out.extend_from_slice(b"OB\0\0");
    out.extend_from_slice(&u32::MAX.to_le_bytes());
    item(
        &mut out,
        &offsets
            .iter()
            .flat_map(|o| o.to_le_bytes())
            .collect::<Vec<_>>(),
    );
    for f in fragments {
        item(&mut out, f);
    }
    out.extend_from_slice(&0xFFFEu16.to_le_bytes());
    out.extend_from_slice(&0xE0DDu16.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

fn item(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&0xFFFEu16.to_le_bytes());
    out.extend_from_slice(&0xE000u16.to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// A Part 10 file: preamble, file meta group with `transfer_syntax`, the
/// `elements` (sorted by tag) and then `pixel_data` (an already encoded
/// (7FE0,0010) element, or empty).
pub fn file(
    transfer_syntax: &str,
    sop_class: &str,
    elements: &[Element],
    pixel_data: &[u8],
) -> Vec<u8> {
    let mut meta = Vec::new();
    for e in [
        Element {
            tag: (0x0002, 0x0001),
            vr: *b"OB",
            value: vec![0, 1],
        },
        text(0x0002, 0x0002, "UI", sop_class),
        text(0x0002, 0x0003, "UI", "1.2.3.4.5.6.7.8.9"),
        text(0x0002, 0x0010, "UI", transfer_syntax),
        text(0x0002, 0x0012, "UI", "1.2.3.4.5"),
    ] {
        write_element(&mut meta, &e);
    }
    let mut out = vec![0u8; 128];
    out.extend_from_slice(b"DICM");
    write_element(&mut out, &ul(0x0002, 0x0000, meta.len() as u32));
    out.extend_from_slice(&meta);
    let mut body: Vec<Element> = elements.to_vec();
    body.push(text(0x0008, 0x0016, "UI", sop_class));
    body.push(text(0x0008, 0x0018, "UI", "1.2.3.4.5.6.7.8.9"));
    body.sort_by_key(|e| e.tag);
    for e in &body {
        write_element(&mut out, e);
    }
    out.extend_from_slice(pixel_data);
    out
}

fn write_element(out: &mut Vec<u8>, e: &Element) {
    out.extend_from_slice(&e.tag.0.to_le_bytes());
    out.extend_from_slice(&e.tag.1.to_le_bytes());
    out.extend_from_slice(&e.vr);
    let long = matches!(&e.vr, b"OB" | b"OW" | b"OF" | b"SQ" | b"UT" | b"UN");
    if long {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(e.value.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(e.value.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(&e.value);
}

/// The image-pixel module for a monochrome image.
pub fn mono_image(rows: u16, columns: u16, frames: u32, bits: u16) -> Vec<Element> {
    vec![
        text(0x0008, 0x0060, "CS", "OT"),
        us(0x0028, 0x0002, 1),
        text(0x0028, 0x0004, "CS", "MONOCHROME2"),
        text(0x0028, 0x0008, "IS", &frames.to_string()),
        us(0x0028, 0x0010, rows),
        us(0x0028, 0x0011, columns),
        us(0x0028, 0x0100, bits),
        us(0x0028, 0x0101, bits),
        us(0x0028, 0x0102, bits - 1),
        us(0x0028, 0x0103, 0),
    ]
}
