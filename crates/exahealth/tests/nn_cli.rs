//! `exahealth train`, `eval`, `predict` and `bench train|infer` end to end on
//! a generated two-class PNG dataset (bright vs dark squares).

mod common;

use common::{exahealth, exahealth_fails, write_png};

#[test]
fn train_eval_predict_on_a_generated_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut images = String::new();
    let (mut training, mut validation) = (Vec::new(), Vec::new());
    for i in 0..40u32 {
        let bright = i % 2 == 0;
        let name = format!("img{i}.png");
        let v = if bright { 190 } else { 20 };
        write_png(&root.join(&name), [v, v, v], 40, i + 1);
        images.push_str(&format!(
            "  - location: {name}\n    label: {}\n",
            if bright { "bright" } else { "dark" }
        ));
        if i < 30 {
            training.push(i.to_string());
        } else {
            validation.push(i.to_string());
        }
    }
    let yaml = format!(
        "name: brightness\nclasses: [dark, bright]\nimages:\n{images}split:\n  training: [{}]\n  validation: [{}]\n  test: [{}]\n",
        training.join(", "),
        validation.join(", "),
        validation.join(", ")
    );
    std::fs::write(root.join("dataset.yml"), yaml).unwrap();
    std::fs::write(
        root.join("run.toml"),
        "task = \"classification\"\ndata = \"dataset.yml\"\nmodel = \"small-cnn\"\nimage_size = 32\nchannels = 3\noutput = \"model\"\n[train]\nepochs = 4\nbatch_size = 8\nlr = 0.005\nmonitor = \"val_accuracy\"\n",
    )
    .unwrap();
    let config = root.join("run.toml");
    exahealth(&["train", "--config", config.to_str().unwrap()]);
    let model = root.join("model");
    for f in [
        "model.safetensors",
        "model.json",
        "history.csv",
        "checkpoint/checkpoint.json",
    ] {
        assert!(model.join(f).exists(), "{f} missing");
    }
    let history = std::fs::read_to_string(model.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 5, "{history}");

    // The model card describes this run and this data.
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model_card.json")).unwrap()).unwrap();
    assert_eq!(card["task"], "classification");
    assert_eq!(card["architecture"]["name"], "small-cnn");
    assert!(card["architecture"]["parameters"].as_u64().unwrap() > 1000);
    assert_eq!(card["classes"], serde_json::json!(["dark", "bright"]));
    assert_eq!(card["input"]["height"], 32);
    // 8-bit PNGs: the loader divides by 255.
    let scale = card["input"]["normalization"]["scale"].as_f64().unwrap();
    assert!((scale - 1.0 / 255.0).abs() < 1e-9, "{scale}");
    assert_eq!(card["epochs"], 4);
    let data_hash = card["training_data"]["fingerprint"]["sha256"]
        .as_str()
        .unwrap();
    assert_eq!(data_hash.len(), 64);
    // 40 images and the YAML.
    assert_eq!(card["training_data"]["fingerprint"]["files"], 41);
    assert_eq!(card["training_data"]["samples"]["training"], 30);
    let val_acc = card["metrics"]["validation"]["accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&val_acc));
    // The curves: a real PNG of the default 2-panel layout.
    let png = std::fs::read(model.join("curves.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let width = u32::from_be_bytes([png[16], png[17], png[18], png[19]]);
    assert_eq!(width, 960);

    let data = root.join("dataset.yml");
    let out = exahealth(&[
        "eval",
        "--model",
        model.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--split",
        "test",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["samples"], 10);
    assert!(v["accuracy"].as_f64().unwrap() >= 0.9, "{v}");

    let bright = root.join("img0.png");
    let dark = root.join("img1.png");
    let out = exahealth(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--json",
        bright.to_str().unwrap(),
        dark.to_str().unwrap(),
    ]);
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["class"], "bright");
    assert_eq!(lines[1]["class"], "dark");
    let p = &lines[0]["probabilities"];
    let sum = p["bright"].as_f64().unwrap() + p["dark"].as_f64().unwrap();
    assert!((sum - 1.0).abs() < 1e-4);

    // Whole-slide prediction through a patch plan.
    let slide = root.join("synthetic.tiff");
    let s = slide.to_str().unwrap();
    exahealth(&[
        "slide", "synth", s, "--width", "512", "--height", "384", "--tile", "128",
    ]);
    let tiles = root.join("tiles");
    let t = tiles.to_str().unwrap();
    exahealth(&[
        "slide",
        "tile",
        s,
        "--level",
        "0",
        "--size",
        "64",
        "--min-tissue",
        "0",
        "--out",
        t,
    ]);
    let plan_rows = std::fs::read_to_string(tiles.join("synthetic/patches.csv"))
        .unwrap()
        .lines()
        .count()
        - 1;
    assert_eq!(plan_rows, 8 * 6, "a 512x384 grid of 64-pixel patches");
    let preds = root.join("preds");
    let out = exahealth(&[
        "predict",
        "--model",
        model.to_str().unwrap(),
        "--plans",
        t,
        "--out",
        preds.to_str().unwrap(),
        "--heatmap-downsample",
        "16",
        "--json",
        s,
    ]);
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["patches"], plan_rows);
    assert_eq!(summary["heatmap_class"], "bright");
    let classes = summary["classes"].as_array().unwrap();
    let shares: f64 = classes
        .iter()
        .map(|c| c["positive_fraction"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-5, "{summary}");
    let scores = std::fs::read_to_string(preds.join("synthetic/scores.csv")).unwrap();
    let mut rows = scores.lines();
    assert_eq!(
        rows.next().unwrap(),
        "x,y,level,width,height,tissue_fraction,label,p_dark,p_bright,predicted"
    );
    for row in rows.clone() {
        let f: Vec<&str> = row.split(',').collect();
        let p: f64 = f[7].parse::<f64>().unwrap() + f[8].parse::<f64>().unwrap();
        assert!((p - 1.0).abs() < 1e-4, "{row}");
    }
    assert_eq!(rows.count(), plan_rows);
    let info = exahealth(&[
        "slide",
        "info",
        preds.join("synthetic/heatmap.tiff").to_str().unwrap(),
        "--json",
    ]);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(info["level_dimensions"][0], serde_json::json!([32, 24]));
    let overlay = std::fs::read(preds.join("synthetic/overlay.png")).unwrap();
    assert_eq!(&overlay[1..4], b"PNG");
    assert!(preds.join("synthetic/summary.json").is_file());
    // A slide without a plan is an error that says how to make one.
    let other = root.join("other.tiff");
    let m = model.to_str().unwrap();
    let err = exahealth_fails(&[
        "predict",
        "--model",
        m,
        "--plans",
        t,
        other.to_str().unwrap(),
    ]);
    assert!(err.contains("exahealth slide tile"));

    // Resuming a finished run trains nothing more and keeps the log.
    exahealth(&["train", "--config", config.to_str().unwrap(), "--resume"]);
    let again = std::fs::read_to_string(model.join("history.csv")).unwrap();
    assert_eq!(again, history);
    // Same data, same fingerprint.
    let card2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model_card.json")).unwrap()).unwrap();
    assert_eq!(card2["training_data"]["fingerprint"]["sha256"], data_hash);
}

#[test]
fn bench_train_and_infer_print_json() {
    for (mode, burn_layers) in [
        ("train", false),
        ("infer", false),
        ("train", true),
        ("infer", true),
    ] {
        let mut args = vec![
            "bench",
            mode,
            "--model",
            "small-cnn",
            "--batch",
            "2",
            "--size",
            "32",
            "--steps",
            "1",
            "--threads",
            "1",
            "--json",
        ];
        if burn_layers {
            args.push("--burn-layers");
        }
        let out = exahealth(&args);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["mode"], mode);
        assert_eq!(v["batch"], 2);
        assert_eq!(
            v["layers"],
            if burn_layers {
                "burn"
            } else {
                "exahealth-kernels"
            }
        );
        assert!(v["images_per_s"].as_f64().unwrap() > 0.0);
    }
}

/// The `augmentations` example in `exahealth train --help`, as written there.
fn help_augmentations() -> String {
    let out = exahealth(&["train", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    let start = help
        .find("augmentations = \"\"\"")
        .expect("the help shows an augmentations example");
    let body = &help[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let end = body.find("\"\"\"").expect("the example's string ends");
    body[..end]
        .lines()
        .map(|l| l.strip_prefix("  ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn training_with_the_help_augmentation_example() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut images = String::new();
    for i in 0..16u32 {
        let bright = i % 2 == 0;
        let name = format!("img{i}.png");
        let v = if bright { 190 } else { 20 };
        write_png(&root.join(&name), [v, v, v], 40, i + 7);
        images.push_str(&format!(
            "  - location: {name}\n    label: {}\n",
            if bright { "bright" } else { "dark" }
        ));
    }
    let yaml = format!(
        "name: b\nclasses: [dark, bright]\nimages:\n{images}split:\n  training: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n  validation: [12, 13, 14, 15]\n"
    );
    std::fs::write(root.join("dataset.yml"), yaml).unwrap();
    let augmentations = help_augmentations();
    assert!(augmentations.contains("AugRotate"), "{augmentations}");
    let run = |aug: &str| {
        format!(
            "data = \"dataset.yml\"\nmodel = \"small-cnn\"\nimage_size = 24\noutput = \"model\"\naugmentations = \"\"\"\n{aug}\n\"\"\"\n[train]\nepochs = 2\nbatch_size = 4\n"
        )
    };
    std::fs::write(root.join("run.toml"), run(&augmentations)).unwrap();
    let config = root.join("run.toml");
    exahealth(&["train", "--config", config.to_str().unwrap()]);
    let history = std::fs::read_to_string(root.join("model/history.csv")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");

    // A typo in the pipeline stops the run before training, naming the file.
    std::fs::write(
        root.join("bad.toml"),
        run("SequentialAugmentationContainer\n    AugSpin p=1\nend"),
    )
    .unwrap();
    let err = exahealth_fails(&["train", "--config", root.join("bad.toml").to_str().unwrap()]);
    assert!(
        err.contains("bad.toml") && err.contains("augmentations"),
        "{err}"
    );
}

#[test]
fn training_on_slide_patches_from_patch_plans() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // Two synthetic slides, each with a "Tumor" polygon over its left half.
    let geojson = r#"{"type":"FeatureCollection","features":[{"type":"Feature",
        "geometry":{"type":"Polygon","coordinates":[[[0,0],[256,0],[256,384],[0,384],[0,0]]]},
        "properties":{"classification":{"name":"Tumor"}}}]}"#;
    let annotations = root.join("annotations");
    std::fs::create_dir_all(&annotations).unwrap();
    let mut slides = Vec::new();
    for (name, seed) in [("s1", "1"), ("s2", "2")] {
        let slide = root.join(format!("{name}.tiff"));
        let s = slide.to_str().unwrap().to_string();
        exahealth(&[
            "slide", "synth", &s, "--width", "512", "--height", "384", "--tile", "128", "--seed",
            seed,
        ]);
        std::fs::write(annotations.join(format!("{name}.geojson")), geojson).unwrap();
        slides.push(s);
    }
    let tiles = root.join("tiles");
    let mut args = vec!["slide", "tile"];
    args.extend(slides.iter().map(String::as_str));
    let (a, t) = (annotations.to_str().unwrap(), tiles.to_str().unwrap());
    args.extend([
        "--level",
        "0",
        "--size",
        "64",
        "--min-tissue",
        "0",
        "--annotations",
        a,
        "--out",
        t,
    ]);
    exahealth(&args);

    std::fs::write(
        root.join("run.toml"),
        "model = \"small-cnn\"\nimage_size = 32\noutput = \"model\"\n[plans]\nfolder = \"tiles\"\ntraining = [\"s1\"]\nvalidation = [\"s2\"]\n[train]\nepochs = 2\nbatch_size = 16\n",
    )
    .unwrap();
    let config = root.join("run.toml");
    exahealth(&["train", "--config", config.to_str().unwrap()]);
    let model = root.join("model");
    let spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model.json")).unwrap()).unwrap();
    assert_eq!(spec["classes"], serde_json::json!(["background", "Tumor"]));
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(model.join("model_card.json")).unwrap()).unwrap();
    // 8 x 6 patches of 64 per slide.
    assert_eq!(card["training_data"]["samples"]["training"], 48);
    assert_eq!(card["training_data"]["samples"]["validation"], 48);
    // plan.json and patches.csv of both slides.
    assert_eq!(card["training_data"]["fingerprint"]["files"], 4);
    let history = std::fs::read_to_string(model.join("history.csv")).unwrap();
    assert_eq!(history.lines().count(), 3, "{history}");

    // Both `data` and `[plans]`, or neither, is an error that says so.
    std::fs::write(root.join("both.toml"), "data = \"x.yml\"\nmodel = \"small-cnn\"\noutput = \"m\"\n[plans]\nfolder = \"tiles\"\ntraining = [\"s1\"]\nvalidation = [\"s2\"]\n").unwrap();
    let err = exahealth_fails(&[
        "train",
        "--config",
        root.join("both.toml").to_str().unwrap(),
    ]);
    assert!(err.contains("give one of `data`"), "{err}");
    // A slide stem without a plan names the folder it looked in.
    std::fs::write(root.join("missing.toml"), "model = \"small-cnn\"\noutput = \"m\"\n[plans]\nfolder = \"tiles\"\ntraining = [\"s9\"]\nvalidation = [\"s2\"]\n").unwrap();
    let err = exahealth_fails(&[
        "train",
        "--config",
        root.join("missing.toml").to_str().unwrap(),
    ]);
    assert!(err.contains("s9"));
}
