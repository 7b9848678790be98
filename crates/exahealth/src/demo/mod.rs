//! `exahealth demo`: the main job on built-in defaults. The slide layer on
//! a synthetic gigapixel slide, then ExaMode's weak-label pipeline on
//! synthetic biopsies: report labels, patch plans, embeddings, attention
//! MIL, prediction with attention maps (`mil.rs`).

mod mil;

use crate::slide::{info, open, print_bench, print_info, run_bench, BenchArgs, OpenArgs};
use anyhow::{Context, Result};
use clap::Args;
use exahealth_slide::synth::{write_synthetic_slide, SynthOptions};
use std::path::PathBuf;

#[derive(Args)]
pub struct DemoArgs {
    /// Folder for the demo's outputs.
    #[arg(long, default_value = "exahealth-demo")]
    out: PathBuf,
    /// Width and height of the synthetic slide, in pixels.
    #[arg(long, default_value_t = 20_000)]
    size: u64,
}

pub fn run(a: DemoArgs) -> Result<()> {
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let slide_path = a.out.join("synthetic.tiff");
    println!("1. synthesising a {0} x {0} pyramidal slide", a.size);
    let r = write_synthetic_slide(&slide_path, &SynthOptions::new(a.size, a.size))?;
    println!(
        "   {}: {} levels, {} tiles, {:.1} MB",
        slide_path.display(),
        r.levels.len(),
        r.tiles,
        r.bytes as f64 / 1e6
    );
    println!("2. slide info");
    let slide = open(&slide_path, &OpenArgs::default())?;
    print_info(&info(&slide));
    println!("3. thumbnail and a region");
    let thumb = slide.thumbnail(512)?;
    let thumb_path = a.out.join("thumbnail.png");
    thumb.save_png(&thumb_path)?;
    println!(
        "   {} ({}x{})",
        thumb_path.display(),
        thumb.width,
        thumb.height
    );
    let centre = (a.size / 2) as i64;
    let region = slide.read_region(centre - 512, centre - 512, 0, 1024, 1024)?;
    let region_path = a.out.join("region.png");
    region.save_png(&region_path)?;
    println!(
        "   {} (1024x1024 at the centre, level 0)",
        region_path.display()
    );
    println!("4. read benchmark (level 0, 256x256 regions)");
    let bench = BenchArgs {
        path: slide_path,
        level: 0,
        tile: 256,
        threads: None,
        cache_mib: 64,
        json: false,
    };
    let fresh = open(&bench.path, &OpenArgs::default())?;
    print_bench(&run_bench(&fresh, &bench, true)?);
    mil::run(&a.out)
}
