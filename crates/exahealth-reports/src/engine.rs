//! The report-to-label engine: one compiled lexicon, one matcher per
//! language, and [`Engine::extract`] for one report.

use crate::lexicon::{Lexicon, UseCase};
use crate::matcher::{detect_language, LangMatcher};
use crate::normalise::normalise;
use crate::ontology::{Grade, Lang};
use crate::rules::{self, Findings, Mention, UncertainPolicy};
use crate::Error;
use serde::Serialize;

/// One report as read from an input file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The report's id (a row of the input).
    pub id: String,
    /// The report text, as written.
    pub text: String,
    /// Slides (or the case) the report describes; empty: the report id
    /// names the row of the labels table.
    pub slide_ids: Vec<String>,
    /// The report's language when the input says; `None`: the engine's default or detection.
    pub lang: Option<Lang>,
    /// The use case the report belongs to, when the input says
    /// (a `use_case` column); reports of other use cases are skipped.
    pub use_case: Option<String>,
}

impl Report {
    /// A report with an id and a text and nothing else known.
    pub fn new(id: impl Into<String>, text: impl Into<String>) -> Self {
        Report {
            id: id.into(),
            text: text.into(),
            ..Default::default()
        }
    }
}

/// How the engine reads reports.
#[derive(Clone, Debug)]
pub struct Options {
    /// Language of reports that do not say; `None`: detect per report.
    pub default_lang: Option<Lang>,
    /// Whether uncertain findings ("suspicious for ...") give labels.
    pub uncertain: UncertainPolicy,
    /// Read one-edit typos of lexicon words as the word.
    pub typos: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            default_lang: None,
            uncertain: UncertainPolicy::Include,
            typos: true,
        }
    }
}

/// A concept found in a report, as written to `concepts.json`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ConceptOut {
    /// Lexicon id.
    pub id: String,
    /// Stable identifier: the ontology IRI, or `exahealth:<id>`.
    pub identifier: String,
    /// The concept's name in the ontology.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The parent concept's identifier.
    pub parent: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// UMLS codes of the concept.
    pub umls: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    /// SNOMED CT codes of the concept.
    pub snomed: Vec<String>,
    /// The words of the report, as written.
    pub mention: String,
    /// Character offsets `[start, end)` of the mention in the report text.
    pub span: [u32; 2],
    /// Negated in the report ("no dysplasia"): no label.
    pub negated: bool,
    /// Said with uncertainty ("suspicious for ...").
    pub uncertain: bool,
    /// In a question or clinical information ("rule out ..."): no label.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hypothetical: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// The grade read with the concept (e.g. high-grade dysplasia).
    pub grade: Option<Grade>,
    /// The grade words as written (absent when the grade was assumed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grade_mention: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Character offsets `[start, end)` of the grade words.
    pub grade_span: Option<[u32; 2]>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    /// No grade words: the concept's default grade was assumed.
    pub grade_assumed: bool,
    /// A value read with the concept (the Marsh grade).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Label columns this mention sets (none when negated).
    pub labels: Vec<String>,
}

/// The result for one report.
#[derive(Clone, Debug)]
pub struct Extraction {
    /// The report's id.
    pub id: String,
    /// Slides the report describes (empty: the id names the row).
    pub slide_ids: Vec<String>,
    /// The language the report was read in.
    pub lang: Lang,
    /// Whether [`Self::lang`] was detected rather than given.
    pub lang_detected: bool,
    /// How many words were read as a one-edit typo of a lexicon word.
    pub typos_corrected: usize,
    /// The concepts found, in text order.
    pub concepts: Vec<ConceptOut>,
    /// Labels before defaults (for merging reports of one slide).
    pub findings: Findings,
    /// Final labels, in the schema's column order.
    pub labels: Vec<bool>,
    /// Roll-up labels, in the schema's roll-up column order.
    pub rollup: Vec<bool>,
    /// The highest Marsh grade written, for celiac reports.
    pub marsh: Option<String>,
    label_names: Vec<String>,
}

impl Extraction {
    /// Names of the labels set.
    pub fn label_names(&self) -> Vec<&str> {
        self.label_names
            .iter()
            .zip(&self.labels)
            .filter(|(_, &v)| v)
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// The compiled engine for one use case. `Send + Sync`: share it between
/// threads.
#[derive(Debug)]
pub struct Engine {
    lexicon: Lexicon,
    matchers: Vec<LangMatcher>,
    options: Options,
}

impl Engine {
    /// Compile a lexicon.
    pub fn new(lexicon: Lexicon, options: Options) -> Result<Engine, Error> {
        let matchers = Lang::ALL
            .iter()
            .map(|&l| LangMatcher::new(&lexicon, l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Engine {
            lexicon,
            matchers,
            options,
        })
    }

    /// The built-in lexicon of a use case, default options.
    pub fn builtin(use_case: UseCase) -> Result<Engine, Error> {
        Engine::new(Lexicon::builtin(use_case)?, Options::default())
    }

    /// The lexicon the engine matches.
    pub fn lexicon(&self) -> &Lexicon {
        &self.lexicon
    }

    /// The options the engine reads reports with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Label column names.
    pub fn labels(&self) -> &[String] {
        &self.lexicon.schema.labels
    }

    /// Extract concepts and labels from one report.
    pub fn extract(&self, report: &Report) -> Extraction {
        let lex = &self.lexicon;
        let mut n = normalise(&report.text);
        let (lang, detected) = match report.lang.or(self.options.default_lang) {
            Some(l) => (l, false),
            None => (
                detect_language(&self.matchers, &n).unwrap_or(Lang::En),
                true,
            ),
        };
        let m = &self.matchers[lang.index()];
        let typos_corrected = if self.options.typos {
            m.correct_typos(&mut n)
        } else {
            0
        };
        let hits = m.find(&n);
        let assertions = crate::negation::assess(&n, &hits, m);
        let mentions = rules::resolve(lex, m, &n, &hits, &assertions);
        let findings = rules::findings(
            &lex.schema,
            &lex.ontology,
            &mentions,
            self.options.uncertain,
        );
        let labels = rules::finalise(&lex.schema, &findings, &lex.schema.exclusive);
        let rollup = rules::rollup(&lex.schema, &labels);
        let marsh = mentions
            .iter()
            .filter(|m| !m.negated && !m.hypothetical)
            .filter_map(|m| m.value.clone())
            .max();
        let chars: Vec<(usize, char)> = report.text.char_indices().collect();
        let concepts = mentions
            .iter()
            .map(|mm| self.concept_out(mm, &n, &report.text, &chars))
            .collect();
        Extraction {
            id: report.id.clone(),
            slide_ids: report.slide_ids.clone(),
            lang,
            lang_detected: detected,
            typos_corrected,
            concepts,
            findings,
            labels,
            rollup,
            marsh,
            label_names: lex.schema.labels.clone(),
        }
    }

    fn concept_out(
        &self,
        m: &Mention,
        n: &crate::normalise::Normalised,
        text: &str,
        chars: &[(usize, char)],
    ) -> ConceptOut {
        let lex = &self.lexicon;
        let c = lex.ontology.get(m.concept);
        let span =
            |(s, e): (usize, usize)| -> [u32; 2] { [n.tokens[s].orig.0, n.tokens[e - 1].orig.1] };
        let slice = |sp: [u32; 2]| -> String {
            let b = |i: u32| chars.get(i as usize).map(|&(b, _)| b).unwrap_or(text.len());
            text.get(b(sp[0])..b(sp[1])).unwrap_or("").to_string()
        };
        let sp = span(m.tokens);
        let gsp = m.grade_tokens.map(span);
        let labels = if m.hypothetical {
            &Vec::new()
        } else if m.negated {
            &c.negated_labels
        } else if m.uncertain && c.uncertain_labels.is_some() {
            c.uncertain_labels.as_ref().unwrap_or(&c.labels)
        } else if m.uncertain && self.options.uncertain == UncertainPolicy::Exclude {
            &Vec::new()
        } else {
            &c.labels
        };
        let mut label_names: Vec<String> = labels
            .iter()
            .map(|&i| lex.schema.labels[i].clone())
            .collect();
        if let Some(v) = &m.value {
            if !m.negated && !m.hypothetical {
                if let Some(&l) = lex.schema.marsh.get(v) {
                    label_names = vec![lex.schema.labels[l].clone()];
                }
            }
        }
        ConceptOut {
            id: c.id.clone(),
            identifier: c.identifier(),
            name: c.name.clone(),
            parent: c.parent.clone(),
            umls: c.umls.clone(),
            snomed: c.snomed.clone(),
            mention: slice(sp),
            span: sp,
            negated: m.negated,
            uncertain: m.uncertain,
            hypothetical: m.hypothetical,
            grade: m.grade,
            grade_mention: gsp.map(slice),
            grade_span: gsp,
            grade_assumed: m.grade_defaulted,
            value: m.value.clone(),
            labels: label_names,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(u: UseCase, options: Options, text: &str) -> Vec<String> {
        let e = Engine::new(Lexicon::builtin(u).unwrap(), options).unwrap();
        e.extract(&Report::new("r", text))
            .label_names()
            .into_iter()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn uncertain_policy() {
        let text = "Suspicious for small cell carcinoma.";
        let inc = labels(UseCase::Lung, Options::default(), text);
        assert_eq!(inc, vec!["cancer_scc"]);
        let exc = Options {
            uncertain: UncertainPolicy::Exclude,
            ..Options::default()
        };
        assert!(labels(UseCase::Lung, exc, text).is_empty());
    }

    #[test]
    fn grades_by_use_case() {
        let d = Options::default();
        // Moderate dysplasia: low grade in the colon, CIN 2 in the cervix.
        assert_eq!(
            labels(UseCase::Colon, d.clone(), "Moderate dysplasia."),
            vec!["lgd"]
        );
        assert_eq!(
            labels(UseCase::Cervix, d.clone(), "Moderate dysplasia."),
            vec!["hgd"]
        );
        assert_eq!(
            labels(UseCase::Cervix, d.clone(), "CIN II/III."),
            vec!["hgd"]
        );
        assert_eq!(labels(UseCase::Cervix, d.clone(), "CIN1"), vec!["lgd"]);
        assert_eq!(
            labels(
                UseCase::Colon,
                d.clone(),
                "Adenoma tubulare con displasia di basso e alto grado."
            ),
            vec!["hgd", "lgd"]
        );
        assert_eq!(
            labels(
                UseCase::Colon,
                d,
                "Tubular adenoma with high-grade dysplasia."
            ),
            vec!["hgd"]
        );
    }

    #[test]
    fn celiac_marsh_and_exclusive() {
        let e = Engine::builtin(UseCase::Celiac).unwrap();
        let r = e.extract(&Report::new("r", "Atrofia dei villi, Marsh 3b. Celiachia."));
        assert_eq!(r.label_names(), vec!["positive"]);
        assert_eq!(r.marsh.as_deref(), Some("3b"));
        let r = e.extract(&Report::new(
            "r",
            "Marsh 1; non si può escludere celiachia.",
        ));
        assert_eq!(r.label_names(), vec!["inconclusive"]);
        let r = e.extract(&Report::new("r", "Normal duodenal mucosa."));
        assert_eq!(r.label_names(), vec!["negative"]);
    }

    #[test]
    fn hospital_extension_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ext.toml");
        std::fs::write(
            &p,
            "[[concept]]\nid = \"colon_adenocarcinoma\"\nit = [\"k colon\"]\n",
        )
        .unwrap();
        let lex = Lexicon::builtin_with(UseCase::Colon, &[p.as_path()]).unwrap();
        let e = Engine::new(lex, Options::default()).unwrap();
        let r = e.extract(&Report {
            lang: Some(Lang::It),
            ..Report::new("r", "Biopsia: K colon del sigma.")
        });
        assert_eq!(r.label_names(), vec!["cancer"]);
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[[concept]]\nid = 3\n").unwrap();
        assert!(Lexicon::builtin_with(UseCase::Colon, &[bad.as_path()]).is_err());
    }
}
