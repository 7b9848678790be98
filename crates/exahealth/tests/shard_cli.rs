//! Slide work split across processes (issue: HPC): `slide tile`, `embed`
//! and `predict --plans` with `--shard I/N` or a Slurm array task's
//! variables each do their part of the slides, and the parts together are
//! byte for byte what one process writes.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{exahealth, exahealth_fails, write_png};

/// Every file under `root`, by relative path, with its bytes.
fn tree(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

fn assert_same_tree(single: &Path, sharded: &Path) {
    let (a, b) = (tree(single), tree(sharded));
    assert_eq!(
        a.keys().collect::<Vec<_>>(),
        b.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{} differs", name.display());
    }
}

/// Three synthetic slides of three sizes (so the split is by size).
fn slides(root: &Path) -> Vec<String> {
    [("big", 1024, 768), ("mid", 512, 512), ("small", 384, 256)]
        .iter()
        .enumerate()
        .map(|(i, (name, w, h))| {
            let path = root.join(format!("{name}.tiff"));
            let p = path.to_str().unwrap().to_string();
            let (w, h, seed) = (w.to_string(), h.to_string(), (i + 1).to_string());
            exahealth(&[
                "slide", "synth", &p, "--width", &w, "--height", &h, "--tile", "128", "--seed",
                &seed,
            ]);
            p
        })
        .collect()
}

fn tile(slides: &[String], out: &Path, shard: Option<&str>, env: &[(&str, &str)]) -> String {
    let mut args: Vec<String> = vec!["slide".into(), "tile".into()];
    args.extend(slides.iter().cloned());
    args.extend(
        ["--level", "0", "--size", "64", "--min-tissue", "0", "--out"]
            .iter()
            .map(|s| s.to_string()),
    );
    args.push(out.to_str().unwrap().into());
    if let Some(s) = shard {
        args.extend(["--shard".into(), s.into()]);
    }
    let run = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .args(&args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    String::from_utf8_lossy(&run.stderr).into_owned()
}

#[test]
fn sharded_tiling_and_embedding_equal_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let slides = slides(root);

    // Tiling: one process, then two shards (one by flag, one as a Slurm
    // array task), into one folder.
    let single = root.join("tiles-single");
    tile(&slides, &single, None, &[]);
    let sharded = root.join("tiles-sharded");
    let first = tile(&slides, &sharded, Some("0/2"), &[]);
    let second = tile(
        &slides,
        &sharded,
        None,
        &[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ],
    );
    // The big slide weighs more than the other two together: alone.
    assert!(first.contains("shard 0/2: 1 of 3 slides"), "{first}");
    assert!(second.contains("shard 1/2: 2 of 3 slides"), "{second}");
    assert!(single.join("big/plan.json").is_file());
    assert_same_tree(&single, &sharded);

    // Embedding with a small trained extractor: two shards write their own
    // indexes; the second to finish merges them into embedding.json.
    let mut images = String::new();
    for i in 0..8u32 {
        let name = format!("p{i}.png");
        write_png(
            &root.join(&name),
            [200, 120 + (i % 2) as u8 * 60, 180],
            20,
            i + 1,
        );
        images.push_str(&format!("  - location: {name}\n    label: {}\n", i % 2));
    }
    std::fs::write(
        root.join("patches.yml"),
        format!("name: p\nclasses: [a, b]\nimages:\n{images}split:\n  training: [0, 1, 2, 3, 4, 5]\n  validation: [6, 7]\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("extractor.toml"),
        "data = \"patches.yml\"\nmodel = \"small-cnn\"\nimage_size = 32\noutput = \"extractor\"\n[train]\nepochs = 1\nbatch_size = 4\n",
    )
    .unwrap();
    exahealth(&[
        "train",
        "--config",
        root.join("extractor.toml").to_str().unwrap(),
    ]);
    let extractor = root.join("extractor");
    let embed = |out: &Path, shard: Option<&str>| {
        let mut args = vec![
            "embed",
            "--model",
            extractor.to_str().unwrap(),
            "--plans",
            single.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        if let Some(s) = shard {
            args.extend(["--shard", s]);
        }
        exahealth(&args)
    };
    let whole = root.join("features-single");
    embed(&whole, None);
    let parts = root.join("features-sharded");
    embed(&parts, Some("1/2"));
    assert!(parts.join("embedding.shard-1-of-2.json").is_file());
    assert!(
        !parts.join("embedding.json").exists(),
        "shard 0 is not done"
    );
    let last = embed(&parts, Some("0/2"));
    assert!(
        String::from_utf8_lossy(&last.stdout).contains("all 2 shards done: 3 slides"),
        "{}",
        String::from_utf8_lossy(&last.stdout)
    );
    assert_same_tree(&whole, &parts);

    // Whole-slide prediction through the plans: the same files, whose
    // summaries differ only in the seconds they took.
    let predict = |out: &Path, shard: Option<&str>| {
        let mut args = vec![
            "predict".to_string(),
            "--model".into(),
            extractor.to_str().unwrap().into(),
            "--plans".into(),
            single.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ];
        args.extend(slides.iter().cloned());
        if let Some(s) = shard {
            args.extend(["--shard".into(), s.into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        exahealth(&args);
    };
    let (one, two) = (
        root.join("predictions-single"),
        root.join("predictions-sharded"),
    );
    predict(&one, None);
    predict(&two, Some("0/2"));
    predict(&two, Some("1/2"));
    for dir in [&one, &two] {
        for stem in ["big", "mid", "small"] {
            let path = dir.join(stem).join("summary.json");
            let mut summary: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            summary["seconds"] = serde_json::json!(0);
            std::fs::write(&path, serde_json::to_vec(&summary).unwrap()).unwrap();
        }
    }
    assert_same_tree(&one, &two);

    // A merge by hand with a shard missing says which is missing.
    let lonely = root.join("features-lonely");
    embed(&lonely, Some("0/3"));
    let err = exahealth_fails(&[
        "embed",
        "--model",
        extractor.to_str().unwrap(),
        "--plans",
        single.to_str().unwrap(),
        "--out",
        lonely.to_str().unwrap(),
        "--merge-shards",
        "3",
    ]);
    assert!(
        err.contains("not every one of the 3 shards has finished"),
        "{err}"
    );
}

#[test]
fn impossible_shards_are_refused_with_what_to_type() {
    let err = exahealth_fails(&[
        "slide", "tile", "a.svs", "--level", "0", "--out", "x", "--shard", "2/2",
    ]);
    assert!(err.contains("0 <= I < N"), "{err}");
}
