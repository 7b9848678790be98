//! Patch embeddings of a slide: computing them through a patch plan and
//! storing them as `features.safetensors` (one `features` tensor, f32,
//! `[patches, width]`, rows in the plan's order, plus string metadata).
//! These files are the bags that multiple-instance models train on.

use std::collections::BTreeMap;
use std::path::Path;

use burn::tensor::Device;
use exahealth_data::loader::SlidePatchSource;
use ndarray::{Array2, ArrayD, Axis};
use safetensors::tensor::{Dtype, SafeTensors};

use crate::atomic::write_atomic;
use crate::data::{tensor_to_array, BatchSource};
use crate::error::{NnError, Result};
use crate::models::Network;
use crate::sources::SampleBatches;

/// The file name of a slide's embeddings inside its folder.
pub const FEATURES_FILE: &str = "features.safetensors";
const TENSOR: &str = "features";

/// Per-channel `(x - mean) / std`, applied to images in 0..1 before the
/// network (e.g. ImageNet's for torchvision weights).
#[derive(Debug, Clone, PartialEq)]
pub struct Normalisation {
    /// One value per channel.
    pub mean: Vec<f32>,
    /// One value per channel, none zero.
    pub std: Vec<f32>,
}

impl Normalisation {
    /// ImageNet's RGB statistics, which torchvision's pretrained weights expect.
    pub fn imagenet() -> Self {
        Self {
            mean: vec![0.485, 0.456, 0.406],
            std: vec![0.229, 0.224, 0.225],
        }
    }

    fn apply(&self, images: &mut ArrayD<f32>) -> Result<()> {
        let channels = images.shape().get(1).copied().unwrap_or(0);
        if self.mean.len() != channels || self.std.len() != channels {
            return Err(NnError::Config(format!(
                "normalisation has {} means and {} deviations for {channels} channels",
                self.mean.len(),
                self.std.len()
            )));
        }
        for (c, mut plane) in images.axis_iter_mut(Axis(1)).enumerate() {
            let (m, s) = (self.mean[c], self.std[c]);
            plane.mapv_inplace(|v| (v - m) / s);
        }
        Ok(())
    }
}

/// Embeds every patch of `source` (one slide's plan) with `model`, in plan
/// order: `[patches, width]`.
pub fn embed_patches(
    model: &Network,
    source: &SampleBatches<SlidePatchSource>,
    normalisation: Option<&Normalisation>,
    batch_size: usize,
    device: &Device,
    on_progress: &mut dyn FnMut(usize, usize),
) -> Result<Array2<f32>> {
    let n = source.len();
    if n == 0 {
        return Err(NnError::EmptyData("the patch plan has no patch".into()));
    }
    let indices: Vec<usize> = (0..n).collect();
    let mut rows: Vec<Array2<f32>> = Vec::new();
    let mut done = 0;
    for chunk in indices.chunks(batch_size.max(1)) {
        let mut inputs = source.batch(chunk)?.inputs;
        if let Some(norm) = normalisation {
            norm.apply(&mut inputs)?;
        }
        let embedded = tensor_to_array(model.embed(&inputs, device)?)?
            .into_dimensionality()
            .map_err(|e| NnError::Shape(e.to_string()))?;
        rows.push(embedded);
        done += chunk.len();
        on_progress(done, n);
    }
    let views: Vec<_> = rows.iter().map(|a| a.view()).collect();
    ndarray::concatenate(Axis(0), &views).map_err(|e| NnError::Shape(e.to_string()))
}

/// Writes `features` with `metadata` to `path`, atomically.
pub fn write_features(
    path: &Path,
    features: &Array2<f32>,
    metadata: &BTreeMap<String, String>,
) -> Result<()> {
    let bytes: Vec<u8> = features.iter().flat_map(|v| v.to_le_bytes()).collect();
    // The header by hand rather than `safetensors::serialize`, whose
    // metadata is a HashMap: its random order made two runs (or the shards
    // of one job) write different bytes for the same features. Keys here
    // are sorted (serde_json's map and the BTreeMap), so the file is a
    // function of its content.
    let header = serde_json::json!({
        "__metadata__": metadata,
        TENSOR: {
            "dtype": "F32",
            "shape": [features.nrows(), features.ncols()],
            "data_offsets": [0, bytes.len()],
        },
    });
    let mut json = serde_json::to_vec(&header).map_err(|e| NnError::record(path, e))?;
    // Padded with spaces to 8 bytes, as the format's writers do, so the
    // data that follows is aligned.
    json.resize(json.len().div_ceil(8) * 8, b' ');
    let mut encoded = Vec::with_capacity(8 + json.len() + bytes.len());
    encoded.extend_from_slice(&(json.len() as u64).to_le_bytes());
    encoded.extend_from_slice(&json);
    encoded.extend_from_slice(&bytes);
    write_atomic(path, &encoded)
}

/// A features file: embeddings and the metadata written with them.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureFile {
    /// `[patches, width]`.
    pub features: Array2<f32>,
    /// What wrote them (extractor, plan, ...).
    pub metadata: BTreeMap<String, String>,
}

/// Reads a file [`write_features`] wrote. Anything else, truncated or
/// not f32 `[patches, width]`, is a typed error.
pub fn read_features(path: &Path) -> Result<FeatureFile> {
    // Read up to the memory budget, counting what arrives.
    let bytes =
        exahealth_base::budget::read_file(path, u64::MAX).map_err(|e| NnError::io(path, e))?;
    // The safetensors reader bounds the header by the file's length.
    let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| NnError::record(path, e))?;
    let metadata = meta
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let tensors = SafeTensors::deserialize(&bytes).map_err(|e| NnError::record(path, e))?;
    let view = tensors
        .tensor(TENSOR)
        .map_err(|e| NnError::record(path, format!("no `{TENSOR}` tensor: {e}")))?;
    let shape = view.shape();
    if view.dtype() != Dtype::F32 || shape.len() != 2 {
        return Err(NnError::record(
            path,
            format!(
                "`{TENSOR}` is {:?} of shape {shape:?}, not f32 [patches, width]",
                view.dtype()
            ),
        ));
    }
    let values: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let features = Array2::from_shape_vec((shape[0], shape[1]), values)
        .map_err(|e| NnError::record(path, e))?;
    Ok(FeatureFile { features, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_features_always_make_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let features = Array2::from_shape_fn((4, 2), |(r, c)| (r * 2 + c) as f32 / 3.0);
        let metadata: BTreeMap<String, String> =
            ["slide", "extractor", "plan_sha256", "extractor_sha256"]
                .iter()
                .map(|k| (k.to_string(), format!("value of {k}")))
                .collect();
        let files: Vec<Vec<u8>> = (0..4)
            .map(|i| {
                let path = dir.path().join(format!("{i}.safetensors"));
                write_features(&path, &features, &metadata).unwrap();
                std::fs::read(&path).unwrap()
            })
            .collect();
        assert!(files.windows(2).all(|w| w[0] == w[1]));
        // The header is 8-byte aligned and the data follows it.
        let header = u64::from_le_bytes(files[0][..8].try_into().unwrap()) as usize;
        assert_eq!(header % 8, 0);
        assert_eq!(files[0].len(), 8 + header + 4 * 2 * 4);
    }

    #[test]
    fn features_round_trip_and_bad_files_are_typed_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FEATURES_FILE);
        let features = Array2::from_shape_fn((5, 3), |(r, c)| r as f32 - 0.5 * c as f32);
        let metadata = BTreeMap::from([("extractor".to_string(), "small-cnn".to_string())]);
        write_features(&path, &features, &metadata).unwrap();
        let back = read_features(&path).unwrap();
        assert_eq!(back.features, features);
        assert_eq!(back.metadata, metadata);

        let bytes = std::fs::read(&path).unwrap();
        for cut in [0, 7, 8, 20, bytes.len() - 1] {
            std::fs::write(&path, &bytes[..cut]).unwrap();
            assert!(
                matches!(read_features(&path), Err(NnError::Record { .. })),
                "truncated at {cut}"
            );
        }
        // A header length far beyond the file is refused, not allocated.
        let mut huge = bytes.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        std::fs::write(&path, &huge).unwrap();
        assert!(read_features(&path).is_err());
        assert!(matches!(
            read_features(&dir.path().join("missing")),
            Err(NnError::Io { .. })
        ));
    }

    #[test]
    fn imagenet_normalisation_is_per_channel() {
        let mut images = ArrayD::from_elem(vec![2, 3, 2, 2], 0.5f32);
        Normalisation::imagenet().apply(&mut images).unwrap();
        let expect = (0.5 - 0.456) / 0.224;
        assert!((images[[1, 1, 1, 0]] - expect).abs() < 1e-6);
        let mut grey = ArrayD::zeros(vec![1, 1, 2, 2]);
        assert!(Normalisation::imagenet().apply(&mut grey).is_err());
    }
}
