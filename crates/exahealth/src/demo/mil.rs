//! The demo's second half: slide labels mined from pathology reports train
//! an attention-MIL model, which then finds the tumour in unseen slides.
//! Each step prints the `exahealth` command that does the same, then calls
//! the library functions behind that command, so the demo doubles as a
//! walk-through of the real workflow (docs/mil.md) and of the library API.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use exahealth_data::plan::{
    plan_or_resume, slide_stem, PlanParams, Resolution, TileJob, TileProgress,
};
use exahealth_nn::embed::{embed_slides, load_extractor, plan_stems, PyTorchExtractor};
use exahealth_nn::labels::read_labels;
use exahealth_nn::mil_inference::{BagsFolder, MilModel};
use exahealth_nn::model_folder::{ModelSpec, Task};
use exahealth_nn::models::Architecture;
use exahealth_nn::train::Event;
use exahealth_nn::train_run::train_run_file;
use exahealth_reports::extract_run::{extract_to_folder, read_use_case_reports};
use exahealth_reports::{Engine, Lexicon, Options, UseCase};
use exahealth_slide::writer::{write_pyramid, PyramidOptions, TileCompression};

const SLIDES: usize = 16;
const TRAINING: usize = 12;
const SIDE: u64 = 1024;
const TILE: u32 = 128;
/// Tiles per side; the outer ring is glass, the inner 6 x 6 tissue.
const GRID: u64 = SIDE / TILE as u64;
const GLASS: [u8; 3] = [240, 238, 242];
const PINK: [u8; 3] = [214, 150, 190];
const TUMOUR: [u8; 3] = [70, 40, 120];

/// Prints the command a user would type for the step that follows.
fn show<S: AsRef<str>>(args: &[S]) {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    println!("   $ exahealth {}", args.join(" "));
}

/// A 1024 x 1024 "biopsy": pink tissue on glass, and on a cancer slide one
/// or two dark 128-pixel tumour regions inside the tissue.
fn write_biopsy(path: &Path, tumour: &[(u64, u64)], seed: u32) -> Result<()> {
    let options = PyramidOptions {
        tile_size: TILE,
        compression: TileCompression::Jpeg { quality: 90 },
        mpp: Some(0.5),
        description: Some("exahealth demo biopsy".into()),
        bigtiff: None,
    };
    let glass = |i: u64| i == 0 || i == GRID - 1;
    // Every level is drawn from level-0 coordinates, so the small levels
    // that feed the tissue mask show the same glass, tissue and tumour.
    let colour_at = |x0: u64, y0: u64| {
        let (c, r) = (x0 / u64::from(TILE), y0 / u64::from(TILE));
        if glass(c) || glass(r) {
            GLASS
        } else if tumour.contains(&(c, r)) {
            TUMOUR
        } else {
            PINK
        }
    };
    write_pyramid(path, SIDE, SIDE, &options, |level, col, row| {
        let t = u64::from(TILE);
        let mut s = seed.wrapping_mul(2_654_435_761) ^ (col as u32 * 977 + row as u32 + 1);
        let mut pixels = Vec::with_capacity((t * t * 3) as usize);
        for py in 0..t {
            for px in 0..t {
                let colour = colour_at((col * t + px) << level, (row * t + py) << level);
                for &v in &colour {
                    s ^= s << 13;
                    s ^= s >> 17;
                    s ^= s << 5;
                    pixels.push(v.saturating_add((s % 36) as u8));
                }
            }
        }
        Arc::new(pixels)
    })?;
    Ok(())
}

/// A model folder holding an untrained small CNN: random convolutional
/// features, enough for this synthetic contrast (real slides want
/// ImageNet weights: `embed --model resnet18.pth`).
fn write_extractor(dir: &Path) -> Result<()> {
    let spec = ModelSpec {
        task: Task::Classification,
        architecture: Architecture::from_name("small-cnn", 3, 2)?,
        classes: vec!["untrained-a".into(), "untrained-b".into()],
        channels: 3,
        image_size: 64,
        embedding: None,
    };
    let device = exahealth_nn::cpu_device();
    device.seed(7);
    let model = spec.architecture.init(&device)?;
    spec.save(dir, &model)?;
    Ok(())
}

pub fn run(out: &Path) -> Result<()> {
    let p = |name: &str| out.join(name).display().to_string();
    println!("5. weak labels from pathology reports ({SLIDES} biopsies, no drawn annotation)");
    let slides_dir = out.join("biopsies");
    std::fs::create_dir_all(&slides_dir)
        .with_context(|| format!("cannot create {}", slides_dir.display()))?;
    let mut reports = String::from("id,text\n");
    let mut slides = Vec::new();
    for i in 0..SLIDES {
        let name = format!("s{i:02}");
        let cancer = i % 2 == 1;
        let tumour: Vec<(u64, u64)> = if cancer {
            let inner = GRID - 2;
            let first = (1 + (i as u64 * 3) % inner, 1 + (i as u64 * 5 + 1) % inner);
            let mut t = vec![first];
            if i % 4 == 1 {
                t.push((1 + (first.0 + 2) % inner, first.1));
            }
            t
        } else {
            Vec::new()
        };
        let path = slides_dir.join(format!("{name}.tiff"));
        write_biopsy(&path, &tumour, i as u32 + 1)?;
        slides.push(path.display().to_string());
        let text = if cancer {
            "Colon, sigmoid, biopsy: moderately differentiated adenocarcinoma infiltrating the submucosa."
        } else {
            "Colon, biopsy: colonic mucosa within normal limits. No dysplasia or malignancy."
        };
        reports.push_str(&format!("{name},\"{text}\"\n"));
    }
    let reports_path = out.join("reports.csv");
    std::fs::write(&reports_path, reports)
        .with_context(|| format!("cannot write {}", reports_path.display()))?;
    show(&[
        "reports",
        "extract",
        &p("reports.csv"),
        "--use-case",
        "colon",
        "-o",
        &p("labels"),
    ]);
    let engine = Engine::new(
        Lexicon::builtin_with(UseCase::Colon, &[])?,
        Options::default(),
    )?;
    let inputs = [reports_path];
    let read = read_use_case_reports(&inputs, UseCase::Colon)?;
    let manifest = extract_to_folder(
        &engine,
        UseCase::Colon,
        &inputs,
        (&read.0, read.1),
        &out.join("labels"),
        &mut || {},
    )?;
    let cancers = manifest
        .label_counts
        .iter()
        .find(|(label, _)| label == "cancer")
        .map_or(0, |(_, n)| *n);
    println!(
        "   {} reports -> {} slide labels, {cancers} of them cancer",
        manifest.reports, manifest.rows
    );

    println!("6. patch plans: tissue detection, 64-pixel tissue patches at level 0");
    let tiles = out.join("tiles");
    let tiles_arg = p("tiles");
    let mut args = vec!["slide", "tile"];
    args.extend(slides.iter().map(String::as_str));
    args.extend(["--level", "0", "--size", "64", "--out", &tiles_arg]);
    show(&args);
    let params = PlanParams::new(Resolution::Level(0), 64);
    let mut patches = 0;
    for slide in &slides {
        let slide = PathBuf::from(slide);
        let job = TileJob {
            slide: &slide,
            out: &tiles.join(slide_stem(&slide)),
            params: &params,
            annotations: None,
            label_fraction: 0.5,
            patches: None,
        };
        let done = plan_or_resume(&job, &|_: TileProgress| {})?;
        patches += done.plan.summary.patches;
    }
    println!("   {} slides, {patches} tissue patches", slides.len());

    println!("7. patch embeddings (an untrained small CNN as the extractor; real slides: ImageNet weights)");
    show(&[
        "embed",
        "--model",
        &p("extractor"),
        "--plans",
        &p("tiles"),
        "--out",
        &p("features"),
    ]);
    write_extractor(&out.join("extractor"))?;
    let pytorch = PyTorchExtractor {
        arch: "resnet18".into(),
        size: 224,
    };
    let (extractor_net, extractor) = load_extractor(&out.join("extractor"), &pytorch)?;
    let stems = plan_stems(&tiles, &[])?;
    let embedding = embed_slides(
        &extractor_net,
        &extractor,
        &tiles,
        &out.join("features"),
        &stems,
        32,
        &mut |_| {},
    )?;
    println!(
        "   {} slides, {} features per patch",
        embedding.slides.len(),
        embedding.width
    );

    println!("8. attention MIL on the report labels ({TRAINING} slides; the rest validate)");
    let names = |r: std::ops::Range<usize>| {
        r.map(|i| format!("\"s{i:02}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let run_file = format!(
        "task = \"mil\"\nmodel = \"attention-mil\"\noutput = \"mil\"\n\
         [bags]\nfolder = \"features\"\nlabels = \"labels/labels.csv\"\ncolumn = \"cancer\"\n\
         training = [{}]\nvalidation = [{}]\n\
         [train]\nepochs = 30\nbatch_size = 1\nlr = 0.005\n",
        names(0..TRAINING),
        names(TRAINING..SLIDES)
    );
    let run_path = out.join("mil.toml");
    std::fs::write(&run_path, run_file)
        .with_context(|| format!("cannot write {}", run_path.display()))?;
    show(&["train", "--config", &p("mil.toml")]);
    let trained = train_run_file(&run_path, false, &mut |e| {
        if let Event::EpochEnd(r) = e {
            if r.epoch % 10 == 0 {
                println!(
                    "   epoch {}: train loss {:.4}, val loss {:.4}",
                    r.epoch,
                    r.train_loss,
                    r.val_loss.unwrap_or(f64::NAN)
                );
            }
        }
    })?;
    if let Some((v, epoch)) = trained.best {
        println!(
            "   best {:?} {v:.4} at epoch {epoch}; model in {}",
            trained.monitor,
            trained.output.display()
        );
    }

    println!("9. the unseen slides: class, attention heatmaps, slide-level metrics");
    let held_out: Vec<String> = (TRAINING..SLIDES).map(|i| format!("s{i:02}")).collect();
    let mut predict: Vec<String> = vec!["predict".into(), "--model".into(), p("mil")];
    predict.extend([
        "--bags".into(),
        p("features"),
        "--out".into(),
        p("predictions"),
    ]);
    predict.extend(held_out.iter().cloned());
    show(&predict);
    let bags = BagsFolder::open(&out.join("features"))?;
    let model = MilModel::load(&trained.output, &bags.embedding)?;
    let device = exahealth_nn::cpu_device();
    for stem in &held_out {
        let p = model.predict_slide(&bags, stem, &out.join("predictions"), 32, &device)?;
        crate::predict::bags::print_prediction(stem, &p, false)?;
    }
    let mut eval: Vec<String> = vec!["eval".into(), "--model".into(), p("mil")];
    eval.extend(["--bags".into(), p("features"), "--labels".into()]);
    eval.extend([p("labels/labels.csv"), "--column".into(), "cancer".into()]);
    eval.extend(held_out.iter().cloned());
    show(&eval);
    let labels_path = out.join("labels/labels.csv");
    let labels = read_labels(&labels_path, "cancer")?;
    let report = model.evaluate(&bags, &held_out, &labels, &labels_path, &device)?;
    crate::eval::print_slide_report(&model.spec.classes, held_out.len(), &report);
    println!(
        "   attention maps: {}/<slide>/overlay.png; the workflow: docs/mil.md",
        p("predictions")
    );
    Ok(())
}
