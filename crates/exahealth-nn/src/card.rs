//! Provenance: the model card written beside the weights, and the run
//! manifest written beside every run's outputs.
//!
//! Both are JSON, written atomically, read back with size and consistency
//! checks. The training data are identified by a SHA-256 over the sorted
//! file list and the contents ([`hash_files`]), so a model in production can
//! be traced to the exact bytes it learnt from.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic::write_atomic;
use crate::metrics::MetricSet;

/// Card and manifest format version written by this build.
pub const SCHEMA_VERSION: u32 = 1;

/// Cards and manifests are small; anything bigger is not one of ours.
const MAX_JSON_BYTES: u64 = 64 << 20;

/// What can go wrong reading, writing or hashing provenance files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CardError {
    /// A file could not be read.
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The atomic write failed.
    #[error(transparent)]
    Write(#[from] crate::NnError),
    /// The file is not valid JSON of the expected shape.
    #[error("{}: not a valid {what}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// "model card" or "run manifest".
        what: &'static str,
        /// The parser's message.
        source: serde_json::Error,
    },
    /// The file is larger than any card or manifest should be.
    #[error("{path}: {bytes} bytes is too large for a {what} (limit {MAX_JSON_BYTES})")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// "model card" or "run manifest".
        what: &'static str,
    },
    /// The JSON parses but its content is inconsistent.
    #[error("{path}: invalid {what}: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// "model card" or "run manifest".
        what: &'static str,
        /// What is wrong.
        reason: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> CardError + '_ {
    move |source| CardError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Versions of the software that produced a card or a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Versions {
    /// exahealth-nn's version.
    pub exahealth: String,
    /// Burn's version (from the build's `Cargo.lock`).
    pub burn: String,
    /// `rustc --version` of the compiler that built this binary.
    pub rustc: String,
}

impl Versions {
    /// The versions of this build.
    pub fn current() -> Self {
        Self {
            exahealth: env!("CARGO_PKG_VERSION").to_string(),
            burn: env!("EXAHEALTH_BURN_VERSION").to_string(),
            rustc: env!("EXAHEALTH_RUSTC_VERSION").to_string(),
        }
    }
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// SHA-256 and size of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    /// The path as given (relative paths stay relative).
    pub path: PathBuf,
    /// Lower-case hex SHA-256 of the contents.
    pub sha256: String,
    /// Size in bytes.
    pub bytes: u64,
}

/// Fingerprint of a set of files (a dataset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// Hex SHA-256 over the sorted list of (path, size, contents); see
    /// [`hash_files`].
    pub sha256: String,
    /// Number of files.
    pub files: u64,
    /// Total bytes.
    pub bytes: u64,
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Streams `path` into each of `hashers`; returns its size.
fn feed(path: &Path, hashers: &mut [&mut Sha256]) -> Result<u64, CardError> {
    let mut file = File::open(path).map_err(io_err(path))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(io_err(path))?;
        if n == 0 {
            return Ok(total);
        }
        for h in hashers.iter_mut() {
            h.update(&buf[..n]);
        }
        total += n as u64;
    }
}

/// SHA-256 of one file, streamed.
pub fn hash_file(path: &Path) -> Result<FileHash, CardError> {
    let mut h = Sha256::new();
    let bytes = feed(path, &mut [&mut h])?;
    Ok(FileHash {
        path: path.to_path_buf(),
        sha256: hex(&h.finalize()),
        bytes,
    })
}

/// Fingerprint of a dataset: files are sorted by their path relative to
/// `root` (so the order they are listed in does not matter, and the same
/// data in another folder hash the same), then for each the relative path
/// (UTF-8, `/`-separated), a NUL, the size as 8 little-endian bytes and the
/// contents are fed to one SHA-256. Renaming, editing, adding or removing a
/// file changes the hash. Pass the dataset YAML among the files to cover the
/// split assignment and labels too.
pub fn hash_files(root: &Path, files: &[PathBuf]) -> Result<DataFingerprint, CardError> {
    let mut named: Vec<(String, &PathBuf)> = files
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(root).unwrap_or(p);
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            (key, p)
        })
        .collect();
    named.sort();
    let mut h = Sha256::new();
    let mut total = 0u64;
    for (key, path) in &named {
        // Size first: it is needed before the contents, and a per-file hash
        // also feeds it, so each file is read once.
        let len = std::fs::metadata(path).map_err(io_err(path))?.len();
        h.update(key.as_bytes());
        h.update([0u8]);
        h.update(len.to_le_bytes());
        let read = feed(path, &mut [&mut h])?;
        if read != len {
            return Err(CardError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other("file changed size while being hashed"),
            });
        }
        total += read;
    }
    Ok(DataFingerprint {
        sha256: hex(&h.finalize()),
        files: named.len() as u64,
        bytes: total,
    })
}

/// The network: its name and the config it was built from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchitectureInfo {
    /// e.g. `resnet18`, `small-cnn`, `unet`, `mil`.
    pub name: String,
    /// The model's config, as its own JSON.
    #[serde(default)]
    pub config: serde_json::Value,
    /// Number of trainable parameters, when known.
    #[serde(default)]
    pub parameters: Option<u64>,
}

/// How pixels become model input: `(pixel * scale - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalization {
    /// Factor applied first (e.g. 1/255 for 8-bit images).
    pub scale: f32,
    /// Per-channel mean (one value applies to all channels).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation.
    pub std: Vec<f32>,
}

/// Input shape and normalisation the model expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputSpec {
    /// Channels (3 for RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// Depth in voxels for volumetric models.
    #[serde(default)]
    pub depth: Option<usize>,
    /// Microns per pixel of the training patches (whole-slide models).
    #[serde(default)]
    pub microns_per_pixel: Option<f64>,
    /// Pixel normalisation.
    pub normalization: Normalization,
}

/// The training data a model learnt from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingData {
    /// Where they came from (e.g. the dataset YAML's path or name).
    pub source: String,
    /// Fingerprint of the files.
    pub fingerprint: DataFingerprint,
    /// Samples per split (`training`, `validation`, `test`).
    #[serde(default)]
    pub samples: BTreeMap<String, u64>,
}

/// The model card: what a model is, what it expects, what it learnt from
/// and how well it did. Written as `model_card.json` beside the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// `classification`, `segmentation` or `mil`.
    pub task: String,
    /// The network.
    pub architecture: ArchitectureInfo,
    /// Class names, in output order.
    pub classes: Vec<String>,
    /// Input shape and normalisation.
    pub input: InputSpec,
    /// File name of the weights, relative to the card.
    #[serde(default)]
    pub weights: Option<String>,
    /// Training data, when the model was trained here.
    #[serde(default)]
    pub training_data: Option<TrainingData>,
    /// Metrics per split (e.g. `validation`, `test`).
    #[serde(default)]
    pub metrics: BTreeMap<String, MetricSet>,
    /// Random seed of the run.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Wall-clock seconds by phase (e.g. `train`, `per_epoch_mean`).
    #[serde(default)]
    pub timings: BTreeMap<String, f64>,
    /// Epochs trained.
    #[serde(default)]
    pub epochs: Option<u64>,
    /// Data-parallel processes that trained the model (absent: one); the
    /// global batch was the run's batch size times this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranks: Option<u64>,
    /// Software versions.
    pub versions: Versions,
    /// Seconds since the Unix epoch when the card was written.
    pub created_unix_s: u64,
}

impl ModelCard {
    /// A card with this build's versions and the current time; the optional
    /// fields start empty.
    pub fn new(
        task: impl Into<String>,
        architecture: ArchitectureInfo,
        classes: Vec<String>,
        input: InputSpec,
    ) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            task: task.into(),
            architecture,
            classes,
            input,
            weights: None,
            training_data: None,
            metrics: BTreeMap::new(),
            seed: None,
            timings: BTreeMap::new(),
            epochs: None,
            ranks: None,
            versions: Versions::current(),
            created_unix_s: unix_now(),
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.schema_version == 0 || self.schema_version > SCHEMA_VERSION {
            return Err(format!(
                "schema_version {} (this build reads 1..={SCHEMA_VERSION}; upgrade exahealth)",
                self.schema_version
            ));
        }
        if self.classes.is_empty() {
            return Err("no classes".into());
        }
        let i = &self.input;
        if i.channels == 0 || i.height == 0 || i.width == 0 || i.depth == Some(0) {
            return Err("input size has a zero dimension".into());
        }
        let n = &i.normalization;
        for (name, v) in [("mean", &n.mean), ("std", &n.std)] {
            if v.len() != 1 && v.len() != i.channels {
                return Err(format!(
                    "normalization {name} has {} values for {} channels",
                    v.len(),
                    i.channels
                ));
            }
        }
        if n.std.iter().any(|&s| s == 0.0 || !s.is_finite()) || !n.scale.is_finite() {
            return Err("normalization std must be finite and non-zero".into());
        }
        Ok(())
    }

    /// Writes the card as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<(), CardError> {
        self.check().map_err(|reason| CardError::Invalid {
            path: path.to_path_buf(),
            what: "model card",
            reason,
        })?;
        write_json(path, self, "model card")
    }

    /// Reads and checks a card.
    pub fn read(path: &Path) -> Result<Self, CardError> {
        let card: Self = read_json(path, "model card")?;
        card.check().map_err(|reason| CardError::Invalid {
            path: path.to_path_buf(),
            what: "model card",
            reason,
        })?;
        Ok(card)
    }
}

/// What a run read, how it was configured and what it wrote: enough to
/// rerun it and to check that its inputs are unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunManifest {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: u32,
    /// The command line (program and arguments).
    pub command: Vec<String>,
    /// Input files with their hashes.
    pub inputs: Vec<FileHash>,
    /// The run's configuration, as JSON.
    #[serde(default)]
    pub config: serde_json::Value,
    /// Random seed.
    #[serde(default)]
    pub seed: Option<u64>,
    /// Software versions.
    pub versions: Versions,
    /// Start time, seconds since the Unix epoch.
    pub started_unix_s: u64,
    /// End time, when finished.
    #[serde(default)]
    pub finished_unix_s: Option<u64>,
    /// Wall-clock seconds by phase.
    #[serde(default)]
    pub timings: BTreeMap<String, f64>,
    /// Output files with their hashes.
    #[serde(default)]
    pub outputs: Vec<FileHash>,
}

impl RunManifest {
    /// A manifest started now, hashing each of `inputs`.
    pub fn start(
        command: Vec<String>,
        inputs: &[PathBuf],
        config: serde_json::Value,
        seed: Option<u64>,
    ) -> Result<Self, CardError> {
        Ok(Self {
            schema_version: SCHEMA_VERSION,
            command,
            inputs: inputs
                .iter()
                .map(|p| hash_file(p))
                .collect::<Result<_, _>>()?,
            config,
            seed,
            versions: Versions::current(),
            started_unix_s: unix_now(),
            finished_unix_s: None,
            timings: BTreeMap::new(),
            outputs: Vec::new(),
        })
    }

    /// Records the end time and hashes the outputs.
    pub fn finish(&mut self, outputs: &[PathBuf]) -> Result<(), CardError> {
        self.outputs = outputs
            .iter()
            .map(|p| hash_file(p))
            .collect::<Result<_, _>>()?;
        self.finished_unix_s = Some(unix_now());
        Ok(())
    }

    /// The inputs whose contents no longer match the recorded hash (or that
    /// cannot be read).
    pub fn changed_inputs(&self) -> Vec<PathBuf> {
        self.inputs
            .iter()
            .filter(|f| hash_file(&f.path).map(|h| h != **f).unwrap_or(true))
            .map(|f| f.path.clone())
            .collect()
    }

    /// Writes the manifest as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> Result<(), CardError> {
        write_json(path, self, "run manifest")
    }

    /// Reads a manifest.
    pub fn read(path: &Path) -> Result<Self, CardError> {
        let m: Self = read_json(path, "run manifest")?;
        if m.schema_version == 0 || m.schema_version > SCHEMA_VERSION {
            return Err(CardError::Invalid {
                path: path.to_path_buf(),
                what: "run manifest",
                reason: format!("schema_version {}", m.schema_version),
            });
        }
        Ok(m)
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T, what: &'static str) -> Result<(), CardError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|source| CardError::Json {
        path: path.to_path_buf(),
        what,
        source,
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)?;
    Ok(())
}

fn read_json<T: DeserializeOwned>(path: &Path, what: &'static str) -> Result<T, CardError> {
    let file = File::open(path).map_err(io_err(path))?;
    let bytes = file.metadata().map_err(io_err(path))?.len();
    if bytes > MAX_JSON_BYTES {
        return Err(CardError::TooLarge {
            path: path.to_path_buf(),
            bytes,
            what,
        });
    }
    let mut text = Vec::with_capacity(bytes as usize);
    file.take(MAX_JSON_BYTES)
        .read_to_end(&mut text)
        .map_err(io_err(path))?;
    serde_json::from_slice(&text).map_err(|source| CardError::Json {
        path: path.to_path_buf(),
        what,
        source,
    })
}

/// What the model card says about the data.
#[derive(Debug, Clone)]
pub struct CardData {
    /// The dataset file or folder the samples came from, as given.
    pub source: String,
    /// The factor samples are multiplied by to reach 0..1 (1/255 for
    /// 8-bit images, 1/65535 for 16-bit ones, 1 for embeddings).
    pub scale: f32,
    /// The folder relative paths of `files` are taken against.
    pub root: PathBuf,
    /// The files fingerprinted into the card.
    pub files: Vec<PathBuf>,
    /// Samples per split.
    pub samples: BTreeMap<String, u64>,
}
