//! A whole extraction run, as `exahealth reports extract` does it: reports
//! read from several files and filtered to one use case, labels extracted,
//! and the output folder written (`labels.csv`, the roll-up where the use
//! case has one, `concepts.json`) with a `manifest.json` that records the
//! inputs (size and FNV-1a hash), counts and outputs.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::input::retain_use_case;
use crate::output::{atomic_write, write_outputs};
use crate::{read_reports, Engine, Error, LabelTable, Report, UseCase};

/// The manifest file of an extraction's output folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// One input file as the manifest records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InputInfo {
    /// The file, as given.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// FNV-1a (64-bit) of its bytes, hex: enough to tell files apart.
    pub fnv1a64: String,
}

/// `manifest.json`: what one extraction read, found and wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExtractManifest {
    /// The command that made it.
    pub command: String,
    /// exahealth's version.
    pub version: String,
    /// The use case extracted.
    pub use_case: String,
    /// The report files read.
    pub inputs: Vec<InputInfo>,
    /// Reports of the use case.
    pub reports: usize,
    /// Reports skipped because their `use_case` column named another.
    pub skipped_other_use_case: usize,
    /// Rows of the label table (one per slide, or per report).
    pub rows: usize,
    /// Per label column, the rows where it is 1.
    pub label_counts: Vec<(String, usize)>,
    /// Concept mentions found negated.
    pub negated_mentions: usize,
    /// Concept mentions found uncertain.
    pub uncertain_mentions: usize,
    /// Words corrected as typos.
    pub typos_corrected: usize,
    /// Seconds the extraction took.
    pub seconds: f64,
    /// The files written, the manifest last.
    pub outputs: Vec<String>,
}

/// The reports of all `inputs` whose use case is `use_case` (or unstated),
/// and how many others were skipped.
pub fn read_use_case_reports(
    inputs: &[PathBuf],
    use_case: UseCase,
) -> Result<(Vec<Report>, usize), Error> {
    let mut reports = Vec::new();
    for path in inputs {
        reports.append(&mut read_reports(path)?);
    }
    let skipped = retain_use_case(&mut reports, use_case);
    Ok((reports, skipped))
}

/// Extracts the labels of `reports` (read from `inputs`, `skipped` of
/// another use case) with `engine` and writes the folder `output`,
/// calling `on_report` after each report. Returns the manifest it wrote.
pub fn extract_to_folder(
    engine: &Engine,
    use_case: UseCase,
    inputs: &[PathBuf],
    (reports, skipped): (&[Report], usize),
    output: &Path,
    on_report: &mut dyn FnMut(),
) -> Result<ExtractManifest, Error> {
    let start = Instant::now();
    let mut results = Vec::with_capacity(reports.len());
    for r in reports {
        results.push(engine.extract(r));
        on_report();
    }
    let schema = &engine.lexicon().schema;
    let written = write_outputs(output, schema, &results)?;
    let mut label_counts: Vec<(String, usize)> =
        schema.labels.iter().map(|l| (l.clone(), 0)).collect();
    let table = LabelTable::from_extractions(schema, &results);
    for (_, row) in &table.rows {
        for (c, &v) in label_counts.iter_mut().zip(row) {
            c.1 += usize::from(v);
        }
    }
    let mentions = results.iter().flat_map(|r| &r.concepts);
    let (negated, uncertain) = mentions.fold((0, 0), |(n, u), c| {
        (n + usize::from(c.negated), u + usize::from(c.uncertain))
    });
    let inputs = inputs
        .iter()
        .map(|p| {
            let (bytes, hash) = fnv1a64(p)?;
            Ok(InputInfo {
                path: p.display().to_string(),
                bytes,
                fnv1a64: hash,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let mut outputs = vec![written.labels.display().to_string()];
    if let Some(r) = &written.rollup {
        outputs.push(r.display().to_string());
    }
    outputs.push(written.concepts.display().to_string());
    let manifest_path = output.join(MANIFEST_FILE);
    outputs.push(manifest_path.display().to_string());
    let manifest = ExtractManifest {
        command: "exahealth reports extract".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        use_case: use_case.name().to_string(),
        inputs,
        reports: reports.len(),
        skipped_other_use_case: skipped,
        rows: written.rows,
        label_counts,
        negated_mentions: negated,
        uncertain_mentions: uncertain,
        typos_corrected: results.iter().map(|r| r.typos_corrected).sum(),
        seconds: start.elapsed().as_secs_f64(),
        outputs,
    };
    let mut json = serde_json::to_vec_pretty(&manifest)
        .map_err(|e| Error::input(&manifest_path, format!("cannot encode the manifest: {e}")))?;
    json.push(b'\n');
    atomic_write(&manifest_path, &json)?;
    Ok(manifest)
}

/// FNV-1a (64 bit) of a file, streamed, and its length.
fn fnv1a64(path: &Path) -> Result<(u64, String), Error> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h: u64 = 0xcbf29ce484222325;
    let mut buf = vec![0u8; 1 << 16];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        n_total += n as u64;
        for &b in buf.get(..n).unwrap_or_default() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    Ok((n_total, format!("{h:016x}")))
}
