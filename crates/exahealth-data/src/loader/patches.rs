//! A patch plan's `patches.csv`: one row per patch to read from a slide.
//!
//! ```text
//! x,y,level,width,height,tissue_fraction,label
//! 1024,2048,1,256,256,0.83,tumor
//! ```
//!
//! `x`, `y` are the patch's top-left corner in level-0 pixels; `width`,
//! `height` the region read at `level` (resized to the loader's patch size
//! when different); `tissue_fraction` in 0..=1; `label` a class name, empty
//! when the plan had no annotations.

use super::LoaderError;
use std::path::Path;

/// The header a patch file must start with, exactly.
pub const PATCHES_CSV_HEADER: &str = "x,y,level,width,height,tissue_fraction,label";

/// Largest side of a patch region accepted from a file (pixels).
pub const MAX_PATCH_SIDE: u32 = 16384;

/// Largest `patches.csv` read (bytes): far above any plan (a 100k x 100k
/// slide at 256-pixel patches is 150k rows, about 6 MB).
const MAX_FILE_BYTES: u64 = 1 << 30;

/// One row of `patches.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchRecord {
    /// Left edge, level-0 pixels.
    pub x: i64,
    /// Top edge, level-0 pixels.
    pub y: i64,
    /// The level to read.
    pub level: usize,
    /// Width of the region to read at `level`, pixels.
    pub width: u32,
    /// Height of the region to read at `level`, pixels.
    pub height: u32,
    /// Share of the patch that is tissue, 0..=1.
    pub tissue_fraction: f32,
    /// The patch's class name; empty when the plan had no annotations.
    pub label: String,
}

/// Reads and checks a `patches.csv` file.
pub fn read_patches_csv(path: &Path) -> Result<Vec<PatchRecord>, LoaderError> {
    let io = |source| LoaderError::Io {
        path: path.to_path_buf(),
        source,
    };
    let bytes = exahealth_base::budget::read_file(path, MAX_FILE_BYTES).map_err(io)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| csv_err(path, 1, "the file is not UTF-8 text".into()))?;
    parse_patches_csv(path, &text)
}

/// Parses the text of a `patches.csv` file; `path` only names it in errors.
pub fn parse_patches_csv(path: &Path, text: &str) -> Result<Vec<PatchRecord>, LoaderError> {
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, h)) if h.trim_end_matches('\r') == PATCHES_CSV_HEADER => {}
        Some((_, h)) => {
            return Err(csv_err(
                path,
                1,
                format!("header is {h:?}, expected {PATCHES_CSV_HEADER:?}"),
            ))
        }
        None => return Err(csv_err(path, 1, "empty file: no header".into())),
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let line_no = i + 1;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        out.push(parse_row(path, line_no, line)?);
    }
    Ok(out)
}

fn parse_row(path: &Path, line_no: usize, line: &str) -> Result<PatchRecord, LoaderError> {
    let err = |m: String| csv_err(path, line_no, m);
    // The label is the last column and may itself contain commas if quoted.
    let mut parts = line.splitn(7, ',');
    let mut field = |name: &str| {
        parts
            .next()
            .ok_or_else(|| err(format!("missing column {name:?} (7 expected)")))
    };
    fn num<T: std::str::FromStr>(
        v: &str,
        name: &str,
        err: &dyn Fn(String) -> LoaderError,
    ) -> Result<T, LoaderError> {
        v.trim()
            .parse()
            .map_err(|_| err(format!("{name}: {v:?} is not a valid number")))
    }
    let x: i64 = num(field("x")?, "x", &err)?;
    let y: i64 = num(field("y")?, "y", &err)?;
    let level: usize = num(field("level")?, "level", &err)?;
    let width: u32 = num(field("width")?, "width", &err)?;
    let height: u32 = num(field("height")?, "height", &err)?;
    let tissue_fraction: f32 = num(field("tissue_fraction")?, "tissue_fraction", &err)?;
    let label = unquote(field("label")?.trim()).map_err(|m| err(format!("label: {m}")))?;
    if x < 0 || y < 0 {
        return Err(err(format!("negative coordinates ({x}, {y})")));
    }
    if width == 0 || height == 0 || width > MAX_PATCH_SIDE || height > MAX_PATCH_SIDE {
        return Err(err(format!(
            "patch size {width}x{height} is empty or larger than {MAX_PATCH_SIDE}"
        )));
    }
    if !(0.0..=1.0).contains(&tissue_fraction) {
        return Err(err(format!(
            "tissue_fraction {tissue_fraction} is outside 0..1"
        )));
    }
    Ok(PatchRecord {
        x,
        y,
        level,
        width,
        height,
        tissue_fraction,
        label,
    })
}

/// RFC 4180 quoting for the label column.
fn unquote(s: &str) -> Result<String, String> {
    let Some(inner) = s.strip_prefix('"') else {
        if s.contains('"') {
            return Err(format!("{s:?} has a quote but is not quoted"));
        }
        return Ok(s.to_string());
    };
    let inner = inner
        .strip_suffix('"')
        .ok_or_else(|| format!("{s:?} has no closing quote"))?;
    if inner.replace("\"\"", "").contains('"') {
        return Err(format!("{s:?} has an unescaped quote"));
    }
    Ok(inner.replace("\"\"", "\""))
}

fn csv_err(path: &Path, line: usize, message: String) -> LoaderError {
    LoaderError::PatchCsv {
        path: path.to_path_buf(),
        line,
        message,
    }
}
