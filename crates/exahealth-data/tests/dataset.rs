//! DeepHealth dataset YAML: the structures ECVL accepts, round trips,
//! errors that point at the line, and generation from folders.

use exahealth_data::dataset::*;
use std::path::Path;

/// Every construct of the format, in the shape of ECVL's own example
/// (OpenCV-style directive included).
const EXAMPLE: &str = r#"%YAML:1.2
---
# a comment
name: demo set
description: >
  Folded text
  over two lines.
classes: [tumour, stroma, fat]
features: [age, site, grade, stain]
images:
  - location: scans/one.png
    label: [stroma]
    values: [61, null, G2, null]
  - location: scans/two.png
    label: 2
    values: { age: 48, stain: HE }
  - location: scans/three.png
    label: [tumour, fat]
  - location: scans/four.png
    label: [0, 2]
  - location: scans/five.png
    label: masks/five.png
  - location: [planes/a.png, planes/b.png, planes/c.png]
    label: 0
  - location: scans/six.png
  - scans/seven.png
  - [planes/d.png, planes/e.png]
split:
  training: [0, 1, 2, 3]
  validation: [4, 5]
  test: [6, 7, 8]
  holdout: [8]
"#;

fn parse(text: &str) -> Result<Dataset, DatasetError> {
    parse_dataset(text, Path::new("d.yml"))
}

#[test]
fn reads_every_construct() {
    let d = parse(EXAMPLE).unwrap();
    assert_eq!(d.name.as_deref(), Some("demo set"));
    assert_eq!(
        d.description.as_deref(),
        Some("Folded text over two lines.\n")
    );
    assert_eq!(d.classes, ["tumour", "stroma", "fat"]);
    assert_eq!(d.samples.len(), 9);
    assert_eq!(d.samples[0].label, Some(Label::Classes(vec![1])));
    assert_eq!(
        d.samples[0].values.get("age").map(String::as_str),
        Some("61")
    );
    assert_eq!(
        d.samples[0].values.get("grade").map(String::as_str),
        Some("G2")
    );
    assert!(
        !d.samples[0].values.contains_key("site"),
        "null values are absent"
    );
    assert_eq!(d.samples[1].label, Some(Label::Classes(vec![2])));
    assert_eq!(
        d.samples[1].values.get("stain").map(String::as_str),
        Some("HE")
    );
    assert_eq!(d.samples[2].label, Some(Label::Classes(vec![0, 2])));
    assert_eq!(d.samples[3].label, Some(Label::Classes(vec![0, 2])));
    assert_eq!(
        d.samples[4].label,
        Some(Label::Mask("masks/five.png".into()))
    );
    assert_eq!(d.samples[5].location.len(), 3);
    assert_eq!(d.samples[6].label, None);
    assert_eq!(d.samples[7].location, ["scans/seven.png"]);
    assert_eq!(d.samples[8].location, ["planes/d.png", "planes/e.png"]);
    assert_eq!(d.split.len(), 4);
    assert_eq!(d.split_indices("holdout"), Some(&[8][..]));
    assert_eq!(d.class_counts(), vec![3, 1, 3]);
}

#[test]
fn writes_back_what_it_read() {
    let d = parse(EXAMPLE).unwrap();
    let text = dataset_to_yaml(&d).unwrap();
    let again = parse(&text).unwrap();
    assert_eq!(again, d, "round trip changed the dataset:\n{text}");
    // And through a file, atomically, next to the data.
    let dir = tempfile::tempdir().unwrap();
    let mut d2 = d.clone();
    d2.base_dir = dir.path().to_path_buf();
    let path = dir.path().join("out.yml");
    write_dataset(&d2, &path).unwrap();
    let read = read_dataset(&path).unwrap();
    assert_eq!(read.samples, d.samples);
    assert_eq!(
        read.resolve("scans/one.png"),
        dir.path().join("scans/one.png")
    );
}

#[test]
fn errors_name_the_line_and_field() {
    let bad_class = EXAMPLE.replace("label: [stroma]", "label: [muscle]");
    let e = parse(&bad_class).unwrap_err().to_string();
    assert!(
        e.contains("d.yml:11") && e.contains("images[0].label") && e.contains("muscle"),
        "{e}"
    );

    let bad_split = EXAMPLE.replace("holdout: [8]", "holdout: [80]");
    let e = parse(&bad_split).unwrap_err().to_string();
    assert!(
        e.contains("split.holdout") && e.contains("80") && e.contains(":32"),
        "{e}"
    );

    let dup = EXAMPLE.replace("scans/seven.png", "scans/six.png");
    let e = parse(&dup).unwrap_err().to_string();
    assert!(e.contains("images[7]") && e.contains("unique"), "{e}");

    let e = parse("images:\n  - location: [a.png\n").unwrap_err();
    assert!(
        matches!(e, DatasetError::Yaml { .. }) && e.to_string().contains("line"),
        "{e}"
    );

    let e = parse("name: x\n").unwrap_err().to_string();
    assert!(e.contains("images"), "{e}");

    let bad_feature = EXAMPLE.replace("{ age: 48, stain: HE }", "{ age: 48, colour: red }");
    let e = parse(&bad_feature).unwrap_err().to_string();
    assert!(e.contains("images[1].values.colour"), "{e}");

    let e = parse(&EXAMPLE.replace("label: 2\n", "label: 7\n"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("out of range"), "{e}");

    // Found by the dataset_yaml fuzzer: labels are written by name, so a
    // class listed twice read back as its first index after a round trip.
    let e = parse(&EXAMPLE.replace(
        "classes: [tumour, stroma, fat]",
        "classes: [tumour, stroma, stroma]",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("classes") && e.contains("`stroma` is listed twice"),
        "{e}"
    );
}

fn touch(p: &Path) {
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"x").unwrap();
}

#[test]
fn generates_from_class_folders_with_a_seeded_stratified_split() {
    let dir = tempfile::tempdir().unwrap();
    for c in ["benign", "malignant"] {
        for i in 0..10 {
            touch(&dir.path().join(c).join(format!("{i:02}.png")));
        }
    }
    touch(&dir.path().join("benign/notes.txt"));
    let f: SplitFractions = "0.6,0.2,0.2".parse().unwrap();
    let d = generate_from_class_folders(dir.path(), Some(f), 7).unwrap();
    assert_eq!(d.classes, ["benign", "malignant"]);
    assert_eq!(d.samples.len(), 20, "text files are not images");
    assert_eq!(d.class_counts(), vec![10, 10]);
    let sizes: Vec<usize> = d.split.iter().map(|(_, v)| v.len()).collect();
    assert_eq!(sizes, vec![12, 4, 4]);
    // Stratified: each split has both classes equally.
    for (_, idx) in &d.split {
        let malignant = idx
            .iter()
            .filter(|&&i| d.samples[i].label == Some(Label::Classes(vec![1])))
            .count();
        assert_eq!(malignant * 2, idx.len());
    }
    // Same seed, same split; other seed, other split.
    assert_eq!(
        generate_from_class_folders(dir.path(), Some(f), 7)
            .unwrap()
            .split,
        d.split
    );
    assert_ne!(
        generate_from_class_folders(dir.path(), Some(f), 8)
            .unwrap()
            .split,
        d.split
    );
    // The written file reads back to the same dataset.
    let yml = dir.path().join("dataset.yml");
    write_dataset(&d, &yml).unwrap();
    assert_eq!(read_dataset(&yml).unwrap().samples, d.samples);
    assert!("0.5,0.5".parse::<SplitFractions>().is_err());
    assert!("0.5,0.5,0.5".parse::<SplitFractions>().is_err());
}

#[test]
fn generates_splits_from_folders_and_masks() {
    let dir = tempfile::tempdir().unwrap();
    touch(&dir.path().join("training/a/1.png"));
    touch(&dir.path().join("training/b/2.png"));
    touch(&dir.path().join("test/a/3.png"));
    let d = generate_from_class_folders(dir.path(), None, 0).unwrap();
    assert_eq!(d.classes, ["a", "b"]);
    assert_eq!(d.split_indices("training").map(<[usize]>::len), Some(2));
    assert_eq!(d.split_indices("test").map(<[usize]>::len), Some(1));

    let seg = tempfile::tempdir().unwrap();
    for n in ["x", "y"] {
        touch(&seg.path().join(format!("images/{n}.png")));
        touch(&seg.path().join(format!("masks/{n}.png")));
    }
    let d = generate_from_image_mask_folders(
        seg.path(),
        &seg.path().join("images"),
        &seg.path().join("masks"),
        None,
        0,
    )
    .unwrap();
    assert_eq!(d.samples[0].label, Some(Label::Mask("masks/x.png".into())));
    touch(&seg.path().join("images/z.png"));
    let e = generate_from_image_mask_folders(
        seg.path(),
        &seg.path().join("images"),
        &seg.path().join("masks"),
        None,
        0,
    )
    .unwrap_err();
    assert!(e.to_string().contains("z.png"), "{e}");
}
