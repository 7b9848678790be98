//! Not a fuzz target: writes the seeds made in code into `corpus/<target>/`
//! and exits before fuzzing starts. Run from `fuzz/`:
//!
//! ```sh
//! cargo fuzz run write_seeds
//! ```
//!
//! - the crafted hostile inputs of `exahealth-hostile` (TIFF tag bomb, wide
//!   level, Philips bad spacing, far XLSX cells, huge RLE / JPEG-LS DICOM,
//!   many fragments, WSI JPEG-LS component mismatch);
//! - small synthetic slides of the vendors and tile codecs the shared test
//!   data lacks (Philips, OME, BigTIFF; raw, LZW, deflate, zstd tiles);
//! - a small PNG and JPEG, a report CSV, a dataset YAML, and a saved patch
//!   plan (`plan.json` NUL `patches.csv`).
//!
//! It is built like the targets (`cargo fuzz build`), so it needs no second,
//! uninstrumented build of the libraries. The real files of
//! `../shared/testdata` are copied by the shell commands in the README.
#![no_main]

use exahealth_hostile as hostile;
use exahealth_hostile::tiff::{self as ht, TiffBuilder, Val};
use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};
use exahealth_slide::writer::TileCompression;
use libfuzzer_sys::fuzz_target;
use std::io::Write;
use std::path::{Path, PathBuf};

const SPLIT: &[u8] = b"EXASPLIT";

fn corpus(target: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("corpus folder");
    dir
}

fn put(target: &str, name: &str, bytes: &[u8]) {
    let path = corpus(target).join(name);
    std::fs::write(&path, bytes).expect("write seed");
    println!("{:>9} bytes  {}", bytes.len(), path.display());
}

fn join(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(SPLIT);
        }
        out.extend_from_slice(p);
    }
    out
}

fn jls(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../crates/exahealth-codec/tests/data/jls")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Width and height from a JPEG-LS frame header (SOF55).
fn jls_size(s: &[u8]) -> (u16, u16) {
    let i = s.windows(2).position(|w| w == [0xFF, 0xF7]).expect("SOF55");
    let h = u16::from_be_bytes([s[i + 5], s[i + 6]]);
    let w = u16::from_be_bytes([s[i + 7], s[i + 8]]);
    (w, h)
}

/// A two-level tiled RGB TIFF (32x32 in 16x16 tiles, then 16x16), every
/// tile compressed with `compression` by `encode`.
fn codec_tiff(compression: u32, predictor: u32, encode: &dyn Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let mut t = TiffBuilder::new();
    let mut levels = Vec::new();
    for (size, tiles) in [(32u32, 4u32), (16, 1)] {
        let mut offsets = Vec::new();
        let mut counts = Vec::new();
        for k in 0..tiles {
            let raw: Vec<u8> = (0..16 * 16 * 3).map(|i| ((i * 7 + k as usize * 40) % 251) as u8).collect();
            let enc = encode(&raw);
            counts.push(enc.len() as u32);
            let b = t.block(enc);
            offsets.push(t.offset_of(b));
        }
        let (off, cnt) = if tiles == 1 {
            (Val::Inline(offsets[0]), Val::Inline(counts[0]))
        } else {
            let o: Vec<u8> = offsets.iter().flat_map(|v| v.to_le_bytes()).collect();
            let c: Vec<u8> = counts.iter().flat_map(|v| v.to_le_bytes()).collect();
            (Val::Block(t.block(o)), Val::Block(t.block(c)))
        };
        levels.push((size, tiles, off, cnt));
    }
    for (size, tiles, off, cnt) in levels {
        let mut e = ht::tiled_rgb_level((size, size), (16, 16), tiles, off, cnt);
        for entry in &mut e {
            if entry.0 == 259 {
                entry.3 = Val::Inline(compression);
            }
        }
        if predictor != 1 {
            e.push((317, ht::SHORT, 1, Val::Inline(predictor)));
        }
        t.ifd(e);
    }
    t.build()
}

fn synthetic(name: &str, width: u64, height: u64, f: impl FnOnce(&mut SynthOptions)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(name);
    let mut o = SynthOptions::new(width, height);
    o.writer.tile_size = 64;
    o.writer.compression = TileCompression::Jpeg { quality: 40 };
    f(&mut o);
    write_synthetic_slide(&path, &o).expect("synthetic slide");
    std::fs::read(&path).expect("read synthetic slide")
}

fn slides() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    out.push(("hostile-tiff_tag_bomb.tiff".into(), hostile::tiff_tag_bomb()));
    out.push(("hostile-tiff_wide_level.tiff".into(), hostile::tiff_wide_level()));
    out.push(("hostile-philips_bad_spacing.tiff".into(), hostile::philips_bad_spacing()));
    out.push(("codec-raw.tiff".into(), codec_tiff(1, 1, &|b| b.to_vec())));
    out.push((
        "codec-lzw.tiff".into(),
        codec_tiff(5, 1, &|b| {
            weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
                .encode(b)
                .expect("lzw")
        }),
    ));
    let zlib = |b: &[u8]| {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(b).expect("zlib");
        e.finish().expect("zlib")
    };
    out.push(("codec-deflate.tiff".into(), codec_tiff(8, 1, &zlib)));
    out.push(("codec-deflate-old.tiff".into(), codec_tiff(32946, 1, &zlib)));
    out.push((
        "codec-zstd.tiff".into(),
        codec_tiff(50000, 1, &|b| {
            ruzstd::encoding::compress_to_vec(b, ruzstd::encoding::CompressionLevel::Fastest)
        }),
    ));
    out.push((
        "synth-aperio-jpeg.svs".into(),
        synthetic("a.svs", 384, 256, |o| {
            o.writer.description = Some(
                "Aperio Image Library v12.0.15 \r\n384x256 [0,0 384x256] (64x64) JPEG/RGB Q=40|AppMag = 20|MPP = 0.5"
                    .into(),
            );
        }),
    ));
    out.push((
        "synth-generic-deflate.tiff".into(),
        synthetic("g.tiff", 320, 200, |o| {
            o.writer.compression = TileCompression::Deflate;
            o.writer.description = None;
        }),
    ));
    out.push((
        "synth-bigtiff.tiff".into(),
        synthetic("b.tiff", 256, 256, |o| {
            o.writer.bigtiff = Some(true);
        }),
    ));
    out.push((
        "synth-philips.tiff".into(),
        synthetic("p.tiff", 320, 256, |o| {
            o.writer.description = Some(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" ?><DataObject ObjectType=\"DPUfsImport\">\
                 <Attribute Name=\"DICOM_MANUFACTURER\" Group=\"0x0008\" Element=\"0x0070\" PMSVR=\"IString\">PHILIPS</Attribute>\
                 <Attribute Name=\"DICOM_PIXEL_SPACING\" Group=\"0x0028\" Element=\"0x0030\" PMSVR=\"IDoubleArray\">&quot;0.000227&quot; &quot;0.000227&quot;</Attribute>\
                 </DataObject>"
                    .into(),
            );
        }),
    ));
    out.push((
        "synth-ome.tiff".into(),
        synthetic("o.ome.tiff", 320, 256, |o| {
            o.writer.description = Some(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">\
                 <Instrument ID=\"Instrument:0\"><Objective ID=\"Objective:0\" NominalMagnification=\"20.0\"/></Instrument>\
                 <Image ID=\"Image:0\" Name=\"macro\"><Pixels ID=\"Pixels:0\" DimensionOrder=\"XYCZT\" Type=\"uint8\" SizeX=\"320\" SizeY=\"256\" SizeC=\"3\" SizeZ=\"1\" SizeT=\"1\" PhysicalSizeX=\"0.5\" PhysicalSizeY=\"0.5\"/></Image>\
                 </OME>"
                    .into(),
            );
        }),
    ));
    out
}

fn init() {
    let gray8 = jls("gray8_lossless.jls");
    let (w, h) = jls_size(&gray8);

    for (name, bytes) in slides() {
        put("slide_open", &name, &bytes);
        if name.starts_with("codec-") || name.starts_with("synth-generic") {
            put("raster", &name, &bytes);
        }
    }

    let mismatch = hostile::dicom_wsi_jpegls_component_mismatch(&gray8, w, h);
    put("dicom_wsi", "hostile-dicom_wsi_jpegls_component_mismatch.dcm", &mismatch);
    for target in ["raster", "dicom_series"] {
        put(target, "hostile-dicom_rle_huge.dcm", &hostile::dicom_rle_huge());
        put(target, "hostile-dicom_jpegls_huge.dcm", &hostile::dicom_jpegls_huge(&gray8));
        put(target, "hostile-dicom_many_fragments-64.dcm", &hostile::dicom_many_fragments(64));
        put(target, "hostile-dicom_wsi_jpegls_component_mismatch.dcm", &mismatch);
    }
    put(
        "dicom_series",
        "hostile-many_fragments-x3.dcm",
        &join(&[
            &hostile::dicom_many_fragments(8),
            &hostile::dicom_many_fragments(16),
            &hostile::dicom_many_fragments(4),
        ]),
    );

    // PNG and JPEG for the raster sniffer.
    let mut img = exahealth_slide::RgbaImage::transparent(24, 16);
    for (i, b) in img.data.iter_mut().enumerate() {
        *b = (i * 13 % 256) as u8;
    }
    put("raster", "synth-rgba.png", &img.to_png().expect("png"));
    let mut jpeg = Vec::new();
    let rgb = img.to_rgb_on_white();
    jpeg_encoder::Encoder::new(&mut jpeg, 80)
        .encode(&rgb, 24, 16, jpeg_encoder::ColorType::Rgb)
        .expect("jpeg");
    put("raster", "synth-rgb.jpg", &jpeg);

    // Reports.
    put("reports", "hostile-xlsx_far_cells.xlsx", &hostile::xlsx_far_cells());
    put(
        "reports",
        "small.csv",
        b"id,text,slide_id,lang,use_case\nr1,\"Adenoma tubulare con displasia di basso grado.\",s1;s2,it,colon\n\
          r2,No evidence of malignancy.,s3,en,cervix\nr3,Adenocarcinoma of the lung.,,en,lung\n",
    );

    // Dataset YAML (the shape of ECVL's example).
    put(
        "dataset_yaml",
        "ecvl-example.yml",
        b"%YAML:1.2\n---\nname: demo\ndescription: >\n  two\n  lines\nclasses: [tumour, stroma, fat]\n\
          features: [age, site]\nimages:\n  - location: scans/one.png\n    label: [stroma]\n    values: [61, null]\n\
          \x20 - location: scans/two.png\n    label: 2\n    values: { age: 48 }\n  - location: [p/a.png, p/b.png]\n\
          \x20   label: masks/m.png\n  - scans/three.png\nsplit:\n  training: [0, 1]\n  validation: [2]\n  test: [3]\n",
    );

    // A saved patch plan of a small synthetic slide.
    let dir = tempfile::tempdir().expect("tempdir");
    let slide_path = dir.path().join("s.tiff");
    std::fs::write(&slide_path, synthetic("s.tiff", 1024, 768, |_| {})).expect("slide");
    let slide = exahealth_slide::Slide::open(&slide_path).expect("open synthetic slide");
    use exahealth_data::plan::{plan_slide, PlanParams, Resolution, PATCHES_FILE, PLAN_FILE};
    for (name, res, size) in [("level0-128", Resolution::Level(0), 128u32), ("ds2-64", Resolution::Downsample(2.0), 64)] {
        let mut params = PlanParams::new(res, size);
        params.min_tissue = 0.0;
        let planned = plan_slide(&slide, &params, None).expect("plan");
        let out = dir.path().join(name);
        planned.plan.save(&out).expect("save plan");
        let mut seed = std::fs::read(out.join(PLAN_FILE)).expect("plan.json");
        seed.push(0);
        seed.extend(std::fs::read(out.join(PATCHES_FILE)).expect("patches.csv"));
        put("plan_files", &format!("{name}.plan"), &seed);
    }

    // write_seeds itself has no corpus.
    let own = corpus("write_seeds");
    let _ = std::fs::remove_dir(own);
    std::process::exit(0);
}

fuzz_target!(init: { init() }, |_data: &[u8]| {});
