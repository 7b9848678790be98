//! A little-endian classic TIFF writer for crafted directories.

/// Where an entry's value lives.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    /// In the entry's own 4 bytes.
    Inline(u32),
    /// At the offset of a block added with [`TiffBuilder::block`].
    Block(usize),
}

/// TIFF field type 1: 8-bit unsigned integer.
pub const BYTE: u16 = 1;
/// TIFF field type 2: NUL-terminated 7-bit ASCII text.
pub const ASCII: u16 = 2;
/// TIFF field type 3: 16-bit unsigned integer.
pub const SHORT: u16 = 3;
/// TIFF field type 4: 32-bit unsigned integer.
pub const LONG: u16 = 4;

/// One directory entry: tag, type, count, value.
pub type Entry = (u16, u16, u32, Val);

/// Value blocks first, then the directories, chained in order.
#[derive(Debug, Default)]
pub struct TiffBuilder {
    blocks: Vec<Vec<u8>>,
    ifds: Vec<Vec<Entry>>,
}

impl TiffBuilder {
    /// An empty file: no blocks, no directories.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a block of bytes; entries refer to it by the returned index.
    pub fn block(&mut self, bytes: Vec<u8>) -> usize {
        self.blocks.push(bytes);
        self.blocks.len() - 1
    }

    /// Adds a directory (entries are sorted by tag when written).
    pub fn ifd(&mut self, entries: Vec<Entry>) -> &mut Self {
        self.ifds.push(entries);
        self
    }

    /// The file offset block `index` will have: blocks follow the 8-byte
    /// header in the order added, each at an even offset.
    pub fn offset_of(&self, index: usize) -> u32 {
        let mut at = 8usize;
        for b in &self.blocks[..index] {
            at += b.len();
            at += at % 2;
        }
        at as u32
    }

    /// The file's bytes: header, blocks at [`offset_of`](Self::offset_of),
    /// then the directories, each linked to the next.
    pub fn build(&self) -> Vec<u8> {
        let mut out = b"II*\0\0\0\0\0".to_vec();
        let mut offsets = Vec::with_capacity(self.blocks.len());
        for b in &self.blocks {
            if out.len() % 2 == 1 {
                out.push(0);
            }
            offsets.push(out.len() as u32);
            out.extend_from_slice(b);
        }
        debug_assert!(offsets
            .iter()
            .enumerate()
            .all(|(i, &o)| o == self.offset_of(i)));
        let mut link_at = 4;
        for ifd in &self.ifds {
            if out.len() % 2 == 1 {
                out.push(0);
            }
            let here = out.len() as u32;
            out[link_at..link_at + 4].copy_from_slice(&here.to_le_bytes());
            let mut entries = ifd.clone();
            entries.sort_by_key(|e| e.0);
            out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
            for (tag, typ, count, val) in entries {
                out.extend_from_slice(&tag.to_le_bytes());
                out.extend_from_slice(&typ.to_le_bytes());
                out.extend_from_slice(&count.to_le_bytes());
                let v = match val {
                    Val::Inline(v) => v,
                    Val::Block(i) => offsets[i],
                };
                out.extend_from_slice(&v.to_le_bytes());
            }
            link_at = out.len();
            out.extend_from_slice(&0u32.to_le_bytes());
        }
        out
    }
}

/// The entries of a tiled 8-bit RGB level, uncompressed, with `tiles`
/// tile offsets and byte counts (inline values when there is one tile, a
/// block's offset otherwise: TIFF's rule for values of 4 bytes or fewer).
pub fn tiled_rgb_level(
    (width, height): (u32, u32),
    (tile_w, tile_h): (u32, u32),
    tiles: u32,
    offsets: Val,
    counts: Val,
) -> Vec<Entry> {
    vec![
        (256, LONG, 1, Val::Inline(width)),
        (257, LONG, 1, Val::Inline(height)),
        (258, SHORT, 1, Val::Inline(8)),
        (259, SHORT, 1, Val::Inline(1)),
        (262, SHORT, 1, Val::Inline(2)),
        (277, SHORT, 1, Val::Inline(3)),
        (284, SHORT, 1, Val::Inline(1)),
        (322, LONG, 1, Val::Inline(tile_w)),
        (323, LONG, 1, Val::Inline(tile_h)),
        (324, LONG, tiles, offsets),
        (325, LONG, tiles, counts),
    ]
}

/// `n` little-endian u32 values, all `v`.
pub fn longs(n: usize, v: u32) -> Vec<u8> {
    std::iter::repeat_n(v.to_le_bytes(), n).flatten().collect()
}
