//! MIL inference as a library user runs it: a tiny attention-MIL model
//! folder and a bags folder made in code, classified and scored without the
//! command-line tool.

use std::collections::BTreeMap;
use std::path::Path;

use exahealth_nn::embedding::{EmbeddedSlide, Embedding, Extractor};
use exahealth_nn::features::{write_features, FEATURES_FILE};
use exahealth_nn::labels::read_labels;
use exahealth_nn::mil_inference::{BagsFolder, MilModel};
use exahealth_nn::model_folder::{ModelSpec, Task, WEIGHTS_FILE};
use exahealth_nn::models::Architecture;
use exahealth_nn::train::save_weights;
use exahealth_nn::{cpu_device, NnError};
use ndarray::Array2;

const WIDTH: usize = 4;

fn extractor() -> Extractor {
    Extractor {
        source: "extractor".into(),
        sha256: "ab".repeat(32),
        architecture: "small-cnn".into(),
        image_size: 32,
        mean: vec![0.5; 3],
        std: vec![0.25; 3],
    }
}

/// A model folder holding an untrained attention-MIL network over
/// `WIDTH`-wide embeddings of `extractor()`.
fn write_model(dir: &Path, task: Task) {
    let (name, channels) = match task {
        Task::Mil => ("attention-mil", WIDTH),
        _ => ("small-cnn", 3),
    };
    let spec = ModelSpec {
        task,
        architecture: Architecture::from_name(name, channels, 2).unwrap(),
        classes: vec!["benign".into(), "tumour".into()],
        channels,
        image_size: 32,
        embedding: (task == Task::Mil).then(extractor),
    };
    std::fs::create_dir_all(dir).unwrap();
    spec.write(dir).unwrap();
    let network = spec.architecture.init(&cpu_device()).unwrap();
    save_weights(&network, &dir.join(WEIGHTS_FILE)).unwrap();
}

/// A bags folder of slides `s1` (3 patches) and `s2` (5 patches) whose
/// slide files do not exist (so no heatmap is drawn).
fn write_bags(dir: &Path) {
    let mut slides = BTreeMap::new();
    for (name, n) in [("s1", 3usize), ("s2", 5)] {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        let features = Array2::from_shape_fn((n, WIDTH), |(i, j)| (i * WIDTH + j) as f32 / 10.0);
        write_features(&folder.join(FEATURES_FILE), &features, &BTreeMap::new()).unwrap();
        let mut csv = String::from("x,y,level,width,height,tissue_fraction,label\n");
        for i in 0..n {
            csv.push_str(&format!("{},0,0,64,64,1,\n", i * 64));
        }
        std::fs::write(folder.join("patches.csv"), csv).unwrap();
        slides.insert(
            name.to_string(),
            EmbeddedSlide {
                slide: dir
                    .join("missing")
                    .join(format!("{name}.tiff"))
                    .display()
                    .to_string(),
                patches: n,
                plan_sha256: "cd".repeat(32),
            },
        );
    }
    Embedding {
        extractor: extractor(),
        width: WIDTH,
        slides,
    }
    .write(dir)
    .unwrap();
}

#[test]
fn a_mil_model_classifies_bags_and_writes_its_attention() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, bags_dir, out) = (
        tmp.path().join("model"),
        tmp.path().join("bags"),
        tmp.path().join("preds"),
    );
    write_model(&model_dir, Task::Mil);
    write_bags(&bags_dir);

    let bags = BagsFolder::open(&bags_dir).unwrap();
    let model = MilModel::load(&model_dir, &bags.embedding).unwrap();
    let device = cpu_device();
    let p = model.predict_slide(&bags, "s2", &out, 16, &device).unwrap();
    assert_eq!(p.probabilities.len(), 2);
    assert!((p.probabilities.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_eq!(p.attention.len(), 5);
    assert!((p.attention.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    assert_eq!(p.summary.class, ["benign", "tumour"][p.class]);
    assert_eq!(p.summary.patches, 5);
    assert_eq!(p.summary.top_patches.len(), 5);
    let top = &p.summary.top_patches[0];
    let best = p.attention.iter().copied().fold(f32::MIN, f32::max);
    assert_eq!(top.attention, best);

    // The bag classified directly gives the same answer.
    let direct = model
        .classify(model.read_bag(&bags, "s2").unwrap(), &device)
        .unwrap();
    assert_eq!(direct.probabilities, p.probabilities);
    assert_eq!(direct.class(), p.class);

    // The files: attention per patch in the plan's order, and the summary.
    let csv = std::fs::read_to_string(out.join("s2/attention.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("x,y,level,width,height,attention"));
    assert_eq!(lines.count(), 5);
    let written = std::fs::read(out.join("s2/summary.json")).unwrap();
    assert_eq!(written, serde_json::to_vec_pretty(&p.summary).unwrap());
    let summary: serde_json::Value = serde_json::from_slice(&written).unwrap();
    assert_eq!(summary["slide"], "s2");
    assert!(summary["probabilities"]["tumour"].is_number());
    // The slide file is gone: no heatmap, and no error.
    assert!(!out.join("s2/heatmap.tiff").exists());

    // Slide-level scores on labelled slides.
    let labels_path = tmp.path().join("labels.csv");
    let truth = ["benign", "tumour"][p.class];
    std::fs::write(
        &labels_path,
        format!("slide,label\ns1,{truth}\ns2,{truth}\n"),
    )
    .unwrap();
    let labels = read_labels(&labels_path, "label").unwrap();
    let slides = vec!["s2".to_string()];
    let report = model
        .evaluate(&bags, &slides, &labels, &labels_path, &device)
        .unwrap();
    assert_eq!(report.accuracy, 1.0);
    std::fs::write(&labels_path, "slide,label\ns2,other\n").unwrap();
    let labels = read_labels(&labels_path, "label").unwrap();
    let err = model
        .evaluate(&bags, &slides, &labels, &labels_path, &device)
        .unwrap_err();
    assert!(
        err.to_string().contains("not one of the model's classes"),
        "{err}"
    );
    let err = model
        .evaluate(&bags, &["s1".to_string()], &labels, &labels_path, &device)
        .unwrap_err();
    assert!(matches!(err, NnError::NoLabel { .. }), "{err:?}");
}

#[test]
fn mil_inference_refuses_what_does_not_fit() {
    let tmp = tempfile::tempdir().unwrap();
    let (model_dir, bags_dir) = (tmp.path().join("model"), tmp.path().join("bags"));
    write_model(&model_dir, Task::Mil);
    write_bags(&bags_dir);

    // A folder without embedding.json says how to make one.
    let err = BagsFolder::open(tmp.path()).unwrap_err();
    assert!(matches!(err, NnError::NoEmbedding(_)), "{err:?}");
    assert!(err.to_string().contains("exahealth embed --out"), "{err}");

    // Bags of another extractor.
    let mut bags = BagsFolder::open(&bags_dir).unwrap();
    let mut foreign = bags.embedding.clone();
    foreign.extractor.sha256 = "0".repeat(64);
    let err = MilModel::load(&model_dir, &foreign).unwrap_err();
    assert!(
        err.to_string()
            .contains("embed the slides with the model's extractor"),
        "{err}"
    );

    // Bags of another width.
    let model = MilModel::load(&model_dir, &bags.embedding).unwrap();
    let err = bags.read_bag("s1", WIDTH + 1).unwrap_err();
    assert!(
        matches!(err, NnError::BagWidth { width: WIDTH, .. }),
        "{err:?}"
    );
    // A slide without features, and a slide name that is a path.
    let err = model.read_bag(&bags, "s9").unwrap_err();
    assert!(matches!(err, NnError::BagUnreadable { .. }), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
    let err = model.read_bag(&bags, "../s1").unwrap_err();
    assert!(matches!(err, NnError::SlideName(_)), "{err:?}");
    // A patch list that no longer matches the embeddings.
    std::fs::write(
        bags_dir.join("s1/patches.csv"),
        "x,y,level,width,height,tissue_fraction,label\n0,0,0,64,64,1,\n",
    )
    .unwrap();
    bags.path = bags_dir.clone();
    let err = model
        .predict_slide(&bags, "s1", &tmp.path().join("out"), 16, &cpu_device())
        .unwrap_err();
    assert!(err.to_string().contains("embed the slide again"), "{err}");

    // A model that is not MIL.
    let cnn = tmp.path().join("cnn");
    write_model(&cnn, Task::Classification);
    let err = MilModel::load(&cnn, &bags.embedding).unwrap_err();
    assert!(matches!(err, NnError::NotMil("classification")), "{err:?}");
}
