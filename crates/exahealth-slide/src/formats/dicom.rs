//! DICOM WSI (VL Whole Slide Microscopy Image Storage). Placeholder until the
//! reader lands.

use crate::error::{Result, SlideError};
use crate::slide::Parts;
use std::path::Path;

/// Frame positions inside a DICOM file's Pixel Data element.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameIndex {
    pub frames: Vec<(u64, u64)>,
}

pub fn parse_frame_index(_data: &[u8]) -> Result<FrameIndex> {
    Err(SlideError::InvalidArgument("not implemented".into()))
}

pub(crate) fn looks_like_dicom(path: &Path) -> bool {
    let mut head = [0u8; 132];
    std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .is_ok()
        && &head[128..132] == b"DICM"
}

pub(crate) fn open(path: &Path) -> Result<Parts> {
    Err(SlideError::Unsupported {
        path: path.to_path_buf(),
        what: "DICOM WSI (not yet)".into(),
    })
}
