//! Helpers shared by the targets that read files rather than bytes: one
//! scratch folder per fuzzing process under /dev/shm (RAM, so a write per
//! input costs microseconds), emptied before each input.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Separator at which multi-file targets split their input.
pub const SPLIT: &[u8] = b"EXASPLIT";

/// This process's scratch folder, created on first use. Folders left by
/// earlier fuzzing processes that no longer run are removed then.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        remove_stale(&base);
        let dir = tempfile::Builder::new()
            .prefix(&format!("exahealth-fuzz-{}-", std::process::id()))
            .tempdir_in(&base)
            .expect("scratch folder");
        dir.keep()
    })
}

fn remove_stale(base: &Path) {
    let Ok(entries) = std::fs::read_dir(base) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix("exahealth-fuzz-")) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Empties the scratch folder and returns a sub-folder `name` in it.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch sub-folder");
    dir
}

/// Writes `data` as `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, data).expect("write scratch file");
    path
}

/// Splits `data` at every [`SPLIT`], keeping at most `max` parts (the last
/// part keeps any further separators).
pub fn split(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < max {
        match find(rest, SPLIT) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + SPLIT.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

use exahealth_slide::{RgbaImage, Slide};

fn check_image(r: exahealth_slide::Result<RgbaImage>, w: u32, h: u32) {
    if let Ok(img) = r {
        assert_eq!((img.width, img.height), (w, h), "region of the wrong size");
        assert_eq!(img.data.len(), w as usize * h as usize * 4);
    }
}

/// What a viewer does with a freshly opened slide: the metadata, small
/// regions at the first and last level (inside, across the far edge, and
/// off the pixel grid), a thumbnail, the associated images.
pub fn exercise_slide(slide: &Slide) {
    let n = slide.level_count();
    let dims = slide.level_dimensions();
    let downsamples = slide.level_downsamples();
    assert!(n > 0);
    assert_eq!(dims.len(), n);
    assert_eq!(downsamples.len(), n);
    for &d in &downsamples {
        assert!(d.is_finite() && d > 0.0, "downsample {d}");
    }
    assert!(slide.best_level_for_downsample(4.0) < n);
    let mut acc = 0usize;
    for (k, v) in slide.properties() {
        acc = acc.wrapping_add(k.len() ^ v.len());
    }
    acc ^= slide.channel_names().len();
    std::hint::black_box((acc, slide.mpp(), slide.objective_power(), slide.vendor()));

    let (w0, h0) = dims[0];
    let far = |v: u64| i64::try_from(v).unwrap_or(i64::MAX).saturating_sub(32);
    for level in [0, n - 1] {
        let _ = slide.tile_size(level);
        let _ = slide.tile_grid(level);
        check_image(slide.read_region(0, 0, level, 64, 64), 64, 64);
        check_image(slide.read_region(far(w0), far(h0), level, 64, 64), 64, 64);
    }
    if n > 1 {
        // x / downsample is not a whole number: the bilinear path.
        check_image(slide.read_region(1, 1, n - 1, 16, 16), 16, 16);
    }
    if let Ok(t) = slide.thumbnail(64) {
        assert!(t.width <= 64 && t.height <= 64, "thumbnail {}x{}", t.width, t.height);
        assert_eq!(t.data.len(), t.width as usize * t.height as usize * 4);
    }
    for name in slide.associated_image_names() {
        let _ = slide.associated_image_dimensions(name);
        if let Ok(img) = slide.read_associated_image(name) {
            assert_eq!(img.data.len(), img.width as usize * img.height as usize * 4);
        }
    }
}
