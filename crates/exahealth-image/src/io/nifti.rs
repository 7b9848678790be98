//! NIfTI-1 and NIfTI-2 (`.nii`, `.nii.gz`): our own header parser, because
//! the `nifti` crate reads no NIfTI-2.
//!
//! Voxels are kept as stored (no `scl_slope`/`scl_inter` applied; those go to
//! the metadata map and [`crate::io::modality_lut`] applies them). NIfTI
//! stores x fastest, which is exactly ECVL's layout order, so the array needs
//! no transposition: a `(X, Y, Z, T)` file becomes layout `"xyzt"`, array
//! shape `[T, Z, Y, X]`.

use std::io::Read;

use exahealth_base::budget;

use super::bytes::{decode_samples, reshape, Endian};
use crate::{ColorType, DataType, Image, ImageError};

const FORMAT: &str = "NIfTI";

fn bad(why: impl Into<String>) -> ImageError {
    ImageError::Malformed {
        format: FORMAT,
        why: why.into(),
    }
}

/// The header fields we use, from either version, widened to 64 bits.
#[derive(Debug, Clone, PartialEq)]
pub struct NiftiHeader {
    /// 1 or 2.
    pub version: u8,
    /// Byte order of the file.
    pub endian: Endian,
    /// `dim[1..=dim[0]]`.
    pub dims: Vec<usize>,
    /// NIfTI's `datatype` code (2 = uint8, 4 = int16, 16 = float32, ...).
    pub datatype: i16,
    /// Bits per voxel.
    pub bitpix: i16,
    /// `pixdim[0..8]` (`pixdim[0]` is qfac).
    pub pixdim: [f64; 8],
    /// Byte offset of the voxel data.
    pub vox_offset: u64,
    /// `scl_slope`: stored values times this (0 means no scaling).
    pub scl_slope: f64,
    /// `scl_inter`: added after the slope.
    pub scl_inter: f64,
    /// `qform_code`: what the quaternion transform maps to (0: unknown).
    pub qform_code: i32,
    /// `sform_code`: what the affine `srow` maps to (0: unknown).
    pub sform_code: i32,
    /// `quatern_b, quatern_c, quatern_d` of the qform rotation.
    pub quatern: [f64; 3],
    /// `qoffset_x, qoffset_y, qoffset_z` of the qform.
    pub qoffset: [f64; 3],
    /// `srow_x, srow_y, srow_z`: the sform affine, one row each.
    pub srow: [[f64; 4]; 3],
    /// `xyzt_units`: spatial and time units.
    pub xyzt_units: i32,
    /// `intent_code`: what the voxel values mean (0: none).
    pub intent_code: i32,
    /// `descrip`: free text.
    pub descrip: String,
}

/// Bytes of header needed before the data: enough for either version.
pub const HEADER_PROBE: usize = 540;

/// True when `head` starts like a NIfTI-1 or NIfTI-2 single-file header.
pub fn sniff(head: &[u8]) -> bool {
    let Some(n1) = head.get(344..348) else {
        return false;
    };
    if n1 == b"n+1\0" || n1 == b"ni1\0" {
        return true;
    }
    matches!(head.get(4..8), Some(b"n+2\0" | b"ni2\0"))
}

struct Reader<'a> {
    b: &'a [u8],
    e: Endian,
}

impl Reader<'_> {
    fn arr<const N: usize>(&self, off: usize) -> Result<[u8; N], ImageError> {
        self.b
            .get(off..off + N)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| bad(format!("header ends before byte {}", off + N)))
    }
    fn i16(&self, off: usize) -> Result<i16, ImageError> {
        let a = self.arr::<2>(off)?;
        Ok(match self.e {
            Endian::Little => i16::from_le_bytes(a),
            Endian::Big => i16::from_be_bytes(a),
        })
    }
    fn i32(&self, off: usize) -> Result<i32, ImageError> {
        let a = self.arr::<4>(off)?;
        Ok(match self.e {
            Endian::Little => i32::from_le_bytes(a),
            Endian::Big => i32::from_be_bytes(a),
        })
    }
    fn i64(&self, off: usize) -> Result<i64, ImageError> {
        let a = self.arr::<8>(off)?;
        Ok(match self.e {
            Endian::Little => i64::from_le_bytes(a),
            Endian::Big => i64::from_be_bytes(a),
        })
    }
    fn f32(&self, off: usize) -> Result<f64, ImageError> {
        let a = self.arr::<4>(off)?;
        Ok(match self.e {
            Endian::Little => f32::from_le_bytes(a),
            Endian::Big => f32::from_be_bytes(a),
        } as f64)
    }
    fn f64(&self, off: usize) -> Result<f64, ImageError> {
        let a = self.arr::<8>(off)?;
        Ok(match self.e {
            Endian::Little => f64::from_le_bytes(a),
            Endian::Big => f64::from_be_bytes(a),
        })
    }
    fn text(&self, off: usize, len: usize) -> String {
        let s = self.b.get(off..off + len).unwrap_or(&[]);
        let s = s.split(|&c| c == 0).next().unwrap_or_default();
        String::from_utf8_lossy(s).trim().to_string()
    }
}

/// Parses a NIfTI-1 or NIfTI-2 header from the first bytes of a file.
pub fn parse_header(b: &[u8]) -> Result<NiftiHeader, ImageError> {
    let Some(&[b0, b1, b2, b3]) = b.get(..4) else {
        return Err(bad("shorter than a header"));
    };
    let size_le = i32::from_le_bytes([b0, b1, b2, b3]);
    let size_be = i32::from_be_bytes([b0, b1, b2, b3]);
    let (version, endian) = match (size_le, size_be) {
        (348, _) => (1, Endian::Little),
        (_, 348) => (1, Endian::Big),
        (540, _) => (2, Endian::Little),
        (_, 540) => (2, Endian::Big),
        _ => return Err(bad(format!("sizeof_hdr is {size_le}, not 348 or 540"))),
    };
    let r = Reader { b, e: endian };
    let h = if version == 1 {
        let magic = r.arr::<4>(344)?;
        if &magic != b"n+1\0" && &magic != b"ni1\0" {
            return Err(bad(
                "NIfTI-1 magic is not \"n+1\" (ANALYZE 7.5 is not supported)",
            ));
        }
        if &magic == b"ni1\0" {
            return Err(ImageError::Unsupported(
                "two-file NIfTI (.hdr/.img) is not supported; convert it to .nii".into(),
            ));
        }
        let mut dim = [0i64; 8];
        for (i, d) in dim.iter_mut().enumerate() {
            *d = r.i16(40 + 2 * i)? as i64;
        }
        let mut pixdim = [0f64; 8];
        for (i, p) in pixdim.iter_mut().enumerate() {
            *p = r.f32(76 + 4 * i)?;
        }
        let mut srow = [[0f64; 4]; 3];
        for (j, row) in srow.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                *v = r.f32(280 + 16 * j + 4 * k)?;
            }
        }
        let vox = r.f32(108)?;
        if !(vox.is_finite() && (0.0..1e15).contains(&vox)) {
            return Err(bad(format!("vox_offset {vox} is not a byte offset")));
        }
        NiftiHeader {
            version,
            endian,
            dims: dims_of(&dim)?,
            datatype: r.i16(70)?,
            bitpix: r.i16(72)?,
            pixdim,
            vox_offset: vox as u64,
            scl_slope: r.f32(112)?,
            scl_inter: r.f32(116)?,
            qform_code: r.i16(252)? as i32,
            sform_code: r.i16(254)? as i32,
            quatern: [r.f32(256)?, r.f32(260)?, r.f32(264)?],
            qoffset: [r.f32(268)?, r.f32(272)?, r.f32(276)?],
            srow,
            xyzt_units: r.arr::<1>(123)?[0] as i32,
            intent_code: r.i16(68)? as i32,
            descrip: r.text(148, 80),
        }
    } else {
        let magic = r.arr::<4>(4)?;
        if &magic != b"n+2\0" {
            return Err(bad(
                "NIfTI-2 magic is not \"n+2\" (two-file NIfTI-2 is not supported)",
            ));
        }
        let mut dim = [0i64; 8];
        for (i, d) in dim.iter_mut().enumerate() {
            *d = r.i64(16 + 8 * i)?;
        }
        let mut pixdim = [0f64; 8];
        for (i, p) in pixdim.iter_mut().enumerate() {
            *p = r.f64(104 + 8 * i)?;
        }
        let mut srow = [[0f64; 4]; 3];
        for (j, row) in srow.iter_mut().enumerate() {
            for (k, v) in row.iter_mut().enumerate() {
                *v = r.f64(400 + 32 * j + 8 * k)?;
            }
        }
        let vox = r.i64(168)?;
        NiftiHeader {
            version,
            endian,
            dims: dims_of(&dim)?,
            datatype: r.i16(12)?,
            bitpix: r.i16(14)?,
            pixdim,
            vox_offset: u64::try_from(vox).map_err(|_| bad(format!("vox_offset {vox}")))?,
            scl_slope: r.f64(176)?,
            scl_inter: r.f64(184)?,
            qform_code: r.i32(344)?,
            sform_code: r.i32(348)?,
            quatern: [r.f64(352)?, r.f64(360)?, r.f64(368)?],
            qoffset: [r.f64(376)?, r.f64(384)?, r.f64(392)?],
            srow,
            xyzt_units: r.i32(500)?,
            intent_code: r.i32(504)?,
            descrip: r.text(240, 80),
        }
    };
    let min_offset = if version == 1 { 348 } else { 540 };
    if h.vox_offset < min_offset {
        return Err(bad(format!(
            "vox_offset {} lies inside the {min_offset}-byte header",
            h.vox_offset
        )));
    }
    Ok(h)
}

fn dims_of(dim: &[i64; 8]) -> Result<Vec<usize>, ImageError> {
    let [n, dims @ ..] = *dim;
    if !(1..=7).contains(&n) {
        return Err(bad(format!("dim[0] = {n}, not 1..7")));
    }
    let mut out = Vec::with_capacity(n as usize);
    for (i, &d) in dims.iter().take(n as usize).enumerate() {
        if d < 1 {
            return Err(bad(format!("dim[{}] = {d}", i + 1)));
        }
        out.push(usize::try_from(d).map_err(|_| bad(format!("dim[{}] = {d}", i + 1)))?);
    }
    Ok(out)
}

/// Element type and samples per voxel of a NIfTI datatype code.
fn element(datatype: i16) -> Result<(DataType, usize), ImageError> {
    Ok(match datatype {
        2 => (DataType::U8, 1),
        4 => (DataType::I16, 1),
        8 => (DataType::I32, 1),
        16 => (DataType::F32, 1),
        64 => (DataType::F64, 1),
        128 => (DataType::U8, 3),
        256 => (DataType::I8, 1),
        512 => (DataType::U16, 1),
        768 => (DataType::U32, 1),
        2304 => (DataType::U8, 4),
        1024 | 1280 => {
            return Err(ImageError::Unsupported(
                "64-bit integer NIfTI voxels (no matching element type)".into(),
            ))
        }
        32 | 1792 | 2048 => return Err(ImageError::Unsupported("complex NIfTI voxels".into())),
        1536 => return Err(ImageError::Unsupported("float128 NIfTI voxels".into())),
        d => return Err(bad(format!("unknown datatype code {d}"))),
    })
}

/// Number of data bytes the header describes, overflow-checked and held to
/// the memory budget.
pub fn data_len(h: &NiftiHeader) -> Result<usize, ImageError> {
    let (dt, spp) = element(h.datatype)?;
    let dims: Vec<u64> = h.dims.iter().map(|&d| d as u64).collect();
    Ok(budget::bytes_for(
        format!("NIfTI voxels {:?} of {}", h.dims, dt.name()),
        &dims,
        (dt.size() * spp) as u64,
    )?)
}

/// Reads a `.nii` or `.nii.gz` from its (possibly gzipped) bytes.
pub fn read_bytes(file: &[u8]) -> Result<Image, ImageError> {
    if file.starts_with(&[0x1f, 0x8b]) {
        let mut gz = flate2::read::GzDecoder::new(file);
        let mut head = Vec::new();
        (&mut gz)
            .take(HEADER_PROBE as u64)
            .read_to_end(&mut head)
            .map_err(|e| bad(format!("gzip: {e}")))?;
        let h = parse_header(&head)?;
        let need = data_len(&h)?;
        // Decompression stops at the end of the declared data, and that end
        // (extensions included) is held to the budget: a gzip bomb behind a
        // small header, or a far-off vox_offset, cannot exhaust memory.
        let end = budget::check(
            "the NIfTI header, extensions and voxels",
            h.vox_offset.saturating_add(need as u64),
        )?;
        // Grow the buffer as bytes arrive instead of trusting the header's
        // size: a forged header cannot make us allocate more than the
        // decompressed stream really holds.
        let mut all = head;
        (&mut gz)
            .take(end.saturating_sub(all.len()) as u64)
            .read_to_end(&mut all)
            .map_err(|e| bad(format!("gzip: {e}")))?;
        decode(&h, &all)
    } else {
        let h = parse_header(file)?;
        decode(&h, file)
    }
}

fn decode(h: &NiftiHeader, file: &[u8]) -> Result<Image, ImageError> {
    let (dt, spp) = element(h.datatype)?;
    if h.bitpix as usize != dt.size() * spp * 8 {
        tracing::warn!(
            bitpix = h.bitpix,
            datatype = h.datatype,
            "NIfTI bitpix disagrees with datatype; trusting datatype"
        );
    }
    let need = data_len(h)?;
    let start = usize::try_from(h.vox_offset).map_err(|_| bad("vox_offset too large"))?;
    let bytes = start
        .checked_add(need)
        .and_then(|end| file.get(start..end))
        .ok_or_else(|| {
            bad(format!(
                "header describes {need} data bytes at offset {start}, file holds {}",
                file.len()
            ))
        })?;
    let nd = h.dims.len();
    if nd > 5 || (nd == 5 && spp > 1) {
        return Err(ImageError::Unsupported(format!(
            "NIfTI with {nd} dimensions {:?}",
            h.dims
        )));
    }
    // ndarray shape: slowest first; NIfTI dims are fastest first.
    let mut shape: Vec<usize> = h.dims.iter().rev().copied().collect();
    let mut layout: String = "xyztc".chars().take(nd).collect();
    let color = match spp {
        3 => ColorType::Rgb,
        4 => ColorType::Rgba,
        _ => ColorType::None,
    };
    if spp > 1 {
        shape.push(spp);
        layout.insert(0, 'c');
    }
    let data = decode_samples(bytes, dt, h.endian)?;
    let data = reshape(data, &shape)?;
    let mut img = Image::new(data, &layout, color)?;
    let (space_unit, space_scale) = match h.xyzt_units & 7 {
        1 => ("m", 1000.0),
        2 => ("mm", 1.0),
        3 => ("um", 0.001),
        _ => ("unknown", 1.0),
    };
    let time_unit = match h.xyzt_units & 0x38 {
        8 => "s",
        16 => "ms",
        24 => "us",
        32 => "Hz",
        40 => "ppm",
        48 => "rad/s",
        _ => "unknown",
    };
    for (i, ax) in [crate::Axis::X, crate::Axis::Y, crate::Axis::Z]
        .into_iter()
        .enumerate()
        .take(nd)
    {
        let p = h.pixdim[i + 1].abs();
        if p.is_finite() && p > 0.0 {
            img.set_spacing(ax, p * space_scale);
        }
    }
    if nd >= 4 && h.pixdim[4].is_finite() && h.pixdim[4] > 0.0 {
        img.set_spacing(crate::Axis::T, h.pixdim[4]);
    }
    let m = &mut img.meta;
    m.insert("format".into(), format!("nifti{}", h.version));
    m.insert("nifti.datatype".into(), h.datatype.to_string());
    m.insert(
        "nifti.endian".into(),
        format!("{:?}", h.endian).to_lowercase(),
    );
    m.insert("nifti.dims".into(), join(h.dims.iter()));
    m.insert("nifti.pixdim".into(), join(h.pixdim.iter()));
    m.insert("nifti.space_unit".into(), space_unit.into());
    m.insert("nifti.time_unit".into(), time_unit.into());
    m.insert("nifti.qform_code".into(), h.qform_code.to_string());
    m.insert("nifti.sform_code".into(), h.sform_code.to_string());
    m.insert("nifti.intent_code".into(), h.intent_code.to_string());
    if !h.descrip.is_empty() {
        m.insert("nifti.descrip".into(), h.descrip.clone());
    }
    // NIfTI: slope 0 (or NaN) means "no scaling".
    if h.scl_slope.is_finite() && h.scl_slope != 0.0 {
        m.insert("rescale_slope".into(), h.scl_slope.to_string());
        m.insert("rescale_intercept".into(), h.scl_inter.to_string());
    }
    m.insert("affine".into(), join(affine(h).iter().flatten()));
    Ok(img)
}

pub(crate) fn join<'a, T: std::fmt::Display + 'a>(it: impl Iterator<Item = &'a T>) -> String {
    it.map(|v| v.to_string()).collect::<Vec<_>>().join(",")
}

/// The voxel-to-world (RAS+) affine nibabel reports: sform if set, else
/// qform, else a centred diagonal of the voxel sizes with x flipped.
pub fn affine(h: &NiftiHeader) -> [[f64; 4]; 4] {
    let mut a = [
        [0.0, 0.0, 0.0, 0.0],
        [0.0; 4],
        [0.0; 4],
        [0.0, 0.0, 0.0, 1.0],
    ];
    if h.sform_code > 0 {
        a[..3].copy_from_slice(&h.srow);
        return a;
    }
    let zoom = |i: usize| {
        let p = h.pixdim.get(i).copied().unwrap_or(1.0);
        if i > h.dims.len() || p == 0.0 || !p.is_finite() {
            1.0
        } else {
            p
        }
    };
    if h.qform_code > 0 {
        let [b, c, d] = h.quatern;
        let w2 = 1.0 - (b * b + c * c + d * d);
        let w = if w2 < 0.0 { 0.0 } else { w2.sqrt() };
        let r = quat_to_mat(w, b, c, d);
        let qfac = if h.pixdim[0] < 0.0 { -1.0 } else { 1.0 };
        let z = [zoom(1), zoom(2), zoom(3) * qfac];
        for (i, row) in r.iter().enumerate() {
            for (j, v) in row.iter().enumerate() {
                a[i][j] = v * z[j];
            }
            a[i][3] = h.qoffset[i];
        }
        return a;
    }
    for (i, row) in a.iter_mut().take(3).enumerate() {
        let n = h.dims.get(i).copied().unwrap_or(1) as f64;
        let s = if i == 0 { -zoom(1) } else { zoom(i + 1) };
        row[i] = s;
        row[3] = -(n - 1.0) / 2.0 * s;
    }
    a
}

fn quat_to_mat(w: f64, x: f64, y: f64, z: f64) -> [[f64; 3]; 3] {
    let n = w * w + x * x + y * y + z * z;
    if n < f64::EPSILON {
        return [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    }
    let s = 2.0 / n;
    let (xs, ys, zs) = (x * s, y * s, z * s);
    let (wx, wy, wz) = (w * xs, w * ys, w * zs);
    let (xx, xy, xz) = (x * xs, x * ys, x * zs);
    let (yy, yz, zz) = (y * ys, y * zs, z * zs);
    [
        [1.0 - (yy + zz), xy - wz, xz + wy],
        [xy + wz, 1.0 - (xx + zz), yz - wx],
        [xz - wy, yz + wx, 1.0 - (xx + yy)],
    ]
}

/// Parses the `affine` metadata entry (16 numbers, row-major).
pub(crate) fn affine_from_meta(img: &Image) -> Option<[[f64; 4]; 4]> {
    let v: Vec<f64> = img
        .meta
        .get("affine")?
        .split(',')
        .map(|s| s.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    if v.len() != 16 || v.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut a = [[0.0; 4]; 4];
    for (i, x) in v.into_iter().enumerate() {
        a[i / 4][i % 4] = x;
    }
    Some(a)
}

fn datatype_code(dt: DataType, spp: usize) -> Result<i16, ImageError> {
    Ok(match (dt, spp) {
        (DataType::U8, 1) => 2,
        (DataType::I16, 1) => 4,
        (DataType::I32, 1) => 8,
        (DataType::F32, 1) => 16,
        (DataType::F64, 1) => 64,
        (DataType::U8, 3) => 128,
        (DataType::I8, 1) => 256,
        (DataType::U16, 1) => 512,
        (DataType::U32, 1) => 768,
        (DataType::U8, 4) => 2304,
        (dt, n) => {
            return Err(ImageError::Unsupported(format!(
                "NIfTI has no {n}-channel {} voxel type",
                dt.name()
            )))
        }
    })
}

/// Encodes `img` as a single-file NIfTI-1 (`.nii` bytes, not gzipped).
///
/// Axes go out in NIfTI order (x, y, z, t; a colour axis becomes RGB24 or
/// RGBA32 voxels for 8-bit 3/4-channel images). The sform (and qform
/// code 0) comes from the `affine` metadata entry when present, else from
/// the spacing; `rescale_slope`/`rescale_intercept` become `scl_slope`/`scl_inter`.
pub fn encode(img: &Image) -> Result<Vec<u8>, ImageError> {
    use crate::Axis;
    let has = |a: Axis| img.axes().contains(&a);
    let spp = img.len_of(Axis::C);
    let packed_color = has(Axis::C) && img.dtype() == DataType::U8 && (spp == 3 || spp == 4);
    let mut order = String::new();
    if packed_color {
        order.push('c');
    }
    for (a, ch) in [
        (Axis::X, 'x'),
        (Axis::Y, 'y'),
        (Axis::Z, 'z'),
        (Axis::T, 't'),
    ] {
        if has(a) {
            order.push(ch);
        }
    }
    if has(Axis::C) && !packed_color {
        if has(Axis::T) {
            return Err(ImageError::Unsupported(
                "NIfTI output of an image with both channel and time axes".into(),
            ));
        }
        order.push('c');
    }
    let img_o = img.to_layout(&order)?;
    let code = datatype_code(img.dtype(), if packed_color { spp } else { 1 })?;
    // NIfTI dims in file order (fastest first), skipping the packed colour axis.
    let mut dims: Vec<usize> = img_o.dims();
    let mut spacing: Vec<f64> = img_o.spacing().iter().rev().copied().collect();
    if packed_color {
        dims.remove(0);
        spacing.remove(0);
    }
    // A colour axis without t sits at position 4 (dim[5], NIfTI's vector axis).
    if has(Axis::C) && !packed_color {
        while dims.len() < 4 {
            let at = dims.len() - 1;
            dims.insert(at, 1);
            spacing.insert(at, 1.0);
        }
    }
    if dims.len() > 7 {
        return Err(ImageError::Unsupported(
            "more than 7 NIfTI dimensions".into(),
        ));
    }
    let mut h = vec![0u8; 352];
    let put_i16 =
        |h: &mut Vec<u8>, off: usize, v: i16| h[off..off + 2].copy_from_slice(&v.to_le_bytes());
    let put_f32 = |h: &mut Vec<u8>, off: usize, v: f64| {
        h[off..off + 4].copy_from_slice(&(v as f32).to_le_bytes())
    };
    h[0..4].copy_from_slice(&348i32.to_le_bytes());
    put_i16(&mut h, 40, dims.len() as i16);
    for (i, &d) in dims.iter().enumerate() {
        let d = i16::try_from(d)
            .map_err(|_| ImageError::Unsupported(format!("NIfTI-1 dimension {d} exceeds 32767")))?;
        put_i16(&mut h, 42 + 2 * i, d);
    }
    for i in dims.len()..7 {
        put_i16(&mut h, 42 + 2 * i, 1);
    }
    put_i16(&mut h, 70, code);
    let spp_out = if packed_color { spp } else { 1 };
    put_i16(&mut h, 72, (img.dtype().size() * spp_out * 8) as i16);
    put_f32(&mut h, 76, 1.0); // qfac
    for (i, &s) in spacing.iter().enumerate() {
        put_f32(&mut h, 80 + 4 * i, s);
    }
    put_f32(&mut h, 108, 352.0);
    let num = |k: &str| img.meta.get(k).and_then(|s| s.parse::<f64>().ok());
    if let (Some(s), i) = (
        num("rescale_slope"),
        num("rescale_intercept").unwrap_or(0.0),
    ) {
        put_f32(&mut h, 112, s);
        put_f32(&mut h, 116, i);
    }
    h[123] = 2 | 8; // mm, seconds
    let aff = affine_from_meta(img).unwrap_or_else(|| {
        let mut a = [[0.0; 4]; 4];
        for (i, row) in a.iter_mut().take(3).enumerate() {
            row[i] = spacing.get(i).copied().unwrap_or(1.0);
        }
        a[3][3] = 1.0;
        a
    });
    put_i16(&mut h, 252, 0);
    put_i16(&mut h, 254, 1); // NIFTI_XFORM_SCANNER_ANAT
    for (j, row) in aff.iter().take(3).enumerate() {
        for (k, &v) in row.iter().enumerate() {
            put_f32(&mut h, 280 + 16 * j + 4 * k, v);
        }
    }
    let descrip = b"exahealth";
    h[148..148 + descrip.len()].copy_from_slice(descrip);
    h[344..348].copy_from_slice(b"n+1\0");
    super::bytes::append_le(&mut h, img_o.data());
    Ok(h)
}
