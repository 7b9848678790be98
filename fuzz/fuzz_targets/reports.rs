//! Fuzz the report readers of `exahealth-reports`: spreadsheets (XLSX/ODS
//! zip, XLS OLE) through `read_reports` on a scratch file with the matching
//! extension; anything else through `parse_csv` and, when UTF-8,
//! `parse_json`. Then concept extraction (`Engine::extract`, the four
//! built-in use cases) on the first reports read, since report text is as
//! untrusted as the file around it.
//!
//! `read_spreadsheet` runs calamine under `catch_unwind` on purpose (a
//! panic there becomes "the reader failed on this file"), so this target
//! restores Rust's default panic hook in its init: libfuzzer-sys's hook
//! aborts on every panic, caught or not. A panic that escapes to the
//! target is still a crash (libfuzzer-sys aborts when one reaches it).
//! Found that way: `regressions/reports-1.bin` (calamine 0.35.0 row-number
//! overflow, see README).
#![no_main]

mod common;

use exahealth_reports::input::{parse_csv, parse_json};
use exahealth_reports::{read_reports, Engine, Report, UseCase};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn engines() -> &'static [Engine] {
    static E: OnceLock<Vec<Engine>> = OnceLock::new();
    E.get_or_init(|| {
        UseCase::ALL
            .iter()
            .map(|&u| Engine::builtin(u).expect("built-in lexicon"))
            .collect()
    })
}

fn extract(reports: &[Report], salt: usize) {
    let engines = engines();
    for (i, r) in reports.iter().take(3).enumerate() {
        let e = &engines[(i + salt) % engines.len()];
        let x = e.extract(r);
        assert_eq!(x.labels.len(), e.labels().len());
    }
}

fuzz_target!(init: {
    // The default hook prints the message and lets the panic unwind to
    // whichever `catch_unwind` is nearest.
    drop(std::panic::take_hook());
}, |data: &[u8]| {
    let ext = if data.starts_with(b"PK\x03\x04") {
        let ods = data.windows(18).any(|w| w == b"oasis.opendocument");
        Some(if ods { "ods" } else { "xlsx" })
    } else if data.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        Some("xls")
    } else {
        None
    };
    if let Some(ext) = ext {
        let dir = common::fresh_dir("reports");
        let path = common::write(&dir, &format!("reports.{ext}"), data);
        if let Ok(r) = read_reports(&path) {
            extract(&r, data.len());
        }
        return;
    }
    if let Ok(r) = parse_csv(data, Path::new("reports.csv")) {
        extract(&r, data.len());
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = parse_json(text, Path::new("reports.json")) {
            extract(&r, data.len() + 1);
        }
    }
});
