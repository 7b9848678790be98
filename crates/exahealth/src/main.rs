//! The `exahealth` command: `exahealth <noun> <verb>`, composing the
//! library crates. Algorithms live in the crates, not here.

mod annotations;
mod dataset;
mod demo;
mod progress;
mod reports;
mod slide;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "exahealth",
    version,
    about = "Deep learning on medical images at scale: slides, images, reports, training.",
    long_about = "Deep learning on medical images at scale.\n\n\
        Start with `exahealth demo`: it builds a synthetic whole-slide image and \
        shows what the slide tools do with it. Every command has --help.",
    propagate_version = true
)]
struct Cli {
    /// Log more (-v: debug, -vv: trace). Logs go to stderr; RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main job on built-in defaults: synthesise a slide, inspect it,
    /// write a thumbnail and a region, and benchmark reading it.
    Demo(demo::DemoArgs),
    /// Whole-slide images: inspect, read regions, thumbnails, synthesise, benchmark.
    #[command(subcommand)]
    Slide(slide::SlideCommand),
    /// DeepHealth dataset YAML files (ECVL format): inspect, check, generate.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Slide annotations (ASAP XML, QuPath GeoJSON; Sedeen and Halo read):
    /// inspect, convert.
    #[command(subcommand)]
    Annotations(annotations::AnnotationsCommand),
    /// Pathology reports: weak slide labels from free text (extract,
    /// evaluate, bench, concepts).
    #[command(subcommand)]
    Reports(reports::ReportsCommand),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Demo(a) => demo::run(a),
        Command::Slide(c) => slide::run(c),
        Command::Reports(c) => reports::run(c),
        Command::Dataset(c) => dataset::run(c),
        Command::Annotations(c) => annotations::run(c),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
