//! `exahealth bench image`: the 8-bit processing kernels on one large RGB
//! image (resize, Gaussian blur, Otsu), timed best-of-N, for comparison
//! with OpenCV in the same run (`bench/compare_opencv.py`).

use anyhow::{bail, Context, Result};
use clap::Args;
use exahealth_image::ops::filter::gaussian_blur_image;
use exahealth_image::ops::geometry::{resize_image, Interpolation};
use exahealth_image::ops::plane::otsu_image;
use exahealth_image::{ColorType, DataType, Image};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
#[command(after_help = "Operations (names shared with bench/compare_opencv.py):
  resize_linear_half   linear to half size (OpenCV: INTER_LINEAR)
  resize_area_half     area to half size (INTER_AREA)
  resize_linear_3000   linear to 3000x3000, a non-integer factor for 4096 input
  resize_cubic_half    cubic to half size (INTER_CUBIC)
  resize_linear_5000   linear to 5000x5000, an enlargement for 4096 input
  resize_cubic_5000    cubic to 5000x5000
  gaussian_s1          Gaussian blur, sigma 1 (7 taps), reflect-101 border
  gaussian_s3          Gaussian blur, sigma 3 (19 taps)
  otsu                 RGB to gray, histogram, Otsu threshold, binary mask
Each is run once untimed, then --repeat times; the best time is reported.
With --float the same operations also run on a float copy of the image
(the path every non-8-bit image takes).")]
pub struct ImageBenchArgs {
    /// An 8-bit RGB image to process (PNG, JPEG, TIFF...). Default: a
    /// generated SIZE x SIZE image of gradients and noise.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Side of the generated image, pixels.
    #[arg(long, default_value_t = 4096)]
    pub size: usize,
    /// Timed runs per operation (the best is reported).
    #[arg(long, default_value_t = 5)]
    pub repeat: usize,
    /// Worker threads (0: all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Only these operations (comma-separated names; default all).
    #[arg(long, value_delimiter = ',')]
    pub ops: Vec<String>,
    /// Also time the float path on an f32 copy of the image.
    #[arg(long)]
    pub float: bool,
    /// Write each operation's 8-bit output as OUT/<name>.npy (for
    /// agreement checks against another library).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct OpResult {
    name: &'static str,
    /// Best wall time of the 8-bit path, milliseconds.
    ms: f64,
    /// Best wall time of the float path, milliseconds (with --float).
    float_ms: Option<f64>,
    output_shape: Vec<usize>,
}

#[derive(Serialize)]
struct Report {
    input: String,
    width: usize,
    height: usize,
    threads: usize,
    repeat: usize,
    results: Vec<OpResult>,
}

type Op = fn(&Image) -> Result<Image>;

const OPS: [(&str, Op); 9] = [
    ("resize_linear_half", |i| half(i, Interpolation::Linear)),
    ("resize_area_half", |i| half(i, Interpolation::Area)),
    ("resize_linear_3000", |i| {
        Ok(resize_image(i, 3000, 3000, Interpolation::Linear)?)
    }),
    ("resize_cubic_half", |i| half(i, Interpolation::Cubic)),
    ("resize_linear_5000", |i| {
        Ok(resize_image(i, 5000, 5000, Interpolation::Linear)?)
    }),
    ("resize_cubic_5000", |i| {
        Ok(resize_image(i, 5000, 5000, Interpolation::Cubic)?)
    }),
    ("gaussian_s1", |i| Ok(gaussian_blur_image(i, 1.0, 1.0)?)),
    ("gaussian_s3", |i| Ok(gaussian_blur_image(i, 3.0, 3.0)?)),
    ("otsu", |i| Ok(otsu_image(i)?.1)),
];

fn half(img: &Image, interp: Interpolation) -> Result<Image> {
    let (w, h) = (
        img.len_of(exahealth_image::Axis::X),
        img.len_of(exahealth_image::Axis::Y),
    );
    Ok(resize_image(img, w.div_ceil(2), h.div_ceil(2), interp)?)
}

/// Gradients in each channel plus deterministic noise (an LCG): smooth
/// areas and edges, like a slide region, without a file.
fn generated(size: usize) -> Result<Image> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut px = Vec::with_capacity(size * size * 3);
    for y in 0..size {
        for x in 0..size {
            for c in 0..3 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let noise = (state >> 59) as i64 - 16;
                let base = ((x * (c + 1) + y * (3 - c)) / 16 % 256) as i64;
                px.push((base + noise).clamp(0, 255) as u8);
            }
        }
    }
    Ok(Image::from_hwc_u8(size, size, 3, px, ColorType::Rgb)?)
}

fn best_ms(img: &Image, op: Op, repeat: usize) -> Result<(f64, Image)> {
    let out = op(img)?;
    let mut best = f64::INFINITY;
    for _ in 0..repeat {
        let t0 = Instant::now();
        let r = op(img)?;
        best = best.min(t0.elapsed().as_secs_f64() * 1e3);
        drop(r);
    }
    Ok((best, out))
}

pub fn run(a: ImageBenchArgs) -> Result<()> {
    if a.repeat == 0 {
        bail!("--repeat must be at least 1");
    }
    for name in &a.ops {
        if !OPS.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
            bail!("unknown operation {name:?}; known: {}", known.join(", "));
        }
    }
    let img = match &a.input {
        Some(p) => {
            exahealth_image::io::read(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => generated(a.size)?,
    };
    if img.dtype() != DataType::U8 || img.color() != ColorType::Rgb {
        bail!(
            "the benchmark takes an 8-bit RGB image; this one is {} {:?}",
            img.dtype().name(),
            img.color()
        );
    }
    let img = img.to_interleaved()?;
    let (width, height) = (
        img.len_of(exahealth_image::Axis::X),
        img.len_of(exahealth_image::Axis::Y),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(a.threads)
        .build()
        .context("cannot start the worker threads")?;
    let threads = pool.current_num_threads();
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let floats = a.float.then(|| img.cast(DataType::F32));
    let mut results = Vec::new();
    for (name, op) in OPS {
        if !a.ops.is_empty() && !a.ops.iter().any(|n| n == name) {
            continue;
        }
        let (ms, out) = pool.install(|| best_ms(&img, op, a.repeat))?;
        let float_ms = match &floats {
            // Otsu is defined on 8-bit histograms: no float path.
            Some(f) if name != "otsu" => Some(pool.install(|| best_ms(f, op, a.repeat))?.0),
            _ => None,
        };
        if let Some(dir) = &a.out {
            let path = dir.join(format!("{name}.npy"));
            exahealth_image::io::write(&path, &out)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        results.push(OpResult {
            name,
            ms,
            float_ms,
            output_shape: out.shape().to_vec(),
        });
    }
    let report = Report {
        input: a.input.as_ref().map_or_else(
            || format!("generated {0}x{0} RGB", a.size),
            |p| p.display().to_string(),
        ),
        width,
        height,
        threads,
        repeat: a.repeat,
        results,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{} ({}x{}), {} threads, best of {}",
        report.input, width, height, threads, a.repeat
    );
    println!(
        "  {:<20} {:>10} {:>12}",
        "operation", "8-bit ms", "float ms"
    );
    for r in &report.results {
        let f = r
            .float_ms
            .map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
        println!("  {:<20} {:>10.2} {:>12}", r.name, r.ms, f);
    }
    Ok(())
}
