//! A slide's identity: enough to tell whether a saved plan still belongs to
//! the file on disk, without reading the whole file.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::PlanError;
use exahealth_slide::Slide;

/// Bytes hashed at each end of a file.
const QUICK_HASH_SPAN: u64 = 1 << 20;

/// What a plan records of its slide, so that a resumed run can tell whether
/// the slide is still the one planned (same content, same pyramid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlideIdentity {
    /// The slide path as given (a file, or a folder for DICOM WSI).
    pub path: String,
    /// Bytes on disk (summed over the files of a folder).
    pub file_size: u64,
    /// Last modification, seconds since the Unix epoch (the latest file's
    /// for a folder); `None` where the file system keeps none.
    pub mtime: Option<i64>,
    /// SHA-256 (hex) of the size and the first and last MiB of each file:
    /// cheap on any slide, and changes when the file is replaced.
    pub quick_hash: String,
    /// OpenSlide's vendor name (`aperio`, `generic-tiff`...).
    pub vendor: String,
    /// Width and height of each level, level 0 first.
    pub level_dimensions: Vec<[u64; 2]>,
    /// Each level's downsample from level 0.
    pub level_downsamples: Vec<f64>,
    /// Microns per pixel at level 0 (x, y), when recorded.
    pub mpp: Option<[f64; 2]>,
    /// Scanner objective magnification, when recorded.
    pub objective_power: Option<f64>,
}

impl SlideIdentity {
    /// The identity of an open slide and of the file(s) behind it.
    pub fn of(slide: &Slide) -> Result<Self, PlanError> {
        let path = slide.path();
        let (file_size, mtime, quick_hash) = file_identity(path)?;
        Ok(Self {
            path: path.display().to_string(),
            file_size,
            mtime,
            quick_hash,
            vendor: slide.vendor().to_string(),
            level_dimensions: slide
                .level_dimensions()
                .iter()
                .map(|&(w, h)| [w, h])
                .collect(),
            level_downsamples: slide.level_downsamples(),
            mpp: slide.mpp().map(|(x, y)| [x, y]),
            objective_power: slide.objective_power(),
        })
    }

    /// Whether `other` describes the same bytes (path aside: a moved slide
    /// is still the same slide).
    pub fn same_content(&self, other: &SlideIdentity) -> bool {
        self.file_size == other.file_size
            && self.mtime == other.mtime
            && self.quick_hash == other.quick_hash
    }
}

/// Size, modification time and quick hash of a file or of a folder's files.
pub fn file_identity(path: &Path) -> Result<(u64, Option<i64>, String), PlanError> {
    let meta = std::fs::metadata(path).map_err(PlanError::io(path))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(PlanError::io(path))? {
            let entry = entry.map_err(PlanError::io(path))?;
            if entry.file_type().map_err(PlanError::io(path))?.is_file() {
                files.push(entry.path());
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut hasher = Sha256::new();
    let (mut size, mut mtime) = (0u64, None::<i64>);
    for f in &files {
        let m = std::fs::metadata(f).map_err(PlanError::io(f))?;
        size += m.len();
        let t = m
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs() as i64);
        mtime = mtime.max(t);
        if let Some(name) = f.file_name() {
            hasher.update(name.to_string_lossy().as_bytes());
        }
        hasher.update(m.len().to_le_bytes());
        hash_ends(f, m.len(), &mut hasher)?;
    }
    let digest = hasher.finalize();
    let hex = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok((size, mtime, hex))
}

fn hash_ends(path: &Path, len: u64, hasher: &mut Sha256) -> Result<(), PlanError> {
    let mut f = File::open(path).map_err(PlanError::io(path))?;
    let mut buf = vec![0u8; QUICK_HASH_SPAN.min(len) as usize];
    f.read_exact(&mut buf).map_err(PlanError::io(path))?;
    hasher.update(&buf);
    if len > QUICK_HASH_SPAN {
        let tail = QUICK_HASH_SPAN.min(len - QUICK_HASH_SPAN);
        f.seek(SeekFrom::Start(len - tail))
            .map_err(PlanError::io(path))?;
        buf.truncate(tail as usize);
        f.read_exact(&mut buf).map_err(PlanError::io(path))?;
        hasher.update(&buf);
    }
    Ok(())
}
