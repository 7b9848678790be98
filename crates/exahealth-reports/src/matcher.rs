//! Dictionary matching: one Aho-Corasick automaton per language over every
//! lexicon term (concepts, grade words, triggers, markers), run on the
//! normalised text. Matches must start and end on token boundaries; where
//! matches overlap the leftmost wins, then the longest.

use crate::lexicon::Lexicon;
use crate::normalise::{Normalised, TokenKind};
use crate::ontology::{Grade, Lang};
use crate::typo::TypoIndex;
use crate::Error;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::{HashMap, HashSet};

/// What a matched term is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A concept (index into the ontology).
    Concept(u32),
    /// Grade words (index into [`LangMatcher::grade_sets`]).
    Grade(u32),
    /// A trigger negating what follows.
    PreNegation,
    /// A trigger negating what precedes.
    PostNegation,
    /// A trigger making what follows uncertain.
    PreUncertainty,
    /// A trigger making what precedes uncertain.
    PostUncertainty,
    /// The rest of the sentence is a question or clinical information.
    Hypothetical,
    /// Looks like a trigger but is not.
    Pseudo,
    /// Ends a negation or uncertainty scope.
    Terminator,
    /// An immunostain or test name.
    Marker,
    /// Introduces a Marsh grade.
    Marsh,
}

impl Role {
    /// Which role keeps a term listed twice.
    fn priority(self) -> u8 {
        match self {
            Role::Concept(_) => 11,
            Role::Hypothetical => 10,
            Role::Pseudo => 9,
            Role::PostUncertainty => 8,
            Role::PreUncertainty => 7,
            Role::PostNegation => 6,
            Role::PreNegation => 5,
            Role::Terminator => 4,
            Role::Grade(_) => 3,
            Role::Marsh => 2,
            Role::Marker => 1,
        }
    }
}

/// A match, in tokens: `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// First token of the match.
    pub start: usize,
    /// One past the last token.
    pub end: usize,
    /// What the matched term is.
    pub role: Role,
}

/// The automaton and word lists of one language.
#[derive(Clone, Debug)]
pub struct LangMatcher {
    /// The language matched.
    pub lang: Lang,
    ac: AhoCorasick,
    roles: Vec<Role>,
    /// The grades each [`Role::Grade`] term states.
    pub grade_sets: Vec<Vec<Grade>>,
    /// Words that make a comma continue a scope (a list).
    pub list_words: HashSet<String>,
    /// Words a grade word may stand behind.
    pub grade_links: HashSet<String>,
    /// Function words and lexicon words of this language, for detection.
    pub native_words: HashSet<String>,
    /// One-edit typos of this language's lexicon words.
    pub typos: TypoIndex,
}

impl LangMatcher {
    /// Build the matcher for `lang`: its own terms, plus the English concept
    /// and grade terms (reports often use English names), its own first.
    pub fn new(lex: &Lexicon, lang: Lang) -> Result<Self, Error> {
        let mut terms: HashMap<String, Role> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        let mut add = |term: &str, role: Role, native: bool| -> Result<(), Error> {
            if term.is_empty() {
                return Ok(());
            }
            match terms.get(term).copied() {
                None => {
                    terms.insert(term.to_string(), role);
                    order.push(term.to_string());
                }
                Some(old) if old == role => {}
                Some(Role::Concept(a)) if matches!(role, Role::Concept(_)) => {
                    if native {
                        let b = match role {
                            Role::Concept(b) => b,
                            _ => a,
                        };
                        return Err(Error::lexicon(
                            lex.schema.use_case.clone(),
                            format!(
                                "[{lang}] {term:?} is a synonym of both {:?} and {:?}",
                                lex.ontology.get(a as usize).id,
                                lex.ontology.get(b as usize).id
                            ),
                        ));
                    }
                }
                Some(old) => {
                    if role.priority() > old.priority() {
                        terms.insert(term.to_string(), role);
                    }
                }
            }
            Ok(())
        };

        let mut langs = vec![(lang, true)];
        if lang != Lang::En {
            langs.push((Lang::En, false));
        }
        let mut vocab: Vec<(String, u32)> = Vec::new();
        for &(l, native) in &langs {
            for (ci, c) in lex.ontology.concepts().iter().enumerate() {
                for syn in &c.synonyms[l.index()] {
                    let t = crate::normalise::normalise_term(syn);
                    vocab.extend(t.split(' ').map(|w| (w.to_string(), ci as u32)));
                    add(&t, Role::Concept(ci as u32), native)?;
                }
            }
        }
        let mut grade_sets: Vec<Vec<Grade>> = Vec::new();
        for &(l, _) in &langs {
            for (t, gs) in &lex.langs[l.index()].grades {
                let id = match grade_sets.iter().position(|g| g == gs) {
                    Some(p) => p,
                    None => {
                        grade_sets.push(gs.clone());
                        grade_sets.len() - 1
                    }
                };
                vocab.extend(t.split(' ').map(|w| (w.to_string(), (1 << 31) | id as u32)));
                add(t, Role::Grade(id as u32), l == lang)?;
            }
        }
        let r = &lex.langs[lang.index()];
        for (list, role) in [
            (&r.hypothetical, Role::Hypothetical),
            (&r.pseudo, Role::Pseudo),
            (&r.post_uncertainty, Role::PostUncertainty),
            (&r.pre_uncertainty, Role::PreUncertainty),
            (&r.post_negation, Role::PostNegation),
            (&r.pre_negation, Role::PreNegation),
            (&r.terminators, Role::Terminator),
        ] {
            for t in list {
                add(t, role, true)?;
            }
        }
        for t in &lex.marsh_words {
            add(t, Role::Marsh, true)?;
        }
        for t in &lex.markers {
            add(t, Role::Marker, true)?;
        }

        // Every word of every term is known to the typo corrector (so that
        // "diagnosi" in a trigger is not "corrected" to English "diagnosis");
        // only concept and grade words are targets of corrections.
        for t in &order {
            for w in t.split(' ') {
                vocab.push((w.to_string(), u32::MAX));
            }
        }
        // Words of this language alone, for telling languages apart.
        let mut native_words: HashSet<String> = r.function_words.iter().cloned().collect();
        for c in lex.ontology.concepts() {
            for syn in &c.synonyms[lang.index()] {
                let t = crate::normalise::normalise_term(syn);
                native_words.extend(t.split(' ').map(str::to_string));
            }
        }
        for list in [
            &r.pre_negation,
            &r.post_negation,
            &r.pre_uncertainty,
            &r.post_uncertainty,
            &r.hypothetical,
            &r.terminators,
        ] {
            for t in list {
                native_words.extend(t.split(' ').map(str::to_string));
            }
        }
        for (t, _) in &r.grades {
            native_words.extend(t.split(' ').map(str::to_string));
        }
        native_words.retain(|w| w.chars().count() > 1);

        let patterns: Vec<&str> = order.iter().map(String::as_str).collect();
        let roles: Vec<Role> = order.iter().map(|t| terms[t]).collect();
        let ac = AhoCorasickBuilder::new()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .map_err(|e| {
                Error::lexicon_from(lex.schema.use_case.clone(), "cannot build the matcher", e)
            })?;
        let typos = TypoIndex::new(vocab.iter().map(|(w, t)| (w.as_str(), *t)));
        Ok(LangMatcher {
            lang,
            ac,
            roles,
            grade_sets,
            list_words: r.list_words.iter().cloned().collect(),
            grade_links: langs
                .iter()
                .flat_map(|&(l, _)| lex.langs[l.index()].grade_links.iter().cloned())
                .collect(),
            native_words,
            typos,
        })
    }

    /// Correct typos in place (see [`crate::typo`]); returns how many words
    /// were changed.
    pub fn correct_typos(&self, n: &mut Normalised) -> usize {
        let mut fixes: Vec<(usize, String)> = Vec::new();
        for (i, t) in n.tokens.iter().enumerate() {
            if t.kind != TokenKind::Word {
                continue;
            }
            let w = n.token_text(i);
            if w.len() < crate::typo::MIN_LEN || self.typos.knows(w) {
                continue;
            }
            if let Some(c) = self.typos.correct(w) {
                fixes.push((i, c.to_string()));
            }
        }
        n.replace_tokens(&fixes);
        fixes.len()
    }

    /// All matches in token units, non-overlapping, in text order.
    pub fn find(&self, n: &Normalised) -> Vec<Hit> {
        let mut hits: Vec<Hit> = Vec::new();
        for m in self.ac.find_overlapping_iter(&n.text) {
            let Some(start) = n.token_starting_at(m.start()) else {
                continue;
            };
            let Some(last) = n.token_ending_at(m.end()) else {
                continue;
            };
            hits.push(Hit {
                start,
                end: last + 1,
                role: self.roles[m.pattern().as_usize()],
            });
        }
        hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
        let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
        let mut next_free = 0;
        for h in hits {
            if h.start >= next_free {
                next_free = h.end;
                out.push(h);
            }
        }
        out
    }
}

/// Guess a report's language: the one with the most words of its own
/// (function words, lexicon words, triggers); `None` on a tie or no clue.
pub fn detect_language(matchers: &[LangMatcher], n: &Normalised) -> Option<Lang> {
    let mut scores: Vec<(usize, Lang)> = matchers
        .iter()
        .map(|m| {
            let s = (0..n.tokens.len())
                .filter(|&i| n.tokens[i].kind == TokenKind::Word)
                .filter(|&i| m.native_words.contains(n.token_text(i)))
                .count();
            (s, m.lang)
        })
        .collect();
    scores.sort_by_key(|s| std::cmp::Reverse(s.0));
    match scores.as_slice() {
        [(s, l), rest @ ..] if *s > 0 && rest.first().is_none_or(|r| r.0 < *s) => Some(*l),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexicon::{Lexicon, UseCase};
    use crate::normalise::normalise;

    #[test]
    fn leftmost_longest_on_token_boundaries() {
        let lex = Lexicon::builtin(UseCase::Lung).unwrap();
        let m = LangMatcher::new(&lex, Lang::En).unwrap();
        let n = normalise("Non-small cell carcinoma; no small cell carcinoma. Carcinomatosis.");
        let hits = m.find(&n);
        let names: Vec<String> = hits
            .iter()
            .map(|h| match h.role {
                Role::Concept(c) => lex.ontology.get(c as usize).id.clone(),
                r => format!("{r:?}"),
            })
            .collect();
        assert_eq!(
            names,
            vec!["lung_nsclc", "PreNegation", "lung_small_cell_carcinoma"]
        );
    }

    #[test]
    fn detects_language() {
        let lexes = Lexicon::builtin(UseCase::Colon).unwrap();
        let ms: Vec<LangMatcher> = Lang::ALL
            .iter()
            .map(|&l| LangMatcher::new(&lexes, l).unwrap())
            .collect();
        let d = |s: &str| detect_language(&ms, &normalise(s));
        assert_eq!(
            d("Frammenti di mucosa del colon con adenoma tubulare"),
            Some(Lang::It)
        );
        assert_eq!(
            d("Fragments of colonic mucosa with a tubular adenoma"),
            Some(Lang::En)
        );
        assert_eq!(
            d("Biopten van het colon met een tubulair adenoom"),
            Some(Lang::Nl)
        );
        assert_eq!(d("adenoma"), None);
        assert_eq!(
            d("Lobectomia: carcinoma squamoso cheratinizzante, pleura indenne."),
            Some(Lang::It)
        );
        assert_eq!(
            d("Differentiaaldiagnose: colitis of medicatie, geen dysplasie."),
            Some(Lang::Nl)
        );
    }
}
