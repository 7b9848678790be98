//! NegEx-style negation and uncertainty.
//!
//! A pre-trigger ("no evidence of", "assenza di", "geen aanwijzingen voor")
//! opens a scope that runs forward over the next words and concepts until a
//! sentence break, a terminator ("but", "con", "maar"), another trigger, or
//! [`MAX_FORWARD`] units. A comma ends the scope unless the clause after it
//! holds a list word ("or", "né", "noch"): "no dysplasia, carcinoma or
//! polyp" negates all three, "no dysplasia, koilocytes present" only the
//! first.
//!
//! A post-trigger ("not identified", "assente", "niet aangetoond") looks
//! back at most [`MAX_BACKWARD`] units within its clause and applies to the
//! nearest concept there; an immunostain name in between ("carcinoma, p40
//! negative") takes the trigger for itself.
//!
//! Pseudo-triggers ("not only", "non solo") are matched so that they hide the
//! shorter trigger inside them, and do nothing.

use crate::matcher::{Hit, LangMatcher, Role};
use crate::normalise::{Normalised, TokenKind};

/// Words and concepts a pre-trigger's scope reaches.
pub const MAX_FORWARD: usize = 10;
/// Words and concepts a post-trigger looks back.
pub const MAX_BACKWARD: usize = 4;
/// Words and concepts a hypothetical trigger reaches.
pub const MAX_HYPOTHETICAL: usize = 40;
/// How far after a comma a list word is looked for.
const LIST_LOOKAHEAD: usize = 12;

/// Negated and uncertain flags of one hit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Assertion {
    /// Inside the scope of a negation trigger.
    pub negated: bool,
    /// Inside the scope of an uncertainty trigger.
    pub uncertain: bool,
    /// In a question or clinical information.
    pub hypothetical: bool,
}

/// Flags for each hit (meaningful for concept and Marsh hits).
pub fn assess(n: &Normalised, hits: &[Hit], m: &LangMatcher) -> Vec<Assertion> {
    let ntok = n.tokens.len();
    let mut out = vec![Assertion::default(); hits.len()];
    let mut starts: Vec<Option<usize>> = vec![None; ntok];
    let mut ends: Vec<Option<usize>> = vec![None; ntok];
    for (i, h) in hits.iter().enumerate() {
        starts[h.start] = Some(i);
        ends[h.end - 1] = Some(i);
    }
    let is_target = |r: Role| matches!(r, Role::Concept(_) | Role::Marsh);

    for h in hits {
        let negation = match h.role {
            Role::PreNegation => true,
            Role::PreUncertainty => false,
            _ => continue,
        };
        // A pre-trigger that ends its sentence ("... non si può escludere.")
        // looks back instead, as a post-trigger does.
        if h.end >= ntok || n.tokens[h.end].kind == TokenKind::Boundary {
            look_back(n, hits, &ends, h.start, negation, &mut out);
            continue;
        }
        let mut t = h.end;
        let mut units = 0;
        while t < ntok && units < MAX_FORWARD {
            match n.tokens[t].kind {
                TokenKind::Boundary => break,
                TokenKind::Comma => {
                    if !list_follows(n, t + 1, m) {
                        break;
                    }
                    t += 1;
                    continue;
                }
                TokenKind::Word => {}
            }
            if let Some(j) = starts[t] {
                let r = hits[j].role;
                if is_target(r) {
                    mark(&mut out[j], negation);
                } else if !matches!(r, Role::Grade(_) | Role::Marker) {
                    break; // terminator or another trigger
                }
                units += 1;
                t = hits[j].end;
                continue;
            }
            units += 1;
            t += 1;
        }
    }

    for h in hits {
        if h.role != Role::Hypothetical {
            continue;
        }
        let mut t = h.end;
        let mut units = 0;
        while t < ntok && units < MAX_HYPOTHETICAL && n.tokens[t].kind != TokenKind::Boundary {
            if let Some(j) = starts[t] {
                out[j].hypothetical = true;
                t = hits[j].end;
            } else {
                t += 1;
            }
            units += 1;
        }
    }

    for h in hits {
        let negation = match h.role {
            Role::PostNegation => true,
            Role::PostUncertainty => false,
            _ => continue,
        };
        look_back(n, hits, &ends, h.start, negation, &mut out);
    }
    out
}

/// Mark the nearest concept before token `from` in the same clause.
fn look_back(
    n: &Normalised,
    hits: &[Hit],
    ends: &[Option<usize>],
    from: usize,
    negation: bool,
    out: &mut [Assertion],
) {
    let mut t = from;
    let mut units = 0;
    while t > 0 && units < MAX_BACKWARD {
        let p = t - 1;
        if n.tokens[p].kind != TokenKind::Word {
            break;
        }
        if let Some(j) = ends[p] {
            let r = hits[j].role;
            if matches!(r, Role::Concept(_) | Role::Marsh) {
                mark(&mut out[j], negation);
                break;
            }
            if !matches!(r, Role::Grade(_)) {
                break; // a marker, terminator or trigger
            }
            units += 1;
            t = hits[j].start;
            continue;
        }
        units += 1;
        t = p;
    }
}

fn mark(a: &mut Assertion, negation: bool) {
    if negation {
        a.negated = true;
    } else {
        a.uncertain = true;
    }
}

/// Whether the clause starting at token `from` holds a list word.
fn list_follows(n: &Normalised, from: usize, m: &LangMatcher) -> bool {
    for t in from..(from + LIST_LOOKAHEAD).min(n.tokens.len()) {
        if n.tokens[t].kind != TokenKind::Word {
            return false;
        }
        if m.list_words.contains(n.token_text(t)) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::{Lexicon, UseCase};
    use crate::normalise::normalise;
    use crate::ontology::Lang;

    /// (concept id, negated, uncertain) for each concept hit.
    fn run(use_case: UseCase, lang: Lang, text: &str) -> Vec<(String, bool, bool)> {
        let lex = Lexicon::builtin(use_case).unwrap();
        let m = LangMatcher::new(&lex, lang).unwrap();
        let n = normalise(text);
        let hits = m.find(&n);
        let a = assess(&n, &hits, &m);
        hits.iter()
            .zip(a)
            .filter_map(|(h, a)| match h.role {
                Role::Concept(c) => Some((
                    lex.ontology.get(c as usize).id.clone(),
                    a.negated,
                    a.uncertain,
                )),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn pre_negation_scopes() {
        let r = run(
            UseCase::Colon,
            Lang::En,
            "No evidence of dysplasia, adenocarcinoma or hyperplastic polyp. Tubular adenoma.",
        );
        assert_eq!(
            r,
            vec![
                ("colon_dysplasia".into(), true, false),
                ("colon_adenocarcinoma".into(), true, false),
                ("colon_hyperplastic_polyp".into(), true, false),
                ("colon_tubular_adenoma".into(), false, false),
            ]
        );
        let r = run(
            UseCase::Colon,
            Lang::It,
            "Assenza di displasia, con aspetti di adenocarcinoma.",
        );
        assert_eq!(r[0], ("colon_dysplasia".into(), true, false));
        assert_eq!(r[1], ("colon_adenocarcinoma".into(), false, false));
    }

    #[test]
    fn comma_without_list_word_ends_scope() {
        let r = run(
            UseCase::Cervix,
            Lang::En,
            "No dysplasia, koilocytes are present.",
        );
        assert!(r[0].1);
        assert_eq!(r[1], ("cervix_koilocytes".into(), false, false));
    }

    #[test]
    fn post_triggers_and_markers() {
        let r = run(
            UseCase::Colon,
            Lang::Nl,
            "Hooggradige dysplasie niet aangetoond.",
        );
        assert_eq!(r, vec![("colon_dysplasia".into(), true, false)]);
        let r = run(
            UseCase::Lung,
            Lang::En,
            "Squamous cell carcinoma (p40 positive, TTF-1 negative).",
        );
        assert_eq!(
            r,
            vec![("lung_squamous_cell_carcinoma".into(), false, false)]
        );
        let r = run(
            UseCase::Lung,
            Lang::En,
            "Squamous cell carcinoma p40 positive TTF1 negative",
        );
        assert_eq!(
            r,
            vec![("lung_squamous_cell_carcinoma".into(), false, false)]
        );
    }

    #[test]
    fn hypothetical() {
        let lex = Lexicon::builtin(UseCase::Celiac).unwrap();
        let m = LangMatcher::new(&lex, Lang::It).unwrap();
        let n = normalise("Notizie cliniche: sospetta celiachia. Mucosa duodenale normale.");
        let hits = m.find(&n);
        let a = assess(&n, &hits, &m);
        let flags: Vec<bool> = hits
            .iter()
            .zip(&a)
            .filter(|(h, _)| matches!(h.role, Role::Concept(_)))
            .map(|(_, a)| a.hypothetical)
            .collect();
        assert_eq!(flags, vec![true, false]);
    }

    #[test]
    fn uncertainty() {
        let r = run(
            UseCase::Colon,
            Lang::It,
            "Quadro sospetto per adenocarcinoma. Displasia di alto grado non si può escludere.",
        );
        assert_eq!(r[0], ("colon_adenocarcinoma".into(), false, true));
        assert_eq!(r[1], ("colon_dysplasia".into(), false, true));
    }
}
