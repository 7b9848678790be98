//! Model folders: what a training run leaves behind for prediction.
//!
//! A model folder holds [`SPEC_FILE`] (`model.json`, a [`ModelSpec`]: task,
//! architecture, classes and input, enough to rebuild the network and feed
//! it), [`WEIGHTS_FILE`] (the kept weights as safetensors, written by
//! [`train`](crate::train::train)) and, once a run ends, [`CARD_FILE`] (the
//! [model card](crate::card::ModelCard)) beside the metrics log, curves and
//! checkpoint.
//!
//! ```no_run
//! use std::path::Path;
//! use exahealth_nn::model_folder::ModelSpec;
//!
//! # fn main() -> exahealth_nn::Result<()> {
//! let dir = Path::new("runs/first");
//! let spec = ModelSpec::read(dir)?;
//! let model = spec.load(dir)?;
//! println!("{} model over {:?}", spec.task.name(), spec.classes);
//! # let _ = model;
//! # Ok(())
//! # }
//! ```

mod outputs;

pub use outputs::{write_run_outputs, FinishedRun, CURVES_FILE};

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::embedding::Extractor;
use crate::error::{NnError, Result};
use crate::models::{Architecture, Network};

/// The model spec of a model folder.
pub const SPEC_FILE: &str = "model.json";
pub use crate::weights::WEIGHTS_FILE;
/// The model card of a model folder.
pub const CARD_FILE: &str = "model_card.json";

/// The file is small JSON; a larger one is refused rather than read whole.
const MAX_JSON_BYTES: u64 = 64 << 20;

/// Classification, segmentation, or slide classification from bags of
/// patch embeddings (multiple-instance learning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Task {
    /// One class per image or patch.
    Classification,
    /// One class per pixel.
    Segmentation,
    /// One class per slide, from a bag of patch embeddings.
    Mil,
}

impl Task {
    /// The name run files and `model.json` use.
    pub fn name(self) -> &'static str {
        match self {
            Task::Classification => "classification",
            Task::Segmentation => "segmentation",
            Task::Mil => "mil",
        }
    }
}

/// `model.json` in a model folder: how to rebuild and feed the model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelSpec {
    /// What the model predicts.
    pub task: Task,
    /// The network and its configuration.
    pub architecture: Architecture,
    /// Class names in output order.
    pub classes: Vec<String>,
    /// Input channels (MIL: features per patch).
    pub channels: usize,
    /// Input side in pixels (MIL: the extractor's).
    pub image_size: u32,
    /// MIL: the extractor whose embeddings the model takes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<Extractor>,
}

impl ModelSpec {
    /// The `model.json` of the model folder `dir`, checked to name classes,
    /// an image size and channels.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(SPEC_FILE);
        let text = match exahealth_base::budget::read_file(&path, MAX_JSON_BYTES) {
            Ok(text) => text,
            Err(source) => return Err(NnError::NotAModelFolder { path, source }),
        };
        let spec: ModelSpec = match serde_json::from_slice(&text) {
            Ok(spec) => spec,
            Err(source) => return Err(NnError::BadModelSpec { path, source }),
        };
        if spec.classes.is_empty() || spec.image_size == 0 || spec.channels == 0 {
            return Err(NnError::IncompleteModelSpec(path));
        }
        Ok(spec)
    }

    /// Writes `model.json` into the model folder `dir` durably (creating
    /// the folder), replacing any.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = dir.join(SPEC_FILE);
        let json = serde_json::to_vec_pretty(self).map_err(|e| NnError::record(&path, e))?;
        write_atomic(&path, &json)
    }

    /// Makes `dir` a model folder of `model` (built from this spec): its
    /// weights and `model.json`, written durably. Training writes the same
    /// two files as it goes; this is for models made otherwise (an
    /// untrained extractor, imported weights).
    pub fn save(&self, dir: &Path, model: &Network) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| NnError::CreateDir {
            path: dir.to_path_buf(),
            source,
        })?;
        crate::weights::save_weights(model, &dir.join(WEIGHTS_FILE))?;
        self.write(dir)
    }

    /// The model with the folder's weights, in validation mode on the CPU.
    pub fn load(&self, dir: &Path) -> Result<Network> {
        let device = crate::cpu_device();
        let model = self.architecture.init(&device)?;
        crate::weights::load_weights(model, &dir.join(WEIGHTS_FILE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &serde_json::Value) -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    }

    #[test]
    fn model_json_round_trips_with_its_field_names() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("run");
        let spec = ModelSpec {
            task: Task::Classification,
            architecture: Architecture::from_name("small-cnn", 3, 2).unwrap(),
            classes: vec!["normal".into(), "tumour".into()],
            channels: 3,
            image_size: 64,
            embedding: None,
        };
        spec.write(&folder).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(folder.join("model.json")).unwrap()).unwrap();
        // The names `exahealth train` has always written; no `embedding`
        // key outside MIL.
        assert_eq!(
            keys(&json),
            ["architecture", "channels", "classes", "image_size", "task"]
        );
        assert_eq!(json["task"], "classification");
        assert_eq!(json["classes"], serde_json::json!(["normal", "tumour"]));
        assert_eq!(json["channels"], 3);
        assert_eq!(json["image_size"], 64);
        assert_eq!(
            json["architecture"],
            serde_json::to_value(&spec.architecture).unwrap()
        );

        let back = ModelSpec::read(&folder).unwrap();
        assert_eq!(back.task, Task::Classification);
        assert_eq!(back.classes, spec.classes);
        assert_eq!((back.channels, back.image_size), (3, 64));
        assert_eq!(back.architecture.name(), "small-cnn");
        assert!(back.embedding.is_none());
    }

    #[test]
    fn a_mil_model_json_records_its_extractor() {
        let dir = tempfile::tempdir().unwrap();
        let extractor = Extractor {
            source: "extractor".into(),
            sha256: "ef".repeat(32),
            architecture: "small-cnn".into(),
            image_size: 64,
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let spec = ModelSpec {
            task: Task::Mil,
            architecture: Architecture::from_name("attention-mil", 64, 2).unwrap(),
            classes: vec!["0".into(), "1".into()],
            channels: 64,
            image_size: 64,
            embedding: Some(extractor.clone()),
        };
        spec.write(dir.path()).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(SPEC_FILE)).unwrap()).unwrap();
        assert_eq!(json["task"], "mil");
        assert_eq!(json["embedding"]["sha256"], "ef".repeat(32));
        assert_eq!(
            keys(&json["embedding"]),
            [
                "architecture",
                "image_size",
                "mean",
                "sha256",
                "source",
                "std"
            ]
        );
        let back = ModelSpec::read(dir.path()).unwrap();
        assert_eq!(back.task, Task::Mil);
        assert_eq!(back.embedding, Some(extractor));
    }

    #[test]
    fn tasks_are_named_as_in_run_files() {
        for task in [Task::Classification, Task::Segmentation, Task::Mil] {
            let json = serde_json::to_value(task).unwrap();
            assert_eq!(json, task.name());
        }
    }

    #[test]
    fn read_errors_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let err = ModelSpec::read(dir.path()).unwrap_err();
        assert!(matches!(err, NnError::NotAModelFolder { .. }), "{err:?}");
        assert!(err
            .to_string()
            .ends_with("model.json: not a model folder (train one with `exahealth train`)"));
        std::fs::write(dir.path().join(SPEC_FILE), b"{\"task\": \"regression\"}").unwrap();
        let err = ModelSpec::read(dir.path()).unwrap_err();
        assert!(matches!(err, NnError::BadModelSpec { .. }), "{err:?}");
        assert!(err.to_string().ends_with("model.json: bad model spec"));
        let empty = ModelSpec {
            task: Task::Classification,
            architecture: Architecture::from_name("small-cnn", 3, 2).unwrap(),
            classes: Vec::new(),
            channels: 3,
            image_size: 64,
            embedding: None,
        };
        empty.write(dir.path()).unwrap();
        let err = ModelSpec::read(dir.path()).unwrap_err().to_string();
        assert!(
            err.ends_with("the model spec needs classes, an image size and channels"),
            "{err}"
        );
    }

    #[test]
    fn load_reads_the_trainers_weights_file() {
        let dir = tempfile::tempdir().unwrap();
        let spec = ModelSpec {
            task: Task::Classification,
            architecture: Architecture::from_name("small-cnn", 3, 2).unwrap(),
            classes: vec!["a".into(), "b".into()],
            channels: 3,
            image_size: 32,
            embedding: None,
        };
        spec.write(dir.path()).unwrap();
        assert!(spec.load(dir.path()).is_err());
        let model = spec.architecture.init(&crate::cpu_device()).unwrap();
        crate::weights::save_weights(&model, &dir.path().join(WEIGHTS_FILE)).unwrap();
        assert!(matches!(
            spec.load(dir.path()).unwrap(),
            Network::SmallCnn(_)
        ));
    }
}
