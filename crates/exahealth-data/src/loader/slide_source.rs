//! Patches read on the fly from slides through patch plans.

use super::decode::resize_bilinear;
use super::patches::{read_patches_csv, PatchRecord};
use super::{LoaderError, Sample, SampleSource, Target};
use exahealth_slide::{RgbaImage, Slide};
use ndarray::Array3;
use std::path::Path;
use std::sync::Arc;

/// Patches from one or more slides. Each slide is opened once and shared
/// by every worker (a [`Slide`] is `Send + Sync`, with its own tile cache);
/// memory is the tile cache plus the patches in flight, never a slide.
///
/// Images are RGB (alpha dropped; outside the slide reads as black, as
/// OpenSlide's transparent pixels do), `f32` in 0..=1, `size x size`.
/// Labels: the row's label looked up in `classes`; with no classes the
/// samples are unlabelled.
pub struct SlidePatchSource {
    slides: Vec<Arc<Slide>>,
    /// (slide, patch, target) per sample.
    patches: Vec<(usize, PatchRecord, Target)>,
    classes: Vec<String>,
    size: u32,
}

impl SlidePatchSource {
    /// An empty source producing `size x size` patches.
    pub fn new(size: u32, classes: Vec<String>) -> Result<Self, LoaderError> {
        if size == 0 || size > super::patches::MAX_PATCH_SIDE {
            return Err(LoaderError::Config(format!(
                "patch size {size} must be 1..={}",
                super::patches::MAX_PATCH_SIDE
            )));
        }
        Ok(Self {
            slides: Vec::new(),
            patches: Vec::new(),
            classes,
            size,
        })
    }

    /// Opens `slide` and adds the patches listed in its plan's
    /// `patches.csv`.
    pub fn add_plan(&mut self, slide: &Path, patches_csv: &Path) -> Result<(), LoaderError> {
        let records = read_patches_csv(patches_csv)?;
        let s = Slide::open(slide).map_err(|source| LoaderError::SlideOpen {
            path: slide.to_path_buf(),
            source,
        })?;
        self.add_slide(Arc::new(s), records, patches_csv)
    }

    /// Adds patches of an already open slide. Levels and labels are checked
    /// here, so a bad plan fails before training starts; errors name the
    /// record's line in `origin`, the file they came from (header is
    /// line 1).
    pub fn add_slide(
        &mut self,
        slide: Arc<Slide>,
        records: Vec<PatchRecord>,
        origin: &Path,
    ) -> Result<(), LoaderError> {
        let slide_index = self.slides.len();
        let levels = slide.level_count();
        let mut added = Vec::with_capacity(records.len());
        for (i, r) in records.into_iter().enumerate() {
            let bad = |message: String| LoaderError::PatchCsv {
                path: origin.to_path_buf(),
                line: i + 2,
                message,
            };
            if r.level >= levels {
                return Err(bad(format!(
                    "level {} but the slide has {levels} levels",
                    r.level
                )));
            }
            let target = if self.classes.is_empty() {
                Target::None
            } else {
                match self.classes.iter().position(|c| *c == r.label) {
                    Some(k) => Target::Class(k),
                    None => {
                        return Err(bad(format!(
                            "label {:?} is not one of the classes [{}]",
                            r.label,
                            self.classes.join(", ")
                        )))
                    }
                }
            };
            added.push((slide_index, r, target));
        }
        self.slides.push(slide);
        self.patches.extend(added);
        Ok(())
    }

    /// The record behind sample `index` and its slide.
    pub fn patch(&self, index: usize) -> Option<(&Arc<Slide>, &PatchRecord)> {
        let (s, r, _) = self.patches.get(index)?;
        Some((&self.slides[*s], r))
    }

    /// The class names labels are looked up in; empty for unlabelled patches.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Side of every patch produced, in pixels.
    pub fn size(&self) -> u32 {
        self.size
    }
}

impl SampleSource for SlidePatchSource {
    fn len(&self) -> usize {
        self.patches.len()
    }

    fn load(&self, index: usize) -> Result<Sample, LoaderError> {
        let (s, r, target) = self.patches.get(index).ok_or_else(|| {
            LoaderError::Config(format!(
                "patch {index} out of range (the source has {})",
                self.patches.len()
            ))
        })?;
        let slide = &self.slides[*s];
        let region = slide
            .read_region(r.x, r.y, r.level, r.width, r.height)
            .map_err(|source| LoaderError::Slide {
                path: slide.path().to_path_buf(),
                x: r.x,
                y: r.y,
                level: r.level,
                source,
            })?;
        let mut image = rgba_to_rgb_f32(&region);
        let size = self.size as usize;
        if (r.height as usize, r.width as usize) != (size, size) {
            image = resize_bilinear(&image, size, size);
        }
        Ok(Sample {
            index,
            image,
            target: target.clone(),
        })
    }
}

/// `v / 255.0` for every byte value, computed at compile time: a lookup is
/// much cheaper than three divisions per pixel.
const UNIT: [f32; 256] = {
    let mut t = [0f32; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = i as f32 / 255.0;
        i += 1;
    }
    t
};

/// RGBA bytes to an RGB `f32` HWC array in 0..=1 (alpha dropped).
pub fn rgba_to_rgb_f32(img: &RgbaImage) -> Array3<f32> {
    let (w, h) = (img.width as usize, img.height as usize);
    let mut v = Vec::with_capacity(w * h * 3);
    v.extend(img.data.chunks_exact(4).flat_map(|p| {
        [
            UNIT[usize::from(p[0])],
            UNIT[usize::from(p[1])],
            UNIT[usize::from(p[2])],
        ]
    }));
    Array3::from_shape_vec((h, w, 3), v).unwrap_or_else(|_| Array3::zeros((h, w, 3)))
}
