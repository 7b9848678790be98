//! Typo tolerance: a word of six letters or more that the lexicon does not
//! know, but that is one edit (insertion, deletion, substitution or swap of
//! neighbours) from exactly one lexicon word, is read as that word.
//!
//! Each lexicon word carries the tags (concepts, grade sets) of the terms it
//! occurs in; a word one edit from several lexicon words is corrected only if
//! they all carry the same tags ("adenocarcinom": "adenocarcinoom" and
//! "adenocarcinoma" are the same concept), and left alone otherwise.
//!
//! Lookup uses deletion neighbourhoods (as SymSpell does): every lexicon word
//! is indexed under itself and each string made by deleting one of its
//! characters; a text word's own deletions are looked up there, and each
//! candidate is confirmed with a bounded edit distance.

use std::collections::{HashMap, HashSet};

/// Shortest word (in characters) that is corrected or corrected to.
pub const MIN_LEN: usize = 6;

/// Lexicon words of one language, indexed for finding their one-edit typos.
#[derive(Clone, Debug, Default)]
pub struct TypoIndex {
    words: Vec<String>,
    tags: Vec<Vec<u32>>,
    known: HashSet<String>,
    /// Deletion variant -> indices into `words`.
    deletions: HashMap<String, Vec<u32>>,
}

impl TypoIndex {
    /// Index lexicon words with their tags. Short words, and words tagged
    /// `u32::MAX`, are known (never corrected) but not corrected to.
    pub fn new<'a>(words: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let mut idx = TypoIndex::default();
        let mut ids: std::collections::HashMap<String, u32> = Default::default();
        for (w, tag) in words {
            if let Some(&id) = ids.get(w) {
                if tag == u32::MAX {
                    continue;
                }
                let t = &mut idx.tags[id as usize];
                if !t.contains(&tag) {
                    t.push(tag);
                    t.sort_unstable();
                }
                continue;
            }
            if idx.known.contains(w) {
                continue;
            }
            idx.known.insert(w.to_string());
            let n = w.chars().count();
            if tag == u32::MAX || n < MIN_LEN || !w.chars().all(char::is_alphabetic) {
                continue;
            }
            let id = idx.words.len() as u32;
            ids.insert(w.to_string(), id);
            idx.words.push(w.to_string());
            idx.tags.push(vec![tag]);
            for d in deletions(w) {
                let list = idx.deletions.entry(d).or_default();
                if list.last() != Some(&id) {
                    list.push(id);
                }
            }
            idx.deletions.entry(w.to_string()).or_default().push(id);
        }
        idx
    }

    /// Whether the lexicon knows this word as it is.
    pub fn knows(&self, word: &str) -> bool {
        self.known.contains(word)
    }

    /// The one lexicon word within one edit of `word`, if there is exactly
    /// one and `word` itself is unknown.
    pub fn correct(&self, word: &str) -> Option<&str> {
        if self.known.contains(word) {
            return None;
        }
        let n = word.chars().count();
        if !(MIN_LEN..=40).contains(&n) || !word.chars().all(char::is_alphabetic) {
            return None;
        }
        let mut found: Option<u32> = None;
        let mut consider = |ids: &Vec<u32>| -> bool {
            for &id in ids {
                if found == Some(id) {
                    continue;
                }
                if within_one_edit(word, &self.words[id as usize]) {
                    match found {
                        None => found = Some(id),
                        // Equivalent candidates: keep the first in order.
                        Some(f) if self.tags[f as usize] == self.tags[id as usize] => {
                            if self.words[id as usize] < self.words[f as usize] {
                                found = Some(id);
                            }
                        }
                        Some(_) => return false, // ambiguous
                    }
                }
            }
            true
        };
        if let Some(ids) = self.deletions.get(word) {
            if !consider(ids) {
                return None;
            }
        }
        for d in deletions(word) {
            if let Some(ids) = self.deletions.get(&d) {
                if !consider(ids) {
                    return None;
                }
            }
        }
        found.map(|id| self.words[id as usize].as_str())
    }
}

fn deletions(w: &str) -> impl Iterator<Item = String> + '_ {
    w.char_indices().map(move |(i, c)| {
        let mut s = String::with_capacity(w.len());
        s.push_str(&w[..i]);
        s.push_str(&w[i + c.len_utf8()..]);
        s
    })
}

/// Optimal-string-alignment distance <= 1.
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let p = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    if p == la && p == lb {
        return true;
    }
    let sa = &a[p..];
    let sb = &b[p..];
    if la == lb {
        // substitution, or a swap of neighbours
        sa[1..] == sb[1..]
            || (sa.len() >= 2 && sa[0] == sb[1] && sa[1] == sb[0] && sa[2..] == sb[2..])
    } else if la > lb {
        sa[1..] == *sb
    } else {
        *sa == sb[1..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrects_one_edit() {
        let idx = TypoIndex::new(
            ["adenocarcinoma", "displasia", "iperplastico", "lieve"]
                .into_iter()
                .zip(0..),
        );
        assert_eq!(idx.correct("adenocarcinma"), Some("adenocarcinoma"));
        assert_eq!(idx.correct("dsiplaisa"), None); // two edits
        assert_eq!(idx.correct("displaisa"), Some("displasia")); // swap
        assert_eq!(idx.correct("dispalsia"), Some("displasia")); // swap
        assert_eq!(idx.correct("displassia"), Some("displasia"));
        assert_eq!(idx.correct("iperplastixo"), Some("iperplastico"));
        assert_eq!(idx.correct("displasia"), None); // known
        assert_eq!(idx.correct("lievr"), None); // too short
        assert_eq!(idx.correct("ghiandole"), None);
    }

    #[test]
    fn ambiguous_is_left_alone() {
        let idx = TypoIndex::new([("carcinoma", 1), ("carcinomi", 2)]);
        assert_eq!(idx.correct("carcinomx"), None);
        assert_eq!(idx.correct("carcinoms"), None);
        let same = TypoIndex::new([("adenocarcinoom", 1), ("adenocarcinoma", 1)]);
        assert_eq!(same.correct("adenocarcinom"), Some("adenocarcinoma"));
    }

    #[test]
    fn edit_distance() {
        assert!(within_one_edit("abcdef", "abcdef"));
        assert!(within_one_edit("abcdef", "abcdf"));
        assert!(within_one_edit("abcdf", "abcdef"));
        assert!(within_one_edit("abcdef", "abdcef"));
        assert!(!within_one_edit("abcdef", "badcef"));
        assert!(!within_one_edit("abc", "acd"));
    }
}
