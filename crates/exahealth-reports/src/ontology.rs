//! The ontology layer: concepts with a stable identifier (the ExaMode
//! ontology's IRI where it has one), UMLS and SNOMED codes, a parent, the
//! weak labels they give and their synonyms per language.
//!
//! Concepts come from the lexicon data files (see [`crate::lexicon`]); this
//! module holds the resolved form and the lookups over it.

use serde::Serialize;
use std::collections::HashMap;

/// The languages the built-in lexicons cover.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// English.
    En,
    /// Italian.
    It,
    /// Dutch.
    Nl,
}

impl Lang {
    /// Every language, in index order.
    pub const ALL: [Lang; 3] = [Lang::En, Lang::It, Lang::Nl];

    /// The ISO 639-1 code (`en`, `it`, `nl`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::It => "it",
            Lang::Nl => "nl",
        }
    }

    /// The language's position in per-language arrays (`en` 0, `it` 1, `nl` 2).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Parse a language code or name ("it", "ita", "italian", "IT").
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "eng" | "english" => Some(Lang::En),
            "it" | "ita" | "italian" | "italiano" => Some(Lang::It),
            "nl" | "nld" | "dut" | "dutch" | "nederlands" => Some(Lang::Nl),
            _ => None,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A dysplasia or lesion grade word's meaning. Each use case maps grades to
/// concepts itself (colon: moderate is low grade; cervix: moderate is CIN 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grade {
    /// "Mild".
    Mild,
    /// "Moderate".
    Moderate,
    /// "Severe".
    Severe,
    /// "Low grade".
    Low,
    /// "High grade".
    High,
}

impl Grade {
    /// Every grade, in index order.
    pub const ALL: [Grade; 5] = [
        Grade::Mild,
        Grade::Moderate,
        Grade::Severe,
        Grade::Low,
        Grade::High,
    ];

    /// Parses a grade name as [`Grade::name`] writes it.
    pub fn parse(s: &str) -> Option<Grade> {
        match s.trim() {
            "mild" => Some(Grade::Mild),
            "moderate" => Some(Grade::Moderate),
            "severe" => Some(Grade::Severe),
            "low" => Some(Grade::Low),
            "high" => Some(Grade::High),
            _ => None,
        }
    }

    /// The grade's name (`mild`, `moderate`, `severe`, `low`, `high`).
    pub fn name(self) -> &'static str {
        match self {
            Grade::Mild => "mild",
            Grade::Moderate => "moderate",
            Grade::Severe => "severe",
            Grade::Low => "low",
            Grade::High => "high",
        }
    }
}

/// One concept of a use case.
#[derive(Clone, Debug, Default)]
pub struct Concept {
    /// Short id, unique within the use case (`colon_adenocarcinoma`).
    pub id: String,
    /// Ontology IRI (ExaMode ontology, MONDO, NCIt), if one exists.
    pub iri: Option<String>,
    /// Preferred (English) name.
    pub name: String,
    /// Parent concept's IRI.
    pub parent: Option<String>,
    /// UMLS codes.
    pub umls: Vec<String>,
    /// SNOMED CT codes.
    pub snomed: Vec<String>,
    /// Label columns (indices into the schema's labels) set when affirmed.
    pub labels: Vec<usize>,
    /// Labels set when the concept is negated (celiac: "negative").
    pub negated_labels: Vec<usize>,
    /// Labels set instead of `labels` when the mention is uncertain.
    pub uncertain_labels: Option<Vec<usize>>,
    /// An affirmed mention counts as a finding even without labels (it
    /// stops the default label, e.g. lung carcinoma NOS stops `no_cancer`).
    pub informative: bool,
    /// Grade -> the graded concept (index), for gradable concepts.
    pub grades: [Option<usize>; 5],
    /// Grade assumed when none is written (an adenoma is low grade).
    pub default_grade: Option<Grade>,
    /// Synonyms per language as written in the lexicon (braces expanded).
    pub synonyms: [Vec<String>; 3],
}

impl Concept {
    /// The stable identifier: the ontology IRI, or `exahealth:<id>` for
    /// concepts the ontology lacks.
    pub fn identifier(&self) -> String {
        match &self.iri {
            Some(iri) => iri.clone(),
            None => format!("exahealth:{}", self.id),
        }
    }

    /// Whether the concept has graded forms (e.g. dysplasia: low, high).
    pub fn is_gradable(&self) -> bool {
        self.grades.iter().any(Option::is_some)
    }

    /// The concept that grade `g` of this one is, if any (an ontology index).
    pub fn graded(&self, g: Grade) -> Option<usize> {
        self.grades[g as usize]
    }
}

/// The concepts of one use case and lookups over them.
#[derive(Clone, Debug, Default)]
pub struct Ontology {
    concepts: Vec<Concept>,
    by_id: HashMap<String, usize>,
    by_iri: HashMap<String, usize>,
}

impl Ontology {
    /// An ontology over `concepts`; an IRI shared by two concepts finds the first.
    pub fn new(concepts: Vec<Concept>) -> Self {
        let mut by_id = HashMap::new();
        let mut by_iri = HashMap::new();
        for (i, c) in concepts.iter().enumerate() {
            by_id.insert(c.id.clone(), i);
            if let Some(iri) = &c.iri {
                by_iri.entry(iri.clone()).or_insert(i);
            }
        }
        Ontology {
            concepts,
            by_id,
            by_iri,
        }
    }

    /// Every concept, in lexicon order.
    pub fn concepts(&self) -> &[Concept] {
        &self.concepts
    }

    /// The concept at `index`; panics if out of range.
    pub fn get(&self, index: usize) -> &Concept {
        &self.concepts[index]
    }

    /// The index of the concept with id `id`.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// The concept with IRI `iri`.
    pub fn by_iri(&self, iri: &str) -> Option<&Concept> {
        self.by_iri.get(iri).map(|&i| &self.concepts[i])
    }

    /// IRIs of a concept's ancestors, nearest first, as far as the
    /// lexicon knows them (stops at a cycle or an unknown parent).
    pub fn ancestors(&self, index: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut cur = self.concepts[index].parent.clone();
        while let Some(p) = cur {
            if out.contains(&p) || out.len() > 32 {
                break;
            }
            cur = self.by_iri(&p).and_then(|c| c.parent.clone());
            out.push(p);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ancestors_follow_parents_and_stop_at_cycles() {
        let c = |id: &str, iri: &str, parent: Option<&str>| Concept {
            id: id.into(),
            iri: Some(iri.into()),
            parent: parent.map(Into::into),
            ..Default::default()
        };
        let o = Ontology::new(vec![
            c("a", "x:a", Some("x:b")),
            c("b", "x:b", Some("x:c")),
            c("c", "x:c", Some("x:a")),
        ]);
        assert_eq!(o.ancestors(0), vec!["x:b", "x:c", "x:a"]);
        assert_eq!(o.index_of("b"), Some(1));
        assert_eq!(o.get(0).identifier(), "x:a");
        let plain = Concept {
            id: "p".into(),
            ..Default::default()
        };
        assert_eq!(plain.identifier(), "exahealth:p");
    }

    #[test]
    fn parses_languages() {
        assert_eq!(Lang::parse("IT"), Some(Lang::It));
        assert_eq!(Lang::parse("dutch"), Some(Lang::Nl));
        assert_eq!(Lang::parse("de"), None);
    }
}
