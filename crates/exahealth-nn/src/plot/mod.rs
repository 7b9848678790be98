//! Training curves as a PNG: one panel per quantity (loss, each metric)
//! against the epoch, training in blue and validation in orange.
//!
//! Drawn by a small rasteriser of our own with an embedded 5x7 bitmap font
//! (so titles, tick labels and the legend are real text) and encoded with
//! the `png` crate: no system libraries, no font files, nothing to download.
//! `plotters` was not used because its text rendering pulls in system font
//! libraries unless fonts are embedded, which costs more than this file.

mod canvas;
mod font;

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::atomic::write_atomic;
use crate::metrics::MetricSet;
use canvas::{Canvas, Rgb};

/// Colour of training series (matplotlib's tab:blue).
pub const TRAIN_COLOUR: Rgb = [31, 119, 180];
/// Colour of validation series (matplotlib's tab:orange).
pub const VALIDATION_COLOUR: Rgb = [255, 127, 14];
const BACKGROUND: Rgb = [255, 255, 255];
const AXIS: Rgb = [60, 60, 60];
const GRID: Rgb = [225, 225, 225];
const TEXT: Rgb = [20, 20, 20];

/// Why a plot could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlotError {
    /// No panel has a finite value to draw.
    #[error("nothing to plot: no finite values")]
    Empty,
    /// The requested image is unreasonably large or small.
    #[error("invalid plot size: {0}")]
    Size(String),
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Encode(#[from] png::EncodingError),
    /// Writing the file failed.
    #[error(transparent)]
    Write(#[from] crate::NnError),
}

/// Metrics of one epoch, for both splits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch number (the x axis).
    pub epoch: usize,
    /// Training-set values (e.g. `loss`).
    pub train: MetricSet,
    /// Validation-set values.
    pub validation: MetricSet,
}

/// One panel: a quantity's training and validation series as
/// `(epoch, value)` points. Non-finite values are skipped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Panel {
    /// Title drawn above the panel (e.g. `loss`).
    pub title: String,
    /// Training series.
    pub train: Vec<(f64, f64)>,
    /// Validation series.
    pub validation: Vec<(f64, f64)>,
}

/// All panels of a plot, drawn left to right, top to bottom.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Curves {
    /// The panels.
    pub panels: Vec<Panel>,
}

impl Curves {
    /// One panel per metric name seen in any epoch, `loss` first, the others
    /// by name.
    pub fn from_epochs(epochs: &[EpochMetrics]) -> Self {
        let names: BTreeSet<&str> = epochs
            .iter()
            .flat_map(|e| e.train.iter().chain(e.validation.iter()).map(|(k, _)| k))
            .collect();
        let mut names: Vec<&str> = names.into_iter().collect();
        names.sort_by_key(|&n| (n != "loss", n));
        let series = |name: &str, pick: fn(&EpochMetrics) -> &MetricSet| {
            epochs
                .iter()
                .filter_map(|e| pick(e).get(name).map(|v| (e.epoch as f64, v)))
                .collect()
        };
        Self {
            panels: names
                .into_iter()
                .map(|name| Panel {
                    title: name.to_string(),
                    train: series(name, |e| &e.train),
                    validation: series(name, |e| &e.validation),
                })
                .collect(),
        }
    }

    /// Panels from the trainer's per-epoch log: loss (train and
    /// validation), validation accuracy and Dice where measured, and the
    /// learning rate.
    pub fn from_history(history: &crate::train::History) -> Self {
        let e = &history.epochs;
        let pts = |f: &dyn Fn(&crate::train::EpochRecord) -> Option<f64>| {
            e.iter()
                .filter_map(|r| f(r).map(|v| (r.epoch as f64, v)))
                .collect::<Vec<_>>()
        };
        let panels = vec![
            Panel {
                title: "loss".into(),
                train: pts(&|r| Some(r.train_loss)),
                validation: pts(&|r| r.val_loss),
            },
            Panel {
                title: "accuracy".into(),
                train: vec![],
                validation: pts(&|r| r.val_accuracy),
            },
            Panel {
                title: "dice".into(),
                train: vec![],
                validation: pts(&|r| r.val_dice),
            },
            Panel {
                title: "learning rate".into(),
                train: pts(&|r| Some(r.lr)),
                validation: vec![],
            },
        ];
        Self {
            panels: panels
                .into_iter()
                .filter(|p| !p.train.is_empty() || !p.validation.is_empty())
                .collect(),
        }
    }
}

/// Image layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlotOptions {
    /// Width of one panel in pixels (default 480).
    pub panel_width: usize,
    /// Height of one panel in pixels (default 300).
    pub panel_height: usize,
    /// Panels per row (default 2).
    pub columns: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            panel_width: 480,
            panel_height: 300,
            columns: 2,
        }
    }
}

/// Where a panel's data area lies in the image (pixels), with the value
/// ranges its axes span: for tests and for overlaying more marks.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelArea {
    /// The panel's title.
    pub title: String,
    /// Left edge of the data area.
    pub x: usize,
    /// Top edge of the data area.
    pub y: usize,
    /// Width of the data area.
    pub width: usize,
    /// Height of the data area.
    pub height: usize,
    /// Epochs at the left and right edges.
    pub x_range: (f64, f64),
    /// Values at the bottom and top edges.
    pub y_range: (f64, f64),
}

/// A drawn plot: RGB8 pixels and the panel areas.
pub struct Rendered {
    /// Image width.
    pub width: usize,
    /// Image height.
    pub height: usize,
    /// Row-major RGB8 pixels.
    pub pixels: Vec<u8>,
    /// One per drawn panel.
    pub panels: Vec<PanelArea>,
}

impl Rendered {
    /// PNG bytes.
    pub fn to_png(&self) -> Result<Vec<u8>, PlotError> {
        let c = Canvas {
            width: self.width,
            height: self.height,
            pixels: self.pixels.clone(),
        };
        Ok(c.encode_png()?)
    }
}

const MARGIN_LEFT: usize = 62;
const MARGIN_RIGHT: usize = 14;
const MARGIN_TOP: usize = 34;
const MARGIN_BOTTOM: usize = 30;

/// "Nice" tick positions (1, 2 or 5 times a power of ten) covering `lo..hi`.
fn ticks(lo: f64, hi: f64, target: usize) -> (Vec<f64>, f64) {
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    ((first..=last).map(|i| i as f64 * step).collect(), step)
}

/// A tick label with as many decimals as the step needs.
fn label(v: f64, step: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if v.abs() >= 1e5 || step < 1e-4 {
        return format!("{v:.1e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

fn finite(points: &[(f64, f64)]) -> impl Iterator<Item = (f64, f64)> + '_ {
    points
        .iter()
        .copied()
        .filter(|(x, y)| x.is_finite() && y.is_finite())
}

/// Draws `curves`. Panels without a finite value are left out.
pub fn render(curves: &Curves, opts: PlotOptions) -> Result<Rendered, PlotError> {
    let (pw, ph) = (opts.panel_width, opts.panel_height);
    if !(200..=4096).contains(&pw) || !(150..=4096).contains(&ph) || opts.columns == 0 {
        return Err(PlotError::Size(format!(
            "panels must be 200..=4096 x 150..=4096 pixels with at least one column, got {pw}x{ph}, {} columns",
            opts.columns
        )));
    }
    let panels: Vec<&Panel> = curves
        .panels
        .iter()
        .filter(|p| {
            finite(&p.train)
                .chain(finite(&p.validation))
                .next()
                .is_some()
        })
        .collect();
    if panels.is_empty() {
        return Err(PlotError::Empty);
    }
    if panels.len() > 64 {
        return Err(PlotError::Size(format!(
            "{} panels (at most 64)",
            panels.len()
        )));
    }
    let cols = opts.columns.min(panels.len());
    let rows = panels.len().div_ceil(cols);
    let mut canvas = Canvas::new(cols * pw, rows * ph, BACKGROUND);
    let mut areas = Vec::with_capacity(panels.len());
    for (i, panel) in panels.iter().enumerate() {
        let ox = (i % cols) * pw;
        let oy = (i / cols) * ph;
        areas.push(draw_panel(&mut canvas, panel, ox, oy, pw, ph));
    }
    Ok(Rendered {
        width: canvas.width,
        height: canvas.height,
        pixels: canvas.pixels,
        panels: areas,
    })
}

fn draw_panel(c: &mut Canvas, p: &Panel, ox: usize, oy: usize, pw: usize, ph: usize) -> PanelArea {
    let all: Vec<(f64, f64)> = finite(&p.train).chain(finite(&p.validation)).collect();
    let (mut x0, mut x1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &(x, _)| (a.min(x), b.max(x)));
    let (mut y0, mut y1) = all
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &(_, y)| (a.min(y), b.max(y)));
    if x1 - x0 < 1.0 {
        x0 -= 0.5;
        x1 += 0.5;
    }
    let pad = if y1 > y0 {
        (y1 - y0) * 0.06
    } else {
        y0.abs().max(1.0) * 0.1
    };
    y0 -= pad;
    y1 += pad;

    let ax = (ox + MARGIN_LEFT) as i64;
    let ay = (oy + MARGIN_TOP) as i64;
    let aw = (pw - MARGIN_LEFT - MARGIN_RIGHT) as i64;
    let ah = (ph - MARGIN_TOP - MARGIN_BOTTOM) as i64;
    let to_px = |x: f64, y: f64| -> (i64, i64) {
        let px = ax + ((x - x0) / (x1 - x0) * (aw - 1) as f64).round() as i64;
        let py = ay + ah - 1 - ((y - y0) / (y1 - y0) * (ah - 1) as f64).round() as i64;
        (px, py)
    };

    // Grid and tick labels.
    let (yt, ystep) = ticks(y0, y1, 5);
    for v in &yt {
        let (_, py) = to_px(x0, *v);
        c.hline(ax, ax + aw - 1, py, GRID);
        let text = label(*v, ystep);
        let tw = font::text_width(&text) as i64;
        c.text(ax - 6 - tw, py - 3, &text, 1, TEXT);
    }
    let (xt, _) = ticks(x0, x1, 6);
    for v in xt.iter().filter(|v| v.fract() == 0.0) {
        let (px, _) = to_px(*v, y0);
        c.vline(px, ay, ay + ah - 1, GRID);
        let text = format!("{v:.0}");
        let tw = font::text_width(&text) as i64;
        c.text(px - tw / 2, ay + ah + 5, &text, 1, TEXT);
    }
    let xlabel = "epoch";
    c.text(
        ax + aw / 2 - font::text_width(xlabel) as i64 / 2,
        ay + ah + 16,
        xlabel,
        1,
        TEXT,
    );
    // Frame.
    c.hline(ax - 1, ax + aw, ay - 1, AXIS);
    c.hline(ax - 1, ax + aw, ay + ah, AXIS);
    c.vline(ax - 1, ay - 1, ay + ah, AXIS);
    c.vline(ax + aw, ay - 1, ay + ah, AXIS);

    // Series: lines between consecutive finite points, a square per point.
    for (points, colour) in [(&p.train, TRAIN_COLOUR), (&p.validation, VALIDATION_COLOUR)] {
        let mut prev: Option<(i64, i64)> = None;
        for &(x, y) in points.iter() {
            if !(x.is_finite() && y.is_finite()) {
                prev = None;
                continue;
            }
            let q = to_px(x, y);
            if let Some(pq) = prev {
                c.line(pq, q, 2, colour);
            }
            c.fill_rect(q.0 - 2, q.1 - 2, 5, 5, colour);
            prev = Some(q);
        }
    }

    // Title (double size) and legend (only the series present).
    c.text(ax, (oy + 8) as i64, &p.title, 2, TEXT);
    let mut lx = ax + aw;
    for (name, points, colour) in [
        ("validation", &p.validation, VALIDATION_COLOUR),
        ("train", &p.train, TRAIN_COLOUR),
    ] {
        if finite(points).next().is_none() {
            continue;
        }
        lx -= font::text_width(name) as i64;
        c.text(lx, (oy + 12) as i64, name, 1, TEXT);
        lx -= 14;
        c.fill_rect(lx, (oy + 12) as i64, 10, 7, colour);
        lx -= 12;
    }

    PanelArea {
        title: p.title.clone(),
        x: ax as usize,
        y: ay as usize,
        width: aw as usize,
        height: ah as usize,
        x_range: (x0, x1),
        y_range: (y0, y1),
    }
}

/// Draws `curves` and writes the PNG to `path` atomically.
pub fn write_png(path: &Path, curves: &Curves, opts: PlotOptions) -> Result<(), PlotError> {
    let bytes = render(curves, opts)?.to_png()?;
    write_atomic(path, &bytes)?;
    Ok(())
}
