//! `exahealth bench image`: the 8-bit processing kernels on one large RGB
//! image (resize, Gaussian blur, Otsu), timed best-of-N, for comparison
//! with OpenCV in the same run (`bench/compare_opencv.py`).

use anyhow::{Context, Result};
use clap::Args;
use exahealth_image::bench::{bench_image, generated_image, ImageBenchConfig, ImageBenchReport};
use serde::Serialize;
use std::path::PathBuf;

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

/// The JSON `--json` prints: the input, then the library's report.
#[derive(Serialize)]
struct Report<'a> {
    input: String,
    #[serde(flatten)]
    report: &'a ImageBenchReport,
}

pub fn run(a: ImageBenchArgs) -> Result<()> {
    let config = ImageBenchConfig {
        repeat: a.repeat,
        threads: a.threads,
        ops: a.ops,
        float: a.float,
        out: a.out,
    };
    config.check()?;
    let img = match &a.input {
        Some(p) => {
            exahealth_image::io::read(p).with_context(|| format!("cannot read {}", p.display()))?
        }
        None => generated_image(a.size)?,
    };
    let report = bench_image(&img, &config)?;
    let input = a.input.as_ref().map_or_else(
        || format!("generated {0}x{0} RGB", a.size),
        |p| p.display().to_string(),
    );
    if a.json {
        let r = Report {
            input,
            report: &report,
        };
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!(
        "{} ({}x{}), {} threads, best of {}",
        input, report.width, report.height, report.threads, a.repeat
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
