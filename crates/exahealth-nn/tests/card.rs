//! Model cards and run manifests: round trips, hashes against an
//! independent SHA-256, rejection of bad files, atomic replacement.

use std::path::PathBuf;

use exahealth_nn::card::{
    hash_file, hash_files, ArchitectureInfo, CardError, InputSpec, ModelCard, Normalization,
    RunManifest, TrainingData, Versions,
};
use exahealth_nn::metrics::MetricSet;

fn card() -> ModelCard {
    let mut c = ModelCard::new(
        "classification",
        ArchitectureInfo {
            name: "resnet18".into(),
            config: serde_json::json!({"in_channels": 3, "num_classes": 2}),
            parameters: Some(11_177_538),
        },
        vec!["normal".into(), "tumour".into()],
        InputSpec {
            channels: 3,
            height: 224,
            width: 224,
            depth: None,
            microns_per_pixel: Some(0.5),
            normalization: Normalization {
                scale: 1.0 / 255.0,
                mean: vec![0.485, 0.456, 0.406],
                std: vec![0.229, 0.224, 0.225],
            },
        },
    );
    let mut m = MetricSet::new();
    m.insert("accuracy", 0.97);
    m.insert("auc", 0.991);
    c.metrics.insert("validation".into(), m);
    c.seed = Some(42);
    c.timings.insert("train".into(), 12.5);
    c
}

#[test]
fn card_round_trips_and_records_versions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model_card.json");
    let c = card();
    c.write(&path).unwrap();
    let back = ModelCard::read(&path).unwrap();
    assert_eq!(back, c);
    let v = Versions::current();
    assert_eq!(v.exahealth, env!("CARGO_PKG_VERSION"));
    // The build script read these from Cargo.lock and rustc.
    assert!(v.burn.starts_with("0."), "burn version {}", v.burn);
    assert!(v.rustc.starts_with("rustc 1."), "rustc version {}", v.rustc);
    // Plain JSON a human or a script can read.
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["classes"][1], "tumour");
    assert_eq!(json["metrics"]["validation"]["auc"], 0.991);
    assert_eq!(json["versions"]["burn"], v.burn.as_str());
    // No temporary files are left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn bad_cards_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");

    let mut c = card();
    c.input.normalization.mean = vec![0.5, 0.5];
    assert!(matches!(c.write(&path), Err(CardError::Invalid { .. })));
    assert!(!path.exists(), "an invalid card must not be written");

    std::fs::write(&path, b"{\"schema_version\": 1, \"task\": ").unwrap();
    assert!(matches!(
        ModelCard::read(&path),
        Err(CardError::Json { .. })
    ));

    let mut future = serde_json::to_value(card()).unwrap();
    future["schema_version"] = 99.into();
    std::fs::write(&path, serde_json::to_vec(&future).unwrap()).unwrap();
    let err = ModelCard::read(&path).unwrap_err();
    assert!(err.to_string().contains("upgrade"), "{err}");

    let mut no_classes = serde_json::to_value(card()).unwrap();
    no_classes["classes"] = serde_json::json!([]);
    std::fs::write(&path, serde_json::to_vec(&no_classes).unwrap()).unwrap();
    assert!(matches!(
        ModelCard::read(&path),
        Err(CardError::Invalid { .. })
    ));

    assert!(matches!(
        ModelCard::read(&dir.path().join("missing.json")),
        Err(CardError::Io { .. })
    ));
}

#[test]
fn rewriting_a_card_replaces_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model_card.json");
    let mut c = card();
    c.write(&path).unwrap();
    c.classes = vec!["a".into(), "b".into(), "c".into()];
    c.write(&path).unwrap();
    assert_eq!(ModelCard::read(&path).unwrap().classes.len(), 3);
}

// SHA-256("abc") from FIPS 180-2, appendix B.1.
const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

#[test]
fn file_hash_matches_the_standard_test_vector() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("abc.txt");
    std::fs::write(&p, b"abc").unwrap();
    let h = hash_file(&p).unwrap();
    assert_eq!(h.sha256, SHA256_ABC);
    assert_eq!(h.bytes, 3);
}

#[test]
fn dataset_hash_follows_its_documented_layout() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir(root.join("img")).unwrap();
    std::fs::write(root.join("img/b.png"), b"second").unwrap();
    std::fs::write(root.join("img/a.png"), b"first!").unwrap();
    std::fs::write(root.join("data.yml"), b"name: test\n").unwrap();
    let files: Vec<PathBuf> = ["img/b.png", "data.yml", "img/a.png"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    let fp = hash_files(root, &files).unwrap();
    assert_eq!((fp.files, fp.bytes), (3, 6 + 6 + 11));

    // The same layout computed here by hand: sorted relative paths, NUL,
    // size (u64 LE), contents.
    let mut h = Sha256::new();
    for (name, body) in [
        ("data.yml", &b"name: test\n"[..]),
        ("img/a.png", b"first!"),
        ("img/b.png", b"second"),
    ] {
        h.update(name.as_bytes());
        h.update([0]);
        h.update((body.len() as u64).to_le_bytes());
        h.update(body);
    }
    let want: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(fp.sha256, want);

    // Order-independent; content, name and membership dependent.
    let mut reversed = files.clone();
    reversed.reverse();
    assert_eq!(hash_files(root, &reversed).unwrap(), fp);
    std::fs::write(root.join("img/a.png"), b"first?").unwrap();
    assert_ne!(hash_files(root, &files).unwrap().sha256, fp.sha256);
    assert_ne!(hash_files(root, &files[..2]).unwrap().sha256, fp.sha256);
    std::fs::rename(root.join("img/b.png"), root.join("img/c.png")).unwrap();
    let renamed: Vec<PathBuf> = ["img/c.png", "data.yml", "img/a.png"]
        .iter()
        .map(|f| root.join(f))
        .collect();
    std::fs::write(root.join("img/a.png"), b"first!").unwrap();
    assert_ne!(hash_files(root, &renamed).unwrap().sha256, fp.sha256);
    // A missing file is an error naming it.
    let err = hash_files(root, &files).unwrap_err();
    assert!(err.to_string().contains("b.png"), "{err}");
}

#[test]
fn card_carries_the_training_data_fingerprint_of_real_testdata() {
    let Some(root) = exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "models")
    else {
        return;
    };
    let model = root.join("ch_ppocr_mobile_v2.0_cls_infer.onnx");
    // testdata/SOURCES.md lists this hash for the file.
    let h = hash_file(&model).unwrap();
    assert_eq!(
        h.sha256,
        "e47acedf663230f8863ff1ab0e64dd2d82b838fceb5957146dab185a89d6215c"
    );
    let fp = hash_files(&root, std::slice::from_ref(&model)).unwrap();
    let mut c = card();
    c.training_data = Some(TrainingData {
        source: root.display().to_string(),
        fingerprint: fp.clone(),
        samples: [("training".to_string(), 1)].into_iter().collect(),
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("card.json");
    c.write(&path).unwrap();
    assert_eq!(
        ModelCard::read(&path)
            .unwrap()
            .training_data
            .unwrap()
            .fingerprint,
        fp
    );
}

#[test]
fn manifest_records_inputs_outputs_and_detects_changes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.txt");
    let output = dir.path().join("out.txt");
    std::fs::write(&input, b"abc").unwrap();
    let mut m = RunManifest::start(
        vec!["exahealth".into(), "train".into()],
        std::slice::from_ref(&input),
        serde_json::json!({"epochs": 3}),
        Some(7),
    )
    .unwrap();
    assert_eq!(m.inputs[0].sha256, SHA256_ABC);
    std::fs::write(&output, b"result").unwrap();
    m.finish(std::slice::from_ref(&output)).unwrap();
    assert!(m.finished_unix_s.unwrap() >= m.started_unix_s);
    let path = dir.path().join("manifest.json");
    m.write(&path).unwrap();
    let back = RunManifest::read(&path).unwrap();
    assert_eq!(back, m);
    assert!(back.changed_inputs().is_empty());
    std::fs::write(&input, b"abd").unwrap();
    assert_eq!(back.changed_inputs(), vec![input.clone()]);
    assert!(RunManifest::start(
        vec![],
        &[dir.path().join("nope")],
        serde_json::Value::Null,
        None
    )
    .is_err());
}
