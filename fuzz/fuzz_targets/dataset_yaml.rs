//! Fuzz `exahealth_data::dataset::parse_dataset` (DeepHealth / ECVL dataset
//! YAML). A dataset that parses must be internally consistent (split
//! indices in range, class indices too when it lists classes), and must
//! write back to YAML that parses to the same samples.
#![no_main]

use exahealth_data::dataset::{dataset_to_yaml, parse_dataset, Label};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("/fuzz/dataset.yml");
    let Ok(d) = parse_dataset(&text, path) else { return };
    for (name, idx) in &d.split {
        for &i in idx {
            assert!(i < d.samples.len(), "split {name:?} lists sample {i} of {}", d.samples.len());
        }
        assert!(d.split_indices(name).is_some());
    }
    for s in &d.samples {
        // Without a `classes` list, bare indices are accepted (by design).
        if let (Some(Label::Classes(c)), false) = (&s.label, d.classes.is_empty()) {
            for &k in c {
                assert!(k < d.classes.len(), "class {k} of {}", d.classes.len());
            }
        }
        for l in &s.location {
            std::hint::black_box(d.resolve(l));
        }
    }
    std::hint::black_box(d.class_counts());
    if let Ok(yaml) = dataset_to_yaml(&d) {
        let back = parse_dataset(&yaml, path)
            .unwrap_or_else(|e| panic!("written YAML does not read back: {e}\n{yaml}"));
        assert_eq!(back.samples, d.samples, "samples changed in a write/read round trip");
        assert_eq!(back.classes, d.classes);
    }
});
