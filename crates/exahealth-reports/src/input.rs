//! Reading reports: CSV, JSON (SKET's single and multiple report layouts,
//! or a list of report objects) and spreadsheets (XLSX, XLS, ODS).
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
//! not read for labels. Files are untrusted: sizes are bounded and every
//! problem is an error naming the file and row.

use crate::engine::Report;
use crate::ontology::Lang;
use crate::Error;
use std::path::Path;

/// Largest report text accepted (bytes).
pub const MAX_TEXT: usize = 1 << 20;
/// Largest JSON file read (bytes).
pub const MAX_JSON: u64 = 512 << 20;

/// Input formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    Csv,
    Json,
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
    match InputFormat::from_path(path)? {
        InputFormat::Csv => {
            let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            parse_csv(std::io::BufReader::new(f), path)
        }
        InputFormat::Json => {
            let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
            if meta.len() > MAX_JSON {
                return Err(Error::input(
                    path,
                    format!(
                        "JSON file is over {} MiB; split it or use CSV",
                        MAX_JSON >> 20
                    ),
                ));
            }
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
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
    let find = |names: &[&str]| {
        names.iter().find_map(|n| {
            headers.iter().position(|h| {
                h.as_ref()
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .eq_ignore_ascii_case(n)
            })
        })
    };
    let text = find(&["text", "diagnosis"]).ok_or_else(|| {
        let seen: Vec<&str> = headers.iter().map(|h| h.as_ref()).collect();
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
                .map_err(|e| Error::input(path, format!("{where_} {row}: {e}")))?
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

/// Parse CSV with a header row.
pub fn parse_csv<R: std::io::Read>(r: R, path: &Path) -> Result<Vec<Report>, Error> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(r);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| Error::input(path, format!("CSV header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let cols = find_columns(&headers, path)?;
    let mut out: Vec<Report> = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| Error::input(path, format!("CSV: {e}")))?;
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
        serde_json::from_str(text).map_err(|e| Error::input(path, format!("JSON: {e}")))?;
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
        let cols = find_columns(&keys, path)
            .map_err(|e| Error::input(path, format!("JSON report {}: {e}", i + 1)))?;
        let cell = |c: usize| -> Option<String> { keys.get(c).and_then(|k| scalar(&obj[*k])) };
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

/// Read the first sheet of a spreadsheet; the first row is the header.
fn read_spreadsheet(path: &Path) -> Result<Vec<Report>, Error> {
    use calamine::{open_workbook_auto, Data, Reader};
    let mut wb =
        open_workbook_auto(path).map_err(|e| Error::input(path, format!("spreadsheet: {e}")))?;
    let range = wb
        .worksheet_range_at(0)
        .ok_or_else(|| Error::input(path, "spreadsheet has no sheet"))?
        .map_err(|e| Error::input(path, format!("spreadsheet: {e}")))?;
    let mut rows = range.rows();
    let header: Vec<String> = match rows.next() {
        Some(h) => h.iter().map(|c| c.to_string()).collect(),
        None => return Ok(Vec::new()),
    };
    let cols = find_columns(&header, path)?;
    let text_of = |c: &Data| -> Option<String> {
        match c {
            Data::Empty => None,
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => Some(format!("{}", *f as i64)),
            other => Some(other.to_string()),
        }
    };
    let mut out: Vec<Report> = Vec::new();
    for (i, row) in rows.enumerate() {
        if row.iter().all(|c| matches!(c, Data::Empty)) {
            continue;
        }
        let cell = |c: usize| row.get(c).and_then(text_of);
        out.push(make_report(cols, &cell, out.len() + 1, i + 2, path, "row")?);
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
