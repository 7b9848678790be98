//! A tile cache shared by every thread and, if wanted, by many slides.
//!
//! Bounded in bytes of decoded pixels, sharded internally (quick_cache), so
//! readers on different threads do not serialise on one lock.

use crate::image::RgbaImage;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Identifies one decoded tile: which slide, which level, which grid cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileKey {
    /// Process-unique id of the slide, so slides can share a cache.
    pub slide: u64,
    /// Pyramid level, 0 the most detailed.
    pub level: u32,
    /// Tile column in the level's grid.
    pub col: u64,
    /// Tile row in the level's grid.
    pub row: u64,
}

#[derive(Clone)]
struct ByteWeighter;

/// What an entry costs besides its pixels (key, `Arc`, table slot). Absent
/// tiles are cached as empty images: without this, a sparse slide could
/// fill a 64 MiB cache with 64 million of them.
const ENTRY_OVERHEAD_BYTES: u64 = 256;

impl quick_cache::Weighter<TileKey, Arc<RgbaImage>> for ByteWeighter {
    fn weight(&self, _key: &TileKey, val: &Arc<RgbaImage>) -> u64 {
        val.data.len() as u64 + ENTRY_OVERHEAD_BYTES
    }
}

/// Default budget: enough for a few hundred 256x256 tiles.
pub const DEFAULT_CACHE_BYTES: u64 = 64 << 20;

/// Decoded tiles kept for reuse by neighbouring reads, bounded in bytes;
/// one per slide by default, or one shared through [`OpenOptions::cache`](crate::OpenOptions::cache).
pub struct TileCache {
    inner: quick_cache::sync::Cache<TileKey, Arc<RgbaImage>, ByteWeighter>,
    capacity: u64,
}

static NEXT_SLIDE_ID: AtomicU64 = AtomicU64::new(1);

/// A process-unique id so slides can share one cache without key clashes.
pub(crate) fn next_slide_id() -> u64 {
    NEXT_SLIDE_ID.fetch_add(1, Ordering::Relaxed)
}

impl TileCache {
    /// A cache holding at most `bytes` of decoded RGBA pixels (0 disables it).
    pub fn new(bytes: u64) -> Arc<Self> {
        // quick_cache wants an item estimate to size its tables.
        let estimate = (bytes / (256 * 256 * 4)).clamp(16, 1 << 20) as usize;
        Arc::new(Self {
            inner: quick_cache::sync::Cache::with_weighter(estimate, bytes, ByteWeighter),
            capacity: bytes,
        })
    }

    /// The byte budget the cache was created with.
    pub fn capacity_bytes(&self) -> u64 {
        self.capacity
    }

    /// Bytes of decoded pixels held now.
    pub fn used_bytes(&self) -> u64 {
        self.inner.weight()
    }

    pub(crate) fn get_or_load<E>(
        &self,
        key: TileKey,
        load: impl FnOnce() -> Result<Arc<RgbaImage>, E>,
    ) -> Result<Arc<RgbaImage>, E> {
        if self.capacity == 0 {
            return load();
        }
        self.inner.get_or_insert_with(&key, load)
    }
}

impl std::fmt::Debug for TileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TileCache({} of {} bytes)",
            self.used_bytes(),
            self.capacity
        )
    }
}
