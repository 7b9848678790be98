//! `exahealth annotations ...`: slide annotations (ASAP XML, QuPath GeoJSON).

use anyhow::{Context, Result};
use clap::Subcommand;
use exahealth_data::annotations::{self, Summary};
use serde::Serialize;
use std::path::PathBuf;

const FORMATS: &str = "Formats: ASAP XML (.xml, read and write), QuPath GeoJSON (.geojson or \
    .json, read and write; FeatureCollection, Feature or array of features), Sedeen and \
    Halo XML (.xml, read only; told apart by their root element). Coordinates are level-0 \
    pixels.";

#[derive(Subcommand)]
pub enum AnnotationsCommand {
    /// Count annotations per geometry type and class, with areas and the
    /// bounding box.
    ///
    /// Reads ASAP XML, QuPath GeoJSON, Sedeen or Halo XML. Areas are in
    /// square level-0 pixels (multiply by the slide's mpp squared for µm²).
    ///
    /// Example: exahealth annotations info tumor_001.xml --json
    #[command(after_help = FORMATS)]
    Info {
        /// The annotation file.
        file: PathBuf,
        /// Print JSON (for scripts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Convert annotations between ASAP XML and QuPath GeoJSON.
    ///
    /// The extensions choose the formats: .xml is ASAP XML, .geojson or
    /// .json GeoJSON. Classes travel as ASAP groups / QuPath
    /// classifications. ASAP has no holes: a polygon with holes stops the
    /// conversion to .xml (keep GeoJSON), and GeoJSON multipolygons become
    /// one ASAP polygon per part. ASAP rectangles and splines survive a trip
    /// through GeoJSON. The output is written atomically.
    ///
    /// Example: exahealth annotations convert tumor_001.xml tumor_001.geojson
    #[command(after_help = FORMATS)]
    Convert {
        /// The file to read.
        input: PathBuf,
        /// The file to write (replaced if it exists).
        output: PathBuf,
    },
}

#[derive(Serialize)]
struct Info<'a> {
    file: String,
    format: &'static str,
    #[serde(flatten)]
    summary: &'a Summary,
}

pub fn run(cmd: AnnotationsCommand) -> Result<()> {
    match cmd {
        AnnotationsCommand::Info { file, json } => {
            let (set, format) =
                annotations::read_with_format(&file).context("cannot read annotations")?;
            let summary = set.summary();
            if json {
                let info = Info {
                    file: file.display().to_string(),
                    format: format.name(),
                    summary: &summary,
                };
                println!("{}", serde_json::to_string_pretty(&info)?);
                return Ok(());
            }
            print_summary(&file.display().to_string(), format.name(), &summary);
        }
        AnnotationsCommand::Convert { input, output } => {
            let (set, from, to) = annotations::convert(&input, &output).with_context(|| {
                format!("cannot convert {} to {}", input.display(), output.display())
            })?;
            println!(
                "wrote {} ({}): {} annotations from {} ({})",
                output.display(),
                to.name(),
                set.annotations.len(),
                input.display(),
                from.name()
            );
            let multi = set
                .annotations
                .iter()
                .filter(|a| matches!(a.geometry, annotations::Geometry::MultiPolygon(_)))
                .count();
            if to == annotations::Format::Asap && multi > 0 {
                println!("note: {multi} multipolygons were split into one ASAP polygon per part");
            }
        }
    }
    Ok(())
}

fn print_summary(file: &str, format: &str, s: &Summary) {
    println!(
        "{file} ({format}): {} annotations, {} groups, {} vertices",
        s.annotations, s.groups, s.vertices
    );
    for (kind, n) in &s.by_geometry {
        println!("  geometry {kind:<16} {n:>8}");
    }
    for c in &s.by_class {
        let name = c.class.as_deref().unwrap_or("(none)");
        if c.area > 0.0 {
            println!(
                "  class    {name:<16} {:>8}   area {:.0} px²",
                c.count, c.area
            );
        } else {
            println!("  class    {name:<16} {:>8}", c.count);
        }
    }
    match &s.bounds {
        Some(b) => println!(
            "  bounds   x {:.1}..{:.1}, y {:.1}..{:.1} (level-0 pixels, {:.0} x {:.0})",
            b.min_x,
            b.max_x,
            b.min_y,
            b.max_y,
            b.max_x - b.min_x,
            b.max_y - b.min_y
        ),
        None => println!("  (no annotations)"),
    }
}
