//! Reading reports: CSV, JSON (SKET's single and multiple report layouts,
//! or a list of report objects) and spreadsheets (XLSX, XLSM; the first
//! sheet, read cell by cell, after a check of the shared-string count that
//! calamine would reserve). XLS, XLSB and ODS are refused: calamine builds
//! their sheets densely or reserves tables from counts a file can forge.
//!
//! Columns (CSV header, spreadsheet first row, JSON keys), case-insensitive:
//!
//! | column | also accepted | |
//! |---|---|---|
//! | `id` | `report_id` | optional; missing ids become `<file stem>-<row>` |
//! | `text` | `diagnosis` (SKET) | required |
//! | `slide_id` | `slide_ids`, `case_id`, `slide` | optional; several separated by `;` or `\|` |
//! | `lang` | `language` | optional: `en`, `it`, `nl` |
//! | `use_case` | | optional: `colon`, `cervix`, `lung`, `celiac`; one file can hold several use cases |
//!
//! SKET's `materials` field names the specimen, not the diagnosis, and is
//! not read for labels. Files are untrusted: sizes are bounded (a record,
//! a JSON file, everything read held to `exahealth_base::budget`) and every
//! problem is an error naming the file and row.

use crate::engine::Report;
use crate::ontology::Lang;
use crate::Error;
use exahealth_base::budget;
use std::io::Read;
use std::path::Path;

/// Largest report text accepted (bytes).
pub const MAX_TEXT: usize = 1 << 20;
/// Largest JSON file read (bytes).
pub const MAX_JSON: u64 = 512 << 20;
/// Largest CSV record, all its fields together (bytes).
pub const MAX_RECORD: u64 = 16 << 20;

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// CSV with a header row (`.csv`).
    Csv,
    /// SKET's single or multiple report JSON, or an array of reports (`.json`).
    Json,
    /// The first sheet of a workbook (`.xlsx`, `.xlsm`; `.xls`, `.xlsb` and
    /// `.ods` are refused with advice).
    Spreadsheet,
}

impl InputFormat {
    /// From a file's extension.
    pub fn from_path(path: &Path) -> Result<InputFormat, Error> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Ok(InputFormat::Csv),
            "json" => Ok(InputFormat::Json),
            "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => Ok(InputFormat::Spreadsheet),
            _ => Err(Error::input(
                path,
                "unknown input format: use a .csv, .json or .xlsx file",
            )),
        }
    }
}

/// Keep the reports of one use case (and those that do not say); returns
/// how many were dropped.
pub fn retain_use_case(reports: &mut Vec<Report>, use_case: crate::lexicon::UseCase) -> usize {
    let before = reports.len();
    reports.retain(|r| r.use_case.as_deref().is_none_or(|u| u == use_case.name()));
    before - reports.len()
}

/// Read all reports of a file, choosing the format by extension.
pub fn read_reports(path: &Path) -> Result<Vec<Report>, Error> {
    read_file(path).map_err(|e| match e {
        // The budget error says what and how much, not which file.
        Error::Budget(source) => Error::FileBudget {
            path: path.to_path_buf(),
            source,
        },
        e => e,
    })
}

fn read_file(path: &Path) -> Result<Vec<Report>, Error> {
    match InputFormat::from_path(path)? {
        InputFormat::Csv => {
            let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            parse_csv(std::io::BufReader::new(f), path)
        }
        InputFormat::Json => {
            // Bounded by the bytes read, not by the size the file system
            // reports: a pipe or a device reports 0 and may never end.
            let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let cap = MAX_JSON.min(budget::limit());
            let mut text = String::new();
            f.take(cap + 1)
                .read_to_string(&mut text)
                .map_err(|e| Error::io(path, e))?;
            if text.len() as u64 > MAX_JSON {
                return Err(Error::input(
                    path,
                    format!(
                        "JSON file is over {} MiB; split it or use CSV",
                        MAX_JSON >> 20
                    ),
                ));
            }
            budget::check("the JSON file", text.len() as u64)?;
            parse_json(&text, path)
        }
        InputFormat::Spreadsheet => read_spreadsheet(path),
    }
}

/// Where the columns are.
#[derive(Clone, Copy, Debug)]
struct Columns {
    id: Option<usize>,
    text: usize,
    slide: Option<usize>,
    lang: Option<usize>,
    use_case: Option<usize>,
}

fn find_columns<S: AsRef<str>>(headers: &[S], path: &Path) -> Result<Columns, Error> {
    let at: Vec<(usize, &str)> = headers.iter().map(AsRef::as_ref).enumerate().collect();
    find_columns_at(&at, path)
}

/// [`find_columns`] for headers that name their own column (a sparse row).
fn find_columns_at(headers: &[(usize, &str)], path: &Path) -> Result<Columns, Error> {
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            headers.iter().find_map(|&(col, h)| {
                h.trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(n)
                    .then_some(col)
            })
        })
    };
    let text = find(&["text", "diagnosis"]).ok_or_else(|| {
        let seen: Vec<&str> = headers.iter().map(|&(_, h)| h).collect();
        Error::input(
            path,
            format!("no `text` (or `diagnosis`) column; the columns are {seen:?}"),
        )
    })?;
    Ok(Columns {
        id: find(&["id", "report_id"]),
        text,
        slide: find(&["slide_id", "slide_ids", "case_id", "slide"]),
        lang: find(&["lang", "language"]),
        use_case: find(&["use_case", "usecase"]),
    })
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("report")
        .to_string()
}

fn split_ids(s: &str) -> Vec<String> {
    s.split([';', '|'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// Build a report from cell strings; `row` is 1-based (data rows).
fn make_report(
    cols: Columns,
    cell: &dyn Fn(usize) -> Option<String>,
    ordinal: usize,
    row: usize,
    path: &Path,
    where_: &str,
) -> Result<Report, Error> {
    let text = cell(cols.text).unwrap_or_default();
    if text.len() > MAX_TEXT {
        return Err(Error::input(
            path,
            format!("{where_} {row}: report text is over {} KiB", MAX_TEXT >> 10),
        ));
    }
    let id = match cols.id.and_then(cell) {
        Some(id) if !id.trim().is_empty() => id.trim().to_string(),
        Some(_) => return Err(Error::input(path, format!("{where_} {row}: empty id"))),
        None => format!("{}-{ordinal}", stem(path)),
    };
    let slide_ids = cols
        .slide
        .and_then(cell)
        .map(|s| split_ids(&s))
        .unwrap_or_default();
    let lang = match cols.lang.and_then(cell) {
        Some(l) if !l.trim().is_empty() => Some(Lang::parse(&l).ok_or_else(|| {
            Error::input(
                path,
                format!("{where_} {row}: unknown language {l:?} (use en, it or nl)"),
            )
        })?),
        _ => None,
    };
    let use_case = match cols.use_case.and_then(cell) {
        Some(u) if !u.trim().is_empty() => Some(
            crate::lexicon::UseCase::parse(&u)
                .map_err(|e| Error::input_from(path, format!("{where_} {row}"), e))?
                .name()
                .to_string(),
        ),
        _ => None,
    };
    Ok(Report {
        id,
        text,
        slide_ids,
        lang,
        use_case,
    })
}

/// Fails a read once the record being parsed has grown past
/// [`MAX_RECORD`]: the CSV parser keeps a whole record in memory, so input
/// without a record end (or a closing quote) would otherwise grow it until
/// memory runs out.
struct RecordLimit<R> {
    inner: R,
    read: u64,
    /// Where the record being parsed starts, updated before each record.
    record_start: u64,
}

impl<R: Read> Read for RecordLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // The parser reads ahead by its buffer; allow for it.
        const SLACK: u64 = 64 << 10;
        if self.read.saturating_sub(self.record_start) > MAX_RECORD + SLACK {
            return Err(std::io::Error::other(format!(
                "a record is over {} MiB (an unclosed quote?)",
                MAX_RECORD >> 20
            )));
        }
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

/// Parse CSV with a header row.
pub fn parse_csv<R: std::io::Read>(r: R, path: &Path) -> Result<Vec<Report>, Error> {
    let limited = RecordLimit {
        inner: r,
        read: 0,
        record_start: 0,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(limited);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::input_from(path, "CSV header", e))?
        .iter()
        .map(str::to_string)
        .collect();
    let cols = find_columns(&headers, path)?;
    let mut out: Vec<Report> = Vec::new();
    let mut rec = csv::StringRecord::new();
    let limit = budget::limit();
    for i in 0.. {
        let start = rdr.position().byte();
        // The reports hold about as many bytes as their records: an endless
        // stream of short records stops at the budget too.
        if start > limit {
            budget::check("the reports of the CSV file", start)?;
        }
        rdr.get_mut().record_start = start;
        let more = rdr
            .read_record(&mut rec)
            .map_err(|e| Error::input_from(path, "CSV", e))?;
        if !more {
            break;
        }
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(i + 2);
        let cell = |c: usize| rec.get(c).map(str::to_string);
        out.push(make_report(cols, &cell, out.len() + 1, line, path, "line")?);
    }
    Ok(out)
}

/// Parse JSON: SKET's single report (`{"diagnosis": ..., "id": ...}`),
/// SKET's multiple reports (`{"reports": [...]}`), or an array of reports.
pub fn parse_json(text: &str, path: &Path) -> Result<Vec<Report>, Error> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::input_from(path, "JSON", e))?;
    let items: Vec<&serde_json::Value> = match &v {
        serde_json::Value::Array(a) => a.iter().collect(),
        serde_json::Value::Object(o) => match o.get("reports") {
            Some(serde_json::Value::Array(a)) => a.iter().collect(),
            Some(_) => {
                return Err(Error::input(path, "JSON: \"reports\" is not an array"));
            }
            None => vec![&v],
        },
        _ => {
            return Err(Error::input(
                path,
                "JSON: expected a report object, {\"reports\": [...]} or an array of reports",
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let obj = item
            .as_object()
            .ok_or_else(|| Error::input(path, format!("JSON report {}: not an object", i + 1)))?;
        let keys: Vec<&String> = obj.keys().collect();
        let cols = find_columns(&keys, path).map_err(|e| match e {
            // Already names the file: say which report, not the path again.
            Error::Input { message, cause, .. } => Error::Input {
                path: path.to_path_buf(),
                message: format!("JSON report {}: {message}", i + 1),
                cause,
            },
            e => e,
        })?;
        let cell = |c: usize| -> Option<String> {
            keys.get(c)
                .and_then(|k| obj.get(k.as_str()))
                .and_then(scalar)
        };
        out.push(make_report(cols, &cell, i + 1, i + 1, path, "JSON report")?);
    }
    Ok(out)
}

/// A JSON value as cell text (arrays of ids are joined with `;`).
fn scalar(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Array(a) => {
            Some(a.iter().filter_map(scalar).collect::<Vec<_>>().join(";"))
        }
        _ => None,
    }
}

/// The non-empty cells of a sheet: `(row, column, value)`, 0-based.
type Cells = Vec<(u32, u32, calamine::Data)>;

/// Gathers cells one at a time, held to the memory budget. Only cells that
/// exist are kept: a sheet's extent (two cells at A1 and XFD1048576) costs
/// nothing, where a dense range of it would be 17 billion cells.
struct CellSink {
    cells: Cells,
    bytes: u64,
    limit: u64,
}

impl CellSink {
    fn new() -> Self {
        CellSink {
            cells: Vec::new(),
            bytes: 0,
            limit: budget::limit(),
        }
    }

    fn push(&mut self, (row, col): (u32, u32), value: calamine::DataRef<'_>) -> Result<(), Error> {
        if matches!(value, calamine::DataRef::Empty) {
            return Ok(());
        }
        let value = calamine::Data::from(value);
        let text = match &value {
            calamine::Data::String(s)
            | calamine::Data::DateTimeIso(s)
            | calamine::Data::DurationIso(s) => s.len(),
            _ => 0,
        };
        self.bytes += (std::mem::size_of::<(u32, u32, calamine::Data)>() + text) as u64;
        if self.bytes > self.limit {
            budget::check("the cells of the spreadsheet", self.bytes)?;
        }
        self.cells.push((row, col, value));
        Ok(())
    }
}

fn xlsx_cells(path: &Path) -> Result<Cells, Error> {
    use calamine::{open_workbook, Reader, Xlsx, XlsxError};
    let err = |e: XlsxError| Error::input_from(path, "spreadsheet", e);
    crate::xlsx_guard::check_shared_strings(path)?;
    crate::xlsx_guard::check_cell_references(path)?;
    let mut wb: Xlsx<_> = open_workbook(path).map_err(err)?;
    let Some(first) = wb.sheet_names().into_iter().next() else {
        return Err(Error::input(path, "spreadsheet has no sheet"));
    };
    let mut reader = match wb.worksheet_cells_reader(&first) {
        Ok(r) => r,
        // A chart sheet first: no cells, so no reports.
        Err(XlsxError::NotAWorksheet(_)) => return Ok(Vec::new()),
        Err(e) => return Err(err(e)),
    };
    let mut sink = CellSink::new();
    while let Some(cell) = reader.next_cell().map_err(err)? {
        sink.push(cell.get_position(), cell.get_value().clone())?;
    }
    Ok(sink.cells)
}

/// Read the first sheet of a spreadsheet; its first non-empty row is the
/// header.
fn read_spreadsheet(path: &Path) -> Result<Vec<Report>, Error> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    // calamine parses bytes a hospital sent: should it panic on them, the
    // file is reported as unreadable instead of taking the process down.
    let cells = std::panic::catch_unwind(|| match ext.as_str() {
        "xlsx" | "xlsm" => xlsx_cells(path),
        _ => Err(Error::input(
            path,
            "XLS, XLSB and ODS files are not read, because their reader builds \
             sheets or tables whole in memory from sizes the file states; save \
             the sheet as .xlsx or .csv",
        )),
    })
    .map_err(|_| {
        Error::input(
            path,
            "spreadsheet: the reader failed on this file; is it damaged?",
        )
    })??;
    reports_from_cells(cells, path)
}

/// Rows of the cells that exist, in sheet order; the first row is the header.
fn reports_from_cells(mut cells: Cells, path: &Path) -> Result<Vec<Report>, Error> {
    use calamine::Data;
    // Stable, so that of two cells at one position the later one wins, as
    // it does in calamine's ranges.
    cells.sort_by_key(|&(row, col, _)| (row, col));
    let mut rows: Vec<(u32, Vec<(u32, Data)>)> = Vec::new();
    for (row, col, value) in cells {
        match rows.last_mut() {
            Some((r, cols)) if *r == row => match cols.last_mut() {
                Some((c, v)) if *c == col => *v = value,
                _ => cols.push((col, value)),
            },
            _ => rows.push((row, vec![(col, value)])),
        }
    }
    let mut rows = rows.into_iter();
    let Some((_, header)) = rows.next() else {
        return Ok(Vec::new());
    };
    let header: Vec<(usize, String)> = header
        .iter()
        .map(|(c, v)| (*c as usize, v.to_string()))
        .collect();
    let at: Vec<(usize, &str)> = header.iter().map(|(c, h)| (*c, h.as_str())).collect();
    let cols = find_columns_at(&at, path)?;
    let text_of = |c: &Data| -> Option<String> {
        match c {
            Data::Empty => None,
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
            other => Some(other.to_string()),
        }
    };
    let mut out: Vec<Report> = Vec::new();
    for (row, cells) in rows {
        let cell = |c: usize| {
            let i = cells
                .binary_search_by_key(&c, |(col, _)| *col as usize)
                .ok()?;
            cells.get(i).and_then(|(_, v)| text_of(v))
        };
        out.push(make_report(
            cols,
            &cell,
            out.len() + 1,
            row as usize + 1,
            path,
            "row",
        )?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_optional_columns() {
        let data =
            "ID,Text,slide_id,lang,use_case\nr1,\"Adenoma, tubulare\",s1;s2,it,colon\nr2,Normal mucosa,,,\n,,,,\n";
        let mut r = parse_csv(data.as_bytes(), Path::new("x.csv")).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].id, "r1");
        assert_eq!(r[0].text, "Adenoma, tubulare");
        assert_eq!(r[0].slide_ids, vec!["s1", "s2"]);
        assert_eq!(r[0].lang, Some(Lang::It));
        assert_eq!(r[1].lang, None);
        assert!(r[1].slide_ids.is_empty());
        assert_eq!(r[0].use_case.as_deref(), Some("colon"));
        assert_eq!(retain_use_case(&mut r, crate::UseCase::Lung), 1);
        assert_eq!(r[0].id, "r2");
    }

    #[test]
    fn csv_errors_name_the_problem() {
        let e = parse_csv("id,body\n1,x\n".as_bytes(), Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("no `text`"), "{e}");
        let e = parse_csv("id,text,lang\n1,x,de\n".as_bytes(), Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse_csv("id,text\n ,x\n".as_bytes(), Path::new("x.csv")).unwrap_err();
        assert!(e.to_string().contains("empty id"), "{e}");
    }

    #[test]
    fn json_layouts() {
        let p = Path::new("reps.json");
        let single =
            r#"{"diagnosis": "polipo iperplastico", "materials": "biopsia", "id": "test"}"#;
        let r = parse_json(single, p).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].id, "test");
        assert_eq!(r[0].text, "polipo iperplastico");
        let multi =
            r#"{"reports": [{"diagnosis": "a"}, {"diagnosis": "b", "slide_ids": ["s1", 7]}]}"#;
        let r = parse_json(multi, p).unwrap();
        assert_eq!(r[0].id, "reps-1");
        assert_eq!(r[1].id, "reps-2");
        assert_eq!(r[1].slide_ids, vec!["s1", "7"]);
        let arr = r#"[{"id": 5, "text": "x", "lang": "nl"}]"#;
        let r = parse_json(arr, p).unwrap();
        assert_eq!(r[0].id, "5");
        assert!(parse_json("[1]", p).is_err());
        assert!(parse_json("{\"reports\": 3}", p).is_err());
        assert!(parse_json("{", p).is_err());
        assert!(parse_json("\"x\"", p).is_err());
    }

    #[test]
    fn format_by_extension() {
        assert_eq!(
            InputFormat::from_path(Path::new("a.XLSX")).unwrap(),
            InputFormat::Spreadsheet
        );
        assert!(InputFormat::from_path(Path::new("a.txt")).is_err());
    }
}
