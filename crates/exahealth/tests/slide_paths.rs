//! Every slide reader opens a slide named by a bare file name from its own
//! folder, by a relative path from the folder above, and by an absolute
//! path, with the same result (a DICOM WSI once failed from its own folder:
//! its sibling search asked for the folder "").

use std::path::Path;
use std::process::Command;

/// `slide info --json` run from `cwd` on `name`; the JSON without the path.
fn info(cwd: &Path, name: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_exahealth"))
        .current_dir(cwd)
        .args(["slide", "info", "--json"])
        .arg(name)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "slide info {} from {}: {}",
        name.display(),
        cwd.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    if let Some(o) = v.as_object_mut() {
        o.remove("path");
    }
    v
}

#[test]
fn every_reader_opens_bare_relative_and_absolute_paths() {
    let Some(root) = exahealth_base::testdata::shared_dir(env!("CARGO_MANIFEST_DIR")) else {
        return;
    };
    let root = root.canonicalize().unwrap();
    for rel in [
        "wsi/aperio/CMU-1-Small-Region.svs",
        "wsi/aperio/tcga-cr-7395-01a-01-ts1.svs",
        "wsi/generic-tiff/boxes.tiff",
        "wsi/ndpi/test3-DAPI-2-387.ndpi",
        "wsi/qptiff/small_vectra.qptiff",
        "wsi/dicom-wsi/cmu-1-small-region/level-0-frames-0-30.dcm",
        "wsi/dicom-wsi/openslide_boxes_0.dcm",
        "wsi/dicom-wsi/cmu-1-small-region",
    ] {
        let absolute = root.join(rel);
        let folder = absolute.parent().unwrap();
        let name = Path::new(absolute.file_name().unwrap());
        let above = folder.parent().unwrap();
        let relative = Path::new(folder.file_name().unwrap()).join(name);
        let by_absolute = info(Path::new("/"), &absolute);
        assert_eq!(info(folder, name), by_absolute, "{rel} by bare name");
        assert_eq!(
            info(above, &relative),
            by_absolute,
            "{rel} by relative path"
        );
        assert_eq!(
            info(folder, &Path::new(".").join(name)),
            by_absolute,
            "{rel} by ./name"
        );
    }
}
