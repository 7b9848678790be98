//! Datasets from folder trees: one folder per class, or images with masks.

use super::model::{Dataset, DatasetError, Label, Sample};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// File name endings taken as images.
const IMAGE_ENDINGS: &[&str] = &[
    ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".dcm", ".nii", ".nii.gz", ".svs", ".ndpi",
];

/// Fractions for a seeded, per-class (stratified) random split.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitFractions {
    /// Share of each class for training, 0 to 1.
    pub training: f64,
    /// Share of each class for validation, 0 to 1.
    pub validation: f64,
    /// Share of each class for test, 0 to 1.
    pub test: f64,
}

impl std::str::FromStr for SplitFractions {
    type Err = String;
    /// "0.7,0.15,0.15" (training, validation, test); they must sum to 1.
    fn from_str(s: &str) -> Result<Self, String> {
        let v: Vec<f64> = s
            .split(',')
            .map(|p| {
                p.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("`{p}` is not a number"))
            })
            .collect::<Result<_, _>>()?;
        let [training, validation, test] = v[..] else {
            return Err("give three fractions: training,validation,test".into());
        };
        if v.iter().any(|f| !(0.0..=1.0).contains(f))
            || ((training + validation + test) - 1.0).abs() > 1e-6
        {
            return Err("fractions must lie in 0..1 and sum to 1".into());
        }
        Ok(Self {
            training,
            validation,
            test,
        })
    }
}

fn is_image(p: &Path) -> bool {
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    p.is_file() && IMAGE_ENDINGS.iter().any(|e| name.ends_with(e))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DatasetError> {
    let rd = std::fs::read_dir(dir).map_err(|source| DatasetError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    v.sort();
    Ok(v)
}

fn rel(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Fisher-Yates with a small fixed PRNG, so splits depend only on the seed.
fn shuffle(v: &mut [usize], seed: u64) {
    let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
    for i in (1..v.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let j = ((state >> 33) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// `root/<class>/<image>` (classes are the folder names, sorted), or
/// `root/<split>/<class>/<image>` when every top-level folder holds only
/// folders (the split names then come from the tree). Without split folders
/// and with `fractions`, a stratified split is drawn with `seed`.
pub fn generate_from_class_folders(
    root: &Path,
    fractions: Option<SplitFractions>,
    seed: u64,
) -> Result<Dataset, DatasetError> {
    let top: Vec<PathBuf> = sorted_entries(root)?
        .into_iter()
        .filter(|p| p.is_dir())
        .collect();
    if top.is_empty() {
        return Err(DatasetError::Generate(format!(
            "{}: no class folders (expected {0}/<class>/<image>)",
            root.display()
        )));
    }
    let split_tree = top.iter().all(|d| {
        sorted_entries(d)
            .map(|e| !e.is_empty() && e.iter().all(|p| p.is_dir()))
            .unwrap_or(false)
    });
    let mut d = Dataset {
        name: root.file_name().map(|n| n.to_string_lossy().into_owned()),
        base_dir: root.to_path_buf(),
        ..Dataset::default()
    };
    let groups: Vec<(Option<String>, PathBuf)> = if split_tree {
        top.iter()
            .map(|s| {
                (
                    s.file_name().map(|n| n.to_string_lossy().into_owned()),
                    s.clone(),
                )
            })
            .collect()
    } else {
        vec![(None, root.to_path_buf())]
    };
    // Classes: the union of class folder names, sorted.
    let mut classes = std::collections::BTreeSet::new();
    for (_, g) in &groups {
        for c in sorted_entries(g)?.into_iter().filter(|p| p.is_dir()) {
            classes.insert(
                c.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            );
        }
    }
    d.classes = classes.into_iter().collect();
    let mut split: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (split_name, g) in &groups {
        for (ci, class) in d.classes.clone().iter().enumerate() {
            let dir = g.join(class);
            if !dir.is_dir() {
                continue;
            }
            for f in sorted_entries(&dir)?.into_iter().filter(|p| is_image(p)) {
                if let Some(s) = split_name {
                    split.entry(s.clone()).or_default().push(d.samples.len());
                }
                d.samples.push(Sample {
                    location: vec![rel(root, &f)],
                    label: Some(Label::Classes(vec![ci])),
                    values: BTreeMap::new(),
                });
            }
        }
    }
    if d.samples.is_empty() {
        return Err(DatasetError::Generate(format!(
            "{}: no images found ({})",
            root.display(),
            IMAGE_ENDINGS.join(" ")
        )));
    }
    if split_tree {
        d.split = split.into_iter().collect();
    } else if let Some(f) = fractions {
        d.split = stratified_split(&d, f, seed);
    }
    Ok(d)
}

fn stratified_split(d: &Dataset, f: SplitFractions, seed: u64) -> Vec<(String, Vec<usize>)> {
    let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, s) in d.samples.iter().enumerate() {
        let c = match &s.label {
            Some(Label::Classes(c)) => c.first().copied().unwrap_or(usize::MAX),
            _ => usize::MAX,
        };
        by_class.entry(c).or_default().push(i);
    }
    let (mut tr, mut va, mut te) = (Vec::new(), Vec::new(), Vec::new());
    for (c, mut idx) in by_class {
        shuffle(&mut idx, seed.wrapping_add(c as u64));
        let n = idx.len() as f64;
        let n_tr = (n * f.training).round() as usize;
        let n_va = ((n * f.validation).round() as usize).min(idx.len() - n_tr.min(idx.len()));
        let n_tr = n_tr.min(idx.len());
        tr.extend_from_slice(&idx[..n_tr]);
        va.extend_from_slice(&idx[n_tr..n_tr + n_va]);
        te.extend_from_slice(&idx[n_tr + n_va..]);
    }
    for v in [&mut tr, &mut va, &mut te] {
        v.sort_unstable();
    }
    vec![
        ("training".into(), tr),
        ("validation".into(), va),
        ("test".into(), te),
    ]
}

/// Images in `images` with masks of the same file stem in `masks`
/// (segmentation). Images without a mask are an error naming them.
pub fn generate_from_image_mask_folders(
    root: &Path,
    images: &Path,
    masks: &Path,
    fractions: Option<SplitFractions>,
    seed: u64,
) -> Result<Dataset, DatasetError> {
    let stem = |p: &Path| {
        let n = p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lower = n.to_ascii_lowercase();
        IMAGE_ENDINGS
            .iter()
            .find(|e| lower.ends_with(*e))
            .map_or(n.clone(), |e| n[..n.len() - e.len()].to_string())
    };
    let mask_by_stem: BTreeMap<String, PathBuf> = sorted_entries(masks)?
        .into_iter()
        .filter(|p| is_image(p))
        .map(|p| (stem(&p), p))
        .collect();
    let mut d = Dataset {
        base_dir: root.to_path_buf(),
        name: root.file_name().map(|n| n.to_string_lossy().into_owned()),
        ..Dataset::default()
    };
    let mut missing = Vec::new();
    for img in sorted_entries(images)?.into_iter().filter(|p| is_image(p)) {
        match mask_by_stem.get(&stem(&img)) {
            Some(m) => d.samples.push(Sample {
                location: vec![rel(root, &img)],
                label: Some(Label::Mask(rel(root, m))),
                values: BTreeMap::new(),
            }),
            None => missing.push(img.display().to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(DatasetError::Generate(format!(
            "{} images have no mask in {}: {}",
            missing.len(),
            masks.display(),
            missing
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if d.samples.is_empty() {
        return Err(DatasetError::Generate(format!(
            "{}: no images found",
            images.display()
        )));
    }
    if let Some(f) = fractions {
        d.split = stratified_split(&d, f, seed);
    }
    Ok(d)
}
