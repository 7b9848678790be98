//! `exahealth dataset ...`: DeepHealth dataset YAML files.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use exahealth_data::dataset::{
    generate_from_class_folders, generate_from_image_mask_folders, read_dataset, write_dataset,
    Dataset, Label, SplitFractions,
};
use serde::Serialize;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum DatasetCommand {
    /// Summarise a dataset: classes with counts, splits, features.
    Info {
        yaml: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Validate a dataset and check that every image and mask it names exists.
    ///
    /// Exits non-zero and names the line and field of the first problem.
    Check { yaml: PathBuf },
    /// Write a dataset YAML from a folder tree.
    ///
    /// Classification: DIR/<class>/<image>, or DIR/<split>/<class>/<image>
    /// to take the splits from the tree. Segmentation: --images and --masks
    /// folders whose files pair up by name. Locations are written relative
    /// to the YAML file.
    ///
    /// Example: exahealth dataset generate tiles/ -o tiles/dataset.yml --split 0.7,0.15,0.15
    Generate {
        dir: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        /// Stratified random split "training,validation,test" fractions.
        #[arg(long)]
        split: Option<SplitFractions>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Segmentation: folder of images (under DIR)...
        #[arg(long, requires = "masks")]
        images: Option<PathBuf>,
        /// ...and folder of masks with the same file names.
        #[arg(long, requires = "images")]
        masks: Option<PathBuf>,
        /// Dataset name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Serialize)]
struct Summary<'a> {
    name: Option<&'a str>,
    images: usize,
    classes: Vec<(&'a str, usize)>,
    features: &'a [String],
    masks: usize,
    unlabelled: usize,
    splits: Vec<(&'a str, usize)>,
}

fn summary(d: &Dataset) -> Summary<'_> {
    let counts = d.class_counts();
    Summary {
        name: d.name.as_deref(),
        images: d.samples.len(),
        classes: d.classes.iter().map(String::as_str).zip(counts).collect(),
        features: &d.features,
        masks: d
            .samples
            .iter()
            .filter(|s| matches!(s.label, Some(Label::Mask(_))))
            .count(),
        unlabelled: d.samples.iter().filter(|s| s.label.is_none()).count(),
        splits: d.split.iter().map(|(n, v)| (n.as_str(), v.len())).collect(),
    }
}

pub fn run(cmd: DatasetCommand) -> Result<()> {
    match cmd {
        DatasetCommand::Info { yaml, json } => {
            let d = read_dataset(&yaml)?;
            let s = summary(&d);
            if json {
                println!("{}", serde_json::to_string_pretty(&s)?);
                return Ok(());
            }
            println!("{}: {} images", s.name.unwrap_or("(unnamed)"), s.images);
            for (c, n) in &s.classes {
                println!("  class {c:<20} {n}");
            }
            if s.masks > 0 {
                println!("  with masks           {}", s.masks);
            }
            if s.unlabelled > 0 {
                println!("  unlabelled           {}", s.unlabelled);
            }
            if !s.features.is_empty() {
                println!("  features             {}", s.features.join(", "));
            }
            for (n, k) in &s.splits {
                println!("  split {n:<20} {k}");
            }
        }
        DatasetCommand::Check { yaml } => {
            let d = read_dataset(&yaml)?;
            let mut missing = Vec::new();
            for (i, s) in d.samples.iter().enumerate() {
                let mut paths: Vec<&String> = s.location.iter().collect();
                if let Some(Label::Mask(m)) = &s.label {
                    paths.push(m);
                }
                for p in paths {
                    if !d.resolve(p).exists() {
                        missing.push(format!("images[{i}]: {}", d.resolve(p).display()));
                    }
                }
            }
            if !missing.is_empty() {
                bail!(
                    "{}: {} files are missing:\n  {}",
                    yaml.display(),
                    missing.len(),
                    missing
                        .iter()
                        .take(20)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n  ")
                );
            }
            println!(
                "{}: valid, {} images, all files present",
                yaml.display(),
                d.samples.len()
            );
        }
        DatasetCommand::Generate {
            dir,
            output,
            split,
            seed,
            images,
            masks,
            name,
        } => {
            let mut d = match (images, masks) {
                (Some(i), Some(m)) => {
                    generate_from_image_mask_folders(&dir, &dir.join(i), &dir.join(m), split, seed)?
                }
                _ => generate_from_class_folders(&dir, split, seed)?,
            };
            if name.is_some() {
                d.name = name;
            }
            write_dataset(&d, &output)
                .with_context(|| format!("cannot write {}", output.display()))?;
            let s = summary(&d);
            println!(
                "wrote {}: {} images, {} classes, splits {:?}",
                output.display(),
                s.images,
                s.classes.len(),
                s.splits
            );
        }
    }
    Ok(())
}
