//! From matches to concepts and labels: grade words, Marsh grades, the
//! use case's defaults, exclusive labels and roll-ups.
//!
//! Grades. A grade word right before a gradable concept ("high-grade
//! dysplasia", "hooggradige dysplasie") belongs to it; the others attach to
//! the nearest gradable concept before them in the same sentence, over at
//! most [`GRADE_WINDOW`] units and across commas ("displasia lieve,
//! focalmente severa": mild and severe). Each grade found turns the concept
//! into its graded concept, as the use case maps it (colon: mild and
//! moderate are low grade, severe is high grade; cervix: moderate is CIN 2).
//! A gradable concept with no grade written takes its `default_grade` (a
//! tubular adenoma is low-grade dysplasia), unless an affirmed concept in
//! the same sentence has a written grade ("tubular adenoma with high-grade
//! dysplasia" is high grade only).

use crate::lexicon::{normalise_marsh_grade, Lexicon, Schema};
use crate::matcher::{Hit, LangMatcher, Role};
use crate::negation::Assertion;
use crate::normalise::{Normalised, TokenKind};
use crate::ontology::{Grade, Ontology};

/// Units after a gradable concept in which its grade words are looked for.
pub const GRADE_WINDOW: usize = 6;
/// Plain words allowed between a grade word and the concept it precedes.
const PRECEDING_GAP: usize = 1;

/// Whether uncertain mentions give labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UncertainPolicy {
    /// Uncertain findings count as labels (and are flagged in the JSON).
    #[default]
    Include,
    /// Uncertain findings give no label (nor the default label: "suspicious
    /// for carcinoma" is not `no_cancer`).
    Exclude,
}

/// A resolved concept mention.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mention {
    /// The concept (after grading).
    pub concept: usize,
    /// The gradable concept it was graded from.
    pub base: Option<usize>,
    /// Token range of the concept's words.
    pub tokens: (usize, usize),
    /// The grade written or assumed, for gradable concepts.
    pub grade: Option<Grade>,
    /// Token range of the grade words.
    pub grade_tokens: Option<(usize, usize)>,
    /// The grade was not written but assumed.
    pub grade_defaulted: bool,
    /// Inside the scope of a negation trigger.
    pub negated: bool,
    /// Inside the scope of an uncertainty trigger.
    pub uncertain: bool,
    /// In a question or clinical information: gives no label.
    pub hypothetical: bool,
    /// A value read with the concept (the Marsh grade).
    pub value: Option<String>,
}

/// Turn hits into mentions.
pub fn resolve(
    lex: &Lexicon,
    m: &LangMatcher,
    n: &Normalised,
    hits: &[Hit],
    assertions: &[Assertion],
) -> Vec<Mention> {
    let onto = &lex.ontology;
    let ntok = n.tokens.len();
    // Sentence number of each token.
    let mut segment = vec![0u32; ntok];
    let mut s = 0;
    for (i, t) in n.tokens.iter().enumerate() {
        segment[i] = s;
        if t.kind == TokenKind::Boundary {
            s += 1;
        }
    }
    let concept_of = |h: &Hit| match h.role {
        Role::Concept(c) => Some(c as usize),
        _ => None,
    };
    let gradable = |h: &Hit| concept_of(h).is_some_and(|c| onto.get(c).is_gradable());

    // Grade words claimed by the concept they precede.
    let mut owner: Vec<Option<usize>> = vec![None; hits.len()];
    for (g, h) in hits.iter().enumerate() {
        if !matches!(h.role, Role::Grade(_)) {
            continue;
        }
        let mut gap = 0;
        let mut t = h.end;
        let k = g + 1;
        while t < ntok && n.tokens[t].kind == TokenKind::Word {
            if k < hits.len() && hits[k].start == t {
                if gradable(&hits[k]) {
                    owner[g] = Some(k);
                }
                break;
            }
            gap += 1;
            if gap > PRECEDING_GAP {
                break;
            }
            t += 1;
        }
    }
    // Remaining grade words attach to the gradable concept before them.
    for (c, h) in hits.iter().enumerate() {
        if !gradable(h) {
            continue;
        }
        let mut units = 0;
        let mut t = h.end;
        let mut k = c + 1;
        while t < ntok && units < GRADE_WINDOW {
            match n.tokens[t].kind {
                TokenKind::Boundary => break,
                TokenKind::Comma => {
                    t += 1;
                    continue;
                }
                TokenKind::Word => {}
            }
            while k < hits.len() && hits[k].start < t {
                k += 1;
            }
            if k < hits.len() && hits[k].start == t {
                match hits[k].role {
                    Role::Grade(_) => {
                        // A grade word right before another noun is that
                        // noun's ("displasia ... e lieve flogosi").
                        let e = hits[k].end;
                        let next_is_noun = e < ntok
                            && n.tokens[e].kind == TokenKind::Word
                            && !m.grade_links.contains(n.token_text(e))
                            && !(k + 1 < hits.len()
                                && hits[k + 1].start == e
                                && matches!(hits[k + 1].role, Role::Grade(_)));
                        if next_is_noun {
                            break;
                        }
                        if owner[k].is_none() {
                            owner[k] = Some(c);
                        }
                    }
                    Role::Terminator | Role::Pseudo | Role::Marker | Role::Marsh => {}
                    _ => break,
                }
                units += 1;
                t = hits[k].end;
                continue;
            }
            if !m.grade_links.contains(n.token_text(t)) {
                break;
            }
            units += 1;
            t += 1;
        }
    }

    let mut out: Vec<Mention> = Vec::new();
    let mut pending_default: Vec<usize> = Vec::new();
    for (i, h) in hits.iter().enumerate() {
        let a = assertions[i];
        match h.role {
            Role::Concept(c) => {
                let c = c as usize;
                let concept = onto.get(c);
                let base = Mention {
                    concept: c,
                    base: None,
                    tokens: (h.start, h.end),
                    grade: None,
                    grade_tokens: None,
                    grade_defaulted: false,
                    negated: a.negated,
                    uncertain: a.uncertain,
                    hypothetical: a.hypothetical,
                    value: None,
                };
                if !concept.is_gradable() {
                    out.push(base);
                    continue;
                }
                let mut graded = false;
                for (g, gh) in hits.iter().enumerate() {
                    if owner[g] != Some(i) {
                        continue;
                    }
                    let Role::Grade(set) = gh.role else { continue };
                    for &grade in &m.grade_sets[set as usize] {
                        let target = concept.graded(grade);
                        let dup = out
                            .iter()
                            .any(|o| o.tokens == base.tokens && o.grade == Some(grade));
                        if dup {
                            continue;
                        }
                        graded = true;
                        out.push(Mention {
                            concept: target.unwrap_or(c),
                            base: target.map(|_| c),
                            grade: Some(grade),
                            grade_tokens: Some((gh.start, gh.end)),
                            ..base.clone()
                        });
                    }
                }
                if !graded {
                    if concept.default_grade.is_some() {
                        pending_default.push(out.len());
                    }
                    out.push(base);
                }
            }
            Role::Marsh => {
                if let Some(c) = onto.index_of("celiac_marsh") {
                    if let Some((grade, end)) = parse_marsh(n, h.end) {
                        out.push(Mention {
                            concept: c,
                            base: None,
                            tokens: (h.start, end),
                            grade: None,
                            grade_tokens: None,
                            grade_defaulted: false,
                            negated: a.negated,
                            uncertain: a.uncertain,
                            hypothetical: a.hypothetical,
                            value: Some(grade),
                        });
                    }
                }
            }
            _ => {}
        }
    }
    // Default grades, unless the sentence has a written, affirmed grade: a
    // grade word, or a concept that is itself a grade ("HGD", "carcinoma
    // intramucoso").
    let grade_targets: Vec<usize> = onto
        .concepts()
        .iter()
        .flat_map(|c| c.grades.iter().flatten().copied())
        .collect();
    for &p in &pending_default {
        let seg = segment[out[p].tokens.0];
        let written = out.iter().any(|o| {
            (o.grade.is_some() || (o.base.is_none() && grade_targets.contains(&o.concept)))
                && !o.grade_defaulted
                && !o.negated
                && !o.hypothetical
                && segment[o.tokens.0] == seg
        });
        if written {
            continue;
        }
        let c = out[p].concept;
        if let Some(g) = onto.get(c).default_grade {
            if let Some(t) = onto.get(c).graded(g) {
                let o = &mut out[p];
                o.base = Some(c);
                o.concept = t;
                o.grade = Some(g);
                o.grade_defaulted = true;
            }
        }
    }
    out
}

/// Read a Marsh grade from the tokens after the keyword: "3b", "IIIa",
/// "type 2", "-Oberhuber 3c". Returns the folded grade and the end token.
fn parse_marsh(n: &Normalised, from: usize) -> Option<(String, usize)> {
    const SKIP: [&str; 12] = [
        "oberhuber",
        "type",
        "tipo",
        "grade",
        "grado",
        "graad",
        "stage",
        "stadio",
        "class",
        "classe",
        "klasse",
        "lesion",
    ];
    let mut t = from;
    let word = |t: usize| -> Option<&str> {
        (t < n.tokens.len() && n.tokens[t].kind == TokenKind::Word).then(|| n.token_text(t))
    };
    let mut skipped = 0;
    while let Some(w) = word(t) {
        if SKIP.contains(&w) && skipped < 3 {
            t += 1;
            skipped += 1;
        } else {
            break;
        }
    }
    let w = word(t)?;
    // "3" "b" (digits split from letters), "iiib", "iii" "b", "3".
    if let Some(next) = word(t + 1) {
        if next.len() == 1 {
            if let Some(g) = normalise_marsh_grade(&format!("{w}{next}")) {
                return Some((g, t + 2));
            }
        }
    }
    normalise_marsh_grade(w).map(|g| (g, t + 1))
}

/// Labels of one report before defaults: the label flags and whether an
/// informative finding was seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Findings {
    /// One flag per label column.
    pub labels: Vec<bool>,
    /// Whether an informative finding was seen (it stops the default labels).
    pub informative: bool,
}

/// Labels given by a report's mentions.
pub fn findings(
    schema: &Schema,
    onto: &Ontology,
    mentions: &[Mention],
    policy: UncertainPolicy,
) -> Findings {
    let mut f = Findings {
        labels: vec![false; schema.labels.len()],
        informative: false,
    };
    for m in mentions {
        let c = onto.get(m.concept);
        let set = |f: &mut Findings, l: &[usize]| {
            for &i in l {
                f.labels[i] = true;
            }
        };
        if m.hypothetical {
            continue;
        }
        if m.negated {
            set(&mut f, &c.negated_labels);
            continue;
        }
        if let Some(v) = &m.value {
            if let Some(&l) = schema.marsh.get(v) {
                if m.uncertain {
                    if let Some(ul) = &c.uncertain_labels {
                        set(&mut f, ul);
                        continue;
                    }
                }
                f.labels[l] = true;
                continue;
            }
        }
        if m.uncertain {
            if let Some(ul) = &c.uncertain_labels {
                set(&mut f, ul);
                continue;
            }
            if policy == UncertainPolicy::Exclude {
                // No label, but not "nothing found" either: no default.
                f.informative |= c.informative || !c.labels.is_empty();
                continue;
            }
        }
        set(&mut f, &c.labels);
        f.informative |= c.informative;
    }
    f
}

/// Final labels: exclusive labels resolved (first in `order` wins), then the
/// defaults set if nothing else is.
pub fn finalise(schema: &Schema, f: &Findings, order: &[usize]) -> Vec<bool> {
    let mut labels = f.labels.clone();
    if !schema.exclusive.is_empty() {
        let keep = order.iter().copied().find(|&i| labels[i]);
        for &i in &schema.exclusive {
            labels[i] = Some(i) == keep;
        }
    }
    let any = labels
        .iter()
        .enumerate()
        .any(|(i, &v)| v && !schema.default_labels.contains(&i));
    if !any && !f.informative {
        for &i in &schema.default_labels {
            labels[i] = true;
        }
    }
    labels
}

/// Merge the findings of several reports of one slide or case.
pub fn merge(schema: &Schema, parts: &[&Findings]) -> Vec<bool> {
    let mut f = Findings {
        labels: vec![false; schema.labels.len()],
        informative: false,
    };
    for p in parts {
        for (a, &b) in f.labels.iter_mut().zip(&p.labels) {
            *a |= b;
        }
        f.informative |= p.informative;
    }
    let order = if schema.merge_priority.is_empty() {
        &schema.exclusive
    } else {
        &schema.merge_priority
    };
    finalise(schema, &f, order)
}

/// Roll-up columns of a label vector.
pub fn rollup(schema: &Schema, labels: &[bool]) -> Vec<bool> {
    schema
        .rollups
        .iter()
        .map(|r| {
            let any = !r.any_of.is_empty() && r.any_of.iter().any(|&i| labels[i]);
            let none = !r.none_of.is_empty() && r.none_of.iter().all(|&i| !labels[i]);
            any || none
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::normalise;

    #[test]
    fn marsh_forms() {
        let g = |s: &str| {
            let n = normalise(s);
            parse_marsh(&n, 1).map(|x| x.0)
        };
        assert_eq!(g("Marsh 3b").as_deref(), Some("3b"));
        assert_eq!(g("Marsh-Oberhuber IIIc").as_deref(), Some("3c"));
        assert_eq!(g("Marsh tipo 1").as_deref(), Some("1"));
        assert_eq!(g("marsh III a").as_deref(), Some("3a"));
        assert_eq!(g("Marsh 0.").as_deref(), Some("0"));
        assert_eq!(g("Marsh classification").as_deref(), None);
        assert_eq!(g("Marsh").as_deref(), None);
    }
}
