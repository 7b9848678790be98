//! Checks made before calamine opens an XLSX file.
//!
//! - calamine reserves room for as many shared strings as the `uniqueCount`
//!   attribute of `xl/sharedStrings.xml` says, with no cap, so a 2 KB file
//!   can make the process abort on a failed allocation. This finds that
//!   attribute exactly as calamine 0.35 does (the same zip crate and name
//!   lookup, the same quick-xml configuration, the first `sst` start tag)
//!   and holds the reservation to the memory budget before calamine sees
//!   the file.
//! - calamine turns cell references (`r="B12"`) into numbers with
//!   unchecked `u32` arithmetic: a row of eleven digits panics where
//!   overflow checks are on and silently wraps in release builds, so one
//!   file would read differently in the two. References beyond Excel's
//!   grid (1,048,576 rows, 16,384 columns) are refused here instead.

use std::io::BufReader;
use std::path::Path;

use exahealth_base::budget;
use quick_xml::events::Event;
use quick_xml::name::QName;

use crate::Error;

/// What calamine would reserve for one shared string (a `String`).
const BYTES_PER_STRING: u64 = std::mem::size_of::<String>() as u64;

/// Refuses `path` if its shared-string count would make calamine reserve
/// more than the memory budget. Files it cannot read are left to calamine,
/// which reports them.
pub(crate) fn check_shared_strings(path: &Path) -> Result<(), Error> {
    let Some(count) = declared_unique_count(path) else {
        return Ok(());
    };
    let bytes = count.saturating_mul(BYTES_PER_STRING);
    budget::check(
        format!("a shared-string table declaring {count} strings"),
        bytes,
    )?;
    Ok(())
}

/// Excel's grid: no sheet it writes has more rows or columns.
const MAX_ROWS: u64 = 1_048_576;
const MAX_COLUMNS: u64 = 16_384;

/// Refuses `path` if a worksheet holds a cell, row or dimension reference
/// beyond Excel's grid. One streaming pass over each worksheet; files it
/// cannot read are left to calamine, which reports them.
pub(crate) fn check_cell_references(path: &Path) -> Result<(), Error> {
    let Ok(file) = std::fs::File::open(path) else {
        return Ok(());
    };
    let Ok(mut zip) = zip::ZipArchive::new(BufReader::new(file)) else {
        return Ok(());
    };
    let sheets: Vec<String> = zip
        .file_names()
        .filter(|name| {
            let name = name.replace('\\', "/").to_ascii_lowercase();
            name.starts_with("xl/worksheets/") && name.ends_with(".xml")
        })
        .map(str::to_string)
        .collect();
    for name in sheets {
        let Ok(entry) = zip.by_name(&name) else {
            continue;
        };
        let mut xml = quick_xml::Reader::from_reader(BufReader::new(entry));
        xml.config_mut().check_end_names = false;
        let mut buf = Vec::with_capacity(1024);
        loop {
            buf.clear();
            let element = match xml.read_event_into(&mut buf) {
                Ok(Event::Start(e) | Event::Empty(e)) => e,
                Ok(Event::Eof) | Err(_) => break,
                Ok(_) => continue,
            };
            let attribute: &[u8] = match element.local_name().as_ref() {
                b"c" | b"row" => b"r",
                b"dimension" => b"ref",
                _ => continue,
            };
            let Some(value) = element
                .attributes()
                .flatten()
                .find(|a| a.key.local_name().as_ref() == attribute)
                .map(|a| a.value)
            else {
                continue;
            };
            for reference in value.split(|&b| b == b':') {
                if !within_grid(reference) {
                    return Err(Error::input(
                        path,
                        format!(
                            "spreadsheet: {name} refers to cell `{}`, beyond the \
                             {MAX_ROWS} rows and {MAX_COLUMNS} columns of a sheet",
                            String::from_utf8_lossy(reference)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Whether a reference of letters then digits (`B12`, `12`, `XFD`) lies in
/// Excel's grid. Only the leading letters and the digits after them count:
/// calamine does its arithmetic on those before it meets (and refuses) any
/// other character.
fn within_grid(reference: &[u8]) -> bool {
    let letters = reference
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let (column, rest) = reference.split_at(letters);
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let column_number = column.iter().fold(0u64, |n, b| {
        n.saturating_mul(26)
            .saturating_add(u64::from(b.to_ascii_uppercase() - b'A') + 1)
    });
    let row_number = rest[..digits].iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    });
    column_number <= MAX_COLUMNS && row_number <= MAX_ROWS
}

/// The `uniqueCount` calamine would read, as the number its parser would
/// take (digits only; anything else is no reservation, as in calamine).
fn declared_unique_count(path: &Path) -> Option<u64> {
    let file = std::fs::File::open(path).ok()?;
    let mut zip = zip::ZipArchive::new(BufReader::new(file)).ok()?;
    // calamine's lookup: names normalised (backslashes, case), last wins.
    let mut wanted = None;
    for name in zip.file_names() {
        if name
            .replace('\\', "/")
            .eq_ignore_ascii_case("xl/sharedstrings.xml")
        {
            wanted = Some(name.to_string());
        }
    }
    let name = wanted.unwrap_or_else(|| "xl/sharedStrings.xml".into());
    let entry = zip.by_name(&name).ok()?;
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(entry));
    let config = xml.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        match xml.read_event_into(&mut buf) {
            Ok(Event::Start(e)) if e.local_name().as_ref() == b"sst" => {
                let value = e
                    .attributes()
                    .flatten()
                    .find(|a| a.key == QName(b"uniqueCount"))?
                    .value;
                return parse_count(&value);
            }
            Ok(Event::Eof) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// Digits with an optional sign, saturating: a parser that accepts a sign
/// must not let `+99999999999999999999` slip past as "unparsable".
fn parse_count(value: &[u8]) -> Option<u64> {
    let digits = value.strip_prefix(b"+").unwrap_or(value);
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::{parse_count, within_grid};

    #[test]
    fn references_are_held_to_the_sheet_grid() {
        assert!(within_grid(b"A1"));
        assert!(within_grid(b"XFD1048576"));
        assert!(within_grid(b"12"));
        assert!(within_grid(b"b7"));
        assert!(!within_grid(b"XFE1"));
        assert!(!within_grid(b"A1048577"));
        assert!(!within_grid(b"55555511110"));
        assert!(!within_grid(b"AAAAAAAAAAAAAAA1"));
        // calamine multiplies before it meets the `.`.
        assert!(!within_grid(b"55555511110.5"));
        assert!(within_grid(b"B12.5"));
    }

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        assert_eq!(parse_count(b"1187"), Some(1187));
        assert_eq!(parse_count(b"+12"), Some(12));
        assert_eq!(parse_count(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_count(b"12a"), None);
        assert_eq!(parse_count(b""), None);
    }
}
