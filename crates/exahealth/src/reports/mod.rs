//! `exahealth reports ...`: thin wrappers over exahealth-reports.

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use exahealth_reports::evaluate::{evaluate, read_table};
use exahealth_reports::extract_run::{extract_to_folder, read_use_case_reports};
use exahealth_reports::input::retain_use_case;
use exahealth_reports::{Engine, Lang, Lexicon, Options, Report, UncertainPolicy, UseCase};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Subcommand)]
pub enum ReportsCommand {
    /// Extract concepts and weak labels from pathology reports.
    ///
    /// Reads CSV (columns id,text and optionally slide_id, lang, use_case),
    /// JSON (SKET's single or multiple report layout, or an array of
    /// reports) or XLSX. Writes OUTDIR/labels.csv (one row per slide, or per
    /// report when no slide is named: id then one 0/1 column per label),
    /// OUTDIR/labels_rollup.csv (colon and cervix roll-ups),
    /// OUTDIR/concepts.json (every concept found: ontology identifier,
    /// mention, character span, negated/uncertain flags) and
    /// OUTDIR/manifest.json.
    #[command(long_about = EXTRACT_ABOUT)]
    Extract(ExtractArgs),
    /// Score a predicted labels table against a gold one.
    ///
    /// Exact-match accuracy, micro- and macro-F1, Hamming loss and
    /// per-class precision/recall/F1. Rows are matched by id.
    #[command(long_about = EVALUATE_ABOUT)]
    Evaluate(EvaluateArgs),
    /// Measure extraction throughput (reports per second on one core).
    #[command(long_about = BENCH_ABOUT)]
    Bench(BenchArgs),
    /// List a use case's concepts: ids, ontology identifiers, labels.
    Concepts {
        #[arg(long, value_enum)]
        use_case: UseCaseArg,
        /// Extra lexicon files (TOML) to merge, as for `extract`.
        #[arg(long = "lexicon", value_name = "FILE")]
        lexicons: Vec<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

const EXTRACT_ABOUT: &str = "\
Extract concepts and weak labels from pathology reports (English, Italian, Dutch).

Labels use SKET's names:
  colon   cancer, hgd, lgd, hyperplastic, ni   (+ cancer_or_dysplasia, other)
  cervix  cancer_scc_inv, cancer_scc_insitu, cancer_adeno_inv, cancer_adeno_insitu,
          lgd, hgd, hpv, koilocytes, glands_norm, squamous_norm   (+ cancer, dysplasia, normal)
  lung    cancer_scc (small cell), cancer_nscc_adeno, cancer_nscc_squamous,
          cancer_nscc_large, no_cancer
  celiac  positive, negative, inconclusive   (+ the Marsh grade in concepts.json)

Negated findings (\"no evidence of\", \"assenza di\", \"geen aanwijzingen voor\") give no
label; uncertain ones (\"suspicious for\", \"non si può escludere\") are flagged in
concepts.json and count unless --uncertain exclude. Clinical questions (\"rule out\",
\"notizie cliniche\") give no label.

Inputs: CSV with id,text (optional slide_id, lang, use_case), SKET JSON, or XLSX.
Several inputs are read as one. Rows whose use_case names another use case are
skipped. The language is the row's lang, else --lang, else detected per report.

Examples:
  exahealth reports extract reports.csv --use-case colon -o out/
  exahealth reports extract sket_reports.json --use-case colon --lang it -o out/
  exahealth reports extract archive.xlsx --use-case celiac --lexicon our_terms.toml -o out/
  exahealth reports evaluate out/labels.csv gold.csv

A hospital extends the built-in lexicons with a TOML file of its own terms, e.g.
  [[concept]]
  id = \"colon_adenocarcinoma\"
  it = [\"adk infiltrante\"]
(`exahealth reports concepts --use-case colon` lists the concept ids.)";

const EVALUATE_ABOUT: &str = "\
Score a predicted labels table against a gold one.

Both files are CSV: id, then one 0/1 column per label (what `extract` writes). The
gold file's columns are scored; rows are matched by id. A gold row missing from the
predictions counts as all zeros, unless --ignore-missing.

Prints exact-match accuracy, micro precision/recall/F1, macro-F1 (mean over classes
that occur), Hamming loss and per-class precision/recall/F1 with tp/fp/fn.

Examples:
  exahealth reports evaluate out/labels.csv crates/exahealth-reports/testdata/gold_colon.csv
  exahealth reports evaluate out/labels.csv gold.csv --json";

const BENCH_ABOUT: &str = "\
Measure extraction throughput on one core: normalisation, typo correction, matching,
negation and labels, as `extract` runs them (no file writing).

With no INPUT, the built-in test set of the use case (English, Italian and Dutch
reports) is cycled until --reports reports have been processed.

Examples:
  exahealth reports bench --use-case colon
  exahealth reports bench --use-case celiac --join 5     (reports 5 times as long)
  exahealth reports bench reports.csv --use-case lung --reports 200000 --json";

#[derive(Clone, Copy, ValueEnum)]
pub enum UseCaseArg {
    Colon,
    Cervix,
    Lung,
    Celiac,
}

impl From<UseCaseArg> for UseCase {
    fn from(u: UseCaseArg) -> Self {
        match u {
            UseCaseArg::Colon => UseCase::Colon,
            UseCaseArg::Cervix => UseCase::Cervix,
            UseCaseArg::Lung => UseCase::Lung,
            UseCaseArg::Celiac => UseCase::Celiac,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LangArg {
    En,
    It,
    Nl,
}

impl From<LangArg> for Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::En => Lang::En,
            LangArg::It => Lang::It,
            LangArg::Nl => Lang::Nl,
        }
    }
}

#[derive(Clone, Copy, ValueEnum, Default)]
pub enum UncertainArg {
    /// Uncertain findings give labels (flagged in concepts.json).
    #[default]
    Include,
    /// Uncertain findings give no label.
    Exclude,
}

/// Options shared by `extract` and `bench`.
#[derive(Args)]
pub struct EngineArgs {
    /// Use case: which concepts and label columns.
    #[arg(long, value_enum)]
    use_case: UseCaseArg,
    /// Language of reports that do not say (default: detect per report).
    #[arg(long, value_enum)]
    lang: Option<LangArg>,
    /// Extra lexicon files (TOML) merged into the built-in one; repeatable.
    #[arg(long = "lexicon", value_name = "FILE")]
    lexicons: Vec<PathBuf>,
    /// Whether uncertain findings give labels.
    #[arg(long, value_enum, default_value_t = UncertainArg::Include)]
    uncertain: UncertainArg,
    /// Do not correct one-edit typos of lexicon words.
    #[arg(long)]
    no_typos: bool,
}

impl EngineArgs {
    fn engine(&self) -> Result<Engine> {
        let use_case: UseCase = self.use_case.into();
        let paths: Vec<&Path> = self.lexicons.iter().map(PathBuf::as_path).collect();
        let lexicon = Lexicon::builtin_with(use_case, &paths)
            .with_context(|| format!("loading the {use_case} lexicon"))?;
        let options = Options {
            default_lang: self.lang.map(Into::into),
            uncertain: match self.uncertain {
                UncertainArg::Include => UncertainPolicy::Include,
                UncertainArg::Exclude => UncertainPolicy::Exclude,
            },
            typos: !self.no_typos,
        };
        Ok(Engine::new(lexicon, options)?)
    }
}

#[derive(Args)]
pub struct ExtractArgs {
    /// Report files: .csv, .json or .xlsx (several are read as one).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
    /// Output folder (created if missing).
    #[arg(short, long)]
    output: PathBuf,
    /// Print a JSON summary on stdout.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct EvaluateArgs {
    /// Predicted labels table (CSV: id, then 0/1 columns).
    predicted: PathBuf,
    /// Gold labels table (CSV: id, then 0/1 columns).
    gold: PathBuf,
    /// Score only the gold rows whose id is in the predictions.
    #[arg(long)]
    ignore_missing: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct BenchArgs {
    /// Reports to time (default: the built-in test set of the use case).
    input: Option<PathBuf>,
    #[command(flatten)]
    engine: EngineArgs,
    /// How many reports to process (the input is cycled).
    #[arg(long, default_value_t = 100_000)]
    reports: usize,
    /// Join this many consecutive reports into one, to time longer texts.
    #[arg(long, default_value_t = 1)]
    join: usize,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: ReportsCommand) -> Result<()> {
    match cmd {
        ReportsCommand::Extract(a) => extract(a),
        ReportsCommand::Evaluate(a) => evaluate_cmd(a),
        ReportsCommand::Bench(a) => bench(a),
        ReportsCommand::Concepts {
            use_case,
            lexicons,
            json,
        } => concepts(use_case.into(), &lexicons, json),
    }
}

fn extract(a: ExtractArgs) -> Result<()> {
    let engine = a.engine.engine()?;
    let use_case: UseCase = a.engine.use_case.into();
    let (reports, skipped) = read_use_case_reports(&a.inputs, use_case)?;
    if reports.is_empty() {
        bail!(
            "no {use_case} reports in {} (skipped {skipped} of other use cases); \
             check the use_case column or --use-case",
            a.inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let pb = crate::progress::bar(reports.len() as u64, "reports");
    let summary = extract_to_folder(
        &engine,
        use_case,
        &a.inputs,
        (&reports, skipped),
        &a.output,
        &mut || pb.inc(1),
    );
    pb.finish_and_clear();
    let summary = summary?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        eprintln!(
            "{} {} reports -> {} rows ({} skipped: other use cases) in {:.2} s",
            summary.reports, use_case, summary.rows, skipped, summary.seconds
        );
        for (l, n) in &summary.label_counts {
            eprintln!("  {l:<22} {n}");
        }
        eprintln!(
            "  negated mentions {}, uncertain mentions {}; wrote {}",
            summary.negated_mentions,
            summary.uncertain_mentions,
            summary.outputs.join(", ")
        );
    }
    Ok(())
}

fn evaluate_cmd(a: EvaluateArgs) -> Result<()> {
    let pred = read_table(&a.predicted)
        .with_context(|| format!("reading predictions {}", a.predicted.display()))?;
    let mut gold =
        read_table(&a.gold).with_context(|| format!("reading gold {}", a.gold.display()))?;
    if a.ignore_missing {
        let ids: std::collections::HashSet<&str> =
            pred.rows.iter().map(|(id, _)| id.as_str()).collect();
        gold.rows.retain(|(id, _)| ids.contains(id.as_str()));
        if gold.rows.is_empty() {
            bail!(
                "no id of {} is in {}; are they the same reports?",
                a.predicted.display(),
                a.gold.display()
            );
        }
    }
    let e = evaluate(&pred, &gold).context("scoring")?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print!("{}", e.to_text());
    }
    Ok(())
}

const BUILTIN_SETS: [&str; 3] = [
    include_str!("../../../exahealth-reports/testdata/reports_en.csv"),
    include_str!("../../../exahealth-reports/testdata/reports_it.csv"),
    include_str!("../../../exahealth-reports/testdata/reports_nl.csv"),
];

#[derive(Serialize)]
struct BenchSummary {
    use_case: String,
    distinct_reports: usize,
    reports: usize,
    mean_chars: f64,
    seconds: f64,
    reports_per_second: f64,
    threads: usize,
}

fn bench(a: BenchArgs) -> Result<()> {
    let engine = a.engine.engine()?;
    let use_case: UseCase = a.engine.use_case.into();
    let reports: Vec<Report> = match &a.input {
        Some(p) => read_use_case_reports(std::slice::from_ref(p), use_case)?.0,
        None => {
            let mut all = Vec::new();
            for (i, text) in BUILTIN_SETS.iter().enumerate() {
                let name = PathBuf::from(format!("builtin-{i}.csv"));
                all.extend(exahealth_reports::input::parse_csv(text.as_bytes(), &name)?);
            }
            retain_use_case(&mut all, use_case);
            all
        }
    };
    if reports.is_empty() {
        bail!("no {use_case} reports to time");
    }
    if a.reports == 0 || a.join == 0 {
        bail!("--reports and --join must be at least 1");
    }
    let reports: Vec<Report> = if a.join == 1 {
        reports
    } else {
        (0..reports.len())
            .map(|i| {
                let text: Vec<&str> = (0..a.join)
                    .map(|k| reports[(i + k) % reports.len()].text.as_str())
                    .collect();
                Report {
                    text: text.join("\n"),
                    ..reports[i].clone()
                }
            })
            .collect()
    };
    // Warm up (page in the automata), then time on this one thread.
    for r in reports.iter().take(100) {
        std::hint::black_box(engine.extract(r));
    }
    let start = Instant::now();
    let mut chars = 0usize;
    for i in 0..a.reports {
        let r = &reports[i % reports.len()];
        chars += r.text.len();
        std::hint::black_box(engine.extract(r));
    }
    let secs = start.elapsed().as_secs_f64();
    let s = BenchSummary {
        use_case: use_case.name().to_string(),
        distinct_reports: reports.len(),
        reports: a.reports,
        mean_chars: chars as f64 / a.reports as f64,
        seconds: secs,
        reports_per_second: a.reports as f64 / secs.max(1e-9),
        threads: 1,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        println!(
            "{}: {} reports ({} distinct, {:.0} bytes each) in {:.3} s on one thread: {:.0} reports/s",
            s.use_case, s.reports, s.distinct_reports, s.mean_chars, s.seconds, s.reports_per_second
        );
    }
    Ok(())
}

#[derive(Serialize)]
struct ConceptRow {
    id: String,
    identifier: String,
    name: String,
    parent: Option<String>,
    umls: Vec<String>,
    snomed: Vec<String>,
    labels: Vec<String>,
    synonyms: usize,
}

fn concepts(use_case: UseCase, lexicons: &[PathBuf], json: bool) -> Result<()> {
    let paths: Vec<&Path> = lexicons.iter().map(PathBuf::as_path).collect();
    let lex = Lexicon::builtin_with(use_case, &paths)
        .with_context(|| format!("loading the {use_case} lexicon"))?;
    let rows: Vec<ConceptRow> = lex
        .ontology
        .concepts()
        .iter()
        .map(|c| ConceptRow {
            id: c.id.clone(),
            identifier: c.identifier(),
            name: c.name.clone(),
            parent: c.parent.clone(),
            umls: c.umls.clone(),
            snomed: c.snomed.clone(),
            labels: c
                .labels
                .iter()
                .map(|&i| lex.schema.labels[i].clone())
                .collect(),
            synonyms: c.synonyms.iter().map(Vec::len).sum(),
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!("{use_case}: labels {}", lex.schema.labels.join(", "));
        for r in rows {
            println!(
                "  {:<32} {:<18} {}  [{}]",
                r.id,
                r.labels.join("+"),
                r.identifier,
                r.synonyms
            );
        }
    }
    Ok(())
}
