//! Writing the YAML back, in the form ECVL reads.

use super::model::{Dataset, DatasetError, Label};
use serde_norway::{Mapping, Value};
use std::path::Path;

fn s(v: &str) -> Value {
    Value::String(v.to_string())
}

/// The dataset as YAML text. Class labels are written as class names.
pub fn dataset_to_yaml(d: &Dataset) -> Result<String, DatasetError> {
    let mut root = Mapping::new();
    if let Some(n) = &d.name {
        root.insert(s("name"), s(n));
    }
    if let Some(t) = &d.description {
        root.insert(s("description"), s(t));
    }
    if !d.classes.is_empty() {
        root.insert(
            s("classes"),
            Value::Sequence(d.classes.iter().map(|c| s(c)).collect()),
        );
    }
    if !d.features.is_empty() {
        root.insert(
            s("features"),
            Value::Sequence(d.features.iter().map(|c| s(c)).collect()),
        );
    }
    let mut images = Vec::with_capacity(d.samples.len());
    for sample in &d.samples {
        let location = if sample.location.len() == 1 {
            s(&sample.location[0])
        } else {
            Value::Sequence(sample.location.iter().map(|l| s(l)).collect())
        };
        if sample.label.is_none() && sample.values.is_empty() {
            images.push(location);
            continue;
        }
        let mut m = Mapping::new();
        m.insert(s("location"), location);
        match &sample.label {
            None => {}
            Some(Label::Mask(p)) => {
                m.insert(s("label"), s(p));
            }
            Some(Label::Classes(c)) => {
                let name = |i: usize| {
                    d.classes
                        .get(i)
                        .map_or_else(|| Value::Number(i.into()), |n| s(n))
                };
                let v = if c.len() == 1 {
                    name(c[0])
                } else {
                    Value::Sequence(c.iter().map(|&i| name(i)).collect())
                };
                m.insert(s("label"), v);
            }
        }
        if !sample.values.is_empty() {
            let mut vm = Mapping::new();
            for (k, v) in &sample.values {
                vm.insert(s(k), s(v));
            }
            m.insert(s("values"), Value::Mapping(vm));
        }
        images.push(Value::Mapping(m));
    }
    root.insert(s("images"), Value::Sequence(images));
    if !d.split.is_empty() {
        let mut sm = Mapping::new();
        for (name, idx) in &d.split {
            sm.insert(
                s(name),
                Value::Sequence(idx.iter().map(|&i| Value::Number(i.into())).collect()),
            );
        }
        root.insert(s("split"), Value::Mapping(sm));
    }
    let body = serde_norway::to_string(&Value::Mapping(root))
        .map_err(|e| DatasetError::Generate(format!("YAML encoding failed: {e}")))?;
    Ok(format!(
        "# DeepHealth dataset (ECVL format), written by exahealth\n---\n{body}"
    ))
}

/// Writes the dataset durably (the workspace's one helper). Relative
/// locations are rewritten if the file goes to another folder than the
/// one they were relative to.
pub fn write_dataset(d: &Dataset, path: &Path) -> Result<(), DatasetError> {
    let io = |source| DatasetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut out = d.clone();
    let same_dir = std::fs::canonicalize(dir).ok() == std::fs::canonicalize(&d.base_dir).ok();
    if !same_dir {
        let rebase = |loc: &mut String| {
            let p = Path::new(loc.as_str());
            if p.is_relative() {
                let abs = d.base_dir.join(p);
                *loc = std::fs::canonicalize(&abs)
                    .unwrap_or(abs)
                    .display()
                    .to_string();
            }
        };
        for sample in &mut out.samples {
            sample.location.iter_mut().for_each(rebase);
            if let Some(Label::Mask(m)) = &mut sample.label {
                rebase(m);
            }
        }
    }
    let text = dataset_to_yaml(&out)?;
    exahealth_base::durable::write(path, text.as_bytes()).map_err(io)
}
