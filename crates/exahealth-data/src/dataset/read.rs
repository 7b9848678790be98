//! Parsing and validating the YAML.

use super::model::{Dataset, DatasetError, Label, Sample};
use serde_norway::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reads and validates a dataset file; relative locations resolve against
/// its folder.
pub fn read_dataset(path: &Path) -> Result<Dataset, DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    // A dataset of a million samples is about 100 MB of YAML.
    let bytes = exahealth_base::budget::read_file(path, 1 << 30).map_err(io)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not UTF-8 text",
        ))
    })?;
    let mut d = parse_dataset(&text, path)?;
    d.base_dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    Ok(d)
}

/// Parses dataset YAML text; `path` names it in errors.
pub fn parse_dataset(text: &str, path: &Path) -> Result<Dataset, DatasetError> {
    // ECVL's own example starts with OpenCV's "%YAML:1.2" directive, which
    // is not YAML 1.2 syntax; drop it.
    let body = match text.trim_start().strip_prefix("%YAML") {
        Some(rest) => rest.split_once('\n').map_or("", |(_, b)| b),
        None => text,
    };
    let root: Value = serde_norway::from_str(body).map_err(|e| DatasetError::Yaml {
        path: path.to_path_buf(),
        at: e
            .location()
            .map(|l| {
                format!(
                    " at line {}, column {}",
                    l.line() + line_offset(text, body),
                    l.column()
                )
            })
            .unwrap_or_default(),
        message: e.to_string(),
    })?;
    let locate = Locator { text, path };
    let Value::Mapping(map) = root else {
        return Err(locate.invalid("(top level)", None, "expected a mapping with `images`"));
    };
    let mut d = Dataset::default();
    for (k, v) in &map {
        let Some(key) = k.as_str() else {
            return Err(locate.invalid("(top level)", None, "keys must be strings"));
        };
        match key {
            "name" => d.name = scalar(v),
            "description" => d.description = scalar(v),
            "classes" => {
                d.classes = string_list(v).ok_or_else(|| {
                    locate.invalid(
                        "classes",
                        locate.key_line("classes"),
                        "expected a list of names",
                    )
                })?;
                // Labels are written by class name, so a name listed twice
                // would read back as its first index.
                let mut seen = std::collections::HashSet::new();
                if let Some(twice) = d.classes.iter().find(|c| !seen.insert(c.as_str())) {
                    return Err(locate.invalid(
                        "classes",
                        locate.key_line("classes"),
                        format!("`{twice}` is listed twice; class names must be unique"),
                    ));
                }
            }
            "features" => {
                d.features = string_list(v).ok_or_else(|| {
                    locate.invalid(
                        "features",
                        locate.key_line("features"),
                        "expected a list of names",
                    )
                })?
            }
            "images" | "split" => {}
            other => tracing::warn!("{}: ignoring unknown field `{other}`", path.display()),
        }
    }
    let images = map
        .get("images")
        .and_then(Value::as_sequence)
        .ok_or_else(|| {
            locate.invalid("images", locate.key_line("images"), "missing or not a list")
        })?;
    let mut seen = std::collections::HashSet::new();
    for (i, item) in images.iter().enumerate() {
        let field = format!("images[{i}]");
        let line = locate.item_line("images", i);
        let sample = parse_sample(item, &d, &locate, &field, line)?;
        if !seen.insert(sample.location.clone()) {
            return Err(locate.invalid(
                &field,
                line,
                format!(
                    "location {:?} appears twice; locations must be unique",
                    sample.location
                ),
            ));
        }
        d.samples.push(sample);
    }
    if let Some(split) = map.get("split") {
        let Value::Mapping(split) = split else {
            return Err(locate.invalid(
                "split",
                locate.key_line("split"),
                "expected a mapping of split names to index lists",
            ));
        };
        for (k, v) in split {
            let name = k
                .as_str()
                .map(str::to_string)
                .or_else(|| scalar(k))
                .unwrap_or_default();
            let field = format!("split.{name}");
            let line = locate.key_line(&name);
            let list = v
                .as_sequence()
                .ok_or_else(|| locate.invalid(&field, line, "expected a list of image indices"))?;
            let mut idx = Vec::with_capacity(list.len());
            for e in list {
                let n = e.as_u64().ok_or_else(|| {
                    locate.invalid(&field, line, format!("{e:?} is not an image index"))
                })? as usize;
                if n >= d.samples.len() {
                    return Err(locate.invalid(
                        &field,
                        line,
                        format!(
                            "index {n} is out of range: there are {} images",
                            d.samples.len()
                        ),
                    ));
                }
                idx.push(n);
            }
            d.split.push((name, idx));
        }
    }
    Ok(d)
}

fn parse_sample(
    item: &Value,
    d: &Dataset,
    locate: &Locator,
    field: &str,
    line: Option<usize>,
) -> Result<Sample, DatasetError> {
    let location_of = |v: &Value| -> Option<Vec<String>> {
        match v {
            Value::String(s) => Some(vec![s.clone()]),
            Value::Sequence(_) => string_list(v).filter(|l| !l.is_empty()),
            _ => None,
        }
    };
    let Value::Mapping(m) = item else {
        let location = location_of(item).ok_or_else(|| {
            locate.invalid(
                field,
                line,
                "expected a location, a list of planes, or a mapping with `location`",
            )
        })?;
        return Ok(Sample {
            location,
            label: None,
            values: BTreeMap::new(),
        });
    };
    let location = m.get("location").and_then(location_of).ok_or_else(|| {
        locate.invalid(
            &format!("{field}.location"),
            line,
            "missing, or not a path or list of paths",
        )
    })?;
    let label = match m.get("label") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            parse_label(v, d).map_err(|m| locate.invalid(&format!("{field}.label"), line, m))?,
        ),
    };
    let mut values = BTreeMap::new();
    match m.get("values") {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(seq)) => {
            if seq.len() > d.features.len() {
                return Err(locate.invalid(
                    &format!("{field}.values"),
                    line,
                    format!("{} values for {} features", seq.len(), d.features.len()),
                ));
            }
            for (f, v) in d.features.iter().zip(seq) {
                if let Some(s) = scalar(v) {
                    values.insert(f.clone(), s);
                }
            }
        }
        Some(Value::Mapping(vm)) => {
            for (k, v) in vm {
                let k = k.as_str().unwrap_or_default();
                if !d.features.iter().any(|f| f == k) {
                    return Err(locate.invalid(
                        &format!("{field}.values.{k}"),
                        line,
                        format!("`{k}` is not one of the features {:?}", d.features),
                    ));
                }
                if let Some(s) = scalar(v) {
                    values.insert(k.to_string(), s);
                }
            }
        }
        Some(_) => {
            return Err(locate.invalid(
                &format!("{field}.values"),
                line,
                "expected a list or a mapping",
            ))
        }
    }
    Ok(Sample {
        location,
        label,
        values,
    })
}

fn parse_label(v: &Value, d: &Dataset) -> Result<Label, String> {
    let class = |v: &Value| -> Result<usize, String> {
        match v {
            Value::Number(n) => {
                let i = n
                    .as_u64()
                    .ok_or_else(|| format!("{n} is not a class index"))?
                    as usize;
                if i < d.classes.len() || d.classes.is_empty() {
                    Ok(i)
                } else {
                    Err(format!(
                        "class index {i} is out of range: there are {} classes",
                        d.classes.len()
                    ))
                }
            }
            Value::String(s) => d
                .classes
                .iter()
                .position(|c| c == s)
                .ok_or_else(|| format!("`{s}` is not one of the classes {:?}", d.classes)),
            other => Err(format!("{other:?} is not a class")),
        }
    };
    match v {
        // A string that names no class is a mask path (segmentation).
        Value::String(s) if !d.classes.iter().any(|c| c == s) => Ok(Label::Mask(s.clone())),
        Value::Sequence(seq) => Ok(Label::Classes(
            seq.iter().map(class).collect::<Result<_, _>>()?,
        )),
        other => Ok(Label::Classes(vec![class(other)?])),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_sequence()?.iter().map(scalar).collect()
}

/// Lines the directive we dropped took, so reported lines match the file.
fn line_offset(text: &str, body: &str) -> usize {
    text[..text.len() - body.len()].matches('\n').count()
}

/// Finds where things are in the text, for errors that name a line.
struct Locator<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Locator<'_> {
    fn invalid(
        &self,
        field: &str,
        line: Option<usize>,
        message: impl Into<String>,
    ) -> DatasetError {
        DatasetError::Invalid {
            path: self.path.to_path_buf(),
            line,
            field: field.to_string(),
            message: message.into(),
        }
    }

    /// 1-based line of `key:` (first occurrence).
    fn key_line(&self, key: &str) -> Option<usize> {
        let needle = format!("{key}:");
        self.text
            .lines()
            .position(|l| l.trim_start().starts_with(&needle))
            .map(|i| i + 1)
    }

    /// 1-based line of the `n`-th item of the top-level list `key`.
    fn item_line(&self, key: &str, n: usize) -> Option<usize> {
        let start = self.key_line(key)?;
        let mut indent = None;
        let mut count = 0;
        for (i, l) in self.text.lines().enumerate().skip(start) {
            let t = l.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let ind = l.len() - t.len();
            if !t.starts_with("- ") && t != "-" {
                if indent.is_some_and(|d| ind <= d) || ind == 0 {
                    return None;
                }
                continue;
            }
            match indent {
                None => indent = Some(ind),
                Some(d) if ind != d => continue,
                _ => {}
            }
            if count == n {
                return Some(i + 1);
            }
            count += 1;
        }
        None
    }
}
