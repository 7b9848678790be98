//! A folder of single-frame DICOM slices as one volume: slices sorted by
//! their position along the slice normal (ImagePositionPatient projected on
//! the cross product of the ImageOrientationPatient cosines), z spacing from
//! the position differences, x/y spacing from PixelSpacing.

use std::path::Path;

use dicom_dictionary_std::tags;
use ndarray::{ArrayD, Axis as NdAxis, IxDyn};

use super::dicom::{floats, image_of, int, open_bytes, text};
use super::patient_space::{affine_lps_to_ras, cross, dot};
use crate::{Axis, ColorType, Image, ImageData, ImageError};

fn bad(why: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        format: "DICOM series",
        why: why.into(),
    }
}

struct Slice {
    name: String,
    key: f64,
    instance: i64,
    position: Option<[f64; 3]>,
    image: Image,
}

/// Reads every DICOM file in `dir` (not recursing) and stacks the largest
/// series into a `"xyz"` volume.
pub fn read_series(dir: &Path) -> Result<Image, ImageError> {
    let io = |e| ImageError::io("list", dir, e);
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            !p.file_name()
                .map(|n| n.to_string_lossy().starts_with('.'))
                .unwrap_or(true)
        })
        .collect();
    paths.sort();
    let mut by_series: std::collections::BTreeMap<String, Vec<Slice>> = Default::default();
    let mut skipped = 0usize;
    for path in &paths {
        let raw = match super::read_file(path).and_then(super::maybe_gunzip) {
            Ok(r) => r,
            Err(_) => {
                skipped += 1;
                continue;
            }
        };
        let obj = match open_bytes(&raw) {
            Ok(o) => o,
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "not DICOM, skipped");
                skipped += 1;
                continue;
            }
        };
        let image = match image_of(&obj) {
            Ok(i) => i,
            Err(ImageError::NoPixelData { .. }) => {
                skipped += 1;
                continue;
            }
            Err(e) => {
                return Err(bad(format!("{}: {e}", path.display())));
            }
        };
        let series = text(&obj, tags::SERIES_INSTANCE_UID).unwrap_or_default();
        let position = floats(&obj, tags::IMAGE_POSITION_PATIENT)
            .filter(|v| v.len() == 3)
            .map(|v| [v[0], v[1], v[2]]);
        let normal = floats(&obj, tags::IMAGE_ORIENTATION_PATIENT)
            .filter(|v| v.len() == 6)
            .map(|o| cross([o[0], o[1], o[2]], [o[3], o[4], o[5]]));
        let instance = int(&obj, tags::INSTANCE_NUMBER).unwrap_or(0);
        let key = match (position, normal) {
            (Some(p), Some(n)) => dot(p, n),
            _ => f64::NAN,
        };
        by_series.entry(series).or_default().push(Slice {
            name: path.display().to_string(),
            key,
            instance,
            position,
            image,
        });
    }
    let n_series = by_series.len();
    let mut slices = by_series
        .into_values()
        .max_by_key(|v| v.len())
        .ok_or_else(|| bad(format!("{}: no DICOM images found", dir.display())))?;
    if n_series > 1 {
        tracing::warn!(
            series = n_series,
            kept = slices.len(),
            "folder holds several series; reading the largest"
        );
    }
    if skipped > 0 {
        tracing::debug!(skipped, "non-image files skipped");
    }
    let by_position = slices.iter().all(|s| s.key.is_finite());
    if by_position {
        slices.sort_by(|a, b| a.key.total_cmp(&b.key));
    } else {
        slices.sort_by_key(|s| s.instance);
    }
    let first = &slices
        .first()
        .ok_or_else(|| bad(format!("{}: no DICOM images found", dir.display())))?
        .image;
    let (shape, dtype, layout) = (first.shape().to_vec(), first.dtype(), first.layout());
    if layout != "xy" {
        return Err(ImageError::Unsupported(format!(
            "series of {layout:?} images (only single-frame grayscale slices stack into a volume)"
        )));
    }
    for s in slices.iter().skip(1) {
        if s.image.shape() != shape.as_slice() || s.image.dtype() != dtype {
            return Err(bad(format!(
                "{} is {:?} {}, the first slice is {shape:?} {}",
                s.name,
                s.image.shape(),
                s.image.dtype().name(),
                dtype.name()
            )));
        }
    }
    let n = slices.len();
    let mut step = None;
    let mut dz = None;
    if by_position && n > 1 {
        let gaps: Vec<f64> = slices.windows(2).map(|w| w[1].key - w[0].key).collect();
        let mut sorted = gaps.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0.0);
        if gaps
            .iter()
            .any(|g| (g - median).abs() > 0.01 * median.abs().max(1e-6))
        {
            tracing::warn!(?gaps, "uneven slice spacing; using the median");
        }
        if median.abs() < 1e-6 {
            tracing::warn!("slices share one position; z spacing left at 1");
        } else {
            dz = Some(median);
            let ends = (slices.first(), slices.last());
            if let (Some(a), Some(b)) = (
                ends.0.and_then(|s| s.position),
                ends.1.and_then(|s| s.position),
            ) {
                let k = (n - 1) as f64;
                step = Some([(b[0] - a[0]) / k, (b[1] - a[1]) / k, (b[2] - a[2]) / k]);
            }
        }
    }
    // The stacked copy is one buffer of every slice together.
    exahealth_base::budget::bytes_for(
        format!("a volume of {n} slices of {shape:?} {}", dtype.name()),
        &[n as u64, shape.iter().product::<usize>() as u64],
        dtype.size() as u64,
    )?;
    let data = stack(slices.iter().map(|s| s.image.data()).collect())?;
    let mut img = Image::new(data, "xyz", ColorType::Gray)?;
    img.meta = first.meta.clone();
    img.set_spacing(Axis::X, first.spacing_of(Axis::X));
    img.set_spacing(Axis::Y, first.spacing_of(Axis::Y));
    let dz = dz.or_else(|| {
        first
            .meta
            .get("dicom.slice_thickness")
            .and_then(|s| s.parse().ok())
    });
    if let Some(dz) = dz {
        img.set_spacing(Axis::Z, dz);
    }
    img.meta.insert("format".into(), "dicom-series".into());
    img.meta.insert("dicom.series_slices".into(), n.to_string());
    img.meta.insert(
        "dicom.sorted_by".into(),
        if by_position {
            "image_position_patient"
        } else {
            "instance_number"
        }
        .into(),
    );
    let slopes: std::collections::BTreeSet<_> = slices
        .iter()
        .map(|s| {
            (
                s.image.meta.get("rescale_slope"),
                s.image.meta.get("rescale_intercept"),
            )
        })
        .collect();
    if slopes.len() > 1 {
        tracing::warn!("slices have different rescale slope/intercept; the first slice's is kept");
    }
    img.meta.remove("affine");
    if let Some(aff) = affine_lps_to_ras(&img, step) {
        img.meta
            .insert("affine".into(), super::nifti::join(aff.iter().flatten()));
    }
    Ok(img)
}

fn stack(parts: Vec<&ImageData>) -> Result<ImageData, ImageError> {
    macro_rules! st {
        ($v:ident) => {{
            let views: Vec<_> = parts
                .iter()
                .map(|p| match p {
                    ImageData::$v(a) => Ok(a.view()),
                    _ => Err(bad("slices of different types")),
                })
                .collect::<Result<_, _>>()?;
            let a: ArrayD<_> = ndarray::stack(NdAxis(0), &views).map_err(|e| bad(e.to_string()))?;
            ImageData::$v(
                a.into_dimensionality::<IxDyn>()
                    .map_err(|e| bad(e.to_string()))?,
            )
        }};
    }
    Ok(match parts.first().ok_or_else(|| bad("no slices"))? {
        ImageData::U8(_) => st!(U8),
        ImageData::I8(_) => st!(I8),
        ImageData::U16(_) => st!(U16),
        ImageData::I16(_) => st!(I16),
        ImageData::U32(_) => st!(U32),
        ImageData::I32(_) => st!(I32),
        ImageData::F32(_) => st!(F32),
        ImageData::F64(_) => st!(F64),
    })
}
