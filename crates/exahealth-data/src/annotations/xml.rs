//! A small streaming layer over quick-xml shared by the XML dialects (ASAP,
//! Sedeen, Halo): it checks well-formedness (including truncation), keeps
//! line numbers, and hands elements and text to a dialect's state machine.

use super::error::{AnnotationError, Location};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use std::borrow::Cow;

/// Deepest element nesting accepted; annotation files use fewer than 10.
const MAX_DEPTH: usize = 256;

/// What the dialect's callback sees.
pub(crate) enum XmlEvent<'a, 'b> {
    /// An element opens (a self-closing one is followed by `Close`).
    Open(Element<'a, 'b>),
    /// The innermost open element closes.
    Close,
    /// Text content (trimmed, unescaped, never empty).
    Text(Cow<'a, str>),
}

/// Whether to go on walking.
#[derive(PartialEq, Eq)]
pub(crate) enum Flow {
    Continue,
    Stop,
}

/// An opening tag.
pub(crate) struct Element<'a, 'b> {
    start: &'b BytesStart<'a>,
    file: &'b str,
    /// 1-based line of the end of the tag.
    pub line: u64,
}

impl<'a> Element<'a, '_> {
    /// The element's local name (no namespace prefix).
    pub fn name(&self) -> &[u8] {
        self.start.local_name().into_inner()
    }

    pub fn is(&self, name: &str) -> bool {
        self.name().eq_ignore_ascii_case(name.as_bytes())
    }

    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(self.name()).into_owned()
    }

    /// An attribute's unescaped value (name compared case-insensitively).
    pub fn attr(&self, key: &str) -> Result<Option<Cow<'_, str>>, AnnotationError> {
        for a in self.start.attributes() {
            let a = a.map_err(|e| self.xml_error(e.to_string()))?;
            if a.key
                .local_name()
                .into_inner()
                .eq_ignore_ascii_case(key.as_bytes())
            {
                let v = a
                    .unescape_value()
                    .map_err(|e| self.xml_error(e.to_string()))?;
                return Ok(Some(v));
            }
        }
        Ok(None)
    }

    /// An attribute that must be present.
    pub fn required_attr(&self, key: &str) -> Result<Cow<'_, str>, AnnotationError> {
        self.attr(key)?
            .ok_or_else(|| self.invalid(format!("<{}> has no {key} attribute", self.name_lossy())))
    }

    /// A coordinate attribute (see [`parse_number`]).
    pub fn coord_attr(&self, key: &str) -> Result<f64, AnnotationError> {
        let v = self.required_attr(key)?;
        parse_number(&v).map_err(|m| self.invalid(format!("{key}: {m}")))
    }

    pub fn invalid(&self, message: impl Into<String>) -> AnnotationError {
        AnnotationError::invalid(self.file, Location::Line(self.line), message)
    }

    fn xml_error(&self, message: String) -> AnnotationError {
        AnnotationError::Xml {
            file: self.file.to_owned(),
            line: self.line,
            message,
        }
    }
}

/// Counts lines incrementally as the reader moves forward.
struct Lines<'s> {
    src: &'s [u8],
    pos: usize,
    line: u64,
}

impl Lines<'_> {
    fn at(&mut self, pos: u64) -> u64 {
        let pos = usize::try_from(pos)
            .unwrap_or(usize::MAX)
            .min(self.src.len());
        if pos >= self.pos {
            self.line += self.src[self.pos..pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
        } else {
            // Error positions can point back into the last event.
            self.line -= self.src[pos..self.pos]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
        }
        self.pos = pos;
        self.line
    }
}

/// Decodes a file's bytes as UTF-8 text, dropping a byte-order mark.
pub(crate) fn decode<'s>(bytes: &'s [u8], file: &str) -> Result<&'s str, AnnotationError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let upto = &bytes[..e.valid_up_to()];
        AnnotationError::Xml {
            file: file.to_owned(),
            line: 1 + upto.iter().filter(|&&b| b == b'\n').count() as u64,
            message: "the file is not UTF-8 text".into(),
        }
    })
}

/// Walks a whole document, calling `f` for each element and text, and fails
/// on malformed or truncated XML.
pub(crate) fn walk<'a>(
    src: &'a str,
    file: &str,
    mut f: impl FnMut(XmlEvent<'a, '_>) -> Result<Flow, AnnotationError>,
) -> Result<(), AnnotationError> {
    let mut reader = Reader::from_str(src);
    reader.config_mut().trim_text(true);
    let mut lines = Lines {
        src: src.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut open: Vec<Vec<u8>> = Vec::new();
    let mut seen_root = false;
    let xml_error = |line: u64, message: String| AnnotationError::Xml {
        file: file.to_owned(),
        line,
        message,
    };
    loop {
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(e) => {
                let line = lines.at(reader.error_position());
                return Err(xml_error(line, e.to_string()));
            }
        };
        let line = lines.at(reader.buffer_position());
        let flow = match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                if open.is_empty() && seen_root {
                    return Err(xml_error(line, "more than one root element".into()));
                }
                if open.len() >= MAX_DEPTH {
                    return Err(xml_error(
                        line,
                        format!("elements nested deeper than {MAX_DEPTH}"),
                    ));
                }
                seen_root = true;
                let element = Element {
                    start: s,
                    file,
                    line,
                };
                let flow = f(XmlEvent::Open(element))?;
                if flow == Flow::Stop {
                    return Ok(());
                }
                if matches!(event, Event::Empty(_)) {
                    f(XmlEvent::Close)?
                } else {
                    open.push(s.name().into_inner().to_vec());
                    Flow::Continue
                }
            }
            Event::End(_) => {
                open.pop();
                f(XmlEvent::Close)?
            }
            Event::Text(t) => {
                if open.is_empty() {
                    Flow::Continue
                } else {
                    let text = t.unescape().map_err(|e| xml_error(line, e.to_string()))?;
                    if text.is_empty() {
                        Flow::Continue
                    } else {
                        f(XmlEvent::Text(text))?
                    }
                }
            }
            Event::CData(t) => {
                let text = String::from_utf8_lossy(&t.into_inner()).trim().to_owned();
                if open.is_empty() || text.is_empty() {
                    Flow::Continue
                } else {
                    f(XmlEvent::Text(Cow::Owned(text)))?
                }
            }
            Event::Eof => {
                if let Some(name) = open.last() {
                    return Err(xml_error(
                        line,
                        format!(
                            "the file ends inside <{}>: truncated?",
                            String::from_utf8_lossy(name)
                        ),
                    ));
                }
                if !seen_root {
                    return Err(xml_error(line, "no root element: empty file?".into()));
                }
                return Ok(());
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => Flow::Continue,
        };
        if flow == Flow::Stop {
            return Ok(());
        }
    }
}

/// The local name of the root element.
pub(crate) fn root_name(src: &str, file: &str) -> Result<String, AnnotationError> {
    let mut root = None;
    walk(src, file, |e| {
        if let XmlEvent::Open(el) = e {
            root = Some(el.name_lossy());
            return Ok(Flow::Stop);
        }
        Ok(Flow::Continue)
    })?;
    root.ok_or_else(|| AnnotationError::Xml {
        file: file.to_owned(),
        line: 1,
        message: "no root element".into(),
    })
}

/// Parses a coordinate: a decimal number, also with a comma as decimal
/// separator (as some localised ASAP exports write, "4803,69434"). Rejects
/// NaN and infinities.
pub(crate) fn parse_number(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let v = match t.parse::<f64>() {
        Ok(v) => v,
        Err(_) if t.matches(',').count() == 1 && !t.contains('.') => t
            .replace(',', ".")
            .parse::<f64>()
            .map_err(|_| format!("{s:?} is not a number"))?,
        Err(_) => return Err(format!("{s:?} is not a number")),
    };
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{s:?} is not a finite number"))
    }
}

/// Parses "#RRGGBB" (or "#RRGGBBAA", alpha dropped). Empty means none.
pub(crate) fn parse_hex_color(s: &str) -> Result<Option<[u8; 3]>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let hex = t.strip_prefix('#').unwrap_or(t);
    if !(hex.len() == 6 || hex.len() == 8) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("colour {s:?} is not #RRGGBB"));
    }
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).map_err(|e| e.to_string());
    Ok(Some([byte(0)?, byte(2)?, byte(4)?]))
}

/// Formats a colour as "#RRGGBB".
pub(crate) fn hex_color(c: [u8; 3]) -> String {
    format!("#{:02X}{:02X}{:02X}", c[0], c[1], c[2])
}
