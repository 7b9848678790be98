//! Writing a plan's patches as image files, in parallel and resumably.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use exahealth_slide::Slide;
use rayon::prelude::*;

use super::qc::encode_png;
use super::store::{write_atomic, write_renamed};
use super::{Patch, Plan, PlanError};
use exahealth_base::durable::Durability;

/// The file in a patch folder that records what its patches were cut with.
pub const PATCH_STAMP_FILE: &str = "patches.stamp.json";

/// The image format of written patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFormat {
    /// Lossless PNG, RGB.
    Png,
    /// JPEG at this quality (1-100).
    Jpeg {
        /// 1 (smallest) to 100 (best).
        quality: u8,
    },
}

impl PatchFormat {
    /// File name extension without the dot: `png` or `jpg`.
    pub fn extension(self) -> &'static str {
        match self {
            PatchFormat::Png => "png",
            PatchFormat::Jpeg { .. } => "jpg",
        }
    }
}

/// `<x>_<y>.<ext>`, the level-0 corner of the patch.
pub fn patch_file_name(p: &Patch, format: PatchFormat) -> String {
    format!("{}_{}.{}", p.x, p.y, format.extension())
}

/// What [`write_patches`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WriteReport {
    /// Patch files written by this run.
    pub written: u64,
    /// Patches whose file already existed (a resumed run).
    pub skipped: u64,
}

/// Reads each patch of `plan` from `slide` (the planned level and region),
/// resizes it to the patch size when the region differs (area averaging),
/// composites it on white and writes it to `dir` as
/// [`patch_file_name`]. Files already there are kept, so an interrupted run
/// resumes; each file is written durably (temporary, fsync, rename), so none
/// is ever half-written or left empty by a power cut. `on_patch` is called
/// once per patch.
///
/// The folder's [`PATCH_STAMP_FILE`] records the plan parameters, slide and
/// format its patches were cut with. When they differ from this call's (a
/// re-plan with another size, resolution or format), the old patch files are
/// removed first: a re-plan never keeps a stale patch under a reused name.
pub fn write_patches(
    slide: &Slide,
    plan: &Plan,
    dir: &Path,
    format: PatchFormat,
    on_patch: &(dyn Fn() + Sync),
) -> Result<WriteReport, PlanError> {
    std::fs::create_dir_all(dir).map_err(PlanError::io(dir))?;
    stamp_patch_folder(plan, dir, format)?;
    let size = plan.params.patch_size;
    let written = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    plan.patches.par_iter().try_for_each(|p| {
        let path = dir.join(patch_file_name(p, format));
        // An empty file is what a crash of an older, non-durable writer left.
        if std::fs::metadata(&path).is_ok_and(|m| m.is_file() && m.len() > 0) {
            skipped.fetch_add(1, Ordering::Relaxed);
            on_patch();
            return Ok(());
        }
        let mut img = slide.read_region(p.x as i64, p.y as i64, p.level, p.width, p.height)?;
        if img.width != size || img.height != size {
            img = img.resize_area(size, size);
        }
        let rgb = img.to_rgb_on_white();
        let bytes = match format {
            PatchFormat::Png => encode_png(&rgb, size as usize, size as usize, true)?,
            PatchFormat::Jpeg { quality } => {
                let mut buf = Vec::new();
                jpeg_encoder::Encoder::new(&mut buf, quality.clamp(1, 100))
                    .encode(&rgb, size as u16, size as u16, jpeg_encoder::ColorType::Rgb)
                    .map_err(|e| PlanError::Encode {
                        x: p.x,
                        y: p.y,
                        message: e.to_string(),
                    })?;
                buf
            }
        };
        write_renamed(&path, &bytes, Durability::Fsync)?;
        written.fetch_add(1, Ordering::Relaxed);
        on_patch();
        Ok::<(), PlanError>(())
    })?;
    Ok(WriteReport {
        written: written.into_inner(),
        skipped: skipped.into_inner(),
    })
}

/// Makes `dir`'s stamp say what this call cuts, first removing patch files
/// cut with anything else. The stamp is written before any patch, so after a
/// crash every patch present matches the stamp.
fn stamp_patch_folder(plan: &Plan, dir: &Path, format: PatchFormat) -> Result<(), PlanError> {
    let stamp = serde_json::json!({
        "params": plan.params,
        "slide": plan.slide,
        "level": plan.target.level,
        "read_size": plan.target.read_size,
        "format": format.extension(),
        "quality": match format {
            PatchFormat::Jpeg { quality } => Some(quality),
            PatchFormat::Png => None,
        },
    });
    let wanted = serde_json::to_vec_pretty(&stamp).map_err(|e| PlanError::Json {
        path: dir.join(PATCH_STAMP_FILE),
        message: e.to_string(),
    })?;
    let stamp_path = dir.join(PATCH_STAMP_FILE);
    match std::fs::read(&stamp_path) {
        Ok(found) if found == wanted => return Ok(()),
        Ok(_) => {
            remove_patch_files(dir)?;
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            remove_patch_files(dir)?;
        }
        Err(e) => {
            return Err(PlanError::Io {
                path: stamp_path,
                error: e,
            })
        }
    }
    write_atomic(&stamp_path, &wanted)
}

/// Removes the files [`patch_file_name`] makes (`<x>_<y>.png|jpg`), nothing
/// else a user may keep in the folder.
fn remove_patch_files(dir: &Path) -> Result<usize, PlanError> {
    let entries = std::fs::read_dir(dir).map_err(PlanError::io(dir))?;
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(PlanError::io(dir))?;
        let name = entry.file_name();
        if is_patch_file_name(&name.to_string_lossy()) {
            std::fs::remove_file(entry.path()).map_err(PlanError::io(&entry.path()))?;
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(
            "removed {removed} patches of {} cut with other parameters",
            dir.display()
        );
    }
    Ok(removed)
}

fn is_patch_file_name(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    let Some((x, y)) = stem.split_once('_') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    matches!(ext, "png" | "jpg") && digits(x) && digits(y)
}

#[cfg(test)]
mod tests {
    use super::is_patch_file_name;

    #[test]
    fn only_patch_names_are_patch_files() {
        assert!(is_patch_file_name("1024_2048.png"));
        assert!(is_patch_file_name("0_0.jpg"));
        assert!(!is_patch_file_name("notes.png"));
        assert!(!is_patch_file_name("1_2.tiff"));
        assert!(!is_patch_file_name("_2.png"));
        assert!(!is_patch_file_name("1_2_3.png"));
        assert!(!is_patch_file_name(".1_2.png.123-0-0.exahealth-tmp"));
    }
}
