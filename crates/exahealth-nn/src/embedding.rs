//! `embedding.json`: the description of a features folder.
//!
//! `exahealth embed` writes one sub-folder per slide (its
//! [`FEATURES_FILE`](crate::features::FEATURES_FILE) and a copy of the
//! plan's `patches.csv`) and, beside them, [`EMBEDDING_FILE`]: the
//! [`Extractor`] that made every row, the embedding width and each slide's
//! patch count. Multiple-instance training reads the folder as bags, and a
//! MIL model records the extractor so that prediction can refuse bags made
//! by another one ([`Extractor::same_as`]).
//!
//! ```no_run
//! use std::path::Path;
//! use exahealth_nn::embedding::Embedding;
//!
//! # fn main() -> exahealth_nn::Result<()> {
//! if let Some(embedding) = Embedding::read(Path::new("features"))? {
//!     println!(
//!         "{} slides, {} features per patch, by {}",
//!         embedding.slides.len(),
//!         embedding.width,
//!         embedding.extractor.architecture
//!     );
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::error::{NnError, Result};

/// The file naming a features folder's extractor and slides.
pub const EMBEDDING_FILE: &str = "embedding.json";

/// The file is small JSON; a larger one is refused rather than read whole.
const MAX_JSON_BYTES: u64 = 64 << 20;

/// The network that embeds, and how patches are prepared for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extractor {
    /// The model folder or weights file, as given.
    pub source: String,
    /// SHA-256 of the weights (`model.safetensors` or the PyTorch file).
    pub sha256: String,
    /// Short architecture name (`resnet18`, `small-cnn`, ...).
    pub architecture: String,
    /// Patch side in pixels.
    pub image_size: u32,
    /// Per-channel mean subtracted from pixels in 0..1.
    pub mean: Vec<f32>,
    /// Per-channel deviation the centred pixels are divided by.
    pub std: Vec<f32>,
}

impl Extractor {
    /// Whether both embed patches identically: same weights, architecture
    /// and input preparation, wherever the weights file lies.
    pub fn same_as(&self, other: &Extractor) -> bool {
        self.sha256 == other.sha256
            && self.architecture == other.architecture
            && self.image_size == other.image_size
            && self.mean == other.mean
            && self.std == other.std
    }
}

/// One embedded slide.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EmbeddedSlide {
    /// The slide file the plan names.
    pub slide: String,
    /// Rows of its features file (one per patch of the plan).
    pub patches: usize,
    /// SHA-256 of the plan's patches.csv the rows follow.
    pub plan_sha256: String,
}

/// `embedding.json` of a features folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Embedding {
    /// The network every slide was embedded with.
    pub extractor: Extractor,
    /// Features per patch.
    pub width: usize,
    /// By slide stem.
    pub slides: BTreeMap<String, EmbeddedSlide>,
}

impl Embedding {
    /// The `embedding.json` of `folder`, if there is one.
    pub fn read(folder: &Path) -> Result<Option<Self>> {
        Self::read_index(folder, EMBEDDING_FILE)
    }

    /// The index file `name` (`embedding.json`, or a shard's
    /// [`shard_index_file`]) of `folder`, if there is one.
    pub fn read_index(folder: &Path, name: &str) -> Result<Option<Self>> {
        let path = folder.join(name);
        if !path.exists() {
            return Ok(None);
        }
        let bytes = exahealth_base::budget::read_file(&path, MAX_JSON_BYTES).map_err(|source| {
            NnError::Read {
                path: path.clone(),
                source,
            }
        })?;
        let e = serde_json::from_slice(&bytes)
            .map_err(|source| NnError::BadEmbedding { path, source })?;
        Ok(Some(e))
    }

    /// Writes `embedding.json` into `folder` durably, replacing any.
    pub fn write(&self, folder: &Path) -> Result<()> {
        self.write_index(folder, EMBEDDING_FILE)
    }

    /// Writes the index file `name` into `folder` durably, replacing any.
    pub fn write_index(&self, folder: &Path, name: &str) -> Result<()> {
        let path = folder.join(name);
        let json = serde_json::to_vec_pretty(self).map_err(|e| NnError::record(&path, e))?;
        write_atomic(&path, &json)
    }
}

/// The index a shard of a sharded embedding run keeps (`embedding.json`
/// is written once, from all of them, by [`merge_shard_indexes`]).
pub fn shard_index_file(index: usize, count: usize) -> String {
    format!("embedding.shard-{index}-of-{count}.json")
}

/// Merges the indexes of all `count` shards in `folder` into its
/// `embedding.json` (the same file one process would have written) and
/// removes them. `Ok(None)` while a shard's index is missing: that shard
/// has not finished. Shards must agree on the extractor and the width.
pub fn merge_shard_indexes(folder: &Path, count: usize) -> Result<Option<Embedding>> {
    let mut merged: Option<Embedding> = None;
    for index in 0..count {
        let name = shard_index_file(index, count);
        let Some(part) = Embedding::read_index(folder, &name)? else {
            return Ok(None);
        };
        match &mut merged {
            None => merged = Some(part),
            Some(all) => {
                if !all.extractor.same_as(&part.extractor)
                    || (all.width != 0 && part.width != 0 && all.width != part.width)
                {
                    return Err(NnError::ShardsDisagree {
                        folder: folder.to_path_buf(),
                        shard: name,
                    });
                }
                all.width = all.width.max(part.width);
                all.slides.extend(part.slides);
            }
        }
    }
    let Some(all) = merged else {
        return Ok(None);
    };
    all.write(folder)?;
    for index in 0..count {
        let path = folder.join(shard_index_file(index, count));
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(file = %path.display(), error = %e, "merged shard index left behind");
        }
    }
    Ok(Some(all))
}

/// Checks that a slide name (a folder name under the plans or features
/// folder) is one plain path component, so joining it stays inside.
pub fn check_slide_name(name: &str) -> Result<()> {
    let mut parts = Path::new(name).components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(_)), None) => Ok(()),
        _ => Err(NnError::SlideName(name.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extractor() -> Extractor {
        Extractor {
            source: "weights/resnet18.pth".into(),
            sha256: "ab".repeat(32),
            architecture: "resnet18".into(),
            image_size: 224,
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        }
    }

    #[test]
    fn embedding_json_round_trips_with_its_field_names() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Embedding::read(dir.path()).unwrap().is_none());
        let embedding = Embedding {
            extractor: extractor(),
            width: 512,
            slides: BTreeMap::from([(
                "s01".to_string(),
                EmbeddedSlide {
                    slide: "/data/s01.svs".into(),
                    patches: 16,
                    plan_sha256: "cd".repeat(32),
                },
            )]),
        };
        embedding.write(dir.path()).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("embedding.json")).unwrap())
                .unwrap();
        // The names `exahealth embed` has always written.
        let keys = |v: &serde_json::Value| {
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(keys(&json), ["extractor", "slides", "width"]);
        assert_eq!(
            keys(&json["extractor"]),
            [
                "architecture",
                "image_size",
                "mean",
                "sha256",
                "source",
                "std"
            ]
        );
        assert_eq!(
            keys(&json["slides"]["s01"]),
            ["patches", "plan_sha256", "slide"]
        );
        assert_eq!(json["width"], 512);
        assert_eq!(json["extractor"]["architecture"], "resnet18");
        assert_eq!(json["slides"]["s01"]["patches"], 16);

        let back = Embedding::read(dir.path()).unwrap().unwrap();
        assert_eq!(back.extractor, embedding.extractor);
        assert_eq!(back.width, 512);
        assert_eq!(back.slides["s01"].slide, "/data/s01.svs");
        assert_eq!(back.slides["s01"].plan_sha256, "cd".repeat(32));
    }

    #[test]
    fn a_bad_embedding_json_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(EMBEDDING_FILE), b"{\"width\": 3}").unwrap();
        let err = Embedding::read(dir.path()).unwrap_err();
        assert!(matches!(err, NnError::BadEmbedding { .. }), "{err:?}");
        let message = err.to_string();
        assert!(message.ends_with("embedding.json: not an embedding description"));
        assert!(std::error::Error::source(&err).is_some());
    }

    #[test]
    fn same_as_ignores_where_the_weights_lie() {
        let a = extractor();
        let mut b = a.clone();
        b.source = "elsewhere/resnet18.pth".into();
        assert!(a.same_as(&b));
        b.image_size = 256;
        assert!(!a.same_as(&b));
    }

    #[test]
    fn slide_names_are_one_plain_component() {
        for good in ["s01", "slide.svs", "a b"] {
            check_slide_name(good).unwrap();
        }
        for bad in ["", "..", ".", "a/b", "/abs", "../s"] {
            let err = check_slide_name(bad).unwrap_err().to_string();
            assert!(err.contains("is not a slide name"), "{bad:?}: {err}");
        }
    }
}
