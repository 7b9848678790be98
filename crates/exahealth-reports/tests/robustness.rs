//! Hostile input: random bytes, odd Unicode, huge words, deep punctuation.
//! Nothing may panic, and every span must lie inside the text.

use exahealth_reports::input::{parse_csv, parse_json};
use exahealth_reports::{Engine, Report, UseCase};
use std::path::Path;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

const PIECES: &[&str] = &[
    "no ",
    "non ",
    "geen ",
    "displasia",
    " di alto grado",
    "CIN",
    " 2/3",
    "(",
    ")",
    ",",
    ".",
    ";",
    "Marsh",
    " 3b",
    "adenocarcinoma",
    "ﬂ",
    "é",
    "ß",
    "İ",
    "😀",
    "\u{0}",
    "\n",
    "-",
    "/",
    "cannot be excluded",
    "rule out",
    "?",
    " ",
    "1.5",
    "Ⅻ",
    "ǅ",
    "mild",
    "severe",
    "HPV",
    "negative",
    "koilocytes",
    "small cell",
    "non-small cell",
    "celiachia",
    "atrofia dei villi",
];

#[test]
fn random_texts_do_not_panic() {
    let engines: Vec<Engine> = UseCase::ALL
        .iter()
        .map(|&u| Engine::builtin(u).unwrap())
        .collect();
    let mut rng = Lcg(42);
    for i in 0..3000 {
        let n = (rng.next() % 40) as usize;
        let mut text = String::new();
        for _ in 0..n {
            if rng.next() % 5 == 0 {
                let c = char::from_u32((rng.next() % 0x3000) as u32).unwrap_or('x');
                text.push(c);
            } else {
                text.push_str(PIECES[(rng.next() as usize) % PIECES.len()]);
            }
        }
        let e = &engines[i % engines.len()];
        let r = e.extract(&Report::new(i.to_string(), text.clone()));
        let len = text.chars().count() as u32;
        for c in &r.concepts {
            assert!(c.span[0] <= c.span[1] && c.span[1] <= len, "{text:?}");
        }
        assert_eq!(r.labels.len(), e.labels().len());
    }
}

#[test]
fn long_and_degenerate_texts() {
    let e = Engine::builtin(UseCase::Colon).unwrap();
    for text in [
        "a".repeat(100_000),
        ".".repeat(10_000),
        "no ".repeat(5_000),
        "displasia lieve, ".repeat(2_000),
        String::new(),
    ] {
        let r = e.extract(&Report::new("x", text));
        assert_eq!(r.labels.len(), 5);
    }
    // An empty report is "not informative".
    let r = e.extract(&Report::new("x", ""));
    assert_eq!(r.label_names(), vec!["ni"]);
}

#[test]
fn bad_files_are_errors_not_panics() {
    let p = Path::new("bad");
    for s in [
        "",
        "\u{feff}",
        "id,text\n\"unclosed",
        "text\n\u{0}",
        "a,b\n1,2,3,4\n",
    ] {
        let _ = parse_csv(s.as_bytes(), p);
    }
    for s in [
        "",
        "[",
        "null",
        "{\"reports\": [null]}",
        "[{\"text\": {}}]",
        "9e999",
    ] {
        let _ = parse_json(s, p);
    }
    assert!(exahealth_reports::read_reports(Path::new("/no/such/file.csv")).is_err());
    assert!(exahealth_reports::read_reports(Path::new("/no/such/file.xlsx")).is_err());
}
