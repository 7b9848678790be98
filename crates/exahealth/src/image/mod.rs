//! `exahealth image ...`: medical image files (DICOM, DICOM series folders,
//! NIfTI, PNG, JPEG, TIFF).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use exahealth_image::io;
use exahealth_image::{Axis, Image, ImageData};
use serde::Serialize;

#[derive(Subcommand)]
pub enum ImageCommand {
    /// Describe an image: format, dimensions, layout, element type, spacing,
    /// colour, value range and key metadata.
    ///
    /// PATH may be a DICOM file (with or without preamble, .dcm.gz too), a
    /// folder holding one DICOM series (read as a volume sorted along the slice
    /// normal), a NIfTI-1/2 file (.nii, .nii.gz), PNG, JPEG or TIFF. The
    /// format is sniffed from the content, not the extension. Dimensions are
    /// listed fastest axis first (ECVL order: x = columns, y = rows, z =
    /// slices or frames, c = channels, t = time); spacing is in millimetres
    /// for x, y, z. Values are the stored ones (before rescale slope/intercept).
    ///
    /// Example: exahealth image info scans/ct_series/ --json
    Info {
        /// Image file or DICOM series folder.
        path: PathBuf,
        /// Print one JSON object (all metadata included) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Convert between formats; the output format follows OUT's extension.
    ///
    /// Outputs: .nii / .nii.gz (NIfTI-1, stored values with scl_slope/scl_inter
    /// from the DICOM rescale, affine from the DICOM geometry), .dcm (Secondary
    /// Capture, 8/16-bit gray or 8-bit RGB), .png / .jpg / .tif (one 2-D picture:
    /// grayscale is windowed to 8 bits), .npy (the stored array, for NumPy).
    ///
    /// For pictures the window is --window if given, else the first window in
    /// the file's metadata, else the full value range; MONOCHROME1 is inverted.
    /// All outputs are written atomically (temporary file, then rename).
    ///
    /// Examples:
    ///   exahealth image convert scans/ct_series/ ct.nii.gz
    ///   exahealth image convert ct.nii.gz slice.png --slice 40 --window 40,400
    Convert {
        /// Input image file or DICOM series folder.
        input: PathBuf,
        /// Output file; its extension picks the format.
        output: PathBuf,
        /// Window as CENTER,WIDTH in modality units (e.g. Hounsfield units for
        /// CT: 40,400 soft tissue, -600,1500 lung). Implies 8-bit output.
        #[arg(long, value_parser = parse_window, allow_hyphen_values = true)]
        window: Option<(f64, f64)>,
        /// Keep only slice N (0-based) along z (or along t for a 4-D image
        /// without z; see --axis). Needed to write a volume as a picture.
        #[arg(long)]
        slice: Option<usize>,
        /// Axis that --slice indexes: z (slices/frames) or t (time/volumes).
        #[arg(long, default_value = "z", requires = "slice")]
        axis: SliceAxis,
        /// For .tif/.png: write 16-bit stored values instead of an 8-bit picture.
        #[arg(long, conflicts_with = "window")]
        raw: bool,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum SliceAxis {
    Z,
    T,
}

fn parse_window(s: &str) -> std::result::Result<(f64, f64), String> {
    let (c, w) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?}: expected CENTER,WIDTH, e.g. 40,400"))?;
    let c: f64 = c
        .trim()
        .parse()
        .map_err(|_| format!("centre {c:?} is not a number"))?;
    let w: f64 = w
        .trim()
        .parse()
        .map_err(|_| format!("width {w:?} is not a number"))?;
    let width_ok = w.is_finite() && w > 0.0;
    if !width_ok || !c.is_finite() {
        return Err(format!("window {c},{w}: the width must be positive"));
    }
    Ok((c, w))
}

pub fn run(cmd: ImageCommand) -> Result<()> {
    match cmd {
        ImageCommand::Info { path, json } => info(&path, json),
        ImageCommand::Convert {
            input,
            output,
            window,
            slice,
            axis,
            raw,
        } => convert(&input, &output, window, slice, axis, raw),
    }
}

fn read(path: &Path) -> Result<Image> {
    let spinner = if path.is_dir() {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_message(format!("reading DICOM series {}", path.display()));
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        Some(pb)
    } else {
        None
    };
    let img = io::read(path).with_context(|| {
        format!(
            "reading {} (supported: DICOM file or series folder, NIfTI .nii/.nii.gz, PNG, JPEG, TIFF)",
            path.display()
        )
    });
    if let Some(pb) = spinner {
        pb.finish_and_clear();
    }
    img
}

#[derive(Serialize)]
struct Info<'a> {
    path: String,
    format: String,
    layout: String,
    dims: Vec<usize>,
    dtype: &'static str,
    color: String,
    spacing: BTreeMap<char, f64>,
    min: f64,
    max: f64,
    meta: &'a BTreeMap<String, String>,
}

fn min_max(d: &ImageData) -> (f64, f64) {
    d.to_f64()
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        })
}

fn info(path: &Path, json: bool) -> Result<()> {
    let img = read(path)?;
    let (min, max) = min_max(img.data());
    let spacing: BTreeMap<char, f64> = img
        .axes()
        .iter()
        .zip(img.spacing())
        .filter(|(a, _)| **a != Axis::C)
        .map(|(a, s)| (a.letter(), *s))
        .collect();
    let i = Info {
        path: path.display().to_string(),
        format: img.meta.get("format").cloned().unwrap_or_default(),
        layout: img.layout(),
        dims: img.dims(),
        dtype: img.dtype().name(),
        color: format!("{:?}", img.color()).to_lowercase(),
        spacing,
        min,
        max,
        meta: &img.meta,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&i)?);
        return Ok(());
    }
    println!("path:     {}", i.path);
    println!("format:   {}", i.format);
    let dims: Vec<String> = img
        .layout()
        .chars()
        .zip(&i.dims)
        .map(|(c, d)| format!("{c}={d}"))
        .collect();
    println!(
        "dims:     {} (layout {:?}, fastest first)",
        dims.join(" "),
        i.layout
    );
    println!("dtype:    {}", i.dtype);
    println!("colour:   {}", i.color);
    let sp: Vec<String> = i.spacing.iter().map(|(a, s)| format!("{a}={s}")).collect();
    println!("spacing:  {}", sp.join(" "));
    println!("range:    {min} .. {max} (stored values)");
    let keys = [
        "modality",
        "dicom.transfer_syntax_name",
        "dicom.bits_allocated",
        "dicom.bits_stored",
        "dicom.photometric_interpretation",
        "dicom.series_slices",
        "rescale_slope",
        "rescale_intercept",
        "window_center",
        "window_width",
        "nifti.datatype",
        "nifti.space_unit",
        "nifti.time_unit",
        "nifti.qform_code",
        "nifti.sform_code",
        "affine",
    ];
    for k in keys {
        if let Some(v) = img.meta.get(k) {
            println!(
                "{:<9} {v}",
                format!("{}:", k.rsplit('.').next().unwrap_or(k))
            );
        }
    }
    Ok(())
}

fn convert(
    input: &Path,
    output: &Path,
    window: Option<(f64, f64)>,
    slice: Option<usize>,
    axis: SliceAxis,
    raw: bool,
) -> Result<()> {
    let mut img = read(input)?;
    if let Some(n) = slice {
        let ax = match axis {
            SliceAxis::Z if img.axes().contains(&Axis::Z) => Axis::Z,
            SliceAxis::Z => Axis::T,
            SliceAxis::T => Axis::T,
        };
        img = img
            .index_axis(ax, n)
            .with_context(|| format!("taking slice {n} of {}", input.display()))?;
    }
    let ext = output
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let picture = [".png", ".jpg", ".jpeg", ".tif", ".tiff"]
        .iter()
        .any(|e| ext.ends_with(e));
    if picture {
        let depth = img.len_of(Axis::Z) * img.len_of(Axis::T);
        if depth > 1 {
            bail!(
                "{} holds one 2-D picture, but {} has dims {:?} (layout {:?}); add --slice N \
                 (0..{}) to pick one",
                output.display(),
                input.display(),
                img.dims(),
                img.layout(),
                img.len_of(Axis::Z).max(img.len_of(Axis::T)) - 1
            );
        }
    }
    if window.is_some() || (picture && !raw) {
        img = io::to_display_u8(&img, window).context("windowing to 8 bits")?;
        img.meta.remove("rescale_slope");
        img.meta.remove("rescale_intercept");
        img.meta.remove("window_center");
        img.meta.remove("window_width");
    }
    io::write(output, &img).with_context(|| format!("writing {}", output.display()))?;
    eprintln!(
        "wrote {} ({:?} {} {:?})",
        output.display(),
        img.layout(),
        img.dtype().name(),
        img.dims()
    );
    Ok(())
}
