//! A check made before calamine opens an XLSX file: calamine reserves room
//! for as many shared strings as the `uniqueCount` attribute of
//! `xl/sharedStrings.xml` says, with no cap, so a 2 KB file can make the
//! process abort on a failed allocation. This finds that attribute exactly
//! as calamine 0.35 does (the same zip crate and name lookup, the same
//! quick-xml configuration, the first `sst` start tag) and holds the
//! reservation to the memory budget before calamine sees the file.

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
    use super::parse_count;

    #[test]
    fn counts_saturate_instead_of_wrapping() {
        assert_eq!(parse_count(b"1187"), Some(1187));
        assert_eq!(parse_count(b"+12"), Some(12));
        assert_eq!(parse_count(b"99999999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_count(b"12a"), None);
        assert_eq!(parse_count(b""), None);
    }
}
