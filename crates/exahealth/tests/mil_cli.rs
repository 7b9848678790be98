//! Multiple-instance learning end to end: slides whose label depends on one
//! small region, patch plans, `exahealth embed`, `train` with task = "mil"
//! on slide-level labels, and `predict --bags` with its attention.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use common::{exahealth, exahealth_fails, noise, write_png};

use exahealth_slide::writer::{write_pyramid, PyramidOptions, TileCompression};

const PINK: [u8; 3] = [200, 130, 175];
const TUMOUR: [u8; 3] = [40, 30, 110];

/// A 256x256 slide of 64-pixel tiles, pink "tissue" with noise; a positive
/// slide has one dark "tumour" tile at `tumour`.
fn write_slide(path: &Path, tumour: Option<(u64, u64)>, seed: u32) {
    let options = PyramidOptions {
        tile_size: 64,
        compression: TileCompression::Jpeg { quality: 95 },
        mpp: Some(0.5),
        ..PyramidOptions::default()
    };
    write_pyramid(path, 256, 256, &options, |level, col, row| {
        let colour = if level == 0 && tumour == Some((col, row)) {
            TUMOUR
        } else {
            PINK
        };
        let mut s = seed.wrapping_mul(2_654_435_761) ^ (col as u32 * 31 + row as u32 + 1);
        let pixels = (0..64 * 64 * 3)
            .map(|i| colour[i % 3].saturating_add(noise(&mut s, 30)))
            .collect();
        Arc::new(pixels)
    })
    .unwrap();
}

/// A small CNN trained to tell tissue from tumour patches: the extractor.
fn train_extractor(root: &Path) -> String {
    let mut images = String::new();
    for i in 0..24u32 {
        let tumour = i % 2 == 0;
        let name = format!("p{i}.png");
        write_png(
            &root.join(&name),
            if tumour { TUMOUR } else { PINK },
            30,
            i + 1,
        );
        let label = if tumour { "tumour" } else { "tissue" };
        images.push_str(&format!("  - location: {name}\n    label: {label}\n"));
    }
    let list = |r: std::ops::Range<u32>| r.map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
    let yaml = format!(
        "name: patches\nclasses: [tissue, tumour]\nimages:\n{images}split:\n  training: [{}]\n  validation: [{}]\n",
        list(0..18),
        list(18..24)
    );
    std::fs::write(root.join("patches.yml"), yaml).unwrap();
    std::fs::write(
        root.join("extractor.toml"),
        "data = \"patches.yml\"\nmodel = \"small-cnn\"\nimage_size = 32\noutput = \"extractor\"\n[train]\nepochs = 2\nbatch_size = 6\n",
    )
    .unwrap();
    exahealth(&[
        "train",
        "--config",
        root.join("extractor.toml").to_str().unwrap(),
    ]);
    root.join("extractor").to_str().unwrap().to_string()
}

#[test]
fn mil_learns_slide_labels_from_patch_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let extractor = train_extractor(root);

    // 24 slides; odd ones hold one tumour tile somewhere.
    let slides_dir = root.join("slides");
    std::fs::create_dir_all(&slides_dir).unwrap();
    let mut slides = Vec::new();
    let mut labels = String::from("id,tumour\n");
    let mut tumour_at = Vec::new();
    for i in 0..24u32 {
        let name = format!("s{i:02}");
        let tumour = (i % 2 == 1).then(|| (u64::from(i * 7 % 4), u64::from(i * 3 % 4)));
        let path = slides_dir.join(format!("{name}.tiff"));
        write_slide(&path, tumour, i + 100);
        labels.push_str(&format!("{name},{}\n", u8::from(tumour.is_some())));
        tumour_at.push(tumour);
        slides.push(path.to_str().unwrap().to_string());
    }
    std::fs::write(root.join("labels.csv"), labels).unwrap();
    let tiles = root.join("tiles");
    let mut args = vec!["slide", "tile"];
    args.extend(slides.iter().map(String::as_str));
    let t = tiles.to_str().unwrap();
    args.extend([
        "--level",
        "0",
        "--size",
        "64",
        "--min-tissue",
        "0",
        "--out",
        t,
    ]);
    exahealth(&args);

    let features = root.join("features");
    let f = features.to_str().unwrap();
    let out = exahealth(&["embed", "--model", &extractor, "--plans", t, "--out", f]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 24);
    let embedding: serde_json::Value =
        serde_json::from_slice(&std::fs::read(features.join("embedding.json")).unwrap()).unwrap();
    assert_eq!(
        embedding["width"], 64,
        "small-cnn features: 2 x 32 channels"
    );
    assert_eq!(embedding["extractor"]["architecture"], "small-cnn");
    assert_eq!(embedding["slides"]["s03"]["patches"], 16);
    assert!(features.join("s03/features.safetensors").is_file());
    // Unchanged plans are not embedded again.
    let again = exahealth(&["embed", "--model", &extractor, "--plans", t, "--out", f]);
    let again = String::from_utf8_lossy(&again.stdout).into_owned();
    assert_eq!(again.matches("up to date").count(), 24, "{again}");

    let names = |r: std::ops::Range<u32>| {
        r.map(|i| format!("\"s{i:02}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    std::fs::write(
        root.join("mil.toml"),
        format!(
            "task = \"mil\"\nmodel = \"attention-mil\"\noutput = \"mil\"\n[bags]\nfolder = \"features\"\nlabels = \"labels.csv\"\ncolumn = \"tumour\"\ntraining = [{}]\nvalidation = [{}]\n[train]\nepochs = 12\nbatch_size = 1\nlr = 0.001\nmonitor = \"val_accuracy\"\n",
            names(0..16),
            names(16..24)
        ),
    )
    .unwrap();
    exahealth(&["train", "--config", root.join("mil.toml").to_str().unwrap()]);
    let model = root.join("mil");
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model_card.json")).unwrap()).unwrap();
    assert_eq!(card["task"], "mil");
    assert_eq!(card["classes"], serde_json::json!(["0", "1"]));
    assert_eq!(card["input"]["channels"], 64);
    assert_eq!(card["training_data"]["samples"]["training"], 16);
    let accuracy = card["metrics"]["validation"]["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.99, "MIL validation accuracy {accuracy}");

    // Slide classes and the attention: on a positive slide the tumour tile
    // draws the most attention.
    let preds = root.join("preds");
    let m = model.to_str().unwrap();
    let out = exahealth(&[
        "predict",
        "--model",
        m,
        "--bags",
        f,
        "--out",
        preds.to_str().unwrap(),
        "--json",
        "--heatmap-downsample",
        "16",
    ]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 24);
    for (i, line) in lines.iter().enumerate() {
        let expected = if tumour_at[i].is_some() { "1" } else { "0" };
        assert_eq!(line["class"], expected, "{line}");
        if let Some((col, row)) = tumour_at[i] {
            let top = &line["top_patches"][0];
            assert_eq!(
                (top["x"].as_u64(), top["y"].as_u64()),
                (Some(col * 64), Some(row * 64)),
                "{line}"
            );
        }
    }
    let attention = std::fs::read_to_string(preds.join("s01/attention.csv")).unwrap();
    let total: f64 = attention
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert!((total - 1.0).abs() < 1e-4, "attention sums to {total}");
    let info = exahealth(&[
        "slide",
        "info",
        preds.join("s01/heatmap.tiff").to_str().unwrap(),
        "--json",
    ]);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["level_dimensions"][0], serde_json::json!([16, 16]));

    // Bags from another extractor are refused by predict and eval.
    let foreign = root.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    let mut described: serde_json::Value =
        serde_json::from_slice(&std::fs::read(features.join("embedding.json")).unwrap()).unwrap();
    described["extractor"]["sha256"] = serde_json::json!("0".repeat(64));
    std::fs::write(foreign.join("embedding.json"), described.to_string()).unwrap();
    let fo = foreign.to_str().unwrap();
    let err = exahealth_fails(&["predict", "--model", m, "--bags", fo]);
    assert!(
        err.contains("embed the slides with the model's extractor"),
        "{err}"
    );
    let l = root.join("labels.csv");
    let err = exahealth_fails(&[
        "eval",
        "--model",
        m,
        "--bags",
        fo,
        "--labels",
        l.to_str().unwrap(),
    ]);
    assert!(
        err.contains("embed the slides with the model's extractor"),
        "{err}"
    );
    // Slide names are folder names, not paths.
    let err = exahealth_fails(&["predict", "--model", m, "--bags", f, "/tmp/s01"]);
    assert!(err.contains("not a slide name"), "{err}");

    // A MIL run without bags is refused.
    let other = root.join("other");
    let o = other.to_str().unwrap();
    let err = exahealth_fails(&["embed", "--model", m, "--plans", t, "--out", o]);
    assert!(err.contains("image classifier"), "{err}");
    std::fs::write(
        root.join("nobags.toml"),
        "task = \"mil\"\nmodel = \"attention-mil\"\noutput = \"x\"\ndata = \"patches.yml\"\n",
    )
    .unwrap();
    let err = exahealth_fails(&[
        "train",
        "--config",
        root.join("nobags.toml").to_str().unwrap(),
    ]);
    assert!(err.contains("[bags]"), "{err}");
    let err = exahealth_fails(&[
        "eval",
        "--model",
        m,
        "--data",
        root.join("patches.yml").to_str().unwrap(),
    ]);
    assert!(err.contains("--bags"), "{err}");

    // Slide-level metrics on the validation slides.
    let labels = root.join("labels.csv");
    let mut args = vec![
        "eval",
        "--model",
        m,
        "--bags",
        f,
        "--labels",
        labels.to_str().unwrap(),
    ];
    let validation: Vec<String> = (16..24).map(|i| format!("s{i:02}")).collect();
    args.extend(["--column", "tumour", "--json"]);
    args.extend(validation.iter().map(String::as_str));
    let out = exahealth(&args);
    let eval: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(eval["slides"], 8);
    assert_eq!(eval["report"]["accuracy"], 1.0, "{eval}");
    assert_eq!(eval["report"]["roc_auc"], 1.0, "{eval}");
    assert_eq!(
        eval["report"]["confusion_matrix"],
        serde_json::json!([[4, 0], [0, 4]])
    );
    // A label column the model was not trained on does not fit its classes.
    std::fs::write(root.join("other.csv"), "id,tumour\ns16,benign\n").unwrap();
    let other = root.join("other.csv");
    let err = exahealth_fails(&[
        "eval",
        "--model",
        m,
        "--bags",
        f,
        "--labels",
        other.to_str().unwrap(),
        "--column",
        "tumour",
    ]);
    assert!(err.contains("not one of the model's classes"), "{err}");
}

/// torchvision ResNet weights as the extractor: 512 features per patch,
/// ImageNet normalisation recorded. Skips without Python's torch.
#[test]
fn embed_reads_torchvision_resnet_weights() {
    let py = std::env::var("EXAHEALTH_PYTHON").unwrap_or_else(|_| "python3".into());
    match Command::new(&py).args(["-c", "import torch"]).output() {
        Ok(o) if o.status.success() => {}
        _ => {
            eprintln!("skipping: `{py}` lacks torch; pip install torch (CPU wheel)");
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Random weights in torchvision's layout, written by torch.save.
    let torch_weights = |name: &str, args: &[&str]| {
        let path = root.join(name);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/pytorch_reference.py");
        let status = Command::new(&py)
            .arg(&script)
            .arg("--weights")
            .arg(&path)
            .arg("--out")
            .arg(root.join("ref.json"))
            .args(["--classes", "1000", "--shape", "1,3,64,64"])
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "{} failed", script.display());
        path
    };
    let weights = torch_weights("resnet18.pth", &["--depth", "18"]);
    let slide = root.join("s.tiff");
    write_slide(&slide, Some((1, 2)), 1);
    let tiles = root.join("tiles");
    let t = tiles.to_str().unwrap();
    exahealth(&[
        "slide",
        "tile",
        slide.to_str().unwrap(),
        "--level",
        "0",
        "--size",
        "64",
        "--min-tissue",
        "0",
        "--out",
        t,
    ]);
    let features = root.join("features");
    let f = features.to_str().unwrap();
    let w = weights.to_str().unwrap();
    exahealth(&[
        "embed", "--model", w, "--size", "64", "--plans", t, "--out", f,
    ]);
    let embedding: serde_json::Value =
        serde_json::from_slice(&std::fs::read(features.join("embedding.json")).unwrap()).unwrap();
    assert_eq!(embedding["width"], 512);
    assert_eq!(embedding["extractor"]["architecture"], "resnet18");
    assert_eq!(
        embedding["extractor"]["mean"][0].as_f64().unwrap() as f32,
        0.485
    );
    assert_eq!(embedding["slides"]["s"]["patches"], 16);
    // Another input size is another extractor: not mixed into the same bags.
    let err = exahealth_fails(&[
        "embed", "--model", w, "--size", "96", "--plans", t, "--out", f,
    ]);
    assert!(err.contains("another extractor"), "{err}");
    let err = exahealth_fails(&[
        "embed", "--model", w, "--arch", "vgg16", "--plans", t, "--out", f,
    ]);
    assert!(err.contains("resnet"), "{err}");

    // Weights fine-tuned to 2 classes: the head is not read.
    let tuned = torch_weights("tuned.pth", &["--depth", "18", "--classes", "2"]);
    let tuned_out = root.join("tuned_features");
    let (tw, to) = (tuned.to_str().unwrap(), tuned_out.to_str().unwrap());
    exahealth(&[
        "embed", "--model", tw, "--size", "64", "--plans", t, "--out", to,
    ]);
    assert!(tuned_out.join("s/features.safetensors").is_file());

    // torchvision DenseNet-121 weights: 1024 features per patch.
    let dense = torch_weights("densenet121.pth", &["--arch", "densenet"]);
    let dense_out = root.join("dense_features");
    let (d, o) = (dense.to_str().unwrap(), dense_out.to_str().unwrap());
    exahealth(&[
        "embed",
        "--model",
        d,
        "--arch",
        "densenet121",
        "--size",
        "64",
        "--plans",
        t,
        "--out",
        o,
    ]);
    let embedding: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dense_out.join("embedding.json")).unwrap()).unwrap();
    assert_eq!(embedding["width"], 1024);
    // ResNet weights are not DenseNet weights.
    let x = root.join("x");
    let err = exahealth_fails(&[
        "embed",
        "--model",
        w,
        "--arch",
        "densenet121",
        "--plans",
        t,
        "--out",
        x.to_str().unwrap(),
    ]);
    assert!(err.contains("densenet121 weights"), "{err}");
}
