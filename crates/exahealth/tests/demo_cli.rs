//! `exahealth demo` (the README's first command) end to end, on a small
//! slide: the slide half runs, and the MIL half learns the report labels
//! and classifies the held-out biopsies.

mod common;

use common::exahealth;

#[test]
fn demo_runs_the_slide_tools_and_the_weak_label_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let o = out.to_str().unwrap();
    let run = exahealth(&["demo", "--size", "2048", "--out", o]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    for file in [
        "synthetic.tiff",
        "thumbnail.png",
        "region.png",
        "labels/labels.csv",
    ] {
        assert!(out.join(file).is_file(), "{file} missing:\n{stdout}");
    }
    // Odd biopsies are cancers; the held-out ones are s12 to s15.
    for (slide, class) in [("s12", "0"), ("s13", "1"), ("s14", "0"), ("s15", "1")] {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("{slide}\t")))
            .unwrap_or_else(|| panic!("no prediction for {slide}:\n{stdout}"));
        assert_eq!(line.split('\t').nth(1), Some(class), "{line}");
        assert!(out
            .join("predictions")
            .join(slide)
            .join("overlay.png")
            .is_file());
    }
    assert!(stdout.contains("accuracy           1.0000"), "{stdout}");
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("mil/model_card.json")).unwrap()).unwrap();
    assert_eq!(card["task"], "mil");
    // Biopsy s13 holds tumour in its 128-pixel tiles (4, 1) and (1, 1):
    // that is where the model looks.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("predictions/s13/summary.json")).unwrap())
            .unwrap();
    let top = &summary["top_patches"][0];
    let tile = (
        top["x"].as_u64().unwrap() / 128,
        top["y"].as_u64().unwrap() / 128,
    );
    assert!([(4, 1), (1, 1)].contains(&tile), "{summary}");
}
