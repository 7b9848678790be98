//! Report files built to exhaust memory: each must be read in memory
//! proportional to what it holds, or refused with a typed error. The
//! inputs are built here.
//!
//! The memory budget is process-wide, so this test binary sets a small one
//! for all its tests.

use std::io::Read;
use std::path::Path;

use exahealth_reports::input::parse_csv;
use exahealth_reports::{read_reports, Error};

const BUDGET: u64 = 16 << 20;

fn small_budget() {
    exahealth_base::budget::set_limit(BUDGET);
}

/// A one-sheet workbook whose cells are `(reference, inline text)`.
fn xlsx(dimension: &str, cells: &[(&str, &str)]) -> Vec<u8> {
    exahealth_hostile::xlsx::workbook(cells, dimension)
}

#[test]
fn two_cells_at_the_corners_of_a_sheet_are_two_cells() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corners.xlsx");
    // As a dense range: 2^20 rows x 2^14 columns, 17 billion cells.
    let file = xlsx(
        "A1:XFD1048576",
        &[("A1", "text"), ("XFD1048576", "far away")],
    );
    std::fs::write(&path, file).unwrap();
    let reports = read_reports(&path).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].id, "corners-1");
    assert_eq!(reports[0].text, "");
}

#[test]
fn references_beyond_the_sheet_grid_are_refused_in_every_build() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    // A row number past u32 made calamine panic (overflow checks on) or
    // wrap (release); a column past XFD is outside any sheet.
    for (name, at) in [("rows.xlsx", "A99999999999"), ("cols.xlsx", "XFE2")] {
        let path = dir.path().join(name);
        std::fs::write(&path, xlsx("A1", &[("A1", "text"), (at, "far")])).unwrap();
        let e = read_reports(&path).unwrap_err().to_string();
        assert!(e.contains(name), "{e}");
        assert!(
            e.contains("beyond the 1048576 rows and 16384 columns"),
            "{e}"
        );
    }
}

#[test]
fn sparse_rows_keep_their_columns() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sparse.xlsx");
    // The header is not in the first row or column; the last row leaves
    // the id empty; the cell order is not the sheet order.
    let file = xlsx(
        "B3:D9",
        &[
            ("D9", "polipo iperplastico"),
            ("B3", "id"),
            ("D3", "text"),
            ("B5", "r1"),
            ("D5", "adenoma tubulare"),
        ],
    );
    std::fs::write(&path, file).unwrap();
    let reports = read_reports(&path).unwrap();
    let got: Vec<(&str, &str)> = reports
        .iter()
        .map(|r| (r.id.as_str(), r.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("r1", "adenoma tubulare"),
            ("sparse-2", "polipo iperplastico")
        ]
    );
}

#[test]
fn a_shared_string_table_declaring_a_trillion_strings_is_refused() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("strings.xlsx");
    std::fs::write(&path, exahealth_hostile::xlsx_shared_string_bomb()).unwrap();
    let e = read_reports(&path).unwrap_err();
    // The error names the file; the budget error, its source, says why.
    match &e {
        Error::FileBudget { path: p, source } => {
            assert_eq!(p, &path);
            assert!(
                source.to_string().contains("1000000000000 strings"),
                "{source}"
            );
        }
        other => panic!("expected a budget error naming the file, got {other:?}"),
    }
    // The same workbook with an honest count reads.
    let honest = exahealth_hostile::xlsx::workbook_with(
        &[("A1", "text"), ("A2", "Adenoma tubulare.")],
        "A1:A2",
        &[(
            "xl/sharedStrings.xml",
            r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>text</t></si></sst>"#.to_string(),
        )],
    );
    std::fs::write(&path, honest).unwrap();
    let reports = read_reports(&path).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].text, "Adenoma tubulare.");
}

#[test]
fn xls_and_ods_are_refused_with_what_to_do() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    for name in ["old.xls", "calc.ods", "binary.xlsb"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"whatever").unwrap();
        let e = read_reports(&path).unwrap_err();
        assert!(
            e.to_string().contains("save the sheet as .xlsx or .csv"),
            "{e}"
        );
    }
}

/// Endless input; panics once far more than any bounded reader needs has
/// been read, so an unbounded reader fails instead of exhausting memory.
struct Endless {
    pattern: &'static [u8],
    read: u64,
}

impl Endless {
    fn new(pattern: &'static [u8]) -> Self {
        Endless { pattern, read: 0 }
    }
}

impl Read for Endless {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let cycle = self.pattern.iter().cycle();
        let skip = (self.read % self.pattern.len() as u64) as usize;
        for (b, &p) in buf.iter_mut().zip(cycle.skip(skip)) {
            *b = p;
        }
        self.read += buf.len() as u64;
        assert!(self.read < 256 << 20, "the reader kept reading");
        Ok(buf.len())
    }
}

#[test]
fn a_csv_record_without_an_end_is_cut_off() {
    small_budget();
    // A quote that never closes makes the rest of the input one field.
    let input = std::io::Cursor::new(b"id,text\n1,\"".to_vec()).chain(Endless::new(b"a"));
    let e = parse_csv(input, Path::new("endless.csv")).unwrap_err();
    // The reason is the CSV reader's error, the source of this one: the
    // chain as the CLI prints it.
    let chain: Vec<String> =
        std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source())
            .map(ToString::to_string)
            .collect();
    let chain = chain.join(": ");
    assert!(chain.contains("a record is over 16 MiB"), "{chain}");
}

#[test]
fn endless_short_csv_records_stop_at_the_budget() {
    small_budget();
    // Nine-byte reports, without end.
    let input = std::io::Cursor::new(b"id,text\n".to_vec()).chain(Endless::new(b"r,polyp.\n"));
    match parse_csv(input, Path::new("endless.csv")).unwrap_err() {
        Error::Budget(b) => assert_eq!(b.limit, BUDGET),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

#[cfg(unix)]
#[test]
fn a_json_file_that_never_ends_is_held_to_the_budget() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    // A device reports a size of 0 and never ends.
    let path = dir.path().join("zero.json");
    std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
    match read_reports(&path).unwrap_err() {
        Error::FileBudget { source: b, .. } => assert_eq!(b.needed, Some(BUDGET + 1)),
        other => panic!("expected a budget error, got {other:?}"),
    }
}

/// The fuzzer's crasher `fuzz/regressions/reports-1.bin`: an XLSX whose row
/// number does not fit 32 bits. calamine overflows on it (a panic where
/// overflow is checked, a wrong row where it wraps); the reader reports the
/// file as unreadable instead of going down with it.
#[test]
fn fuzz_regression_reports_1_is_an_error() {
    small_budget();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.xlsx");
    std::fs::write(
        &path,
        include_bytes!("../../../fuzz/regressions/reports-1.bin"),
    )
    .unwrap();
    let e = read_reports(&path).unwrap_err().to_string();
    assert!(e.contains("crash.xlsx"), "{e}");
    // Refused by the grid check, before calamine multiplies past u32 (a
    // panic caught around calamine would say "the reader failed").
    assert!(e.contains("beyond the 1048576 rows"), "{e}");
}
