//! Weak slide labels from free-text pathology reports: read the reports of a
//! CSV, JSON or spreadsheet file, extract concepts and labels for one of the
//! built-in use cases, write the labels table.
//!
//! ```no_run
//! use exahealth_reports::{read_reports, write_outputs, Engine, UseCase};
//! use std::path::Path;
//!
//! let engine = Engine::builtin(UseCase::Colon)?;
//! let reports = read_reports(Path::new("reports.csv"))?;
//! let results: Vec<_> = reports.iter().map(|r| engine.extract(r)).collect();
//! for r in &results {
//!     println!("{}: {:?}", r.id, r.label_names());
//! }
//! // labels.csv, labels_rollup.csv and concepts.json in out/.
//! write_outputs(Path::new("out"), &engine.lexicon().schema, &results)?;
//! # Ok::<(), exahealth_reports::Error>(())
//! ```
//!
//! A hospital holds millions of slides with a free-text diagnosis each.
//! This crate reads those reports (English, Italian, Dutch) and turns them
//! into labels for the four use cases ExaMode defined, with no human
//! annotation:
//!
//! | use case | label columns (SKET's names) |
//! |---|---|
//! | colon | `cancer, hgd, lgd, hyperplastic, ni` (+ roll-up `cancer_or_dysplasia, other`) |
//! | cervix | `cancer_scc_inv, cancer_scc_insitu, cancer_adeno_inv, cancer_adeno_insitu, lgd, hgd, hpv, koilocytes, glands_norm, squamous_norm` (+ roll-up `cancer, dysplasia, normal`) |
//! | lung | `cancer_scc, cancer_nscc_adeno, cancer_nscc_squamous, cancer_nscc_large, no_cancer` |
//! | celiac | `positive, negative, inconclusive` (+ the Marsh grade in the JSON) |
//!
//! The pipeline, one small module each:
//!
//! 1. [`normalise`]: fold case and diacritics, split letters from digits,
//!    keep every token's span in the original text;
//! 2. [`typo`]: one-edit typos of lexicon words are read as the word;
//! 3. [`matcher`]: one Aho-Corasick automaton per language over all lexicon
//!    terms, leftmost-longest on token boundaries;
//! 4. [`negation`]: NegEx-style pre- and post-triggers with scopes, for
//!    negation and uncertainty;
//! 5. [`rules`]: grade words, Marsh grades, default labels, roll-ups;
//! 6. [`ontology`] and [`lexicon`]: concepts with ExaMode ontology IRIs,
//!    UMLS/SNOMED codes and parents, loaded from TOML data files that are
//!    embedded as defaults and can be extended by a hospital's own files.
//!
//! Around it: [`input`] reads CSV, JSON (SKET's single and multiple report
//! layouts) and XLSX; [`output`] writes the labels table and the concepts
//! JSON atomically; [`evaluate`] scores predicted labels against gold ones.
//!
//! No network, no models: matching is pure Rust and runs at well over
//! 10,000 reports per second on one core.
//!
//! ```
//! use exahealth_reports::{Engine, Report, UseCase};
//! let engine = Engine::builtin(UseCase::Colon)?;
//! let r = engine.extract(&Report::new("r1", "Adenoma tubulare con displasia di alto grado."));
//! assert_eq!(r.label_names(), vec!["hgd"]);
//! # Ok::<(), exahealth_reports::Error>(())
//! ```
//!
//! This crate does not depend on images, slides or Burn.

#![forbid(unsafe_code)]

pub mod engine;
mod error;
pub mod evaluate;
pub mod extract_run;
pub mod input;
pub mod lexicon;
pub mod matcher;
pub mod negation;
pub mod normalise;
pub mod ontology;
pub mod output;
pub mod rules;
pub mod typo;
mod xlsx_guard;

pub use engine::{ConceptOut, Engine, Extraction, Options, Report};
pub use error::Error;
pub use evaluate::{evaluate_files, Evaluation};
pub use input::{read_reports, InputFormat};
pub use lexicon::{Lexicon, LexiconBuilder, UseCase};
pub use ontology::{Concept, Grade, Lang, Ontology};
pub use output::{write_outputs, LabelTable};
pub use rules::UncertainPolicy;
