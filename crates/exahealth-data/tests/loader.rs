//! The parallel loader over DeepHealth dataset splits: shapes, labels,
//! epochs, determinism, bounded prefetch and error reporting, on PNG files
//! and YAML written by the tests.

use exahealth_data::dataset::read_dataset;
use exahealth_data::loader::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const W: u32 = 8;
const H: u32 = 6;

/// A `w x h` RGB PNG whose red channel is `r` everywhere, green the column
/// index and blue the row index.
fn write_rgb_png(path: &Path, w: u32, h: u32, r: u8) {
    let mut data = Vec::new();
    for y in 0..h {
        for x in 0..w {
            data.extend_from_slice(&[r, x as u8, y as u8]);
        }
    }
    write_png(path, w, h, png::ColorType::Rgb, &data);
}

fn write_png(path: &Path, w: u32, h: u32, color: png::ColorType, data: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = std::fs::File::create(path).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(f), w, h);
    enc.set_color(color);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header().unwrap().write_image_data(data).unwrap();
}

/// `n` images, sample `i` labelled class `i % 3`, red = 10 * i; all in
/// "training", the first 3 also in "test".
fn classification_set(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut yaml = String::from("name: t\nclasses: [a, b, c]\nimages:\n");
    for i in 0..n {
        write_rgb_png(&dir.join(format!("img/{i}.png")), W, H, (10 * i) as u8);
        yaml.push_str(&format!(
            "  - location: img/{i}.png\n    label: {}\n",
            i % 3
        ));
    }
    let all: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    yaml.push_str(&format!(
        "split:\n  training: [{}]\n  test: [0, 1, 2]\n",
        all.join(", ")
    ));
    let p = dir.join("set.yml");
    std::fs::write(&p, yaml).unwrap();
    p
}

fn loader(src: Arc<dyn SampleSource>, bs: usize, workers: usize, shuffle: bool) -> Loader {
    Loader::new(
        src,
        LoaderConfig {
            batch_size: bs,
            workers,
            prefetch: 3,
            shuffle,
            seed: 7,
            drop_last: false,
        },
    )
    .unwrap()
}

fn training(dir: &Path, n: usize) -> Arc<DatasetSource> {
    let ds = read_dataset(&classification_set(dir, n)).unwrap();
    Arc::new(DatasetSource::new(ds, Some("training"), ImageOptions::default()).unwrap())
}

#[test]
fn batches_have_nchw_shape_pixels_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let l = loader(training(dir.path(), 10), 4, 2, false);
    let batches: Vec<Batch> = l.epoch(0).map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 3);
    assert_eq!(l.len(), 3);
    assert_eq!(batches[0].images.shape(), &[4, 3, H as usize, W as usize]);
    assert_eq!(batches[2].images.shape(), &[2, 3, H as usize, W as usize]);
    for b in &batches {
        let Labels::Classes(labels) = &b.labels else {
            panic!("expected class labels, got {:?}", b.labels)
        };
        for (k, &i) in b.samples.iter().enumerate() {
            assert_eq!(labels[k], i % 3);
            // NCHW: channel 0 is red, 1 the column, 2 the row.
            assert_eq!(b.images[[k, 0, 2, 5]], (10 * i) as f32 / 255.0);
            assert_eq!(b.images[[k, 1, 2, 5]], 5.0 / 255.0);
            assert_eq!(b.images[[k, 2, 2, 5]], 2.0 / 255.0);
        }
    }
    let seen: Vec<usize> = batches.iter().flat_map(|b| b.samples.clone()).collect();
    assert_eq!(seen, (0..10).collect::<Vec<_>>(), "unshuffled order");
}

#[test]
fn test_split_holds_its_own_samples() {
    let dir = tempfile::tempdir().unwrap();
    let ds = read_dataset(&classification_set(dir.path(), 6)).unwrap();
    let src = DatasetSource::new(ds.clone(), Some("test"), ImageOptions::default()).unwrap();
    assert_eq!(src.len(), 3);
    assert_eq!(src.dataset_index(2), Some(2));
    let b = loader(Arc::new(src), 8, 1, false)
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(b.images.shape()[0], 3);
    let err = DatasetSource::new(ds, Some("validation"), ImageOptions::default())
        .err()
        .unwrap();
    let msg = err.to_string();
    assert!(
        msg.contains("validation") && msg.contains("training"),
        "{msg}"
    );
}

#[test]
fn every_sample_once_per_epoch_and_drop_last() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 10);
    let l = loader(src.clone(), 4, 3, true);
    for epoch in 0..3 {
        let mut seen: Vec<usize> = l.epoch(epoch).flat_map(|b| b.unwrap().samples).collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..10).collect::<Vec<_>>(), "epoch {epoch}");
    }
    let dl = Loader::new(
        src,
        LoaderConfig {
            batch_size: 4,
            workers: 2,
            prefetch: 2,
            shuffle: true,
            seed: 1,
            drop_last: true,
        },
    )
    .unwrap();
    assert_eq!(dl.len(), 2);
    let batches: Vec<Batch> = dl.epoch(0).map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 2);
    assert!(batches.iter().all(|b| b.len() == 4));
    let mut seen: Vec<usize> = batches.iter().flat_map(|b| b.samples.clone()).collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 8, "8 distinct samples, the last 2 dropped");
    // The dropped samples are the epoch order's last two.
    let order = dl.order(0);
    assert!(!seen.contains(&order[8]) && !seen.contains(&order[9]));
}

#[test]
fn shuffling_is_seeded_per_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 20);
    let a = loader(src.clone(), 5, 2, true);
    let b = loader(src.clone(), 5, 3, true);
    let order =
        |l: &Loader, e| -> Vec<usize> { l.epoch(e).flat_map(|b| b.unwrap().samples).collect() };
    assert_eq!(order(&a, 3), order(&b, 3), "same seed and epoch");
    assert_eq!(order(&a, 3), a.order(3));
    assert_ne!(order(&a, 3), order(&a, 4), "another epoch, another order");
    assert_ne!(order(&a, 0), (0..20).collect::<Vec<_>>(), "shuffled");
    let other = Loader::new(
        src,
        LoaderConfig {
            seed: 8,
            batch_size: 5,
            workers: 2,
            prefetch: 2,
            shuffle: true,
            drop_last: false,
        },
    )
    .unwrap();
    assert_ne!(
        order(&a, 3),
        order(&other, 3),
        "another seed, another order"
    );
}

#[test]
fn batches_do_not_depend_on_worker_count() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 23);
    let run = |workers| -> Vec<Batch> {
        loader(src.clone(), 4, workers, true)
            .with_transform(flip_rotate_jitter(0.2, 0.2))
            .epoch(2)
            .map(|b| b.unwrap())
            .collect()
    };
    let one = run(1);
    let four = run(4);
    assert_eq!(one.len(), 6);
    assert_eq!(one, four);
    // Recycled image buffers give the same batches.
    let l = loader(src.clone(), 4, 2, true).with_transform(flip_rotate_jitter(0.2, 0.2));
    for _ in 0..2 {
        let mut recycled = Vec::new();
        for b in l.epoch(2) {
            let b = b.unwrap();
            recycled.push(b.clone());
            l.recycle(b);
        }
        assert_eq!(recycled, one);
    }
    // The transform did something: some sample differs from its plain load.
    let plain: Vec<Batch> = loader(src, 4, 2, true)
        .epoch(2)
        .map(|b| b.unwrap())
        .collect();
    assert_eq!(plain.len(), one.len());
    assert_ne!(plain, one, "augmentation changed the images");
    for (p, a) in plain.iter().zip(&one) {
        assert_eq!(p.samples, a.samples);
        assert_eq!(p.labels, a.labels);
    }
}

/// A source of tiny generated samples that records how many were loaded
/// but not yet consumed by the test.
struct Counting {
    n: usize,
    loaded: AtomicUsize,
    consumed: Arc<AtomicUsize>,
    max_outstanding: AtomicUsize,
}

impl SampleSource for Counting {
    fn len(&self) -> usize {
        self.n
    }
    fn load(&self, index: usize) -> Result<Sample, LoaderError> {
        let loaded = self.loaded.fetch_add(1, Ordering::SeqCst) + 1;
        let outstanding = loaded - self.consumed.load(Ordering::SeqCst);
        self.max_outstanding
            .fetch_max(outstanding, Ordering::SeqCst);
        Ok(Sample {
            index,
            image: ndarray::Array3::from_elem((2, 2, 1), index as f32),
            target: Target::Class(index % 2),
        })
    }
}

#[test]
fn prefetch_bounds_samples_in_memory() {
    let consumed = Arc::new(AtomicUsize::new(0));
    let src = Arc::new(Counting {
        n: 400,
        loaded: AtomicUsize::new(0),
        consumed: consumed.clone(),
        max_outstanding: AtomicUsize::new(0),
    });
    let (bs, prefetch) = (4, 3);
    let l = Loader::new(
        src.clone(),
        LoaderConfig {
            batch_size: bs,
            workers: 4,
            prefetch,
            shuffle: true,
            seed: 3,
            drop_last: false,
        },
    )
    .unwrap();
    let mut batches = 0;
    for b in l.epoch(0) {
        let b = b.unwrap();
        // A slow consumer: workers would run far ahead without the bound.
        std::thread::sleep(std::time::Duration::from_millis(2));
        consumed.fetch_add(b.len(), Ordering::SeqCst);
        batches += 1;
    }
    assert_eq!(batches, 100);
    assert_eq!(src.loaded.load(Ordering::SeqCst), 400);
    // In flight: `prefetch` batches, plus the one the consumer holds.
    let max = src.max_outstanding.load(Ordering::SeqCst);
    assert!(max <= (prefetch + 1) * bs, "{max} samples outstanding");
    assert!(max >= bs, "{max}: the source saw work ahead of consumption");
}

#[test]
fn dropping_an_epoch_early_stops_the_workers() {
    let consumed = Arc::new(AtomicUsize::new(0));
    let src = Arc::new(Counting {
        n: 1000,
        loaded: AtomicUsize::new(0),
        consumed,
        max_outstanding: AtomicUsize::new(0),
    });
    let l = loader(src.clone(), 2, 4, false);
    let mut e = l.epoch(0);
    assert!(e.next().unwrap().is_ok());
    drop(e);
    // Joined on drop: nothing loads afterwards, and little was loaded.
    let after = src.loaded.load(Ordering::SeqCst);
    assert!(after <= 2 * (3 + 1), "{after} samples loaded");
}

#[test]
fn a_corrupt_file_is_reported_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 6);
    std::fs::write(dir.path().join("img/4.png"), b"\x89PNG\r\n\x1a\nnot really").unwrap();
    let results: Vec<_> = loader(src, 2, 2, false).epoch(0).collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[1].is_ok());
    let msg = results[2].as_ref().unwrap_err().to_string();
    assert!(msg.contains("4.png") && msg.contains("sample 4"), "{msg}");
    // A missing file names its path too.
    let dir2 = tempfile::tempdir().unwrap();
    let src = training(dir2.path(), 3);
    std::fs::remove_file(dir2.path().join("img/1.png")).unwrap();
    let err = src.load(1).unwrap_err().to_string();
    assert!(err.contains("1.png"), "{err}");
}

#[test]
fn a_panicking_transform_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 6);
    let t: Transform = Arc::new(|s: &mut Sample, _: &mut SampleRng| {
        if s.index == 3 {
            panic!("bad sample");
        }
        Ok(())
    });
    let results: Vec<_> = loader(src, 2, 2, false)
        .with_transform(t)
        .epoch(0)
        .collect();
    assert_eq!(results.len(), 3);
    assert!(results[0].is_ok() && results[2].is_ok());
    let msg = results[1].as_ref().unwrap_err().to_string();
    assert!(
        msg.contains("panicked") && msg.contains("bad sample"),
        "{msg}"
    );
}

#[test]
fn a_failing_transform_names_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 4);
    let t: Transform = Arc::new(|s: &mut Sample, _: &mut SampleRng| {
        if s.index == 2 {
            return Err("too dark".into());
        }
        Ok(())
    });
    let results: Vec<_> = loader(src, 2, 2, false)
        .with_transform(t)
        .epoch(0)
        .collect();
    assert!(results[0].is_ok());
    let msg = results[1].as_ref().unwrap_err().to_string();
    assert!(
        msg.contains("sample 2") && msg.contains("too dark"),
        "{msg}"
    );
}

#[test]
fn resize_grey_and_multi_hot() {
    let dir = tempfile::tempdir().unwrap();
    // A 4x2 grey image, left half 0, right half 200, and a 2x2 RGB one.
    write_png(
        &dir.path().join("g.png"),
        4,
        2,
        png::ColorType::Grayscale,
        &[0, 0, 200, 200, 0, 0, 200, 200],
    );
    write_rgb_png(&dir.path().join("c.png"), 2, 2, 90);
    std::fs::write(
        dir.path().join("m.yml"),
        "classes: [x, y, z]\nimages:\n  - location: g.png\n    label: [x, z]\n  - location: c.png\n    label: y\n",
    )
    .unwrap();
    let ds = read_dataset(&dir.path().join("m.yml")).unwrap();
    let opts = ImageOptions {
        size: Some((2, 2)),
        channels: 1,
        labels: LabelMode::Auto,
    };
    let src = DatasetSource::new(ds.clone(), None, opts.clone()).unwrap();
    assert!(src.multi_hot());
    let b = loader(Arc::new(src), 2, 1, false)
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(b.images.shape(), &[2, 1, 2, 2]);
    // Halving 4 columns averages pairs: 0 and 200/255.
    assert_eq!(b.images[[0, 0, 0, 0]], 0.0);
    assert!((b.images[[0, 0, 1, 1]] - 200.0 / 255.0).abs() < 1e-6);
    let Labels::MultiHot(m) = &b.labels else {
        panic!("{:?}", b.labels)
    };
    assert_eq!(m.row(0).to_vec(), vec![1.0, 0.0, 1.0]);
    assert_eq!(m.row(1).to_vec(), vec![0.0, 1.0, 0.0]);
    // A single-label loader refuses the two-class sample.
    let strict = DatasetSource::new(
        ds,
        None,
        ImageOptions {
            labels: LabelMode::Class,
            ..opts
        },
    )
    .unwrap();
    let err = strict.load(0).unwrap_err().to_string();
    assert!(err.contains("2 classes"), "{err}");
}

#[test]
fn segmentation_masks_resize_with_nearest_values() {
    let dir = tempfile::tempdir().unwrap();
    let mut yaml = String::from("classes: [bg, fg]\nimages:\n");
    for i in 0..3u8 {
        write_rgb_png(&dir.path().join(format!("i{i}.png")), 4, 4, i);
        // Mask: value i+1 in the top-left quadrant, 0 elsewhere.
        let mask: Vec<u8> = (0..16)
            .map(|p| if p % 4 < 2 && p / 4 < 2 { i + 1 } else { 0 })
            .collect();
        write_png(
            &dir.path().join(format!("m{i}.png")),
            4,
            4,
            png::ColorType::Grayscale,
            &mask,
        );
        yaml.push_str(&format!("  - location: i{i}.png\n    label: m{i}.png\n"));
    }
    std::fs::write(dir.path().join("seg.yml"), yaml).unwrap();
    let ds = read_dataset(&dir.path().join("seg.yml")).unwrap();
    let src = DatasetSource::new(
        ds,
        None,
        ImageOptions {
            size: Some((2, 2)),
            ..ImageOptions::default()
        },
    )
    .unwrap();
    let b = loader(Arc::new(src), 3, 2, false)
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    let Labels::Masks(m) = &b.labels else {
        panic!("{:?}", b.labels)
    };
    assert_eq!(m.shape(), &[3, 2, 2]);
    for i in 0..3 {
        assert_eq!(m[[i, 0, 0]], (i + 1) as f32, "values kept, not blended");
        assert_eq!(m[[i, 0, 1]], 0.0);
        assert_eq!(m[[i, 1, 1]], 0.0);
    }
}

#[test]
fn images_of_different_sizes_need_a_resize() {
    let dir = tempfile::tempdir().unwrap();
    write_rgb_png(&dir.path().join("a.png"), 4, 4, 1);
    write_rgb_png(&dir.path().join("b.png"), 5, 4, 1);
    std::fs::write(
        dir.path().join("d.yml"),
        "classes: [a]\nimages:\n  - location: a.png\n    label: 0\n  - location: b.png\n    label: 0\n",
    )
    .unwrap();
    let ds = read_dataset(&dir.path().join("d.yml")).unwrap();
    let src = DatasetSource::new(ds, None, ImageOptions::default()).unwrap();
    let err = loader(Arc::new(src), 2, 1, false)
        .epoch(0)
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains("fixed output size"), "{err}");
}

#[test]
fn bad_configuration_is_refused() {
    let src = Arc::new(Counting {
        n: 1,
        loaded: AtomicUsize::new(0),
        consumed: Arc::new(AtomicUsize::new(0)),
        max_outstanding: AtomicUsize::new(0),
    });
    for (batch_size, workers, prefetch) in [(0, 1, 1), (1, 0, 1), (1, 1, 0)] {
        let c = LoaderConfig {
            batch_size,
            workers,
            prefetch,
            ..LoaderConfig::default()
        };
        assert!(Loader::new(src.clone(), c).is_err());
    }
}

#[test]
fn patches_csv_is_checked_line_by_line() {
    let p = Path::new("plan/patches.csv");
    let good = "x,y,level,width,height,tissue_fraction,label\n0,256,1,256,256,0.5,tumor\n\n512,0,0,128,64,1,\"a, b\"\n";
    let r = parse_patches_csv(p, good).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(
        r[0],
        PatchRecord {
            x: 0,
            y: 256,
            level: 1,
            width: 256,
            height: 256,
            tissue_fraction: 0.5,
            label: "tumor".into()
        }
    );
    assert_eq!(r[1].label, "a, b");
    assert_eq!(r[1].label, "a, b");
    let h = "x,y,level,width,height,tissue_fraction,label\n";
    for (text, line, what) in [
        ("x,y,w,h\n", 1, "header"),
        ("", 1, "empty"),
        (
            &format!("{h}1,2,0,256,256,0.5,a\n1,x,0,256,256,0.5,a\n") as &str,
            3,
            "y",
        ),
        (&format!("{h}-1,2,0,256,256,0.5,a\n"), 2, "negative"),
        (&format!("{h}1,2,0,0,256,0.5,a\n"), 2, "empty"),
        (&format!("{h}1,2,0,99999,256,0.5,a\n"), 2, "larger"),
        (&format!("{h}1,2,0,256,256,1.5,a\n"), 2, "tissue_fraction"),
        (&format!("{h}1,2,0,256\n"), 2, "missing column"),
        (&format!("{h}1,2,0,256,256,0.5,\"a\n"), 2, "quote"),
    ] {
        let e = parse_patches_csv(p, text).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with(&format!("plan/patches.csv:{line}:")) && msg.contains(what),
            "{text:?}: {msg}"
        );
    }
}

fn ecvl(text: &str) -> Transform {
    let aug = exahealth_image::augment::parse_config(text).unwrap();
    ecvl_transform(Arc::from(aug))
}

#[test]
fn ecvl_pipelines_plug_in_as_transforms() {
    let dir = tempfile::tempdir().unwrap();
    let src = training(dir.path(), 5);
    let plain: Vec<Batch> = loader(src.clone(), 5, 1, false)
        .epoch(0)
        .map(|b| b.unwrap())
        .collect();
    let mirror = ecvl("SequentialAugmentationContainer\n  AugMirror p=1\nend\n");
    let mirrored: Vec<Batch> = loader(src.clone(), 5, 2, false)
        .with_transform(mirror)
        .epoch(0)
        .map(|b| b.unwrap())
        .collect();
    let (p, m) = (&plain[0].images, &mirrored[0].images);
    assert_eq!(m.shape(), p.shape());
    for x in 0..W as usize {
        assert_eq!(
            m.slice(ndarray::s![.., .., .., x]),
            p.slice(ndarray::s![.., .., .., W as usize - 1 - x]),
            "column {x} mirrored"
        );
    }
    // A random pipeline is reproducible whatever the number of workers.
    let text = "SequentialAugmentationContainer\n  AugRotate angle=[-30,30]\n  AugBrightness beta=[-0.1,0.1]\n  AugMirror p=0.5\nend\n";
    let run = |workers| -> Vec<Batch> {
        loader(src.clone(), 2, workers, true)
            .with_transform(ecvl(text))
            .epoch(1)
            .map(|b| b.unwrap())
            .collect()
    };
    let (one, three) = (run(1), run(3));
    assert_eq!(one, three);
    let unaugmented: Vec<Batch> = loader(src, 2, 1, true)
        .epoch(1)
        .map(|b| b.unwrap())
        .collect();
    assert_ne!(one, unaugmented);
}

#[test]
fn ecvl_geometric_steps_move_masks_with_images() {
    let dir = tempfile::tempdir().unwrap();
    write_rgb_png(&dir.path().join("i.png"), 4, 4, 7);
    // Mask value 3 in the left column only.
    let mask: Vec<u8> = (0..16).map(|p| if p % 4 == 0 { 3 } else { 0 }).collect();
    write_png(
        &dir.path().join("m.png"),
        4,
        4,
        png::ColorType::Grayscale,
        &mask,
    );
    std::fs::write(
        dir.path().join("s.yml"),
        "classes: [bg, fg]\nimages:\n  - location: i.png\n    label: m.png\n",
    )
    .unwrap();
    let ds = read_dataset(&dir.path().join("s.yml")).unwrap();
    let src = Arc::new(DatasetSource::new(ds, None, ImageOptions::default()).unwrap());
    let b = loader(src, 1, 1, false)
        .with_transform(ecvl("AugMirror p=1\n"))
        .epoch(0)
        .next()
        .unwrap()
        .unwrap();
    let Labels::Masks(m) = &b.labels else {
        panic!("{:?}", b.labels)
    };
    for y in 0..4 {
        assert_eq!(m[[0, y, 3]], 3.0, "the labelled column moved right");
        assert_eq!(m[[0, y, 0]], 0.0);
        // The green channel holds the column index: mirrored too.
        assert_eq!(b.images[[0, 1, y, 3]], 0.0);
        assert_eq!(b.images[[0, 1, y, 0]], 3.0 / 255.0);
    }
}

#[test]
fn dicom_samples_load_through_exahealth_image() {
    let Some(ct) =
        exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "dicom/CT_small.dcm")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ct.yml"),
        format!(
            "classes: [a]\nimages:\n  - location: {}\n    label: 0\n",
            ct.display()
        ),
    )
    .unwrap();
    let ds = read_dataset(&dir.path().join("ct.yml")).unwrap();
    let opts = ImageOptions {
        channels: 1,
        ..ImageOptions::default()
    };
    let s = DatasetSource::new(ds, None, opts).unwrap().load(0).unwrap();
    assert_eq!(s.image.dim(), (128, 128, 1));
    let direct = exahealth_image::io::read(&ct)
        .unwrap()
        .to_hwc_f32()
        .unwrap();
    assert_eq!(direct.dim(), (128, 128, 1));
    // 16-bit samples: as stored, scaled like 16-bit PNG when unsigned.
    let scale = match exahealth_image::io::read(&ct).unwrap().dtype() {
        exahealth_image::DataType::U16 => 65535.0,
        _ => 1.0,
    };
    assert_eq!(s.image[[64, 64, 0]], direct[[64, 64, 0]] / scale);
    assert!(s.image.iter().any(|&v| v != s.image[[0, 0, 0]]), "not flat");
}

#[test]
fn pixel_max_follows_the_element_type() {
    let dir = tempfile::tempdir().unwrap();
    let eight = dir.path().join("eight.png");
    write_png(&eight, 2, 2, png::ColorType::Grayscale, &[0, 64, 128, 255]);
    assert_eq!(exahealth_data::loader::pixel_max(&eight).unwrap(), 255.0);
    let sixteen = dir.path().join("sixteen.png");
    let f = std::fs::File::create(&sixteen).unwrap();
    let mut enc = png::Encoder::new(std::io::BufWriter::new(f), 2, 1);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Sixteen);
    enc.write_header()
        .unwrap()
        .write_image_data(&[0x12, 0x34, 0xff, 0xff])
        .unwrap();
    assert_eq!(
        exahealth_data::loader::pixel_max(&sixteen).unwrap(),
        65535.0
    );
    assert!(exahealth_data::loader::pixel_max(&dir.path().join("missing.png")).is_err());
}
