//! The `exahealth` command: `exahealth <noun> <verb>`, composing the
//! library crates. Algorithms live in the crates, not here.

mod allocator;
mod annotations;
mod bench;
mod dataset;
mod demo;
mod embed;
mod eval;
mod image;
mod predict;
mod progress;
mod reports;
mod shard;
mod slide;
mod train;

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
    /// The most memory any single decode may allocate (a tile, a frame, a
    /// volume, a thumbnail): 512M, 2G, 1.5GiB or bytes. A file whose header
    /// asks for more is refused with an error instead of exhausting memory.
    /// Default: 4G, or half the address-space limit (`ulimit -v`) or half
    /// the machine's memory where smaller. Also EXAHEALTH_MEMORY_BUDGET.
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_budget)]
    memory_budget: Option<u64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main job on built-in defaults: synthesise a slide, inspect it,
    /// write a thumbnail and a region, benchmark reading it; then label 16
    /// synthetic biopsies from their reports, train attention MIL on those
    /// labels and map where it finds the tumour in unseen ones.
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
    /// Throughput benchmarks against a reference in the same run (loader, image, train, infer).
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    // No doc here: TrainArgs' own doc (with a run-file example) is the help.
    Train(train::TrainArgs),
    // No doc here: EmbedArgs' own doc (extractors, outputs, examples) is the help.
    Embed(embed::EmbedArgs),
    // No doc here: PredictArgs' own doc (its three modes, examples) is the help.
    Predict(predict::PredictArgs),
    // No doc here: EvalArgs' own doc (image and MIL modes, examples) is the help.
    Eval(eval::EvalArgs),
    /// Medical images (DICOM files and series, NIfTI, PNG, JPEG, TIFF):
    /// inspect, convert.
    #[command(subcommand)]
    Image(image::ImageCommand),
}

fn main() -> std::process::ExitCode {
    restore_default_sigpipe();
    let cli = Cli::parse();
    init_logging(cli.verbose);
    if let Some(bytes) = cli.memory_budget {
        exahealth_base::budget::set_limit(bytes);
    }
    match dispatch(cli.command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn dispatch(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo(a) => {
            allocator::keep_freed_memory();
            demo::run(a)
        }
        Command::Slide(c) => slide::run(c),
        Command::Reports(c) => reports::run(c),
        Command::Bench(c) => bench::run(c),
        Command::Train(a) => {
            allocator::keep_freed_memory();
            train::run(a)
        }
        Command::Embed(a) => {
            allocator::keep_freed_memory();
            embed::run(a)
        }
        Command::Predict(a) => {
            allocator::keep_freed_memory();
            predict::run(a)
        }
        Command::Eval(a) => {
            allocator::keep_freed_memory();
            eval::run(a)
        }
        Command::Image(c) => image::run(c),
        Command::Dataset(c) => dataset::run(c),
        Command::Annotations(c) => annotations::run(c),
    }
}

fn parse_budget(text: &str) -> Result<u64, String> {
    exahealth_base::budget::parse_size(text)
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

/// Rust ignores SIGPIPE, so `exahealth ... | head` would panic on the first
/// write after `head` exits; a command-line tool should end quietly instead.
#[cfg(unix)]
fn restore_default_sigpipe() {
    // SAFETY: FFI call made once at start-up, before any thread exists;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn restore_default_sigpipe() {}
