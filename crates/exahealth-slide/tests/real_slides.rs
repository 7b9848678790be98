//! The real slides in ../shared/testdata/wsi: structure as OpenSlide 4.0.1
//! reports it (figures from testdata/VERIFY.log) and pixels that look like
//! what the slide holds. Pixel equality with OpenSlide itself is checked by
//! bench/compare_openslide.py (crates/exahealth/tests/openslide_compare.rs).

mod common;

use exahealth_slide::{Slide, SlideError};

fn open(rel: &str) -> Option<Slide> {
    let dir = common::testdata()?;
    Some(Slide::open(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}")))
}

#[test]
fn aperio_jpeg_matches_openslide_structure() {
    let Some(s) = open("wsi/aperio/CMU-1-Small-Region.svs") else {
        return;
    };
    assert_eq!(s.vendor(), "aperio");
    assert_eq!(s.level_dimensions(), vec![(2220, 2967)]);
    assert_eq!(
        s.associated_image_names(),
        vec!["label", "macro", "thumbnail"]
    );
    let (mx, my) = s.mpp().expect("mpp");
    assert!((mx - 0.499).abs() < 1e-9 && (my - 0.499).abs() < 1e-9);
    assert_eq!(s.objective_power(), Some(20.0));
    assert_eq!(s.property("openslide.level[0].tile-width"), Some("240"));
    assert!(s.property("aperio.Date").is_some());
    // H&E: tissue is pink-purple (red and blue above green), never green.
    let r = s.read_region(1000, 1000, 0, 256, 256).unwrap();
    let [red, green, blue] = common::mean_rgb(&r.data);
    assert!(
        red > green + 20.0 && blue > green,
        "not H&E colours: {red} {green} {blue}"
    );
    let macro_img = s.read_associated_image("macro").unwrap();
    assert_eq!((macro_img.width, macro_img.height), (1280, 431));
    let thumb = s.read_associated_image("thumbnail").unwrap();
    assert_eq!((thumb.width, thumb.height), (574, 768));
}

#[test]
fn aperio_jpeg2000_reads_both_levels() {
    let Some(s) = open("wsi/aperio/tcga-cr-7395-01a-01-ts1.svs") else {
        return;
    };
    assert_eq!(s.level_dimensions(), vec![(4443, 3567), (2221, 1783)]);
    assert!((s.level_downsamples()[1] - 2.000_56).abs() < 1e-3);
    assert_eq!(s.associated_image_names(), vec!["thumbnail"]);
    let l0 = s.read_region(2000, 1500, 0, 256, 256).unwrap();
    let [r, g, b] = common::mean_rgb(&l0.data);
    assert!(r > g + 20.0 && b > g, "not H&E colours: {r} {g} {b}");
    // Level 1 at the same place, halved, resembles level 0 halved.
    let l1 = s.read_region(2000, 1500, 1, 128, 128).unwrap();
    let l0_half = l0.half();
    assert!(common::psnr(&l0_half.data, &l1.data) > 18.0);
}

#[test]
fn tiny_aperio_smaller_than_its_tile() {
    let Some(s) = open("wsi/aperio/openslide-small.svs") else {
        return;
    };
    assert_eq!(s.level_dimensions(), vec![(16, 16)]);
    let r = s.read_region(0, 0, 0, 32, 32).unwrap();
    assert_eq!(r.pixel(15, 15)[3], 255);
    assert_eq!(
        r.pixel(16, 16),
        [0, 0, 0, 0],
        "outside the image must be transparent"
    );
}

#[test]
fn generic_tiff_levels_and_transparency() {
    let Some(s) = open("wsi/generic-tiff/boxes.tiff") else {
        return;
    };
    assert_eq!(s.vendor(), "generic-tiff");
    assert_eq!(
        s.level_dimensions(),
        vec![(300, 250), (150, 125), (75, 62), (37, 31)]
    );
    assert!((s.mpp().unwrap().0 - 352.77).abs() < 0.01);
    let r = s.read_region(-10, -10, 0, 20, 20).unwrap();
    assert_eq!(r.pixel(0, 0), [0, 0, 0, 0]);
    assert_eq!(r.pixel(15, 15)[3], 255);
    assert_eq!(s.best_level_for_downsample(1.0), 0);
    assert_eq!(s.best_level_for_downsample(3.0), 1);
    assert_eq!(s.best_level_for_downsample(100.0), 3);
    assert_eq!(s.best_level_for_downsample(0.5), 0);
}

#[test]
fn ndpi_has_openslides_seven_levels() {
    let Some(s) = open("wsi/ndpi/test3-DAPI-2-387.ndpi") else {
        return;
    };
    assert_eq!(s.vendor(), "hamamatsu");
    assert_eq!(
        s.level_dimensions(),
        vec![
            (3968, 4864),
            (1984, 2432),
            (992, 1216),
            (496, 608),
            (248, 304),
            (124, 152),
            (62, 76)
        ]
    );
    assert!((s.mpp().unwrap().0 - 0.2281).abs() < 1e-3);
    assert_eq!(s.associated_image_names(), vec!["macro"]);
    // Each level is the previous one halved: compare a region at two levels.
    let a = s.read_region(1024, 1024, 2, 128, 128).unwrap();
    let b = s.read_region(1024, 1024, 3, 64, 64).unwrap();
    assert!(common::psnr(&a.half().data, &b.data) > 25.0);
    // The extra levels (reduced from the smallest page) agree too.
    let c = s.read_region(0, 0, 3, 496, 608).unwrap();
    let d = s.read_region(0, 0, 4, 248, 304).unwrap();
    assert!(common::psnr(&c.half().data, &d.data) > 40.0);
    // DAPI: blue nuclei on black.
    let full = s.read_region(0, 0, 3, 496, 608).unwrap();
    let [r, g, b] = common::mean_rgb(&full.data);
    assert!(b > r && b > g, "DAPI should be blue: {r} {g} {b}");
}

#[test]
fn qptiff_lists_and_reads_channels() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let path = dir.join("wsi/qptiff/small_vectra.qptiff");
    let s = Slide::open(&path).unwrap();
    assert_eq!(s.channel_names(), ["DAPI", "FITC", "Cy3"]);
    assert_eq!(s.level_dimensions()[0], (1920, 1440));
    let mut means = Vec::new();
    for c in 0..3 {
        let s = Slide::open_with(
            &path,
            exahealth_slide::OpenOptions {
                channel: Some(c),
                ..Default::default()
            },
        )
        .unwrap();
        let r = s.read_region(0, 0, 0, 1920, 1440).unwrap();
        // Grayscale: R = G = B everywhere.
        assert!(r.data.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]));
        means.push(common::mean_rgb(&r.data)[0]);
    }
    assert!(
        means[0] != means[1] && means[1] != means[2],
        "channels should differ: {means:?}"
    );
    let err = Slide::open_with(
        &path,
        exahealth_slide::OpenOptions {
            channel: Some(3),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, SlideError::InvalidArgument(_)), "{err}");
}

#[test]
fn not_a_slide_is_a_typed_error() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let err = Slide::open(dir.join("reports/sket/examode.owl")).unwrap_err();
    assert!(matches!(err, SlideError::UnknownFormat { .. }), "{err}");
    assert!(err.to_string().contains("examode.owl"));
    let err = Slide::open(dir.join("no-such-file.svs")).unwrap_err();
    assert!(matches!(err, SlideError::Io { .. }), "{err}");
}

#[test]
fn parallel_reads_equal_sequential_reads() {
    let Some(s) = open("wsi/aperio/CMU-1-Small-Region.svs") else {
        return;
    };
    let s = std::sync::Arc::new(s);
    let places: Vec<(i64, i64)> = (0..12).map(|i| (i * 170, i * 230)).collect();
    let seq: Vec<_> = places
        .iter()
        .map(|&(x, y)| s.read_region(x, y, 0, 300, 300).unwrap())
        .collect();
    let handles: Vec<_> = places
        .iter()
        .map(|&(x, y)| {
            let s = s.clone();
            std::thread::spawn(move || s.read_region(x, y, 0, 300, 300).unwrap())
        })
        .collect();
    for (h, want) in handles.into_iter().zip(seq) {
        assert_eq!(h.join().unwrap(), want);
    }
}

#[test]
fn dicom_series_from_folder_or_any_file() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let folder = dir.join("wsi/dicom-wsi/cmu-1-small-region");
    let a = Slide::open(&folder).unwrap();
    let b = Slide::open(folder.join("level-3-frames-0-1.dcm")).unwrap();
    assert_eq!(a.vendor(), "dicom");
    assert_eq!(a.level_count(), 12);
    assert_eq!(a.level_dimensions(), b.level_dimensions());
    assert_eq!(a.level_dimensions()[0], (2220, 2967));
    assert_eq!(a.level_dimensions()[3], (277, 370));
    assert!((a.mpp().unwrap().0 - 0.499).abs() < 1e-6);
    // The same scan as the Aperio file: level 0 agrees up to JPEG loss.
    let svs = Slide::open(dir.join("wsi/aperio/CMU-1-Small-Region.svs")).unwrap();
    let d = a.read_region(700, 900, 0, 400, 400).unwrap();
    let s = svs.read_region(700, 900, 0, 400, 400).unwrap();
    let p = common::psnr(&d.data, &s.data);
    assert!(p > 28.0, "DICOM and SVS of one scan differ: PSNR {p}");
}

/// `file` without its first (0008,0008) Image Type element, which sits in
/// the top-level data set (explicit VR little endian) of these files.
fn without_image_type(file: &[u8]) -> Vec<u8> {
    let at = file
        .windows(6)
        .position(|w| w == [0x08, 0x00, 0x08, 0x00, b'C', b'S'])
        .expect("an Image Type element");
    let len = u16::from_le_bytes([file[at + 6], file[at + 7]]) as usize;
    let mut out = file[..at].to_vec();
    out.extend_from_slice(&file[at + 8 + len..]);
    out
}

/// Converters in the wild drop Image Type; a file that still declares its
/// total pixel matrix is read as a pyramid level (with a warning), so the
/// same slide opens with the same levels and pixels.
#[test]
fn dicom_levels_without_image_type_still_open() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let folder = dir.join("wsi/dicom-wsi/cmu-1-small-region");
    let tmp = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&folder).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(
            tmp.path().join(path.file_name().unwrap()),
            without_image_type(&bytes),
        )
        .unwrap();
    }
    let original = Slide::open(&folder).unwrap();
    let stripped = Slide::open(tmp.path()).unwrap();
    assert_eq!(stripped.level_dimensions(), original.level_dimensions());
    assert_eq!(stripped.property("dicom.ImageType"), None);
    let a = original.read_region(700, 900, 0, 256, 256).unwrap();
    let b = stripped.read_region(700, 900, 0, 256, 256).unwrap();
    assert!(a.data == b.data, "the same pixels");
    // By one of its files, too.
    let one = Slide::open(tmp.path().join("level-3-frames-0-1.dcm")).unwrap();
    assert_eq!(one.level_count(), 12);
}

#[test]
fn dicom_jpegls_frames_equal_uncompressed_frames() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let raw = Slide::open(dir.join("wsi/dicom-wsi/highdicom_sm_image.dcm")).unwrap();
    let jls = Slide::open(dir.join("wsi/dicom-wsi/highdicom_sm_image_jpegls.dcm")).unwrap();
    assert_eq!(raw.level_dimensions(), vec![(50, 50)]);
    let a = raw.read_region(0, 0, 0, 50, 50).unwrap();
    let b = jls.read_region(0, 0, 0, 50, 50).unwrap();
    assert_eq!(a, b);
    assert!(a.data.chunks_exact(4).all(|p| p[3] == 255));
}

#[test]
fn dicom_thumbnail_and_label_only_files() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let s = Slide::open(dir.join("wsi/dicom-wsi/openslide_boxes_0.dcm")).unwrap();
    assert_eq!(s.level_dimensions(), vec![(16, 16)]);
    assert_eq!(s.objective_power(), Some(20.0));
    let t = s.read_associated_image("thumbnail").unwrap();
    assert_eq!((t.width, t.height), (16, 16));
    let e = Slide::open(dir.join("wsi/dicom-wsi/ez_wsi_label.dcm")).unwrap_err();
    assert!(matches!(e, SlideError::UnknownFormat { .. }), "{e}");
    // Not an image at all: a structured annotation object.
    assert!(Slide::open(dir.join("annotations/highdicom_sm_annotations.dcm")).is_err());
}

#[test]
fn dicom_frame_index_of_real_files() {
    let Some(dir) = common::testdata() else {
        return;
    };
    let bytes = std::fs::read(dir.join("wsi/dicom-wsi/cmu-1-small-region/level-0-frames-0-30.dcm"))
        .unwrap();
    let idx = exahealth_slide::parse_frame_index(&bytes).unwrap();
    assert_eq!(idx.frames.len(), 30);
    assert!(idx.encapsulated);
    for &(off, len) in &idx.frames {
        let f = &bytes[off as usize..(off + len) as usize];
        assert_eq!(&f[..2], &[0xFF, 0xD8], "frame is not a JPEG");
    }
    let raw = std::fs::read(dir.join("wsi/dicom-wsi/highdicom_sm_image.dcm")).unwrap();
    let idx = exahealth_slide::parse_frame_index(&raw).unwrap();
    assert_eq!(idx.frames.len(), 25);
    assert!(!idx.encapsulated && idx.frames.iter().all(|f| f.1 == 300));
}
