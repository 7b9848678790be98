//! Writing a plan's patches as image files, in parallel and resumably.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use exahealth_slide::Slide;
use rayon::prelude::*;

use super::qc::encode_png;
use super::store::write_renamed;
use super::{Patch, Plan, PlanError};

/// The image format of written patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchFormat {
    Png,
    /// JPEG at this quality (1-100).
    Jpeg {
        quality: u8,
    },
}

impl PatchFormat {
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
    pub written: u64,
    /// Patches whose file already existed (a resumed run).
    pub skipped: u64,
}

/// Reads each patch of `plan` from `slide` (the planned level and region),
/// resizes it to the patch size when the region differs (area averaging),
/// composites it on white and writes it to `dir` as
/// [`patch_file_name`]. Files already there are kept, so an interrupted run
/// resumes; each file is written to a temporary name and renamed, so none
/// is ever half-written. `on_patch` is called once per patch.
pub fn write_patches(
    slide: &Slide,
    plan: &Plan,
    dir: &Path,
    format: PatchFormat,
    on_patch: &(dyn Fn() + Sync),
) -> Result<WriteReport, PlanError> {
    std::fs::create_dir_all(dir).map_err(PlanError::io(dir))?;
    let size = plan.params.patch_size;
    let written = AtomicU64::new(0);
    let skipped = AtomicU64::new(0);
    plan.patches.par_iter().try_for_each(|p| {
        let path = dir.join(patch_file_name(p, format));
        if path.is_file() {
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
        write_renamed(&path, &bytes, false)?;
        written.fetch_add(1, Ordering::Relaxed);
        on_patch();
        Ok::<(), PlanError>(())
    })?;
    Ok(WriteReport {
        written: written.into_inner(),
        skipped: skipped.into_inner(),
    })
}
