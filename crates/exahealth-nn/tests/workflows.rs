//! The whole workflow through the library, as a Rust caller (a server, an
//! MPI launcher, the Python package) runs it without the command-line
//! tool: a classifier trained from a run file, a slide predicted through
//! its patch plan, slides embedded with that classifier, and attention MIL
//! trained on the embeddings with slide labels, then run on a slide.

use std::path::Path;

use exahealth_data::plan::{plan_or_resume, PlanParams, Resolution, TileJob};
use exahealth_nn::embed::{embed_slides, load_extractor, plan_stems, EmbedEvent, PyTorchExtractor};
use exahealth_nn::labels::read_labels;
use exahealth_nn::mil_inference::{BagsFolder, MilModel};
use exahealth_nn::model_folder::{
    ModelSpec, Task, CARD_FILE, CURVES_FILE, SPEC_FILE, WEIGHTS_FILE,
};
use exahealth_nn::slide_prediction::{
    PlanPrediction, SlideClassifier, SlidePredictionOptions, SUMMARY_FILE,
};
use exahealth_nn::train::Event;
use exahealth_nn::train_run::train_run_file;
use exahealth_nn::{cpu_device, WorkflowError};
use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};

/// A `side` x `side` RGB PNG of one grey level with a little noise.
fn write_png(path: &Path, level: u8, side: u32, seed: u32) {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    let pixels: Vec<u8> = (0..side * side * 3)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            level.saturating_add((s % 24) as u8)
        })
        .collect();
    let file = std::fs::File::create(path).unwrap();
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), side, side);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    writer.write_image_data(&pixels).unwrap();
}

/// 24 bright and dark squares, 16 to train and 8 to validate.
fn write_dataset(root: &Path) {
    let mut images = String::new();
    let (mut training, mut validation) = (Vec::new(), Vec::new());
    for i in 0..24u32 {
        let bright = i % 2 == 0;
        let name = format!("img{i}.png");
        write_png(&root.join(&name), if bright { 190 } else { 20 }, 32, i + 1);
        let label = if bright { "bright" } else { "dark" };
        images.push_str(&format!("  - location: {name}\n    label: {label}\n"));
        let split = if i < 16 {
            &mut training
        } else {
            &mut validation
        };
        split.push(i.to_string());
    }
    let yaml = format!(
        "name: brightness\nclasses: [dark, bright]\nimages:\n{images}split:\n  training: [{}]\n  validation: [{}]\n",
        training.join(", "),
        validation.join(", "),
    );
    std::fs::write(root.join("dataset.yml"), yaml).unwrap();
}

#[test]
fn train_predict_embed_and_mil_without_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let device = cpu_device();

    // 1. A classifier from a run file.
    write_dataset(root);
    std::fs::write(
        root.join("run.toml"),
        "task = \"classification\"\ndata = \"dataset.yml\"\nmodel = \"small-cnn\"\nimage_size = 32\nchannels = 3\noutput = \"model\"\n[train]\nepochs = 2\nbatch_size = 8\nlr = 0.005\n",
    )
    .unwrap();
    let mut epochs_seen = 0;
    let trained = train_run_file(&root.join("run.toml"), false, &mut |e| {
        if let Event::EpochEnd(_) = e {
            epochs_seen += 1;
        }
    })
    .unwrap();
    assert_eq!(epochs_seen, 2);
    assert_eq!(trained.history.epochs.len(), 2);
    assert_eq!(trained.output, root.join("model"));
    for file in [SPEC_FILE, WEIGHTS_FILE, CARD_FILE, CURVES_FILE] {
        assert!(trained.output.join(file).is_file(), "{file} missing");
    }
    let spec = ModelSpec::read(&trained.output).unwrap();
    assert_eq!(spec.task, Task::Classification);
    assert_eq!(spec.classes, ["dark", "bright"]);

    // 2. Slides, their patch plans, and one slide scored through its plan.
    let (slides, tiles) = (root.join("slides"), root.join("tiles"));
    std::fs::create_dir_all(&slides).unwrap();
    let mut params = PlanParams::new(Resolution::Level(0), 64);
    params.min_tissue = 0.0;
    let mut patches = Vec::new();
    for i in 0..4u64 {
        let slide = slides.join(format!("s{i}.tiff"));
        let mut synth = SynthOptions::new(384, 256);
        synth.seed = i + 1;
        synth.writer.tile_size = 128;
        write_synthetic_slide(&slide, &synth).unwrap();
        let job = TileJob {
            slide: &slide,
            out: &tiles.join(format!("s{i}")),
            params: &params,
            annotations: None,
            label_fraction: 0.5,
            patches: None,
        };
        patches.push(plan_or_resume(&job, &|_| {}).unwrap().plan.summary.patches);
    }
    assert_eq!(patches, [24; 4], "every 64-pixel position of 384 x 256");
    let classifier = SlideClassifier::load(&trained.output, Some("bright")).unwrap();
    assert_eq!(classifier.heatmap_class(), 1);
    let mut progress = (0, 0);
    let (folder, prediction) = classifier
        .predict_slide(
            &slides.join("s0.tiff"),
            &tiles,
            &root.join("predictions"),
            &SlidePredictionOptions::default(),
            &device,
            &mut |done, total| progress = (done, total),
        )
        .unwrap();
    assert_eq!(progress, (24, 24));
    assert_eq!(folder, root.join("predictions/s0"));
    assert_eq!(prediction.patches, 24);
    assert_eq!(prediction.heatmap_class, "bright");
    assert_eq!(prediction.classes.len(), 2);
    for (i, c) in prediction.classes.iter().enumerate() {
        assert_eq!((c.index, c.class.as_str()), (i, ["dark", "bright"][i]));
        assert!((0.0..=1.0).contains(&c.mean) && c.mean <= c.max, "{c:?}");
    }
    let saved: PlanPrediction =
        serde_json::from_slice(&std::fs::read(folder.join(SUMMARY_FILE)).unwrap()).unwrap();
    assert_eq!(saved.patches, 24);
    for file in ["scores.csv", "heatmap.tiff", "overlay.png"] {
        assert!(folder.join(file).is_file(), "{file} missing");
    }
    // A slide without a plan is refused with what to do.
    let unplanned = classifier
        .predict_slide(
            &root.join("other.tiff"),
            &tiles,
            &root.join("predictions"),
            &SlidePredictionOptions::default(),
            &device,
            &mut |_, _| {},
        )
        .unwrap_err();
    assert!(
        unplanned.to_string().contains("exahealth slide tile"),
        "{unplanned}"
    );

    // 3. The classifier as the extractor of every planned slide.
    let pytorch = PyTorchExtractor {
        arch: "resnet18".into(),
        size: 224,
    };
    let (network, extractor) = load_extractor(&trained.output, &pytorch).unwrap();
    assert_eq!(extractor.image_size, 32);
    let stems = plan_stems(&tiles, &[]).unwrap();
    assert_eq!(stems, ["s0", "s1", "s2", "s3"]);
    let features = root.join("features");
    let mut embedded = Vec::new();
    let embedding = embed_slides(
        &network,
        &extractor,
        &tiles,
        &features,
        &stems,
        16,
        &mut |e| {
            if let EmbedEvent::Embedded { stem, patches, .. } = e {
                embedded.push((stem.to_string(), patches));
            }
        },
    )
    .unwrap();
    assert_eq!(embedded.len(), 4);
    assert!(embedded.iter().all(|(_, n)| *n == 24), "{embedded:?}");
    assert_eq!(embedding.slides.len(), 4);
    assert!(embedding.width > 0);
    // A second run finds every slide current.
    let mut current = 0;
    embed_slides(
        &network,
        &extractor,
        &tiles,
        &features,
        &stems,
        16,
        &mut |e| {
            if let EmbedEvent::UpToDate { .. } = e {
                current += 1;
            }
        },
    )
    .unwrap();
    assert_eq!(current, 4);

    // 4. Attention MIL on slide labels, then a slide classified with the
    // attention it paid to each patch, and slide-level scores.
    std::fs::write(
        root.join("labels.csv"),
        "slide,label\ns0,a\ns1,b\ns2,a\ns3,b\n",
    )
    .unwrap();
    std::fs::write(
        root.join("mil.toml"),
        "task = \"mil\"\nmodel = \"attention-mil\"\noutput = \"mil\"\n[bags]\nfolder = \"features\"\nlabels = \"labels.csv\"\ntraining = [\"s0\", \"s1\"]\nvalidation = [\"s2\", \"s3\"]\n[train]\nepochs = 2\nbatch_size = 1\n",
    )
    .unwrap();
    let mil_run = train_run_file(&root.join("mil.toml"), false, &mut |_| {}).unwrap();
    assert_eq!(mil_run.spec.task, Task::Mil);
    assert_eq!(mil_run.spec.channels, embedding.width);
    let bags = BagsFolder::open(&features).unwrap();
    let mil = MilModel::load(&mil_run.output, &bags.embedding).unwrap();
    let p = mil
        .predict_slide(&bags, "s2", &root.join("mil-predictions"), 32, &device)
        .unwrap();
    assert_eq!(p.probabilities.len(), 2);
    assert_eq!(p.attention.len(), 24);
    assert!((p.attention.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    let labels = read_labels(&root.join("labels.csv"), "label").unwrap();
    let slides_scored = ["s2".to_string(), "s3".to_string()];
    let report = mil
        .evaluate(
            &bags,
            &slides_scored,
            &labels,
            &root.join("labels.csv"),
            &device,
        )
        .unwrap();
    assert_eq!(report.samples, 2);
}

#[test]
fn a_run_file_naming_a_missing_dataset_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run.toml");
    std::fs::write(
        &run,
        "data = \"nowhere.yml\"\nmodel = \"small-cnn\"\nimage_size = 32\noutput = \"model\"\n",
    )
    .unwrap();
    let e = train_run_file(&run, false, &mut |_| {}).unwrap_err();
    match &e {
        WorkflowError::Dataset { path, .. } => assert_eq!(path, &tmp.path().join("nowhere.yml")),
        other => panic!("{other:?}"),
    }
    let missing = train_run_file(&tmp.path().join("absent.toml"), false, &mut |_| {}).unwrap_err();
    assert!(
        matches!(missing, WorkflowError::ReadRunFile { .. }),
        "{missing:?}"
    );
}
