//! TIFF, BigTIFF and NDPI directory parser.
//!
//! Reads the header and every image file directory (IFD) into memory. Values
//! are loaded eagerly, but only after their byte range has been checked
//! against the file length, so a hostile count or offset fails with a typed
//! error instead of driving an allocation. Directory chains are bounded and
//! loops are detected.

use super::tags;
use crate::error::{Result, SlideError};
use crate::source::ReadAt;
use exahealth_base::budget;
use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

/// Hard limits that no real slide comes near.
const MAX_IFDS: usize = 4096;
const MAX_ENTRIES_PER_IFD: u64 = 4096;
/// One tag's values; the largest real arrays are tile offsets (8 bytes a tile).
const MAX_VALUE_BYTES: u64 = 1 << 30;
/// Tag values held in memory for a whole file, counted after widening:
/// this much, or twice the file size when that is more. Real slides hold a
/// few megabytes (tile offsets, JPEG tables, XML); the cap is what stops
/// thousands of tags that all point at one large block from each taking
/// their own widened copy of it.
const MIN_TAG_BYTES_PER_FILE: u64 = 64 << 20;
/// What each entry costs besides its values (map node, `Vec` header), so
/// that many small tags count too.
const ENTRY_OVERHEAD_BYTES: u64 = 64;

/// Which TIFF variant a file is, from its header and first directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiffKind {
    /// TIFF 6.0: 32-bit offsets, files up to 4 GiB.
    Classic,
    /// BigTIFF: 64-bit offsets and counts.
    Big,
    /// Classic TIFF with Hamamatsu's 64-bit directory links.
    Ndpi,
}

/// A parsed TIFF: its variant, byte order and every directory of the main
/// chain, values loaded.
#[derive(Debug, Clone)]
pub struct TiffFile {
    /// Classic, BigTIFF or NDPI.
    pub kind: TiffKind,
    /// `II` (true) or `MM` (false) byte order.
    pub little_endian: bool,
    /// The directories in chain order (SubIFDs are read on demand).
    pub ifds: Vec<Ifd>,
    /// Tag bytes `ifds` hold, widened; directories read later
    /// ([`read_ifds_at`]) count on from here.
    tag_bytes: u64,
}

/// One image file directory: a level, an associated image or a plane.
#[derive(Debug, Clone)]
pub struct Ifd {
    /// File offset of the directory itself.
    pub offset: u64,
    /// Tag number to values ([`tags`] names the numbers).
    pub entries: BTreeMap<u16, Value>,
}

/// A tag's values, widened to the largest type of their kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// BYTE, SHORT, LONG, LONG8 and IFD offsets.
    Unsigned(Vec<u64>),
    /// SBYTE, SSHORT, SLONG and SLONG8.
    Signed(Vec<i64>),
    /// FLOAT, DOUBLE and the rationals (0 for a zero denominator).
    Float(Vec<f64>),
    /// ASCII, up to the first NUL, invalid UTF-8 replaced.
    Ascii(String),
    /// UNDEFINED and any type this parser does not know.
    Bytes(Vec<u8>),
}

impl Value {
    /// The values if they are unsigned integers.
    pub fn as_u64s(&self) -> Option<&[u64]> {
        match self {
            Value::Unsigned(v) => Some(v),
            _ => None,
        }
    }
}

impl Ifd {
    /// All values of `tag`, if present and unsigned.
    pub fn u64s(&self, tag: u16) -> Option<&[u64]> {
        self.entries.get(&tag).and_then(Value::as_u64s)
    }

    /// First value of `tag`, if present and unsigned.
    pub fn u64(&self, tag: u16) -> Option<u64> {
        self.u64s(tag).and_then(|v| v.first().copied())
    }

    /// First value as a float, whatever its stored type.
    pub fn f64(&self, tag: u16) -> Option<f64> {
        match self.entries.get(&tag)? {
            Value::Unsigned(v) => v.first().map(|&x| x as f64),
            Value::Signed(v) => v.first().map(|&x| x as f64),
            Value::Float(v) => v.first().copied(),
            _ => None,
        }
    }

    /// The text of an ASCII tag.
    pub fn ascii(&self, tag: u16) -> Option<&str> {
        match self.entries.get(&tag)? {
            Value::Ascii(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The raw bytes of an UNDEFINED (or unknown-type) tag.
    pub fn bytes(&self, tag: u16) -> Option<&[u8]> {
        match self.entries.get(&tag)? {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// Image width in pixels, 0 when the tag is missing.
    pub fn width(&self) -> u64 {
        self.u64(tags::IMAGE_WIDTH).unwrap_or(0)
    }

    /// Image height in pixels, 0 when the tag is missing.
    pub fn height(&self) -> u64 {
        self.u64(tags::IMAGE_LENGTH).unwrap_or(0)
    }

    /// Whether the image is stored in tiles rather than strips.
    pub fn is_tiled(&self) -> bool {
        self.entries.contains_key(&tags::TILE_WIDTH)
    }
}

struct Reader<'a> {
    src: &'a dyn ReadAt,
    path: &'a Path,
    le: bool,
    /// Widened tag bytes held so far, and the most this file may hold.
    tag_bytes: Cell<u64>,
    tag_cap: u64,
}

impl<'a> Reader<'a> {
    fn new(src: &'a dyn ReadAt, path: &'a Path, le: bool, tag_bytes: u64) -> Self {
        let tag_cap = MIN_TAG_BYTES_PER_FILE.max(src.len().saturating_mul(2));
        Self {
            src,
            path,
            le,
            tag_bytes: Cell::new(tag_bytes),
            tag_cap,
        }
    }

    /// Counts `bytes` more of tag values against the per-file cap, before
    /// they are read.
    fn charge(&self, tag: u16, bytes: u64) -> Result<()> {
        let total = self.tag_bytes.get().saturating_add(bytes);
        if total > self.tag_cap {
            return Err(self.malformed(format!(
                "by tag {tag}, its directories hold {total} bytes of tag values, over the \
                 limit of {} for a file of {} bytes (do many tags share one block?)",
                self.tag_cap,
                self.src.len()
            )));
        }
        budget::check(
            format!("the tag values of its directories (up to tag {tag})"),
            total,
        )
        .map_err(|e| SlideError::budget(self.path, e))?;
        self.tag_bytes.set(total);
        Ok(())
    }

    fn malformed(&self, reason: impl Into<String>) -> SlideError {
        SlideError::Malformed {
            path: self.path.to_path_buf(),
            format: "TIFF",
            reason: reason.into(),
        }
    }

    fn bytes(&self, offset: u64, len: u64) -> Result<Vec<u8>> {
        if len > MAX_VALUE_BYTES {
            return Err(self.malformed(format!("a tag claims {len} bytes of values")));
        }
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= self.src.len())
            .ok_or_else(|| {
                self.malformed(format!(
                    "{len} bytes at offset {offset} run past the end of the file ({} bytes)",
                    self.src.len()
                ))
            })?;
        let _ = end;
        let mut buf = vec![0u8; len as usize];
        self.src
            .read_exact_at(offset, &mut buf)
            .map_err(|source| SlideError::Io {
                path: self.path.to_path_buf(),
                source,
            })?;
        Ok(buf)
    }

    fn u16(&self, b: &[u8]) -> u16 {
        let a = [b[0], b[1]];
        if self.le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        }
    }
    fn u32(&self, b: &[u8]) -> u32 {
        let a = [b[0], b[1], b[2], b[3]];
        if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    }
    fn u64(&self, b: &[u8]) -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[..8]);
        if self.le {
            u64::from_le_bytes(a)
        } else {
            u64::from_be_bytes(a)
        }
    }
}

/// Size in bytes of one value of a TIFF field type, or None if unknown.
fn type_size(typ: u16) -> Option<u64> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 | 16 | 17 | 18 => 8,
        _ => return None,
    })
}

/// Bytes one value of `typ` takes once decoded into a [`Value`].
fn held_size(typ: u16) -> u64 {
    match typ {
        2 | 7 => 1,
        _ => 8,
    }
}

/// Parses the TIFF structure of `src`.
pub fn parse(src: &dyn ReadAt, path: &Path) -> Result<TiffFile> {
    let not_tiff = |reason: &str| SlideError::UnknownFormat {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    if src.len() < 8 {
        return Err(not_tiff("file is shorter than a TIFF header"));
    }
    let mut head = [0u8; 16];
    let head_len = src.len().min(16) as usize;
    src.read_exact_at(0, &mut head[..head_len])
        .map_err(|source| SlideError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let le = match &head[..2] {
        b"II" => true,
        b"MM" => false,
        _ => return Err(not_tiff("no TIFF byte-order mark")),
    };
    let r = Reader::new(src, path, le, 0);
    let version = r.u16(&head[2..4]);
    let (mut kind, first) = match version {
        42 => (TiffKind::Classic, u64::from(r.u32(&head[4..8]))),
        43 => {
            if head_len < 16 || r.u16(&head[4..6]) != 8 {
                return Err(r.malformed("BigTIFF header with an offset size other than 8"));
            }
            (TiffKind::Big, r.u64(&head[8..16]))
        }
        _ => return Err(not_tiff("TIFF magic number is neither 42 nor 43")),
    };

    let mut ifds = Vec::new();
    let mut seen = HashSet::new();
    let mut next = first;
    while next != 0 {
        if ifds.len() >= MAX_IFDS {
            return Err(r.malformed(format!("more than {MAX_IFDS} directories")));
        }
        if !seen.insert(next) {
            return Err(r.malformed(format!("directory chain loops back to offset {next}")));
        }
        let (ifd, link_offset) = read_ifd(&r, kind, next)?;
        if ifds.is_empty()
            && kind == TiffKind::Classic
            && ifd.entries.contains_key(&tags::NDPI_MARKER)
        {
            // NDPI stores the links between directories as 64-bit values in an
            // otherwise classic file; the low half was read already.
            kind = TiffKind::Ndpi;
        }
        next = match kind {
            TiffKind::Classic => u64::from(r.u32(&r.bytes(link_offset, 4)?)),
            TiffKind::Big => r.u64(&r.bytes(link_offset, 8)?),
            TiffKind::Ndpi => {
                let b = r.bytes(link_offset, 8.min(src.len().saturating_sub(link_offset)))?;
                if b.len() == 8 {
                    r.u64(&b)
                } else if b.len() >= 4 {
                    u64::from(r.u32(&b))
                } else {
                    return Err(r.malformed("directory ends without a link to the next one"));
                }
            }
        };
        ifds.push(ifd);
    }
    if ifds.is_empty() {
        return Err(r.malformed("no image directories"));
    }
    Ok(TiffFile {
        kind,
        little_endian: le,
        ifds,
        tag_bytes: r.tag_bytes.get(),
    })
}

/// Reads one directory; returns it and the offset of its next-directory link.
fn read_ifd(r: &Reader, kind: TiffKind, offset: u64) -> Result<(Ifd, u64)> {
    let big = kind == TiffKind::Big;
    let (count_size, entry_size, inline) = if big { (8, 20, 8) } else { (2, 12, 4) };
    let count_bytes = r.bytes(offset, count_size)?;
    let count = if big {
        r.u64(&count_bytes)
    } else {
        u64::from(r.u16(&count_bytes))
    };
    if count > MAX_ENTRIES_PER_IFD {
        return Err(r.malformed(format!(
            "directory at {offset} claims {count} entries (limit {MAX_ENTRIES_PER_IFD})"
        )));
    }
    let table_start = offset + count_size;
    let table = r.bytes(table_start, count * entry_size)?;
    let mut entries = BTreeMap::new();
    for e in table.chunks_exact(entry_size as usize) {
        let tag = r.u16(&e[0..2]);
        let typ = r.u16(&e[2..4]);
        let n = if big {
            r.u64(&e[4..12])
        } else {
            u64::from(r.u32(&e[4..8]))
        };
        let Some(size) = type_size(typ) else {
            // Unknown types are skipped as the TIFF spec asks readers to do.
            continue;
        };
        let total = n
            .checked_mul(size)
            .filter(|&t| t <= MAX_VALUE_BYTES)
            .ok_or_else(|| r.malformed(format!("tag {tag} claims {n} values")))?;
        // Held widened: every number as 8 bytes, text and opaque bytes as 1.
        let held = n.saturating_mul(held_size(typ));
        r.charge(tag, held.saturating_add(ENTRY_OVERHEAD_BYTES))?;
        let value_field = &e[entry_size as usize - inline as usize..];
        let raw = if total <= inline {
            value_field[..total as usize].to_vec()
        } else {
            let at = if big {
                r.u64(value_field)
            } else {
                u64::from(r.u32(value_field))
            };
            r.bytes(at, total)?
        };
        entries.insert(tag, decode_value(r, typ, &raw));
    }
    Ok((Ifd { offset, entries }, table_start + count * entry_size))
}

fn decode_value(r: &Reader, typ: u16, raw: &[u8]) -> Value {
    match typ {
        2 => {
            let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
            Value::Ascii(String::from_utf8_lossy(&raw[..end]).into_owned())
        }
        1 => Value::Unsigned(raw.iter().map(|&b| u64::from(b)).collect()),
        7 => Value::Bytes(raw.to_vec()),
        6 => Value::Signed(raw.iter().map(|&b| i64::from(b as i8)).collect()),
        3 => Value::Unsigned(raw.chunks_exact(2).map(|c| u64::from(r.u16(c))).collect()),
        8 => Value::Signed(
            raw.chunks_exact(2)
                .map(|c| i64::from(r.u16(c) as i16))
                .collect(),
        ),
        4 | 13 => Value::Unsigned(raw.chunks_exact(4).map(|c| u64::from(r.u32(c))).collect()),
        9 => Value::Signed(
            raw.chunks_exact(4)
                .map(|c| i64::from(r.u32(c) as i32))
                .collect(),
        ),
        16 | 18 => Value::Unsigned(raw.chunks_exact(8).map(|c| r.u64(c)).collect()),
        17 => Value::Signed(raw.chunks_exact(8).map(|c| r.u64(c) as i64).collect()),
        11 => Value::Float(
            raw.chunks_exact(4)
                .map(|c| f64::from(f32::from_bits(r.u32(c))))
                .collect(),
        ),
        12 => Value::Float(
            raw.chunks_exact(8)
                .map(|c| f64::from_bits(r.u64(c)))
                .collect(),
        ),
        5 => Value::Float(
            raw.chunks_exact(8)
                .map(|c| {
                    let (n, d) = (r.u32(&c[..4]), r.u32(&c[4..]));
                    if d == 0 {
                        0.0
                    } else {
                        f64::from(n) / f64::from(d)
                    }
                })
                .collect(),
        ),
        10 => Value::Float(
            raw.chunks_exact(8)
                .map(|c| {
                    let (n, d) = (r.u32(&c[..4]) as i32, r.u32(&c[4..]) as i32);
                    if d == 0 {
                        0.0
                    } else {
                        f64::from(n) / f64::from(d)
                    }
                })
                .collect(),
        ),
        _ => Value::Bytes(raw.to_vec()),
    }
}

/// Convenience for fuzzing and tests: parse from memory.
pub fn parse_bytes(data: &[u8]) -> Result<TiffFile> {
    parse(&crate::source::MemSource(data), &PathBuf::from("<memory>"))
}

/// Reads one extra directory (an OME or SubIFD pyramid level) of a file
/// already parsed. Several calls do not share a budget of tag bytes: read
/// many directories with [`read_ifds_at`].
pub fn read_ifd_at(src: &dyn ReadAt, path: &Path, tiff: &TiffFile, offset: u64) -> Result<Ifd> {
    let r = Reader::new(src, path, tiff.little_endian, tiff.tag_bytes);
    Ok(read_ifd(&r, tiff.kind, offset)?.0)
}

/// Reads extra directories of a file already parsed, holding all of them
/// and the file's own directories to one budget of tag bytes.
pub fn read_ifds_at(
    src: &dyn ReadAt,
    path: &Path,
    tiff: &TiffFile,
    offsets: &[u64],
) -> Result<Vec<Ifd>> {
    let r = Reader::new(src, path, tiff.little_endian, tiff.tag_bytes);
    offsets
        .iter()
        .map(|&offset| Ok(read_ifd(&r, tiff.kind, offset)?.0))
        .collect()
}
