//! Text normalisation: one pass that turns a report into tokens of folded
//! text (lower case, no diacritics, letters split from digits) and keeps, for
//! every token, where it came from in the original text.
//!
//! The matcher runs over the normalised string (tokens joined by one space),
//! so lexicon terms go through the same function and "High-grade",
//! "high grade" and "HIGH GRADE" are one pattern. Offsets into the original
//! text are counted in characters (Unicode scalar values), as Python's `str`
//! counts them.

/// What a token is, for the negation scopes and the segment rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// Letters and digits.
    Word,
    /// A comma or a parenthesis: a soft break inside a sentence.
    Comma,
    /// End of a sentence or an item: `.`, `;`, `!`, `?` or a line break.
    Boundary,
}

/// One token: its range in the normalised string and in the original text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// Byte range in [`Normalised::text`].
    pub norm: (u32, u32),
    /// Character range in the original text.
    pub orig: (u32, u32),
    /// What the token is: a word, a soft break or a boundary.
    pub kind: TokenKind,
}

/// A report's normalised text and its tokens.
#[derive(Clone, Debug, Default)]
pub struct Normalised {
    /// Tokens joined by one space.
    pub text: String,
    /// The tokens, in text order.
    pub tokens: Vec<Token>,
}

impl Normalised {
    /// The normalised text of token `i`.
    pub fn token_text(&self, i: usize) -> &str {
        let (s, e) = self.tokens[i].norm;
        &self.text[s as usize..e as usize]
    }

    /// Index of the token that starts at byte `pos` of the normalised text.
    pub fn token_starting_at(&self, pos: usize) -> Option<usize> {
        let i = self
            .tokens
            .binary_search_by_key(&(pos as u32), |t| t.norm.0)
            .ok()?;
        Some(i)
    }

    /// Index of the token that ends at byte `pos` of the normalised text.
    pub fn token_ending_at(&self, pos: usize) -> Option<usize> {
        self.tokens
            .binary_search_by_key(&(pos as u32), |t| t.norm.1)
            .ok()
    }

    /// Replace the text of some word tokens (typo corrections) and rebuild
    /// the normalised string; original offsets are kept.
    pub fn replace_tokens(&mut self, replacements: &[(usize, String)]) {
        if replacements.is_empty() {
            return;
        }
        let mut text = String::with_capacity(self.text.len() + 16);
        let mut next = replacements.iter().peekable();
        for (i, tok) in self.tokens.iter_mut().enumerate() {
            if !text.is_empty() {
                text.push(' ');
            }
            let start = text.len() as u32;
            match next.peek() {
                Some((j, new)) if *j == i => {
                    text.push_str(new);
                    next.next();
                }
                _ => text.push_str(&self.text[tok.norm.0 as usize..tok.norm.1 as usize]),
            }
            tok.norm = (start, text.len() as u32);
        }
        self.text = text;
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Alpha,
    Digit,
}

/// Normalise a text (a report or a lexicon term).
pub fn normalise(input: &str) -> Normalised {
    let mut out = Normalised {
        text: String::with_capacity(input.len() + 8),
        tokens: Vec::with_capacity(input.len() / 5 + 1),
    };
    // The word being built: its start (normalised byte, original char) and class.
    let mut word: Option<(u32, u32, Class)> = None;
    let chars: Vec<char> = input.chars().collect();
    let mut folded = [0 as char; 4];

    let finish_word = |out: &mut Normalised, word: &mut Option<(u32, u32, Class)>, end: u32| {
        if let Some((ns, os, _)) = word.take() {
            let ne = out.text.len() as u32;
            if ne > ns {
                out.tokens.push(Token {
                    norm: (ns, ne),
                    orig: (os, end),
                    kind: TokenKind::Word,
                });
            }
        }
    };

    for (i, &c) in chars.iter().enumerate() {
        let i32_ = i as u32;
        let n = fold(c, &mut folded);
        if n > 0 {
            let class = if folded[0].is_ascii_digit() {
                Class::Digit
            } else {
                Class::Alpha
            };
            match word {
                Some((_, _, cl)) if cl == class => {}
                Some(_) => {
                    finish_word(&mut out, &mut word, i32_);
                    start_word(&mut out, &mut word, i32_, class);
                }
                None => start_word(&mut out, &mut word, i32_, class),
            }
            for &f in &folded[..n] {
                out.text.push(f);
            }
            continue;
        }
        // A decimal separator between two digits stays inside the number.
        let between_digits = (c == '.' || c == ',')
            && matches!(word, Some((_, _, Class::Digit)))
            && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit());
        if between_digits {
            out.text.push('.');
            continue;
        }
        finish_word(&mut out, &mut word, i32_);
        let kind = match c {
            '.' | ';' | '!' | '?' | '\n' | '\r' | '\u{2029}' => Some((TokenKind::Boundary, '.')),
            ',' | '(' | ')' | '[' | ']' => Some((TokenKind::Comma, ',')),
            _ => None,
        };
        if let Some((kind, sym)) = kind {
            // Runs of breaks collapse into one token; a boundary wins over a comma.
            if let Some(last) = out.tokens.last_mut() {
                if last.kind != TokenKind::Word {
                    if kind == TokenKind::Boundary && last.kind == TokenKind::Comma {
                        let s = last.norm.0 as usize;
                        out.text.truncate(s);
                        out.text.push('.');
                        last.kind = TokenKind::Boundary;
                    }
                    last.orig.1 = i32_ + 1;
                    continue;
                }
            }
            if !out.text.is_empty() {
                out.text.push(' ');
            }
            let ns = out.text.len() as u32;
            out.text.push(sym);
            out.tokens.push(Token {
                norm: (ns, ns + 1),
                orig: (i32_, i32_ + 1),
                kind,
            });
        }
    }
    finish_word(&mut out, &mut word, chars.len() as u32);
    out
}

fn start_word(out: &mut Normalised, word: &mut Option<(u32, u32, Class)>, at: u32, class: Class) {
    if !out.text.is_empty() {
        out.text.push(' ');
    }
    *word = Some((out.text.len() as u32, at, class));
}

/// Fold one character into at most four lower-case ASCII-ish characters;
/// returns how many were written (0: not part of a word).
fn fold(c: char, out: &mut [char; 4]) -> usize {
    if c.is_ascii_alphanumeric() {
        out[0] = c.to_ascii_lowercase();
        return 1;
    }
    if c.is_ascii() || !c.is_alphanumeric() {
        return 0;
    }
    let s: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'ç' | 'Ç' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ĳ' | 'Ĳ' => "ij",
        'ﬁ' => "fi",
        'ﬂ' => "fl",
        'ﬀ' => "ff",
        _ => {
            // Any other letter or digit: its lower case, kept as is.
            let mut n = 0;
            for l in c.to_lowercase() {
                if n < out.len() {
                    out[n] = l;
                    n += 1;
                }
            }
            return n;
        }
    };
    let mut n = 0;
    for ch in s.chars() {
        out[n] = ch;
        n += 1;
    }
    n
}

/// Normalise a lexicon term to the string the matcher looks for: its word
/// tokens joined by one space (breaks inside a term are dropped).
pub fn normalise_term(term: &str) -> String {
    let n = normalise(term);
    let mut s = String::with_capacity(n.text.len());
    for (i, t) in n.tokens.iter().enumerate() {
        if t.kind != TokenKind::Word {
            continue;
        }
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(n.token_text(i));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        let n = normalise(s);
        (0..n.tokens.len())
            .map(|i| n.token_text(i).to_string())
            .collect()
    }

    #[test]
    fn folds_case_diacritics_and_splits_digits() {
        assert_eq!(
            words("Displasia di ALTO grado; CIN2/3, Marsh 3b. Sarcoïdose ﬂogosi"),
            vec![
                "displasia",
                "di",
                "alto",
                "grado",
                ".",
                "cin",
                "2",
                "3",
                ",",
                "marsh",
                "3",
                "b",
                ".",
                "sarcoidose",
                "flogosi"
            ]
        );
    }

    #[test]
    fn keeps_decimals_and_offsets() {
        let text = "Polipo è 1,5 cm (tubulare).";
        let n = normalise(text);
        assert_eq!(n.text, "polipo e 1.5 cm , tubulare .");
        let i = (0..n.tokens.len())
            .find(|&i| n.token_text(i) == "tubulare")
            .unwrap();
        let (s, e) = n.tokens[i].orig;
        let orig: String = text
            .chars()
            .skip(s as usize)
            .take((e - s) as usize)
            .collect();
        assert_eq!(orig, "tubulare");
    }

    #[test]
    fn terms_drop_breaks() {
        assert_eq!(normalise_term("CIN II/III"), "cin ii iii");
        assert_eq!(normalise_term("non-small-cell"), "non small cell");
        assert_eq!(normalise_term("  "), "");
    }

    #[test]
    fn replace_tokens_rebuilds() {
        let mut n = normalise("adenocarcinma infiltrante");
        n.replace_tokens(&[(0, "adenocarcinoma".to_string())]);
        assert_eq!(n.text, "adenocarcinoma infiltrante");
        assert_eq!(n.token_text(1), "infiltrante");
        assert_eq!(n.tokens[1].orig, (14, 25));
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "",
            "....",
            "(((",
            "\u{0}\u{ffff}",
            "ǅ 𝔄 Ⅻ",
            "1.",
            ".1",
            "a,1",
        ] {
            let _ = normalise(s);
        }
    }
}
