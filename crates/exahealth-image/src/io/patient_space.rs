//! DICOM patient space (LPS) to NIfTI world space (RAS): the geometry a
//! single image and a stacked series share, below both readers.

use crate::{Axis, Image};

pub(crate) fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

pub(crate) fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn meta_vec(img: &Image, key: &str, n: usize) -> Option<Vec<f64>> {
    let v: Vec<f64> = img
        .meta
        .get(key)?
        .split(',')
        .map(|s| s.trim().parse().ok())
        .collect::<Option<_>>()?;
    (v.len() == n).then_some(v)
}

/// The RAS voxel-to-world affine (as NIfTI wants it) of a DICOM image from
/// its orientation, position and spacing. `step` is the world vector from one
/// slice to the next; without it the slice normal times the z spacing is used.
pub(crate) fn affine_lps_to_ras(img: &Image, step: Option<[f64; 3]>) -> Option<[[f64; 4]; 4]> {
    let o = meta_vec(img, "dicom.image_orientation_patient", 6)?;
    let p = meta_vec(img, "dicom.image_position_patient", 3)?;
    let row = [o[0], o[1], o[2]];
    let col = [o[3], o[4], o[5]];
    let (dx, dy) = (img.spacing_of(Axis::X), img.spacing_of(Axis::Y));
    let step = step.unwrap_or_else(|| {
        let n = cross(row, col);
        let dz = img.spacing_of(Axis::Z);
        [n[0] * dz, n[1] * dz, n[2] * dz]
    });
    let mut a = [[0.0; 4]; 4];
    for i in 0..3 {
        a[i][0] = row[i] * dx;
        a[i][1] = col[i] * dy;
        a[i][2] = step[i];
        a[i][3] = p[i];
    }
    a[3][3] = 1.0;
    // DICOM patient space is LPS; NIfTI world space is RAS.
    for r in a.iter_mut().take(2) {
        for v in r.iter_mut() {
            *v = -*v;
        }
    }
    Some(a)
}
