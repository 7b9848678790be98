//! Typed access to a node's attributes.

use super::proto::{AttributeProto, TensorProto};
use super::OnnxError;

pub struct Attrs<'a> {
    op: &'a str,
    list: &'a [AttributeProto],
}

impl<'a> Attrs<'a> {
    pub fn new(op: &'a str, list: &'a [AttributeProto]) -> Self {
        Self { op, list }
    }

    fn find(&self, name: &str) -> Option<&'a AttributeProto> {
        self.list.iter().find(|a| a.name == name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.find(name).is_some()
    }

    pub fn int(&self, name: &str, default: i64) -> i64 {
        self.find(name).and_then(|a| a.i).unwrap_or(default)
    }

    pub fn float(&self, name: &str, default: f32) -> f32 {
        self.find(name).and_then(|a| a.f).unwrap_or(default)
    }

    pub fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.find(name).map(|a| a.ints.as_slice())
    }

    pub fn floats(&self, name: &str) -> Option<&'a [f32]> {
        self.find(name).map(|a| a.floats.as_slice())
    }

    pub fn string(&self, name: &str) -> Option<String> {
        self.find(name)
            .and_then(|a| a.s.as_ref())
            .map(|s| String::from_utf8_lossy(s).into_owned())
    }

    pub fn tensor(&self, name: &str) -> Option<&'a TensorProto> {
        self.find(name).and_then(|a| a.t.as_ref())
    }

    /// `name` as `N` non-negative values, each in `lo..=hi`, or `default`.
    pub fn dims<const N: usize>(
        &self,
        name: &str,
        default: [usize; N],
        lo: i64,
        hi: i64,
    ) -> Result<[usize; N], OnnxError> {
        let Some(v) = self.ints(name) else {
            return Ok(default);
        };
        if v.len() != N {
            return Err(OnnxError::Unsupported(format!(
                "{}: attribute {name} has {} values, expected {N}",
                self.op,
                v.len()
            )));
        }
        let mut out = [0; N];
        for (o, &x) in out.iter_mut().zip(v) {
            if !(lo..=hi).contains(&x) {
                return Err(OnnxError::Malformed(format!(
                    "{}: attribute {name} value {x} outside {lo}..={hi}",
                    self.op
                )));
            }
            *o = x as usize;
        }
        Ok(out)
    }
}
