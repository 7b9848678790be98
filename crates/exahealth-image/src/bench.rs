//! Image processing throughput: the 8-bit kernels on one large RGB image
//! (resize, Gaussian blur, Otsu), timed best-of-N, for comparison with
//! OpenCV in the same run (`bench/compare_opencv.py` shares the operation
//! names).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::ops::filter::gaussian_blur_image;
use crate::ops::geometry::{resize_image, Interpolation};
use crate::ops::plane::otsu_image;
use crate::{Axis, ColorType, DataType, Image, ImageError};

/// What [`bench_image`] runs.
#[derive(Debug, Clone)]
pub struct ImageBenchConfig {
    /// Timed runs per operation (the best is reported); at least 1.
    pub repeat: usize,
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Only these operations ([`OPERATIONS`]; empty: all).
    pub ops: Vec<String>,
    /// Also time the float path on an `f32` copy of the image (the path
    /// every non-8-bit image takes).
    pub float: bool,
    /// Write each operation's 8-bit output as `<out>/<name>.npy` (for
    /// agreement checks against another library).
    pub out: Option<PathBuf>,
}

impl ImageBenchConfig {
    /// Refuses a `repeat` of 0 and unknown operation names (before any
    /// image is read).
    pub fn check(&self) -> Result<(), ImageError> {
        if self.repeat == 0 {
            return Err(ImageError::InvalidArgument(
                "--repeat must be at least 1".into(),
            ));
        }
        for name in &self.ops {
            if !OPERATIONS.contains(&name.as_str()) {
                return Err(ImageError::InvalidArgument(format!(
                    "unknown operation {name:?}; known: {}",
                    OPERATIONS.join(", ")
                )));
            }
        }
        Ok(())
    }
}

/// One operation's times.
#[derive(Serialize, Debug, Clone)]
pub struct OpResult {
    /// The operation's name, as in [`OPERATIONS`].
    pub name: &'static str,
    /// Best wall time of the 8-bit path, milliseconds.
    pub ms: f64,
    /// Best wall time of the float path, milliseconds (with `float`).
    pub float_ms: Option<f64>,
    /// The output's array shape, slowest axis first.
    pub output_shape: Vec<usize>,
}

/// What [`bench_image`] found.
#[derive(Serialize, Debug, Clone)]
pub struct ImageBenchReport {
    /// Width of the test image, pixels.
    pub width: usize,
    /// Height of the test image, pixels.
    pub height: usize,
    /// Worker threads used.
    pub threads: usize,
    /// Runs per operation; the best is kept.
    pub repeat: usize,
    /// One entry per operation, in [`OPERATIONS`] order.
    pub results: Vec<OpResult>,
}

type Op = fn(&Image) -> Result<Image, ImageError>;

/// The operations, by the names `bench/compare_opencv.py` shares:
/// `resize_linear_half` (OpenCV's INTER_LINEAR to half size),
/// `resize_area_half` (INTER_AREA), `resize_linear_3000` (to 3000x3000, a
/// non-integer factor for 4096 input), `resize_cubic_half` (INTER_CUBIC),
/// `resize_linear_5000` and `resize_cubic_5000` (enlargements for 4096
/// input), `gaussian_s1` and `gaussian_s3` (sigma 1 and 3, reflect-101
/// border), `otsu` (RGB to gray, histogram, Otsu threshold, binary mask).
pub const OPERATIONS: [&str; 9] = [
    "resize_linear_half",
    "resize_area_half",
    "resize_linear_3000",
    "resize_cubic_half",
    "resize_linear_5000",
    "resize_cubic_5000",
    "gaussian_s1",
    "gaussian_s3",
    "otsu",
];

const OPS: [(&str, Op); 9] = [
    ("resize_linear_half", |i| half(i, Interpolation::Linear)),
    ("resize_area_half", |i| half(i, Interpolation::Area)),
    ("resize_linear_3000", |i| {
        resize_image(i, 3000, 3000, Interpolation::Linear)
    }),
    ("resize_cubic_half", |i| half(i, Interpolation::Cubic)),
    ("resize_linear_5000", |i| {
        resize_image(i, 5000, 5000, Interpolation::Linear)
    }),
    ("resize_cubic_5000", |i| {
        resize_image(i, 5000, 5000, Interpolation::Cubic)
    }),
    ("gaussian_s1", |i| gaussian_blur_image(i, 1.0, 1.0)),
    ("gaussian_s3", |i| gaussian_blur_image(i, 3.0, 3.0)),
    ("otsu", |i| Ok(otsu_image(i)?.1)),
];

fn half(img: &Image, interp: Interpolation) -> Result<Image, ImageError> {
    let (w, h) = (img.len_of(Axis::X), img.len_of(Axis::Y));
    resize_image(img, w.div_ceil(2), h.div_ceil(2), interp)
}

/// A `size` x `size` 8-bit RGB image of gradients in each channel plus
/// deterministic noise (an LCG): smooth areas and edges, like a slide
/// region, without a file.
pub fn generated_image(size: usize) -> Result<Image, ImageError> {
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
    Image::from_hwc_u8(size, size, 3, px, ColorType::Rgb)
}

fn best_ms(img: &Image, op: Op, repeat: usize) -> Result<(f64, Image), ImageError> {
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

/// Runs each chosen operation on `img` (8-bit RGB) once untimed, then
/// `repeat` times, on a pool of `threads` threads, and reports the best
/// times.
pub fn bench_image(img: &Image, config: &ImageBenchConfig) -> Result<ImageBenchReport, ImageError> {
    config.check()?;
    if img.dtype() != DataType::U8 || img.color() != ColorType::Rgb {
        return Err(ImageError::Unsupported(format!(
            "the benchmark takes an 8-bit RGB image; this one is {} {:?}",
            img.dtype().name(),
            img.color()
        )));
    }
    let img = img.to_interleaved()?;
    let (width, height) = (img.len_of(Axis::X), img.len_of(Axis::Y));
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads)
        .build()
        .map_err(|e| {
            ImageError::InvalidArgument(format!("cannot start the worker threads: {e}"))
        })?;
    let threads = pool.current_num_threads();
    if let Some(dir) = &config.out {
        create_dir(dir)?;
    }
    let floats = config.float.then(|| img.cast(DataType::F32));
    let mut results = Vec::new();
    for (name, op) in OPS {
        if !config.ops.is_empty() && !config.ops.iter().any(|n| n == name) {
            continue;
        }
        let (ms, out) = pool.install(|| best_ms(&img, op, config.repeat))?;
        let float_ms = match &floats {
            // Otsu is defined on 8-bit histograms: no float path.
            Some(f) if name != "otsu" => Some(pool.install(|| best_ms(f, op, config.repeat))?.0),
            _ => None,
        };
        if let Some(dir) = &config.out {
            let path = dir.join(format!("{name}.npy"));
            crate::io::write(&path, &out).map_err(|e| match e {
                // Already names the file.
                e @ ImageError::Io { .. } => e,
                e => ImageError::Write {
                    path: path.clone(),
                    source: Box::new(e),
                },
            })?;
        }
        results.push(OpResult {
            name,
            ms,
            float_ms,
            output_shape: out.shape().to_vec(),
        });
    }
    Ok(ImageBenchReport {
        width,
        height,
        threads,
        repeat: config.repeat,
        results,
    })
}

fn create_dir(dir: &Path) -> Result<(), ImageError> {
    std::fs::create_dir_all(dir).map_err(|e| ImageError::io("create", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_a_name_and_runs_on_a_small_image() {
        let names: Vec<&str> = OPS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, OPERATIONS);
        let img = generated_image(64).unwrap();
        let config = ImageBenchConfig {
            repeat: 1,
            threads: 1,
            ops: vec!["resize_area_half".into(), "otsu".into()],
            float: true,
            out: None,
        };
        let r = bench_image(&img, &config).unwrap();
        assert_eq!((r.width, r.height, r.threads), (64, 64, 1));
        let got: Vec<(&str, bool)> = r
            .results
            .iter()
            .map(|o| (o.name, o.float_ms.is_some()))
            .collect();
        assert_eq!(got, [("resize_area_half", true), ("otsu", false)]);
        assert_eq!(
            r.results[0].output_shape.iter().product::<usize>(),
            32 * 32 * 3
        );
        let bad = ImageBenchConfig {
            ops: vec!["sharpen".into()],
            ..config
        };
        let e = bench_image(&img, &bad).unwrap_err().to_string();
        assert!(e.starts_with("unknown operation \"sharpen\""), "{e}");
    }
}
