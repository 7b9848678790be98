//! SKET's example reports and ontology (in ../shared/testdata, not in the
//! repository). Skipped, with the reason printed, when that folder is absent.

use exahealth_reports::{read_reports, Engine, Lexicon, UseCase};
use std::path::PathBuf;

fn sket_dir() -> Option<PathBuf> {
    exahealth_base::testdata::shared_file(env!("CARGO_MANIFEST_DIR"), "reports/sket")
}

/// The labels a pathologist gives SKET's two example colon reports:
/// "adenocarcinoma con displasia lieve, focalmente severa" is a cancer with
/// low- and (focally) high-grade dysplasia; "polipo iperplastico con
/// displasia focalmente severa" is a hyperplastic polyp with high-grade
/// dysplasia.
const FIRST: &[&str] = &["cancer", "hgd", "lgd"];
const SECOND: &[&str] = &["hgd", "hyperplastic"];

fn labels(engine: &Engine, file: &str) -> Option<Vec<Vec<String>>> {
    let path = sket_dir()?.join(file);
    let reports = read_reports(&path).unwrap_or_else(|e| panic!("{e}"));
    Some(
        reports
            .iter()
            .map(|r| {
                engine
                    .extract(r)
                    .label_names()
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .collect(),
    )
}

#[test]
fn single_report_json() {
    let engine = Engine::builtin(UseCase::Colon).unwrap();
    let Some(got) = labels(&engine, "test_single_report.json") else {
        return;
    };
    assert_eq!(got, vec![FIRST]);
    let path = sket_dir().unwrap().join("test_single_report.json");
    let r = read_reports(&path).unwrap();
    assert_eq!(r[0].id, "test");
    let e = engine.extract(&r[0]);
    assert_eq!(e.lang, exahealth_reports::Lang::It);
    // Mentions point at the text: spans are character offsets.
    let chars: Vec<char> = r[0].text.chars().collect();
    for c in &e.concepts {
        let s: String = chars[c.span[0] as usize..c.span[1] as usize]
            .iter()
            .collect();
        assert_eq!(s, c.mention);
    }
    let severe = e
        .concepts
        .iter()
        .find(|c| c.grade == Some(exahealth_reports::Grade::Severe))
        .expect("severe dysplasia");
    assert_eq!(
        severe.identifier,
        "https://w3id.org/examode/ontology/SevereColonDysplasia"
    );
    assert_eq!(severe.grade_mention.as_deref(), Some("severa"));
}

#[test]
fn multiple_reports_json() {
    let engine = Engine::builtin(UseCase::Colon).unwrap();
    let Some(got) = labels(&engine, "test_multiple_reports.json") else {
        return;
    };
    assert_eq!(got, vec![FIRST, SECOND]);
}

#[test]
fn xlsx() {
    let engine = Engine::builtin(UseCase::Colon).unwrap();
    let Some(got) = labels(&engine, "test.xlsx") else {
        return;
    };
    assert_eq!(got, vec![FIRST, SECOND]);
}

/// Every ontology identifier in the lexicons is a class of examode.owl, and
/// every UMLS code given is the one the ontology gives.
#[test]
fn lexicon_identifiers_are_in_the_ontology() {
    let Some(dir) = sket_dir() else { return };
    let owl = std::fs::read_to_string(dir.join("examode.owl")).unwrap();
    let base = "https://w3id.org/examode/ontology/";
    let mut checked = 0;
    for u in UseCase::ALL {
        let lex = Lexicon::builtin(u).unwrap();
        for c in lex.ontology.concepts() {
            for iri in c.iri.iter().chain(c.parent.iter()) {
                let found = owl.contains(&format!("IRI=\"{iri}\""))
                    || iri
                        .strip_prefix(base)
                        .is_some_and(|local| owl.contains(&format!("IRI=\"{local}\"")));
                assert!(found, "{u}: {} names {iri}, not in examode.owl", c.id);
                checked += 1;
            }
            for code in &c.umls {
                assert!(
                    owl.contains(&format!("umls:{code}<")),
                    "{u}: {} has UMLS {code}, which examode.owl does not give",
                    c.id
                );
            }
            for code in &c.snomed {
                assert!(
                    owl.contains(&format!(">{code}<")),
                    "{u}: {} has SNOMED {code}, which examode.owl does not give",
                    c.id
                );
            }
        }
    }
    assert!(checked > 40, "{checked}");
}
