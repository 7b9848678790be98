//! A structural pre-pass over a DICOM byte stream before dicom-rs parses
//! it: every defined element and item length must fit inside the bytes that
//! remain, and nesting is bounded. dicom-rs sizes value buffers from the
//! length field, so a single forged length would otherwise make it allocate
//! (and zero) gigabytes for a file of a few kilobytes.

const MAX_DEPTH: u32 = 32;
const UNDEFINED: u32 = 0xFFFF_FFFF;
/// The size of one value of a binary VR (1 for text and bytes). dicom-rs
/// reads `len / width` values and moves on by `len`, so a length that is
/// not a multiple leaves its reader a few bytes short of the next header,
/// which it then takes from the middle of a value: the structure checked
/// here would no longer be the one dicom-rs reads.
fn value_width(vr: &[u8; 2]) -> usize {
    match vr {
        b"US" | b"SS" | b"OW" => 2,
        b"UL" | b"SL" | b"FL" | b"OF" | b"OL" | b"AT" => 4,
        b"FD" | b"OD" | b"SV" | b"UV" | b"OV" => 8,
        _ => 1,
    }
}

/// [`value_width`] of the VR dicom-rs takes from its dictionary for an
/// implicit-VR element (pixel and overlay data and LUTs as 16-bit words).
fn implicit_value_width(group: u16, elem: u16) -> usize {
    use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry, VirtualVr};
    let dictionary = dicom_dictionary_std::StandardDataDictionary;
    match dictionary
        .by_tag(dicom_core::Tag(group, elem))
        .map(DataDictionaryEntry::vr)
    {
        Some(VirtualVr::Exact(vr)) => value_width(&vr.to_bytes()),
        Some(VirtualVr::Xs | VirtualVr::Ox | VirtualVr::Px | VirtualVr::Lt) => 2,
        _ => 1,
    }
}

/// The VRs whose explicit-VR header has a 2-byte pad and a 4-byte length.
const LONG_LENGTH_VRS: &[u8] = b"OBOWOFSQUTUNODOLOVUCURSVUV";
/// Every value representation of PS3.5 6.2; anything else is corruption
/// (dicom-rs would read it as UN, with a 4-byte length).
const VRS: &[u8] = b"AEASATCSDADSDTFLFDISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";

pub struct Syntax {
    pub explicit: bool,
    pub big_endian: bool,
}

struct Walker<'a> {
    b: &'a [u8],
    s: Syntax,
}

impl Walker<'_> {
    fn u16(&self, at: usize) -> Result<u16, String> {
        let x = self.b.get(at..at + 2).ok_or("truncated element header")?;
        Ok(if self.s.big_endian {
            u16::from_be_bytes([x[0], x[1]])
        } else {
            u16::from_le_bytes([x[0], x[1]])
        })
    }

    fn u32(&self, at: usize) -> Result<u32, String> {
        let x = self.b.get(at..at + 4).ok_or("truncated element header")?;
        Ok(if self.s.big_endian {
            u32::from_be_bytes([x[0], x[1], x[2], x[3]])
        } else {
            u32::from_le_bytes([x[0], x[1], x[2], x[3]])
        })
    }

    /// Walks data elements in `pos..end`; stops after an item or sequence
    /// delimiter (returning the position after it) or at `end`.
    /// `only_group` stops before the first element of another group.
    fn elements(
        &self,
        mut pos: usize,
        end: usize,
        depth: u32,
        only_group: Option<u16>,
    ) -> Result<usize, String> {
        if depth > MAX_DEPTH {
            return Err("sequences nested too deeply".into());
        }
        while pos < end {
            let group = self.u16(pos)?;
            let elem = self.u16(pos + 2)?;
            if only_group.is_some_and(|g| g != group) {
                return Ok(pos);
            }
            if group == 0xFFFE {
                if elem == 0xE00D || elem == 0xE0DD {
                    return Ok(pos + 8);
                }
                return Err(format!("unexpected item tag at byte {pos}"));
            }
            let (len, hdr, vr) = if self.s.explicit {
                let vr = self
                    .b
                    .get(pos + 4..pos + 6)
                    .ok_or("truncated element header")?;
                let vr = [vr[0], vr[1]];
                if !VRS.chunks_exact(2).any(|v| v == vr) {
                    return Err(format!(
                        "invalid VR {:?} at byte {pos}",
                        String::from_utf8_lossy(&vr)
                    ));
                }
                if LONG_LENGTH_VRS.chunks_exact(2).any(|v| v == vr) {
                    (self.u32(pos + 8)?, 12, Some(vr))
                } else {
                    (self.u16(pos + 6)? as u32, 8, Some(vr))
                }
            } else {
                (self.u32(pos + 4)?, 8, None)
            };
            let tag = format!("({group:04X},{elem:04X})");
            pos += hdr;
            if len == UNDEFINED {
                let fragments = group == 0x7FE0 && elem == 0x0010;
                pos = self
                    .items(pos, end, depth + 1, fragments)
                    .map_err(|e| format!("{tag}: {e}"))?;
                continue;
            }
            let len = len as usize;
            let width = match vr {
                Some(vr) => value_width(&vr),
                None => implicit_value_width(group, elem),
            };
            if len % width != 0 {
                return Err(format!(
                    "element {tag} holds {len} bytes, not a whole number of its {width}-byte values"
                ));
            }
            if len > end.saturating_sub(pos) {
                return Err(format!(
                    "element {tag} claims {len} bytes at byte {pos}, only {} remain",
                    end.saturating_sub(pos)
                ));
            }
            let looks_like_items =
                self.u16(pos).ok() == Some(0xFFFE) && self.u16(pos + 2).ok() == Some(0xE000);
            if vr == Some(*b"SQ") || (vr.is_none() && len >= 8 && looks_like_items) {
                self.items(pos, pos + len, depth + 1, false)
                    .map_err(|e| format!("{tag}: {e}"))?;
            }
            pos += len;
        }
        Ok(pos)
    }

    /// Walks items in `pos..end` until a sequence delimiter or `end`.
    fn items(
        &self,
        mut pos: usize,
        end: usize,
        depth: u32,
        fragments: bool,
    ) -> Result<usize, String> {
        if depth > MAX_DEPTH {
            return Err("sequences nested too deeply".into());
        }
        while pos < end {
            let (group, elem) = (self.u16(pos)?, self.u16(pos + 2)?);
            let len = self.u32(pos + 4)?;
            if group != 0xFFFE {
                return Err(format!("expected an item at byte {pos}"));
            }
            pos += 8;
            match elem {
                0xE0DD => return Ok(pos),
                0xE000 if len == UNDEFINED && !fragments => {
                    pos = self.elements(pos, end, depth + 1, None)?;
                }
                0xE000 if len != UNDEFINED => {
                    let len = len as usize;
                    if len > end.saturating_sub(pos) {
                        return Err(format!(
                            "item claims {len} bytes at byte {pos}, only {} remain",
                            end.saturating_sub(pos)
                        ));
                    }
                    if !fragments {
                        self.elements(pos, pos + len, depth + 1, None)?;
                    }
                    pos += len;
                }
                _ => {
                    return Err(format!(
                        "bad item tag (FFFE,{elem:04X}) at byte {}",
                        pos - 8
                    ))
                }
            }
        }
        Ok(pos)
    }
}

/// Checks a data set (no preamble, no meta group) in the given syntax.
pub fn check_dataset(b: &[u8], s: Syntax) -> Result<(), String> {
    let w = Walker { b, s };
    w.elements(0, b.len(), 0, None).map(|_| ())
}

/// Checks the file-meta group (the bytes after `DICM`) and returns its
/// length and transfer syntax UID. dicom-rs reads the group length
/// (0002,0000) first, then whole elements, whatever their group, until it
/// has consumed that many bytes; this walks the same elements, so the data
/// set the caller checks next starts where dicom-rs will start reading it.
pub fn check_meta(b: &[u8]) -> Result<(usize, String), String> {
    let w = Walker {
        b,
        s: Syntax {
            explicit: true,
            big_endian: false,
        },
    };
    if (w.u16(0)?, w.u16(2)?) != (0x0002, 0x0000) || b.get(4..6) != Some(b"UL") {
        return Err("the file-meta group does not open with its length (0002,0000) UL".into());
    }
    let group_length = w.u32(8)? as usize;
    let start = 12;
    let mut pos = start;
    let mut ts = String::new();
    while pos - start < group_length {
        let (group, elem) = (w.u16(pos)?, w.u16(pos + 2)?);
        let vr = b
            .get(pos + 4..pos + 6)
            .ok_or("truncated file-meta element header")?;
        if !VRS.chunks_exact(2).any(|v| v == vr) {
            return Err(format!(
                "invalid VR {:?} in the file-meta group at byte {pos}",
                String::from_utf8_lossy(vr)
            ));
        }
        let (len, hdr) = if LONG_LENGTH_VRS.chunks_exact(2).any(|v| v == vr) {
            (w.u32(pos + 8)?, 12)
        } else {
            (u32::from(w.u16(pos + 6)?), 8)
        };
        if len == UNDEFINED {
            return Err(format!(
                "file-meta element ({group:04X},{elem:04X}) has no defined length"
            ));
        }
        let value = b
            .get(pos + hdr..)
            .and_then(|rest| rest.get(..len as usize))
            .ok_or_else(|| {
                format!("file-meta element ({group:04X},{elem:04X}) runs past the end of the file")
            })?;
        if (group, elem) == (0x0002, 0x0010) {
            ts = String::from_utf8_lossy(value)
                .trim_end_matches(['\0', ' '])
                .to_string();
        }
        pos += hdr + len as usize;
    }
    Ok((pos, ts))
}
