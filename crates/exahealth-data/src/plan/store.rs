//! `plan.json` + `patches.csv`: save atomically, load with typed errors.

use std::path::Path;

use super::{Patch, Plan, PlanError, PlanParams, SlideIdentity, PLAN_VERSION};
use exahealth_base::durable::Durability;

/// Name of the plan's parameters, identity and summary file in a plan folder.
pub const PLAN_FILE: &str = "plan.json";
/// Name of the plan's patch list in a plan folder, one row per patch.
pub const PATCHES_FILE: &str = "patches.csv";
/// The first line of `patches.csv`, exactly.
pub const PATCHES_HEADER: &str = "x,y,level,width,height,tissue_fraction,label";

/// Larger files are refused before being read.
const MAX_PLAN_JSON: u64 = 64 << 20;
const MAX_PATCHES_CSV: u64 = 4 << 30;

impl Plan {
    /// Writes `dir/patches.csv`, then `dir/plan.json`, each atomically
    /// (temporary file, fsync, rename), creating `dir` if needed. A reader
    /// that finds `plan.json` therefore finds its complete `patches.csv`.
    pub fn save(&self, dir: &Path) -> Result<(), PlanError> {
        std::fs::create_dir_all(dir).map_err(PlanError::io(dir))?;
        let mut csv_bytes = Vec::with_capacity(self.patches.len() * 40 + 64);
        {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(&mut csv_bytes);
            let path = dir.join(PATCHES_FILE);
            let err = |e: csv::Error| PlanError::Csv {
                path: path.clone(),
                line: 0,
                message: e.to_string(),
            };
            w.write_record(PATCHES_HEADER.split(',')).map_err(err)?;
            for p in &self.patches {
                // Line breaks in a class name would split the row for
                // line-based readers.
                let label = p.label.replace(['\n', '\r'], " ");
                w.write_record([
                    p.x.to_string(),
                    p.y.to_string(),
                    p.level.to_string(),
                    p.width.to_string(),
                    p.height.to_string(),
                    p.tissue_fraction.to_string(),
                    label,
                ])
                .map_err(err)?;
            }
            w.flush().map_err(PlanError::io(&path))?;
        }
        write_atomic(&dir.join(PATCHES_FILE), &csv_bytes)?;
        let json = serde_json::to_vec_pretty(self).map_err(|e| PlanError::Json {
            path: dir.join(PLAN_FILE),
            message: e.to_string(),
        })?;
        write_atomic(&dir.join(PLAN_FILE), &json)
    }

    /// Reads `dir/plan.json` only (no patches): enough to decide whether a
    /// plan is current.
    pub fn load_meta(dir: &Path) -> Result<Plan, PlanError> {
        let path = dir.join(PLAN_FILE);
        let bytes = read_limited(&path, MAX_PLAN_JSON)?;
        // Check the version before the full structure, so a newer format
        // says so instead of failing on a field it added.
        #[derive(serde::Deserialize)]
        struct Version {
            version: Option<u32>,
        }
        let json_err = |e: serde_json::Error| PlanError::Json {
            path: path.clone(),
            message: e.to_string(),
        };
        let v: Version = serde_json::from_slice(&bytes).map_err(json_err)?;
        match v.version {
            Some(PLAN_VERSION) => {}
            Some(found) => {
                return Err(PlanError::UnsupportedVersion {
                    path,
                    found,
                    supported: PLAN_VERSION,
                })
            }
            None => {
                return Err(PlanError::Json {
                    path,
                    message: "no \"version\" field".into(),
                })
            }
        }
        serde_json::from_slice(&bytes).map_err(json_err)
    }

    /// Reads a saved plan: `plan.json` and `patches.csv`, checked against
    /// each other.
    pub fn load(dir: &Path) -> Result<Plan, PlanError> {
        let mut plan = Self::load_meta(dir)?;
        let path = dir.join(PATCHES_FILE);
        plan.patches = read_patches(&path)?;
        if plan.patches.len() as u64 != plan.summary.patches {
            return Err(PlanError::Inconsistent {
                path,
                message: format!(
                    "{} patches listed but plan.json counts {}",
                    plan.patches.len(),
                    plan.summary.patches
                ),
            });
        }
        Ok(plan)
    }

    /// Whether `dir` holds a complete plan made with `params` for a slide
    /// with `slide`'s content. Any error (missing, corrupt, older format)
    /// reads as "not current".
    pub fn is_current(dir: &Path, params: &PlanParams, slide: &SlideIdentity) -> bool {
        match Self::load_meta(dir) {
            Ok(p) => {
                p.params == *params
                    && p.slide.same_content(slide)
                    && dir.join(PATCHES_FILE).is_file()
            }
            Err(_) => false,
        }
    }
}

fn read_limited(path: &Path, limit: u64) -> Result<Vec<u8>, PlanError> {
    exahealth_base::budget::read_file(path, limit).map_err(PlanError::io(path))
}

fn read_patches(path: &Path) -> Result<Vec<Patch>, PlanError> {
    let bytes = read_limited(path, MAX_PATCHES_CSV)?;
    let csv_err = |line: u64, message: String| PlanError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut records = r.records();
    match records.next() {
        Some(Ok(h)) if h.iter().eq(PATCHES_HEADER.split(',')) => {}
        Some(Ok(h)) => {
            return Err(csv_err(
                1,
                format!(
                    "header is {:?}, expected {PATCHES_HEADER:?}",
                    h.iter().collect::<Vec<_>>().join(",")
                ),
            ))
        }
        Some(Err(e)) => return Err(csv_err(1, e.to_string())),
        None => return Err(csv_err(1, "empty file: no header".into())),
    }
    let mut out = Vec::new();
    for rec in records {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            csv_err(line, e.to_string())
        })?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.len() != 7 {
            return Err(csv_err(line, format!("{} columns, expected 7", rec.len())));
        }
        fn num<T: std::str::FromStr>(v: &str, name: &str) -> Result<T, String> {
            v.parse()
                .map_err(|_| format!("{name}: {v:?} is not a valid number"))
        }
        let parse = || -> Result<Patch, String> {
            let p = Patch {
                x: num(&rec[0], "x")?,
                y: num(&rec[1], "y")?,
                level: num(&rec[2], "level")?,
                width: num(&rec[3], "width")?,
                height: num(&rec[4], "height")?,
                tissue_fraction: num(&rec[5], "tissue_fraction")?,
                label: rec[6].to_string(),
            };
            if !(0.0..=1.0).contains(&p.tissue_fraction) {
                return Err(format!(
                    "tissue_fraction {} is outside 0..1",
                    p.tissue_fraction
                ));
            }
            if p.width == 0 || p.height == 0 {
                return Err("width and height must be at least 1".into());
            }
            Ok(p)
        };
        out.push(parse().map_err(|m| csv_err(line, m))?);
    }
    Ok(out)
}

/// Writes `bytes` to `path` durably (the workspace's one helper).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlanError> {
    write_renamed(path, bytes, Durability::Fsync)
}

/// [`exahealth_base::durable::write_with`] with the plan's error type.
pub(crate) fn write_renamed(path: &Path, bytes: &[u8], sync: Durability) -> Result<(), PlanError> {
    exahealth_base::durable::write_with(path, bytes, sync).map_err(|error| PlanError::Io {
        path: path.to_path_buf(),
        error,
    })
}
