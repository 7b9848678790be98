//! A minimal DICOM reader for whole-slide images: just enough of Part 10 to
//! find the attributes a slide needs and where each frame's bytes lie.
//!
//! It walks elements (explicit and implicit VR little endian, nested
//! sequences of defined and undefined length) without loading Pixel Data,
//! so opening a multi-gigabyte level reads only its header and its item
//! table. Every length is checked against the data before use.

use std::collections::BTreeMap;

pub const TS_IMPLICIT_LE: &str = "1.2.840.10008.1.2";
pub const TS_EXPLICIT_LE: &str = "1.2.840.10008.1.2.1";

/// Sequences deeper than this are refused (real files nest 3 or 4 levels).
const MAX_DEPTH: usize = 16;
/// More per-frame positions than this is not a plausible slide level.
pub const MAX_FRAMES: usize = 1 << 24;

/// Why a header could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseError {
    /// The data ended early; with `need` bytes more of the file it may parse.
    Truncated,
    Malformed(String),
    Unsupported(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Truncated => write!(f, "the file ends inside its header"),
            ParseError::Malformed(m) => write!(f, "{m}"),
            ParseError::Unsupported(m) => write!(f, "unsupported: {m}"),
        }
    }
}

type PResult<T> = std::result::Result<T, ParseError>;

fn bad(m: impl Into<String>) -> ParseError {
    ParseError::Malformed(m.into())
}

pub const fn tag(group: u16, element: u16) -> u32 {
    ((group as u32) << 16) | element as u32
}

pub const PIXEL_DATA: u32 = tag(0x7FE0, 0x0010);
const ITEM: u32 = tag(0xFFFE, 0xE000);
const ITEM_END: u32 = tag(0xFFFE, 0xE00D);
const SEQ_END: u32 = tag(0xFFFE, 0xE0DD);
pub const TRANSFER_SYNTAX: u32 = tag(0x0002, 0x0010);
pub const PER_FRAME_GROUPS: u32 = tag(0x5200, 0x9230);
pub const PLANE_POSITION_SLIDE: u32 = tag(0x0048, 0x021A);
pub const COLUMN_POSITION: u32 = tag(0x0048, 0x021E);
pub const ROW_POSITION: u32 = tag(0x0048, 0x021F);

/// What the header walk collected.
#[derive(Debug, Default, Clone)]
pub struct Header {
    pub transfer_syntax: String,
    /// Top-level and nested attributes by tag; the first occurrence wins,
    /// except inside the per-frame sequence, which fills `positions`.
    pub values: BTreeMap<u32, Vec<u8>>,
    /// (column, row) of each frame's top-left pixel, 1-based, from the
    /// per-frame functional groups, in frame order.
    pub positions: Vec<(i64, i64)>,
    /// Offset of the Pixel Data value and its length (`None` = undefined,
    /// i.e. encapsulated).
    pub pixel_data: Option<(u64, Option<u64>)>,
}

impl Header {
    pub fn string(&self, t: u32) -> Option<String> {
        let v = self.values.get(&t)?;
        let s = String::from_utf8_lossy(v);
        Some(
            s.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .to_string(),
        )
    }

    pub fn u16(&self, t: u32) -> Option<u16> {
        let v = self.values.get(&t)?;
        (v.len() >= 2).then(|| u16::from_le_bytes([v[0], v[1]]))
    }

    pub fn u32(&self, t: u32) -> Option<u32> {
        let v = self.values.get(&t)?;
        (v.len() >= 4).then(|| u32::from_le_bytes([v[0], v[1], v[2], v[3]]))
    }

    /// A decimal or integer string attribute's values (DS, IS).
    pub fn numbers(&self, t: u32) -> Vec<f64> {
        self.string(t)
            .map(|s| {
                s.split('\\')
                    .filter_map(|p| p.trim().parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Attributes worth keeping (small values only); the rest are skipped.
fn wanted(t: u32) -> bool {
    matches!(
        t,
        0x0002_0010 // transfer syntax
            | 0x0008_0008 // image type
            | 0x0008_0016 // SOP class
            | 0x0008_0018 // SOP instance
            | 0x0008_0070 // manufacturer
            | 0x0008_1090 // model
            | 0x0020_000D // study
            | 0x0020_000E // series
            | 0x0020_9311 // dimension organization type
            | 0x0028_0002 // samples per pixel
            | 0x0028_0004 // photometric interpretation
            | 0x0028_0006 // planar configuration
            | 0x0028_0008 // number of frames
            | 0x0028_0010 // rows
            | 0x0028_0011 // columns
            | 0x0028_0030 // pixel spacing
            | 0x0028_0100 // bits allocated
            | 0x0048_0006 // total pixel matrix columns
            | 0x0048_0007 // total pixel matrix rows
            | 0x0048_0112 // objective lens power
            | 0x0040_0512 // container identifier
            | 0x0018_1000 // device serial number
            | 0x0018_1020 // software versions
    )
}

/// Sequences that carry what a slide needs; listed so they are found in
/// implicit-VR files too, where nothing marks a defined-length sequence.
fn known_sequence(t: u32) -> bool {
    matches!(
        t,
        PER_FRAME_GROUPS
            | PLANE_POSITION_SLIDE
            | 0x5200_9229 // shared functional groups
            | 0x0028_9110 // pixel measures
            | 0x0048_0105 // optical path
    )
}

struct Walk<'a> {
    data: &'a [u8],
    /// Data set encoding after the file meta group.
    explicit: bool,
    /// Where the (always explicit) file meta group ends.
    meta_end: usize,
    /// The per-frame item being walked, if any.
    current_frame: Option<usize>,
    header: Header,
}

impl<'a> Walk<'a> {
    fn bytes(&self, at: usize, n: usize) -> PResult<&'a [u8]> {
        at.checked_add(n)
            .and_then(|end| self.data.get(at..end))
            .ok_or(ParseError::Truncated)
    }

    fn u16(&self, at: usize) -> PResult<u16> {
        let b = self.bytes(at, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }

    fn u32(&self, at: usize) -> PResult<u32> {
        let b = self.bytes(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Reads an element header at `at`: (tag, VR, value length, value start).
    fn element(&self, at: usize, explicit: bool) -> PResult<(u32, [u8; 2], u32, usize)> {
        let t = (u32::from(self.u16(at)?) << 16) | u32::from(self.u16(at + 2)?);
        if (t >> 16) == 0xFFFE || !explicit {
            return Ok((t, *b"  ", self.u32(at + 4)?, at + 8));
        }
        let vr_b = self.bytes(at + 4, 2)?;
        let vr = [vr_b[0], vr_b[1]];
        match &vr {
            b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"SQ" | b"UC" | b"UN" | b"UR"
            | b"UT" | b"SV" | b"UV" => Ok((t, vr, self.u32(at + 8)?, at + 12)),
            _ => Ok((t, vr, u32::from(self.u16(at + 6)?), at + 8)),
        }
    }

    /// Walks elements from `at` until `end` (defined length) or an item or
    /// sequence delimiter (undefined length); returns the position after.
    fn elements(&mut self, mut at: usize, end: Option<usize>, depth: usize) -> PResult<usize> {
        if depth > MAX_DEPTH {
            return Err(bad("sequences nested too deeply"));
        }
        loop {
            match end {
                Some(e) if at >= e => return Ok(at),
                None if at >= self.data.len() => return Err(ParseError::Truncated),
                _ => {}
            }
            let explicit = self.explicit || at < self.meta_end;
            let (t, vr, len, value) = self.element(at, explicit)?;
            if t == ITEM_END || t == SEQ_END {
                return Ok(value);
            }
            if t == PIXEL_DATA && depth == 0 {
                let len = (len != u32::MAX).then_some(u64::from(len));
                self.header.pixel_data = Some((value as u64, len));
                return Ok(value);
            }
            let is_seq = &vr == b"SQ" || (!explicit && (len == u32::MAX || known_sequence(t)));
            if is_seq {
                let seq_end = if len == u32::MAX {
                    None
                } else {
                    Some(
                        value
                            .checked_add(len as usize)
                            .ok_or_else(|| bad("sequence length overflows"))?,
                    )
                };
                at = self.items(value, seq_end, depth + 1, t)?;
                continue;
            }
            if len == u32::MAX {
                return Err(bad(format!(
                    "element ({:04X},{:04X}) has undefined length",
                    t >> 16,
                    t & 0xFFFF
                )));
            }
            let len = len as usize;
            if let Some(frame) = self.current_frame {
                if t == COLUMN_POSITION || t == ROW_POSITION {
                    let v = self.bytes(value, len.min(4))?;
                    if v.len() == 4 {
                        let n = i64::from(i32::from_le_bytes([v[0], v[1], v[2], v[3]]));
                        let p = &mut self.header.positions[frame];
                        if t == COLUMN_POSITION {
                            p.0 = n;
                        } else {
                            p.1 = n;
                        }
                    }
                }
            } else if wanted(t) && len <= 4096 && !self.header.values.contains_key(&t) {
                let v = self.bytes(value, len)?.to_vec();
                if t == TRANSFER_SYNTAX {
                    self.header.transfer_syntax = String::from_utf8_lossy(&v)
                        .trim_matches(|c: char| c == '\0' || c == ' ')
                        .to_string();
                    self.explicit = self.header.transfer_syntax != TS_IMPLICIT_LE;
                }
                self.header.values.insert(t, v);
            }
            at = value
                .checked_add(len)
                .ok_or_else(|| bad("element length overflows"))?;
            if end.is_some_and(|e| at > e) {
                return Err(bad("an element runs past the end of its item"));
            }
        }
    }

    /// Walks the items of sequence `seq`.
    fn items(
        &mut self,
        mut at: usize,
        end: Option<usize>,
        depth: usize,
        seq: u32,
    ) -> PResult<usize> {
        let mut index = 0usize;
        loop {
            if end.is_some_and(|e| at >= e) {
                return Ok(at);
            }
            let (t, _, len, value) = self.element(at, true)?;
            if t == SEQ_END {
                return Ok(value);
            }
            if t != ITEM {
                return Err(bad(format!(
                    "expected a sequence item, found ({:04X},{:04X})",
                    t >> 16,
                    t & 0xFFFF
                )));
            }
            let saved = self.current_frame;
            if seq == PER_FRAME_GROUPS && depth == 1 {
                if index >= MAX_FRAMES {
                    return Err(bad("more per-frame items than any slide has"));
                }
                self.header.positions.push((0, 0));
                self.current_frame = Some(self.header.positions.len() - 1);
            }
            let item_end = if len == u32::MAX {
                None
            } else {
                Some(
                    value
                        .checked_add(len as usize)
                        .ok_or_else(|| bad("item length overflows"))?,
                )
            };
            let r = self.elements(value, item_end, depth);
            self.current_frame = saved;
            at = r?;
            index += 1;
        }
    }
}

/// Parses a DICOM Part 10 header from the start of a file. `data` may be a
/// prefix of the file: `Err(Truncated)` asks for more of it.
pub fn parse_header(data: &[u8]) -> PResult<Header> {
    let start = if data.len() >= 132 && &data[128..132] == b"DICM" {
        132
    } else if data.len() >= 4 && data[0..2] == [0x02, 0x00] {
        0
    } else if data.len() < 132 {
        return Err(ParseError::Truncated);
    } else {
        return Err(bad("no DICM marker and no file meta group"));
    };
    let mut w = Walk {
        data,
        explicit: true,
        meta_end: 0,
        current_frame: None,
        header: Header::default(),
    };
    // The file meta group is explicit VR little endian; its group length
    // says where the data set, in the transfer syntax's encoding, starts.
    let (t, _, _, value) = w.element(start, true)?;
    if t != tag(0x0002, 0x0000) {
        return Err(bad("file meta group has no group length"));
    }
    let group_len = w.u32(value)? as usize;
    w.meta_end = value
        .checked_add(4 + group_len)
        .ok_or_else(|| bad("meta group length overflows"))?;
    w.elements(start, None, 0)?;
    let h = w.header;
    if h.transfer_syntax.is_empty() {
        return Err(bad("no transfer syntax in the file meta group"));
    }
    if h.pixel_data.is_none() {
        return Err(ParseError::Unsupported("no pixel data".into()));
    }
    Ok(h)
}
