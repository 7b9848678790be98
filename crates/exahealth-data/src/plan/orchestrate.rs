//! One slide, resumably: reuse the plan in its output folder when it is
//! still current, else plan, write the QC images and save; then, if asked,
//! write the patches.

use std::path::{Path, PathBuf};
use std::time::Instant;

use exahealth_slide::Slide;

use super::{
    file_identity, plan_slide, write_patches, write_qc, AnnotationParams, PatchFormat, Plan,
    PlanError, PlanParams, SlideIdentity, WriteReport,
};
use crate::annotations;

/// One slide's tiling: what [`plan_or_resume`] is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct TileJob<'a> {
    /// The slide (a file, or a folder for DICOM WSI).
    pub slide: &'a Path,
    /// The slide's own output folder (conventionally
    /// `<root>/<`[`slide_stem`]`>`).
    pub out: &'a Path,
    /// The plan parameters; their `annotations` are replaced by those of
    /// [`TileJob::annotations`].
    pub params: &'a PlanParams,
    /// The annotation file (ASAP XML or GeoJSON) that labels the patches,
    /// if any (see [`annotation_file_for`]).
    pub annotations: Option<&'a Path>,
    /// A patch takes an annotation class when the class covers at least
    /// this share of it (see [`AnnotationParams::min_fraction`]).
    pub label_fraction: f64,
    /// Also write the patches as image files (into `out/patches`).
    pub patches: Option<PatchFormat>,
}

/// What [`plan_or_resume`] did with the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileStatus {
    /// No current plan was found: the slide was planned and the plan saved.
    Planned,
    /// The saved plan was made with the same parameters for the same slide
    /// content, and was reused.
    Resumed,
}

impl TileStatus {
    /// `"planned"` or `"resumed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            TileStatus::Planned => "planned",
            TileStatus::Resumed => "resumed",
        }
    }
}

/// The result of [`plan_or_resume`].
#[derive(Debug, Clone)]
pub struct TileOutcome {
    /// Whether the plan was made now or reused.
    pub status: TileStatus,
    /// The plan, saved or reused, with its patches (counts in
    /// `plan.summary`).
    pub plan: Plan,
    /// Patch files written and kept, when [`TileJob::patches`] asked for them.
    pub written: Option<WriteReport>,
}

/// Progress of [`plan_or_resume`], for progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TileProgress {
    /// This many patch files are about to be written or checked.
    PatchesQueued(u64),
    /// One patch file was written, or kept because it existed.
    PatchDone,
}

/// The name of a slide's output folder: its file name without the extension
/// (`a/b/slide.svs` gives `slide`; a DICOM WSI folder gives its name).
pub fn slide_stem(path: &Path) -> String {
    path.file_stem()
        .or_else(|| path.file_name())
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "slide".into())
}

/// The annotation file for `slide` given `annotations`: that file itself,
/// or, for a folder, the first of `<slide stem>.geojson`, `.json` and
/// `.xml` in it that exists (`None` if none does).
pub fn annotation_file_for(annotations: &Path, slide: &Path) -> Option<PathBuf> {
    if !annotations.is_dir() {
        return Some(annotations.to_path_buf());
    }
    let s = slide_stem(slide);
    ["geojson", "json", "xml"]
        .iter()
        .map(|ext| annotations.join(format!("{s}.{ext}")))
        .find(|p| p.is_file())
}

/// Plans one slide into `job.out`, or reuses the plan there.
///
/// The saved plan is reused when `plan.json` was made with the same
/// parameters (annotation file hash included) for a slide with the same
/// content ([`Plan::is_current`]). Otherwise the slide is planned
/// ([`plan_slide`]), the QC images are written ([`write_qc`]) and the plan
/// is saved, `plan.json` last so that its presence marks the slide as done.
/// With [`TileJob::patches`], the patches are then written into
/// `out/patches` ([`write_patches`]: files already there are kept, files cut
/// with other parameters removed).
pub fn plan_or_resume(
    job: &TileJob<'_>,
    progress: &(dyn Fn(TileProgress) + Sync),
) -> Result<TileOutcome, PlanError> {
    let (path, out) = (job.slide, job.out);
    let slide = Slide::open(path).map_err(|source| PlanError::SlideOpen {
        path: path.to_path_buf(),
        source,
    })?;
    let identity = SlideIdentity::of(&slide)?;
    let mut params = job.params.clone();
    params.annotations = None;
    if let Some(f) = job.annotations {
        let (_, _, hash) = file_identity(f).map_err(|e| PlanError::AnnotationFile {
            path: f.to_path_buf(),
            source: Box::new(e),
        })?;
        params.annotations = Some(AnnotationParams {
            path: f.display().to_string(),
            quick_hash: hash,
            min_fraction: job.label_fraction,
        });
    }
    let (plan, status) = if Plan::is_current(out, &params, &identity) {
        let plan = Plan::load(out).map_err(|e| PlanError::SavedPlan {
            dir: out.to_path_buf(),
            source: Box::new(e),
        })?;
        tracing::info!(slide = %path.display(), "plan is current; skipped");
        (plan, TileStatus::Resumed)
    } else {
        let set = match job.annotations {
            Some(f) => Some(annotations::read(f).map_err(|e| PlanError::AnnotationFile {
                path: f.to_path_buf(),
                source: Box::new(e),
            })?),
            None => None,
        };
        let planned =
            plan_slide(&slide, &params, set.as_ref()).map_err(|e| PlanError::Planning {
                path: path.to_path_buf(),
                source: Box::new(e),
            })?;
        std::fs::create_dir_all(out).map_err(|source| PlanError::CreateDir {
            dir: out.to_path_buf(),
            source,
        })?;
        let saving = Instant::now();
        write_qc(&planned, out)?;
        // plan.json last: its presence marks the slide as done.
        planned.plan.save(out).map_err(|e| PlanError::SavePlan {
            dir: out.to_path_buf(),
            source: Box::new(e),
        })?;
        tracing::debug!(
            slide = %path.display(),
            seconds = saving.elapsed().as_secs_f64(),
            "wrote plan and QC images"
        );
        (planned.plan, TileStatus::Planned)
    };
    let written = match job.patches {
        Some(format) => {
            progress(TileProgress::PatchesQueued(plan.patches.len() as u64));
            let dir = out.join("patches");
            let r = write_patches(&slide, &plan, &dir, format, &|| {
                progress(TileProgress::PatchDone)
            })
            .map_err(|e| PlanError::WritePatches {
                dir: dir.clone(),
                source: Box::new(e),
            })?;
            Some(r)
        }
        None => None,
    };
    Ok(TileOutcome {
        status,
        plan,
        written,
    })
}
