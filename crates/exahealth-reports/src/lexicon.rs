//! Lexicons are data, not code: TOML files under `lexicons/` in this crate,
//! embedded as defaults and extendable by a hospital's own files.
//!
//! * `common.toml`: per language, the negation and uncertainty triggers,
//!   scope terminators, grade words and function words (for language
//!   detection); immunostain marker names; the Marsh keyword.
//! * `<use case>.toml`: the label schema (columns, defaults, roll-ups) and
//!   the concepts with their IRIs, codes, parent, labels and synonyms.
//!
//! An extension file has the same shape as either: concepts with a known
//! `id` get its synonyms and codes added, new ids are added, trigger lists
//! are appended. It cannot change a use case's label columns.
//!
//! A synonym may hold alternatives in braces: `polip{o|i} iperplastic{o|i}`
//! stands for four terms, and `{a |}b` for `a b` and `b`.

use crate::ontology::{Concept, Grade, Lang, Ontology};
use crate::Error;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The use cases ExaMode defined, each with a built-in lexicon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UseCase {
    /// Colorectal biopsies and polypectomies.
    Colon,
    /// Uterine cervix biopsies.
    Cervix,
    /// Lung biopsies and resections.
    Lung,
    /// Duodenal biopsies for celiac disease.
    Celiac,
}

impl UseCase {
    /// Every use case, in the CLI's order.
    pub const ALL: [UseCase; 4] = [
        UseCase::Colon,
        UseCase::Cervix,
        UseCase::Lung,
        UseCase::Celiac,
    ];

    /// The use case's name (`colon`, `cervix`, `lung`, `celiac`).
    pub fn name(self) -> &'static str {
        match self {
            UseCase::Colon => "colon",
            UseCase::Cervix => "cervix",
            UseCase::Lung => "lung",
            UseCase::Celiac => "celiac",
        }
    }

    /// Parse a use case name.
    pub fn parse(s: &str) -> Result<UseCase, Error> {
        match s.trim().to_ascii_lowercase().as_str() {
            "colon" => Ok(UseCase::Colon),
            "cervix" => Ok(UseCase::Cervix),
            "lung" => Ok(UseCase::Lung),
            "celiac" | "coeliac" => Ok(UseCase::Celiac),
            _ => Err(Error::UnknownUseCase(s.to_string())),
        }
    }

    fn builtin_text(self) -> &'static str {
        match self {
            UseCase::Colon => include_str!("../lexicons/colon.toml"),
            UseCase::Cervix => include_str!("../lexicons/cervix.toml"),
            UseCase::Lung => include_str!("../lexicons/lung.toml"),
            UseCase::Celiac => include_str!("../lexicons/celiac.toml"),
        }
    }
}

impl std::fmt::Display for UseCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

const COMMON: &str = include_str!("../lexicons/common.toml");

/// How many terms one braced synonym may expand to.
const MAX_EXPANSIONS: usize = 512;

// ---------------------------------------------------------------- file shape

/// One lexicon file as written (every field optional, so the same shape
/// serves the common file, the use-case files and extensions).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LexiconFile {
    /// The use case the file defines or extends; absent in the common file.
    pub use_case: Option<String>,
    /// Free text about the file.
    pub description: Option<String>,
    /// Label columns, in the order of the labels table.
    pub labels: Option<Vec<String>>,
    /// Set when no other label is set.
    pub default_labels: Option<Vec<String>>,
    /// At most one of these is set, the first found in this order.
    pub exclusive: Option<Vec<String>>,
    /// For exclusive labels: which wins when reports of one slide are merged.
    pub merge_priority: Option<Vec<String>>,
    #[serde(default)]
    /// Roll-up columns, written after the labels.
    pub rollup: Vec<RollupSpec>,
    /// Marsh grade ("0", "1", "2", "3a", ...) -> label it gives.
    #[serde(default)]
    pub marsh: BTreeMap<String, String>,
    #[serde(default)]
    /// The concepts the file defines or extends.
    pub concept: Vec<ConceptSpec>,
    /// Words that introduce a Marsh grade ("marsh", "marsh-oberhuber").
    #[serde(default)]
    pub marsh_words: Vec<String>,
    /// Immunostain and test names: a post-negation right after one of them
    /// ("p40 negative") is about the marker, not the diagnosis before it.
    #[serde(default)]
    pub markers: Vec<String>,
    /// English triggers and grade words.
    pub en: Option<LangSpec>,
    /// Italian triggers and grade words.
    pub it: Option<LangSpec>,
    /// Dutch triggers and grade words.
    pub nl: Option<LangSpec>,
}

/// A roll-up column: set when any of `any_of` is set, or when none of
/// `none_of` is set.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RollupSpec {
    /// The roll-up column's name.
    pub name: String,
    #[serde(default)]
    /// Label columns any of which sets the roll-up.
    pub any_of: Vec<String>,
    #[serde(default)]
    /// Label columns none of which being set sets the roll-up.
    pub none_of: Vec<String>,
}

/// A concept as written in a lexicon file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConceptSpec {
    /// Short id, unique within the use case; an existing id is extended.
    pub id: String,
    /// Ontology IRI, if one exists.
    pub iri: Option<String>,
    /// Preferred (English) name; default: the id.
    pub name: Option<String>,
    /// Parent concept's IRI.
    pub parent: Option<String>,
    #[serde(default)]
    /// UMLS codes.
    pub umls: Vec<String>,
    #[serde(default)]
    /// SNOMED CT codes.
    pub snomed: Vec<String>,
    #[serde(default)]
    /// Label columns set when the concept is affirmed.
    pub labels: Vec<String>,
    #[serde(default)]
    /// Label columns set when the concept is negated.
    pub negated_labels: Vec<String>,
    /// Label columns set instead of `labels` when the mention is uncertain.
    pub uncertain_labels: Option<Vec<String>>,
    #[serde(default)]
    /// An affirmed mention stops the default label even without labels.
    pub informative: bool,
    /// Grade name (mild, moderate, severe, low, high) -> concept id.
    #[serde(default)]
    pub grades: BTreeMap<String, String>,
    /// Grade assumed when none is written (a key of `grades`).
    pub default_grade: Option<String>,
    #[serde(default)]
    /// English synonyms (braces give alternatives).
    pub en: Vec<String>,
    #[serde(default)]
    /// Italian synonyms.
    pub it: Vec<String>,
    #[serde(default)]
    /// Dutch synonyms.
    pub nl: Vec<String>,
}

/// The per-language trigger lists as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LangSpec {
    #[serde(default)]
    /// Triggers that negate what follows ("no", "absence of").
    pub pre_negation: Vec<String>,
    #[serde(default)]
    /// Triggers that negate what precedes ("absent").
    pub post_negation: Vec<String>,
    #[serde(default)]
    /// Triggers that make what follows uncertain ("suspicious for").
    pub pre_uncertainty: Vec<String>,
    #[serde(default)]
    /// Triggers that make what precedes uncertain ("cannot be excluded").
    pub post_uncertainty: Vec<String>,
    /// Look like triggers but are not ("not only", "no change").
    #[serde(default)]
    pub pseudo: Vec<String>,
    /// The rest of the sentence is a question or clinical information.
    #[serde(default)]
    pub hypothetical: Vec<String>,
    /// End a negation scope ("but", "with", "ma", "maar").
    #[serde(default)]
    pub terminators: Vec<String>,
    /// After a comma, a scope goes on only if the clause holds one of these
    /// ("or", "nor", "and", "of") - it is then a list.
    #[serde(default)]
    pub list_words: Vec<String>,
    /// Words a grade word may stand behind ("dysplasia OF high grade").
    #[serde(default)]
    pub grade_links: Vec<String>,
    /// Grade words: key is a grade or grades joined by '+' ("low+high").
    #[serde(default)]
    pub grades: BTreeMap<String, Vec<String>>,
    /// Frequent function words, for telling languages apart.
    #[serde(default)]
    pub function_words: Vec<String>,
}

impl LangSpec {
    fn append(&mut self, o: LangSpec) {
        self.pre_negation.extend(o.pre_negation);
        self.post_negation.extend(o.post_negation);
        self.pre_uncertainty.extend(o.pre_uncertainty);
        self.post_uncertainty.extend(o.post_uncertainty);
        self.pseudo.extend(o.pseudo);
        self.hypothetical.extend(o.hypothetical);
        self.terminators.extend(o.terminators);
        self.list_words.extend(o.list_words);
        self.grade_links.extend(o.grade_links);
        for (k, v) in o.grades {
            self.grades.entry(k).or_default().extend(v);
        }
        self.function_words.extend(o.function_words);
    }
}

// ----------------------------------------------------------- resolved form

/// The label schema of a use case.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    /// The use case's name.
    pub use_case: String,
    /// Label columns, in the order of the labels table.
    pub labels: Vec<String>,
    /// Labels set when no other label is set.
    pub default_labels: Vec<usize>,
    /// Labels of which at most one is set, the first in this order.
    pub exclusive: Vec<usize>,
    /// Which exclusive label wins when reports of one slide are merged.
    pub merge_priority: Vec<usize>,
    /// Roll-up columns, in table order.
    pub rollups: Vec<Rollup>,
    /// Marsh grade -> label index.
    pub marsh: BTreeMap<String, usize>,
}

impl Schema {
    /// The column index of label `name`.
    pub fn label_index(&self, name: &str) -> Option<usize> {
        self.labels.iter().position(|l| l == name)
    }
}

/// A resolved roll-up column.
#[derive(Clone, Debug, Default)]
pub struct Rollup {
    /// The roll-up column's name.
    pub name: String,
    /// Labels any of which sets the roll-up.
    pub any_of: Vec<usize>,
    /// Labels none of which being set sets the roll-up.
    pub none_of: Vec<usize>,
}

/// Trigger and grade words of one language, normalised and expanded.
#[derive(Clone, Debug, Default)]
pub struct LangRules {
    /// Triggers that negate what follows, normalised.
    pub pre_negation: Vec<String>,
    /// Triggers that negate what precedes.
    pub post_negation: Vec<String>,
    /// Triggers that make what follows uncertain.
    pub pre_uncertainty: Vec<String>,
    /// Triggers that make what precedes uncertain.
    pub post_uncertainty: Vec<String>,
    /// Phrases that look like triggers but are not ("not only").
    pub pseudo: Vec<String>,
    /// Triggers after which the sentence is a question or clinical information.
    pub hypothetical: Vec<String>,
    /// Words that end a negation or uncertainty scope.
    pub terminators: Vec<String>,
    /// Words that make a comma continue a scope (a list).
    pub list_words: Vec<String>,
    /// Words a grade word may stand behind ("of" in "dysplasia of high grade").
    pub grade_links: Vec<String>,
    /// (normalised term, grades it states)
    pub grades: Vec<(String, Vec<Grade>)>,
    /// Frequent function words, for telling languages apart.
    pub function_words: Vec<String>,
}

/// A resolved, validated lexicon for one use case.
#[derive(Clone, Debug)]
pub struct Lexicon {
    /// The label columns and their rules.
    pub schema: Schema,
    /// The concepts.
    pub ontology: Ontology,
    /// Trigger and grade words, indexed by [`Lang::index`].
    pub langs: [LangRules; 3],
    /// Immunostain and test names ("p40 negative" is about the marker).
    pub markers: Vec<String>,
    /// Words that introduce a Marsh grade.
    pub marsh_words: Vec<String>,
}

/// Lexicon files merged but not yet resolved.
#[derive(Debug, Default)]
pub struct LexiconBuilder {
    file: LexiconFile,
    sources: Vec<String>,
}

impl LexiconBuilder {
    /// Start from the built-in common file and a use case's built-in file.
    pub fn builtin(use_case: UseCase) -> Result<Self, Error> {
        let mut b = LexiconBuilder::default();
        b.add_str(COMMON, "builtin:common.toml")?;
        b.add_str(
            use_case.builtin_text(),
            &format!("builtin:{}.toml", use_case.name()),
        )?;
        Ok(b)
    }

    /// Merge a lexicon file (TOML) from disk.
    pub fn add_file(&mut self, path: &Path) -> Result<&mut Self, Error> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.len() > 64 << 20 {
            return Err(Error::lexicon(
                path.display(),
                "file is over 64 MiB; is it a lexicon?",
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        self.add_str(&text, &path.display().to_string())
    }

    /// Merge lexicon text (TOML); `source` names it in errors.
    pub fn add_str(&mut self, text: &str, source: &str) -> Result<&mut Self, Error> {
        let f: LexiconFile =
            toml::from_str(text).map_err(|e| Error::lexicon_from(source, "invalid TOML", e))?;
        self.merge(f, source)?;
        self.sources.push(source.to_string());
        Ok(self)
    }

    fn merge(&mut self, f: LexiconFile, source: &str) -> Result<(), Error> {
        let t = &mut self.file;
        if let (Some(a), Some(b)) = (&t.use_case, &f.use_case) {
            if a != b {
                return Err(Error::lexicon(
                    source,
                    format!("is for use case {b:?}, but the lexicon is for {a:?}"),
                ));
            }
        }
        set_once(&mut t.use_case, f.use_case, "use_case", source)?;
        if f.description.is_some() {
            t.description = f.description;
        }
        set_once(&mut t.labels, f.labels, "labels", source)?;
        set_once(
            &mut t.default_labels,
            f.default_labels,
            "default_labels",
            source,
        )?;
        set_once(&mut t.exclusive, f.exclusive, "exclusive", source)?;
        set_once(
            &mut t.merge_priority,
            f.merge_priority,
            "merge_priority",
            source,
        )?;
        if !f.rollup.is_empty() {
            if !t.rollup.is_empty() && t.rollup != f.rollup {
                return Err(Error::lexicon(
                    source,
                    "cannot change the roll-up columns of a use case",
                ));
            }
            t.rollup = f.rollup;
        }
        for (k, v) in f.marsh {
            t.marsh.insert(k, v);
        }
        t.marsh_words.extend(f.marsh_words);
        t.markers.extend(f.markers);
        for (slot, spec) in [(&mut t.en, f.en), (&mut t.it, f.it), (&mut t.nl, f.nl)] {
            if let Some(spec) = spec {
                slot.get_or_insert_with(LangSpec::default).append(spec);
            }
        }
        for c in f.concept {
            match t.concept.iter_mut().find(|x| x.id == c.id) {
                Some(x) => merge_concept(x, c),
                None => t.concept.push(c),
            }
        }
        Ok(())
    }

    /// Validate and resolve into a [`Lexicon`].
    pub fn build(self) -> Result<Lexicon, Error> {
        let src = self.sources.join(" + ");
        let f = self.file;
        let use_case = f
            .use_case
            .ok_or_else(|| Error::lexicon(&src, "no use_case given"))?;
        let labels = f
            .labels
            .ok_or_else(|| Error::lexicon(&src, "no labels given"))?;
        if labels.is_empty() {
            return Err(Error::lexicon(&src, "labels is empty"));
        }
        for (i, l) in labels.iter().enumerate() {
            if l.is_empty() || labels[..i].contains(l) || l == "id" {
                return Err(Error::lexicon(
                    &src,
                    format!("label {l:?} is empty, repeated or reserved"),
                ));
            }
        }
        let idx = |name: &str, what: &str| -> Result<usize, Error> {
            labels.iter().position(|l| l == name).ok_or_else(|| {
                Error::lexicon(
                    &src,
                    format!("{what} names label {name:?}, which is not in labels"),
                )
            })
        };
        let idxs = |names: &[String], what: &str| -> Result<Vec<usize>, Error> {
            names.iter().map(|n| idx(n, what)).collect()
        };
        let mut schema = Schema {
            use_case: use_case.clone(),
            labels: labels.clone(),
            default_labels: idxs(&f.default_labels.unwrap_or_default(), "default_labels")?,
            exclusive: idxs(&f.exclusive.unwrap_or_default(), "exclusive")?,
            merge_priority: idxs(&f.merge_priority.unwrap_or_default(), "merge_priority")?,
            rollups: Vec::new(),
            marsh: BTreeMap::new(),
        };
        for r in &f.rollup {
            schema.rollups.push(Rollup {
                name: r.name.clone(),
                any_of: idxs(&r.any_of, "a roll-up")?,
                none_of: idxs(&r.none_of, "a roll-up")?,
            });
        }
        for (grade, label) in &f.marsh {
            let g = normalise_marsh_grade(grade)
                .ok_or_else(|| Error::lexicon(&src, format!("{grade:?} is not a Marsh grade")))?;
            schema.marsh.insert(g, idx(label, "marsh")?);
        }

        // Concepts: first pass gives indices, second resolves grade links.
        let ids: HashMap<&str, usize> = f
            .concept
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.as_str(), i))
            .collect();
        if ids.len() != f.concept.len() {
            return Err(Error::lexicon(&src, "two concepts share an id"));
        }
        let mut concepts = Vec::with_capacity(f.concept.len());
        for c in &f.concept {
            let what = format!("concept {:?}", c.id);
            if c.id.trim().is_empty() {
                return Err(Error::lexicon(&src, "a concept has an empty id"));
            }
            let mut grades = [None; 5];
            for (g, target) in &c.grades {
                let g = Grade::parse(g)
                    .ok_or_else(|| Error::lexicon(&src, format!("{what}: unknown grade {g:?}")))?;
                let t = *ids.get(target.as_str()).ok_or_else(|| {
                    Error::lexicon(&src, format!("{what}: grade links to unknown {target:?}"))
                })?;
                grades[g as usize] = Some(t);
            }
            let default_grade = match &c.default_grade {
                None => None,
                Some(g) => {
                    let g = Grade::parse(g).ok_or_else(|| {
                        Error::lexicon(&src, format!("{what}: unknown default_grade {g:?}"))
                    })?;
                    if grades[g as usize].is_none() {
                        return Err(Error::lexicon(
                            &src,
                            format!("{what}: default_grade {} has no grade link", g.name()),
                        ));
                    }
                    Some(g)
                }
            };
            let mut synonyms: [Vec<String>; 3] = Default::default();
            for (lang, list) in [(Lang::En, &c.en), (Lang::It, &c.it), (Lang::Nl, &c.nl)] {
                for term in list {
                    let expanded = expand_braces(term)
                        .map_err(|m| Error::lexicon(&src, format!("{what}: {term:?}: {m}")))?;
                    synonyms[lang.index()].extend(expanded);
                }
            }
            concepts.push(Concept {
                id: c.id.clone(),
                iri: c.iri.clone().filter(|s| !s.is_empty()),
                name: c.name.clone().unwrap_or_else(|| c.id.clone()),
                parent: c.parent.clone().filter(|s| !s.is_empty()),
                umls: c.umls.clone(),
                snomed: c.snomed.clone(),
                labels: idxs(&c.labels, &what)?,
                negated_labels: idxs(&c.negated_labels, &what)?,
                uncertain_labels: match &c.uncertain_labels {
                    Some(l) => Some(idxs(l, &what)?),
                    None => None,
                },
                informative: c.informative,
                grades,
                default_grade,
                synonyms,
            });
        }

        let mut langs: [LangRules; 3] = Default::default();
        for (lang, spec) in [(Lang::En, &f.en), (Lang::It, &f.it), (Lang::Nl, &f.nl)] {
            if let Some(spec) = spec {
                langs[lang.index()] = resolve_lang(spec, &src, lang)?;
            }
        }
        let norm_list = |list: &[String], what: &str| -> Result<Vec<String>, Error> {
            let mut out = Vec::new();
            for t in list {
                for e in expand_braces(t)
                    .map_err(|m| Error::lexicon(&src, format!("{what} {t:?}: {m}")))?
                {
                    let n = crate::normalise::normalise_term(&e);
                    if n.is_empty() {
                        return Err(Error::lexicon(&src, format!("{what} {t:?} has no words")));
                    }
                    out.push(n);
                }
            }
            Ok(out)
        };
        let markers = norm_list(&f.markers, "marker")?;
        let marsh_words = norm_list(&f.marsh_words, "marsh word")?;
        Ok(Lexicon {
            schema,
            ontology: Ontology::new(concepts),
            langs,
            markers,
            marsh_words,
        })
    }
}

impl Lexicon {
    /// The built-in lexicon of a use case.
    pub fn builtin(use_case: UseCase) -> Result<Lexicon, Error> {
        LexiconBuilder::builtin(use_case)?.build()
    }

    /// The built-in lexicon of a use case extended by files.
    pub fn builtin_with(use_case: UseCase, extensions: &[&Path]) -> Result<Lexicon, Error> {
        let mut b = LexiconBuilder::builtin(use_case)?;
        for p in extensions {
            b.add_file(p)?;
        }
        b.build()
    }
}

fn resolve_lang(spec: &LangSpec, src: &str, lang: Lang) -> Result<LangRules, Error> {
    let list = |l: &[String], what: &str| -> Result<Vec<String>, Error> {
        let mut out = Vec::new();
        for t in l {
            for e in expand_braces(t)
                .map_err(|m| Error::lexicon(src, format!("[{lang}] {what} {t:?}: {m}")))?
            {
                let n = crate::normalise::normalise_term(&e);
                if n.is_empty() {
                    return Err(Error::lexicon(
                        src,
                        format!("[{lang}] {what} {t:?} has no words"),
                    ));
                }
                out.push(n);
            }
        }
        Ok(out)
    };
    let mut grades = Vec::new();
    for (key, terms) in &spec.grades {
        let gs: Option<Vec<Grade>> = key.split('+').map(Grade::parse).collect();
        let gs = gs.ok_or_else(|| {
            Error::lexicon(src, format!("[{lang}] grades: {key:?} is not a grade"))
        })?;
        for t in list(terms, "grade")? {
            grades.push((t, gs.clone()));
        }
    }
    Ok(LangRules {
        pre_negation: list(&spec.pre_negation, "pre_negation")?,
        post_negation: list(&spec.post_negation, "post_negation")?,
        pre_uncertainty: list(&spec.pre_uncertainty, "pre_uncertainty")?,
        post_uncertainty: list(&spec.post_uncertainty, "post_uncertainty")?,
        pseudo: list(&spec.pseudo, "pseudo")?,
        hypothetical: list(&spec.hypothetical, "hypothetical")?,
        terminators: list(&spec.terminators, "terminators")?,
        list_words: list(&spec.list_words, "list_words")?,
        grade_links: list(&spec.grade_links, "grade_links")?,
        grades,
        function_words: list(&spec.function_words, "function_words")?,
    })
}

fn set_once<T: PartialEq>(
    slot: &mut Option<T>,
    new: Option<T>,
    what: &str,
    source: &str,
) -> Result<(), Error> {
    if let Some(n) = new {
        match slot {
            Some(old) if *old != n => {
                return Err(Error::lexicon(
                    source,
                    format!(
                        "cannot change {what} of a use case; write a new use case file instead"
                    ),
                ))
            }
            _ => *slot = Some(n),
        }
    }
    Ok(())
}

fn merge_concept(x: &mut ConceptSpec, c: ConceptSpec) {
    if c.iri.is_some() {
        x.iri = c.iri;
    }
    if c.name.is_some() {
        x.name = c.name;
    }
    if c.parent.is_some() {
        x.parent = c.parent;
    }
    x.umls.extend(c.umls);
    x.snomed.extend(c.snomed);
    if !c.labels.is_empty() {
        x.labels = c.labels;
    }
    if !c.negated_labels.is_empty() {
        x.negated_labels = c.negated_labels;
    }
    if c.uncertain_labels.is_some() {
        x.uncertain_labels = c.uncertain_labels;
    }
    x.informative |= c.informative;
    x.grades.extend(c.grades);
    if c.default_grade.is_some() {
        x.default_grade = c.default_grade;
    }
    x.en.extend(c.en);
    x.it.extend(c.it);
    x.nl.extend(c.nl);
}

/// Marsh grades as the rules compare them: "3b", "0", "4"; roman numerals
/// and case are folded ("IIIb" -> "3b").
pub fn normalise_marsh_grade(s: &str) -> Option<String> {
    let s = s.trim().to_ascii_lowercase();
    let (num, letter) = match s.find(['a', 'b', 'c']) {
        Some(p) if p + 1 == s.len() && p > 0 => (&s[..p], Some(&s[p..])),
        _ => (s.as_str(), None),
    };
    let n = match num.trim() {
        "0" => 0,
        "1" | "i" => 1,
        "2" | "ii" => 2,
        "3" | "iii" => 3,
        "4" | "iv" => 4,
        _ => return None,
    };
    match (n, letter) {
        (3, Some(l)) => Some(format!("3{l}")),
        (_, Some(_)) => None,
        (n, None) => Some(n.to_string()),
    }
}

/// Expand `{a|b}` alternatives; no nesting.
pub fn expand_braces(term: &str) -> Result<Vec<String>, String> {
    let mut out = vec![String::new()];
    let mut rest = term;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or("a '{' without '}'")?;
        let inner = &rest[open + 1..close];
        if inner.contains('{') {
            return Err("nested braces".into());
        }
        let prefix = &rest[..open];
        if prefix.contains('}') {
            return Err("a '}' without '{'".into());
        }
        let alts: Vec<&str> = inner.split('|').collect();
        if out.len() * alts.len() > MAX_EXPANSIONS {
            return Err(format!("expands to more than {MAX_EXPANSIONS} terms"));
        }
        out = out
            .iter()
            .flat_map(|o| alts.iter().map(move |a| format!("{o}{prefix}{a}")))
            .collect();
        rest = &rest[close + 1..];
    }
    if rest.contains('}') {
        return Err("a '}' without '{'".into());
    }
    for o in &mut out {
        o.push_str(rest);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn braces_expand() {
        assert_eq!(
            expand_braces("polip{o|i} iperplastic{o|i}").unwrap(),
            vec![
                "polipo iperplastico",
                "polipo iperplastici",
                "polipi iperplastico",
                "polipi iperplastici"
            ]
        );
        assert_eq!(expand_braces("{a |}b").unwrap(), vec!["a b", "b"]);
        assert!(expand_braces("a{b").is_err());
        assert!(expand_braces("a}b").is_err());
        assert!(expand_braces("{a{b}}").is_err());
        let bomb = "{a|b|c|d}".repeat(10);
        assert!(expand_braces(&bomb).is_err());
    }

    #[test]
    fn marsh_grades_fold() {
        assert_eq!(normalise_marsh_grade("IIIb").as_deref(), Some("3b"));
        assert_eq!(normalise_marsh_grade("3C").as_deref(), Some("3c"));
        assert_eq!(normalise_marsh_grade("0").as_deref(), Some("0"));
        assert_eq!(normalise_marsh_grade("2a"), None);
        assert_eq!(normalise_marsh_grade("5"), None);
    }

    #[test]
    fn builtins_load() {
        for u in UseCase::ALL {
            let lex = Lexicon::builtin(u).unwrap_or_else(|e| panic!("{u}: {e}"));
            assert_eq!(lex.schema.use_case, u.name());
            assert!(!lex.ontology.concepts().is_empty());
            for l in Lang::ALL {
                assert!(!lex.langs[l.index()].pre_negation.is_empty(), "{u} {l}");
            }
        }
    }

    #[test]
    fn extensions_add_synonyms_but_not_labels() {
        let mut b = LexiconBuilder::builtin(UseCase::Colon).unwrap();
        b.add_str(
            "[[concept]]\nid = \"colon_adenocarcinoma\"\nnl = [\"adenoca\"]\n",
            "ext",
        )
        .unwrap();
        let lex = b.build().unwrap();
        let i = lex.ontology.index_of("colon_adenocarcinoma").unwrap();
        assert!(lex.ontology.get(i).synonyms[Lang::Nl.index()].contains(&"adenoca".to_string()));

        let mut b = LexiconBuilder::builtin(UseCase::Colon).unwrap();
        let err = b.add_str("labels = [\"x\"]\n", "ext").unwrap_err();
        assert!(err.to_string().contains("cannot change labels"), "{err}");
        let mut b = LexiconBuilder::builtin(UseCase::Colon).unwrap();
        assert!(b.add_str("use_case = \"lung\"\n", "ext").is_err());
        let mut b = LexiconBuilder::builtin(UseCase::Colon).unwrap();
        assert!(b.add_str("not toml [", "ext").is_err());
        let mut b = LexiconBuilder::builtin(UseCase::Colon).unwrap();
        b.add_str(
            "[[concept]]\nid = \"x\"\nlabels = [\"nope\"]\nen = [\"x\"]\n",
            "ext",
        )
        .unwrap();
        assert!(b.build().is_err());
    }
}
