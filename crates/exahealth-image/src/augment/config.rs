//! ECVL's augmentation text syntax: parse into a pipeline, write back.
//!
//! Stricter than ECVL where ECVL silently ignores mistakes: unknown or
//! repeated parameters and trailing text after the last `end` are errors.

use std::collections::BTreeMap;

use thiserror::Error;

use super::*;
use crate::ops::geometry::{Border, Interpolation};

/// A configuration error, with the 1-based line it was found on.
#[derive(Debug, Error, PartialEq)]
#[error("augmentation config line {line}: {message}")]
pub struct ConfigError {
    /// The 1-based line of the configuration text.
    pub line: usize,
    /// What is wrong on that line.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Range(Vec<f64>),
    Vector(Vec<f64>),
    Number(f64),
    Str(String),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Range(_) => "a range [min,max]",
            Value::Vector(_) => "a vector (a,b,...)",
            Value::Number(_) => "a number",
            Value::Str(_) => "a quoted string",
        }
    }
}

/// The parameters of one line, consumed by name.
struct Params {
    line: usize,
    aug: String,
    map: BTreeMap<String, Value>,
}

impl Params {
    fn err(&self, message: String) -> ConfigError {
        ConfigError {
            line: self.line,
            message: format!("{}: {message}", self.aug),
        }
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        self.map.remove(name)
    }

    fn range(&mut self, name: &str) -> Result<Option<Range>, ConfigError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Range(v)) if v.len() == 2 => Range::new(v[0], v[1])
                .map(Some)
                .map_err(|e| self.err(format!("{name}: {e}"))),
            Some(Value::Range(v)) => Err(self.err(format!(
                "{name} must be a range of two values [min,max], got {} values",
                v.len()
            ))),
            Some(v) => Err(self.err(format!(
                "{name} must be a range [min,max], got {}",
                v.kind()
            ))),
        }
    }

    fn req_range(&mut self, name: &str) -> Result<Range, ConfigError> {
        self.range(name)?
            .ok_or_else(|| self.err(format!("{name}=[min,max] is required")))
    }

    fn number(&mut self, name: &str) -> Result<Option<f64>, ConfigError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Number(x)) => Ok(Some(x)),
            Some(v) => Err(self.err(format!("{name} must be a number, got {}", v.kind()))),
        }
    }

    fn req_number(&mut self, name: &str) -> Result<f64, ConfigError> {
        self.number(name)?
            .ok_or_else(|| self.err(format!("{name}=NUMBER is required")))
    }

    fn vector(&mut self, name: &str) -> Result<Option<Vec<f64>>, ConfigError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Vector(v)) => Ok(Some(v)),
            Some(v) => Err(self.err(format!(
                "{name} must be a vector (a,b,...), got {}",
                v.kind()
            ))),
        }
    }

    fn pair(&mut self, name: &str) -> Result<Option<(f64, f64)>, ConfigError> {
        match self.vector(name)? {
            None => Ok(None),
            Some(v) if v.len() == 2 => Ok(Some((v[0], v[1]))),
            Some(v) => Err(self.err(format!("{name} must have 2 values (x,y), got {}", v.len()))),
        }
    }

    fn size(&mut self, name: &str) -> Result<(usize, usize), ConfigError> {
        let (w, h) = self
            .pair(name)?
            .ok_or_else(|| self.err(format!("{name}=(width,height) is required")))?;
        let ok = |v: f64| (1.0..=1e6).contains(&v) && v.fract() == 0.0;
        if !ok(w) || !ok(h) {
            return Err(self.err(format!(
                "{name} must be two positive whole numbers of pixels, got ({w},{h})"
            )));
        }
        if w * h > super::MAX_OUTPUT_PIXELS as f64 {
            return Err(self.err(format!(
                "{name}=({w},{h}) is over {} pixels",
                super::MAX_OUTPUT_PIXELS
            )));
        }
        Ok((w as usize, h as usize))
    }

    fn string(&mut self, name: &str) -> Result<Option<String>, ConfigError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Str(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!("{name} must be a quoted string, got {}", v.kind()))),
        }
    }

    fn interp(&mut self, name: &str, default: Interpolation) -> Result<Interpolation, ConfigError> {
        match self.string(name)? {
            None => Ok(default),
            Some(s) => Interpolation::from_name(&s).ok_or_else(|| {
                self.err(format!(
                    "{name}=\"{s}\" is not one of \"nearest\", \"linear\", \"area\", \"cubic\", \"lanczos4\""
                ))
            }),
        }
    }

    fn border(&mut self, default: Border) -> Result<Border, ConfigError> {
        let value = self.number("border_value")?.unwrap_or(0.0) as f32;
        let b = match self.string("border_type")? {
            None => match default {
                Border::Constant(_) => Border::Constant(value),
                b => b,
            },
            Some(s) => match s.as_str() {
                "constant" => Border::Constant(value),
                "replicate" => Border::Replicate,
                "reflect" => Border::Reflect,
                "wrap" => Border::Wrap,
                "reflect_101" => Border::Reflect101,
                "transparent" => Border::Transparent,
                _ => return Err(self.err(format!(
                    "border_type=\"{s}\" is not one of \"constant\", \"replicate\", \"reflect\", \"wrap\", \"reflect_101\", \"transparent\""
                ))),
            },
        };
        Ok(b)
    }

    fn probability(&mut self, name: &str, default: f64) -> Result<f64, ConfigError> {
        let p = self.number(name)?.unwrap_or(default);
        if !(0.0..=1.0).contains(&p) {
            return Err(self.err(format!("{name}={p} must be a probability in [0,1]")));
        }
        Ok(p)
    }

    /// Errors on parameters nobody asked for.
    fn finish(self, known: &[&str]) -> Result<(), ConfigError> {
        if let Some(name) = self.map.keys().next() {
            return Err(self.err(format!(
                "unknown parameter {name:?}; {} takes {}",
                self.aug,
                if known.is_empty() {
                    "no parameters".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        Ok(())
    }
}

/// ECVL's name for a border mode.
pub(super) fn border_name(b: Border) -> &'static str {
    match b {
        Border::Constant(_) => "constant",
        Border::Replicate => "replicate",
        Border::Reflect => "reflect",
        Border::Wrap => "wrap",
        Border::Reflect101 => "reflect_101",
        Border::Transparent => "transparent",
    }
}

/// Splits `name=value name=value ...` into a map.
fn parse_params(
    text: &str,
    line: usize,
    aug: &str,
) -> Result<BTreeMap<String, Value>, ConfigError> {
    let err = |message: String| ConfigError {
        line,
        message: format!("{aug}: {message}"),
    };
    let mut map = BTreeMap::new();
    let b = text.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= b.len() {
            break;
        }
        let start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = &text[start..i];
        skip_ws(&mut i);
        if i >= b.len() || b[i] != b'=' || name.is_empty() {
            return Err(err(format!(
                "expected name=value, found {:?}",
                &text[start..text.len().min(start + 30)]
            )));
        }
        i += 1;
        skip_ws(&mut i);
        let num = |s: &str| -> Result<f64, ConfigError> {
            let t = s.trim();
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Ok(v),
                _ => Err(err(format!("{name}: {t:?} is not a finite number"))),
            }
        };
        let value = match b.get(i) {
            Some(&open @ (b'[' | b'(')) => {
                let close = if open == b'[' { ']' } else { ')' };
                let rest = &text[i + 1..];
                let end = rest
                    .find(close)
                    .ok_or_else(|| err(format!("{name}: missing closing {close:?}")))?;
                let vals = rest[..end]
                    .split(',')
                    .map(num)
                    .collect::<Result<Vec<f64>, _>>()?;
                i += end + 2;
                if open == b'[' {
                    Value::Range(vals)
                } else {
                    Value::Vector(vals)
                }
            }
            Some(b'"') => {
                let rest = &text[i + 1..];
                let end = rest
                    .find('"')
                    .ok_or_else(|| err(format!("{name}: missing closing quote")))?;
                i += end + 2;
                Value::Str(rest[..end].to_string())
            }
            Some(_) => {
                let s = i;
                while i < b.len() && !b[i].is_ascii_whitespace() {
                    i += 1;
                }
                Value::Number(num(&text[s..i])?)
            }
            None => return Err(err(format!("{name}: missing value after '='"))),
        };
        if map.insert(name.to_string(), value).is_some() {
            return Err(err(format!("parameter {name:?} given twice")));
        }
    }
    Ok(map)
}

/// One leaf augmentation from its name and parameters.
fn build_leaf(name: &str, mut p: Params) -> Result<Box<dyn Augmentation>, ConfigError> {
    use Interpolation::{Linear, Nearest};
    let interp_border = ["interp", "border_type", "border_value"];
    let aug: Box<dyn Augmentation> = match name {
        "AugRotate" => {
            let a = AugRotate {
                angle: p.req_range("angle")?,
                center: p.pair("center")?,
                scale: p.number("scale")?.unwrap_or(1.0),
                interp: p.interp("interp", Linear)?,
                gt_interp: p.interp("gt_interp", Nearest)?,
            };
            p.finish(&["angle", "center", "scale", "interp", "gt_interp"])?;
            Box::new(a)
        }
        "AugResizeDim" => {
            let a = AugResizeDim {
                dims: p.size("dims")?,
                interp: p.interp("interp", Linear)?,
                gt_interp: p.interp("gt_interp", Nearest)?,
            };
            p.finish(&["dims", "interp", "gt_interp"])?;
            Box::new(a)
        }
        "AugResizeScale" => {
            let scale = p
                .pair("scale")?
                .ok_or_else(|| p.err("scale=(x,y) is required".into()))?;
            if !(scale.0 > 0.0 && scale.1 > 0.0 && scale.0 <= 1e3 && scale.1 <= 1e3) {
                return Err(p.err(format!("scale factors must be in (0, 1000], got {scale:?}")));
            }
            let a = AugResizeScale {
                scale,
                interp: p.interp("interp", Linear)?,
                gt_interp: p.interp("gt_interp", Nearest)?,
            };
            p.finish(&["scale", "interp", "gt_interp"])?;
            Box::new(a)
        }
        "AugFlip" | "AugMirror" | "AugTranspose" => {
            let prob = p.probability("p", 0.5)?;
            p.finish(&["p"])?;
            match name {
                "AugFlip" => Box::new(AugFlip { p: prob }),
                "AugMirror" => Box::new(AugMirror { p: prob }),
                _ => Box::new(AugTranspose { p: prob }),
            }
        }
        "AugGaussianBlur" => {
            let a = AugGaussianBlur {
                sigma: p.req_range("sigma")?,
            };
            if a.sigma.min < 0.0 || a.sigma.max > 1e3 {
                return Err(p.err("sigma must be within [0, 1000] pixels".into()));
            }
            p.finish(&["sigma"])?;
            Box::new(a)
        }
        "AugAdditiveLaplaceNoise" => {
            let a = AugAdditiveLaplaceNoise {
                std_dev: p.req_range("std_dev")?,
            };
            p.finish(&["std_dev"])?;
            Box::new(a)
        }
        "AugAdditivePoissonNoise" => {
            let a = AugAdditivePoissonNoise {
                lambda: p.req_range("lambda")?,
            };
            if a.lambda.min < 0.0 {
                return Err(p.err("lambda must not be negative".into()));
            }
            p.finish(&["lambda"])?;
            Box::new(a)
        }
        "AugGammaContrast" => {
            let a = AugGammaContrast {
                gamma: p.req_range("gamma")?,
            };
            p.finish(&["gamma"])?;
            Box::new(a)
        }
        "AugCoarseDropout" => {
            let a = AugCoarseDropout {
                p: p.req_range("p")?,
                drop_size: p.req_range("drop_size")?,
                per_channel: p.probability("per_channel", 0.0)?,
            };
            if !(a.drop_size.min > 0.0 && a.drop_size.max <= 1.0) {
                return Err(p.err("drop_size must lie in (0, 1] (a fraction of the image)".into()));
            }
            p.finish(&["p", "drop_size", "per_channel"])?;
            Box::new(a)
        }
        "AugBrightness" => {
            let a = AugBrightness {
                beta: p.req_range("beta")?,
            };
            p.finish(&["beta"])?;
            Box::new(a)
        }
        "AugGridDistortion" => {
            let num_steps = p.req_range("num_steps")?;
            if num_steps.min < 1.0 || num_steps.max > 1024.0 {
                return Err(p.err("num_steps must lie in [1, 1024]".into()));
            }
            let a = AugGridDistortion {
                num_steps,
                distort_limit: p.req_range("distort_limit")?,
                interp: p.interp("interp", Linear)?,
                border: p.border(Border::Reflect101)?,
            };
            p.finish(&["num_steps", "distort_limit", "interp", "border_type", "border_value"])?;
            Box::new(a)
        }
        "AugElasticTransform" => {
            let a = AugElasticTransform {
                alpha: p.req_range("alpha")?,
                sigma: p.req_range("sigma")?,
                interp: p.interp("interp", Linear)?,
                border: p.border(Border::Reflect101)?,
            };
            if a.sigma.min < 0.0 || a.sigma.max > 1e3 {
                return Err(p.err("sigma must be within [0, 1000] pixels".into()));
            }
            let mut known = vec!["alpha", "sigma"];
            known.extend(interp_border);
            p.finish(&known)?;
            Box::new(a)
        }
        "AugOpticalDistortion" => {
            let a = AugOpticalDistortion {
                distort_limit: p.req_range("distort_limit")?,
                shift_limit: p.req_range("shift_limit")?,
                interp: p.interp("interp", Linear)?,
                border: p.border(Border::Reflect101)?,
            };
            let mut known = vec!["distort_limit", "shift_limit"];
            known.extend(interp_border);
            p.finish(&known)?;
            Box::new(a)
        }
        "AugSalt" | "AugPepper" | "AugSaltAndPepper" => {
            let prob = p.req_range("p")?;
            if prob.min < 0.0 || prob.max > 1.0 {
                return Err(p.err("p must lie in [0, 1]".into()));
            }
            let per_channel = p.probability("per_channel", 0.0)?;
            p.finish(&["p", "per_channel"])?;
            match name {
                "AugSalt" => Box::new(AugSalt { p: prob, per_channel }),
                "AugPepper" => Box::new(AugPepper { p: prob, per_channel }),
                _ => Box::new(AugSaltAndPepper { p: prob, per_channel }),
            }
        }
        "AugNormalize" => {
            let a = match p.take("mean") {
                Some(Value::Number(mean)) => AugNormalize::Global {
                    mean,
                    std: p.req_number("std")?,
                },
                Some(Value::Vector(mean)) => {
                    let std = p
                        .vector("std")?
                        .ok_or_else(|| p.err("std=(s1,s2,...) is required with a per-channel mean".into()))?;
                    if std.len() != mean.len() {
                        return Err(p.err(format!("{} means but {} stds", mean.len(), std.len())));
                    }
                    AugNormalize::PerChannel { mean, std }
                }
                Some(v) => return Err(p.err(format!("mean must be a number or a vector, got {}", v.kind()))),
                None => return Err(p.err("mean is required".into())),
            };
            p.finish(&["mean", "std"])?;
            Box::new(a)
        }
        "AugCenterCrop" => {
            let a = AugCenterCrop { size: p.size("size")? };
            p.finish(&["size"])?;
            Box::new(a)
        }
        "AugRandomCrop" => {
            let a = AugRandomCrop {
                size: p.size("size")?,
                border: p.border(Border::Constant(0.0))?,
            };
            p.finish(&["size", "border_type", "border_value"])?;
            Box::new(a)
        }
        "AugToFloat32" => {
            let a = AugToFloat32 {
                divisor: p.number("divisor")?.unwrap_or(1.0),
                divisor_gt: p.number("divisor_gt")?.unwrap_or(1.0),
            };
            if a.divisor == 0.0 || a.divisor_gt == 0.0 {
                return Err(p.err("divisors must not be 0".into()));
            }
            p.finish(&["divisor", "divisor_gt"])?;
            Box::new(a)
        }
        "AugDivBy255" => {
            p.finish(&[])?;
            Box::new(AugDivBy255)
        }
        "AugScaleTo" => {
            let a = AugScaleTo {
                new_min: p.req_number("new_min")?,
                new_max: p.req_number("new_max")?,
            };
            p.finish(&["new_min", "new_max"])?;
            Box::new(a)
        }
        "AugScaleFromTo" => {
            let a = AugScaleFromTo {
                old_min: p.req_number("old_min")?,
                old_max: p.req_number("old_max")?,
                new_min: p.req_number("new_min")?,
                new_max: p.req_number("new_max")?,
            };
            if a.old_min == a.old_max {
                return Err(p.err("old_min and old_max must differ".into()));
            }
            p.finish(&["old_min", "old_max", "new_min", "new_max"])?;
            Box::new(a)
        }
        "AugHedJitter" => {
            let sigma = p.req_number("sigma")?;
            let bias = p.number("bias")?.unwrap_or(sigma);
            if !(0.0..=1.0).contains(&sigma) || !(0.0..=10.0).contains(&bias) {
                return Err(p.err("sigma must lie in [0, 1] and bias in [0, 10]".into()));
            }
            p.finish(&["sigma", "bias"])?;
            Box::new(AugHedJitter { sigma, bias })
        }
        other => {
            return Err(ConfigError {
                line: p.line,
                message: format!(
                    "unknown augmentation {other:?} (names are case-sensitive, e.g. AugRotate, SequentialAugmentationContainer)"
                ),
            })
        }
    };
    Ok(aug)
}

/// A line with its number, name and parameter text.
struct Line<'a> {
    no: usize,
    name: &'a str,
    rest: &'a str,
}

/// Parses augmentations from `lines[*pos..]` until `end` (when `nested`)
/// or the end of input.
fn parse_block(
    lines: &[Line<'_>],
    pos: &mut usize,
    nested: Option<(usize, &str)>,
) -> Result<Vec<Box<dyn Augmentation>>, ConfigError> {
    let mut augs = Vec::new();
    while *pos < lines.len() {
        let l = &lines[*pos];
        *pos += 1;
        match l.name {
            "end" => {
                if nested.is_none() {
                    return Err(ConfigError {
                        line: l.no,
                        message: "'end' without an open container".into(),
                    });
                }
                if !l.rest.trim().is_empty() {
                    return Err(ConfigError {
                        line: l.no,
                        message: format!("unexpected text after 'end': {:?}", l.rest.trim()),
                    });
                }
                return Ok(augs);
            }
            "SequentialAugmentationContainer" => {
                let p = Params {
                    line: l.no,
                    aug: l.name.to_string(),
                    map: parse_params(l.rest, l.no, l.name)?,
                };
                p.finish(&[])?;
                let inner = parse_block(lines, pos, Some((l.no, l.name)))?;
                augs.push(Box::new(SequentialAugmentationContainer::new(inner)));
            }
            "OneOfAugmentationContainer" => {
                let mut p = Params {
                    line: l.no,
                    aug: l.name.to_string(),
                    map: parse_params(l.rest, l.no, l.name)?,
                };
                let prob = p
                    .number("p")?
                    .ok_or_else(|| p.err("the probability p=NUMBER is required".into()))?;
                if !(0.0..=1.0).contains(&prob) {
                    return Err(p.err(format!("p={prob} must be a probability in [0,1]")));
                }
                p.finish(&["p"])?;
                let inner = parse_block(lines, pos, Some((l.no, l.name)))?;
                augs.push(Box::new(OneOfAugmentationContainer::new(prob, inner)));
            }
            name => {
                let p = Params {
                    line: l.no,
                    aug: name.to_string(),
                    map: parse_params(l.rest, l.no, name)?,
                };
                augs.push(build_leaf(name, p)?);
            }
        }
    }
    match nested {
        Some((line, name)) => Err(ConfigError {
            line,
            message: format!("{name} opened here is never closed with 'end'"),
        }),
        None => Ok(augs),
    }
}

/// Parses ECVL's augmentation text. One top-level augmentation (usually a
/// container) is returned as is; several are wrapped in a
/// [`SequentialAugmentationContainer`]. Empty text is an error.
pub fn parse_config(text: &str) -> Result<Box<dyn Augmentation>, ConfigError> {
    let lines: Vec<Line<'_>> = text
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let body = raw.split('#').next().unwrap_or("").trim();
            if body.is_empty() {
                return None;
            }
            let (name, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
            Some(Line {
                no: i + 1,
                name,
                rest,
            })
        })
        .collect();
    let mut pos = 0;
    let mut augs = parse_block(&lines, &mut pos, None)?;
    match augs.len() {
        0 => Err(ConfigError {
            line: 1,
            message: "no augmentation found".into(),
        }),
        1 => Ok(augs.remove(0)),
        _ => Ok(Box::new(SequentialAugmentationContainer::new(augs))),
    }
}

/// Writes a pipeline in ECVL's syntax (what [`parse_config`] reads).
pub fn to_config(aug: &dyn Augmentation) -> String {
    let mut s = String::new();
    aug.write_config(0, &mut s);
    s
}
