//! The project's own pages in `fixtures/pages/`, each with its expected output beside it:
//! `NAME.md` and `NAME.json` for an article, `NAME.err` for a page that is not one.
//!
//! `fixtures/records/NAME` are records written by other tools, with `NAME.expected` (the cleaned
//! record) or `NAME.report` (why it is not written) beside them; `fixtures/seeds/` holds what the
//! two seed documents of `../shared/seeds` must become.
//!
//! Regenerate the expected files after a deliberate change with
//! `WXSEC_BLESS=1 cargo test --test fixtures`, then read the diff.

mod common;

use std::path::{Path, PathBuf};

use chrono::{TimeZone, Utc};
use wxsec::{Error, FetchedPage, Record};

fn pages() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/pages exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .collect();
    pages.sort();
    pages
}

/// What a fixture page produces: (extension, contents) pairs.
fn outputs(page_path: &Path) -> Vec<(&'static str, String)> {
    let mut page = FetchedPage::from_file(page_path, 1 << 24).unwrap();
    // A fixed download time keeps the expected records stable.
    page.fetched_at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap() + chrono::Duration::microseconds(678_901);
    match wxsec::extract::extract(&page) {
        Ok(article) => {
            let record = Record::new(article, page.fetched_at);
            vec![("md", record.to_markdown()), ("json", record.to_json())]
        }
        Err(e @ Error::NotArticle { .. }) => {
            let Error::NotArticle { kind, .. } = &e else { unreachable!() };
            vec![("err", format!("{kind}\nexit {}\n", e.exit_code() as u8))]
        }
        Err(e) => panic!("{}: {e}", page_path.display()),
    }
}

#[test]
fn fixtures_match_their_expected_outputs() {
    let bless = std::env::var_os("WXSEC_BLESS").is_some();
    let pages = pages();
    assert!(pages.len() >= 14, "only {} fixture pages", pages.len());
    let mut failures = Vec::new();
    for page in &pages {
        for (ext, got) in outputs(page) {
            let expected_path = page.with_extension(ext);
            if ext == "md" {
                for defect in common::check_record(&got) {
                    failures.push(format!("{}: {defect}", page.display()));
                }
            }
            if bless {
                std::fs::write(&expected_path, &got).unwrap();
                continue;
            }
            match std::fs::read_to_string(&expected_path) {
                Ok(want) if want == got => {}
                Ok(want) => failures.push(format!(
                    "{} differs from {}:\n--- want\n{want}\n--- got\n{got}",
                    page.display(),
                    expected_path.display()
                )),
                Err(_) => failures.push(format!("{} is missing (run with WXSEC_BLESS=1)", expected_path.display())),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Input records of `fixtures/records/` (anything that is not an expected output).
fn record_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/records");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("fixtures/records exists")
        .map(|e| e.unwrap().path())
        .filter(|p| !p.extension().is_some_and(|e| e == "expected" || e == "report"))
        .collect();
    files.sort();
    files
}

/// What `normalise` makes of a record: the cleaned record, or the report line.
fn normalised(path: &Path) -> (&'static str, String) {
    let text = wxsec::fetch::decode_html(&std::fs::read(path).unwrap(), None);
    let given = wxsec::normalise::Given::default();
    let n = wxsec::normalise::normalise_file(&text, false, &given, wxsec::normalise::Place::of(path));
    match n.record {
        Some(record) => ("expected", record),
        None => (
            "report",
            format!(
                "{:?} {}: {}\nurl: {}\nformat: {}\n",
                n.outcome,
                n.kind,
                n.reason,
                n.url,
                n.format.unwrap_or("none")
            ),
        ),
    }
}

fn expected_name(path: &Path, ext: &str) -> PathBuf {
    let mut name = path.file_name().unwrap().to_os_string();
    name.push(".");
    name.push(ext);
    path.with_file_name(name)
}

fn compare_or_bless(got: &str, expected: &Path, failures: &mut Vec<String>) {
    if std::env::var_os("WXSEC_BLESS").is_some() {
        std::fs::write(expected, got).unwrap();
        return;
    }
    match std::fs::read_to_string(expected) {
        Ok(want) if want == got => {}
        Ok(want) => failures.push(format!("{} differs:\n--- want\n{want}\n--- got\n{got}", expected.display())),
        Err(_) => failures.push(format!("{} is missing (run with WXSEC_BLESS=1)", expected.display())),
    }
}

#[test]
fn record_fixtures_normalise_as_expected() {
    let inputs = record_inputs();
    assert!(inputs.len() >= 20, "only {} record fixtures", inputs.len());
    let mut failures = Vec::new();
    for input in &inputs {
        let (ext, got) = normalised(input);
        if ext == "expected" {
            for defect in common::check_record(&got) {
                // Other sites keep their body as it was; only their front matter is checked.
                if !input.file_name().unwrap().to_string_lossy().starts_with("other-site")
                    || !defect.starts_with("body")
                {
                    failures.push(format!("{}: {defect}", input.display()));
                }
            }
            let again = wxsec::normalise::normalise_text(&got);
            if again.record.as_deref() != Some(got.as_str()) {
                failures.push(format!("{}: not idempotent", input.display()));
            }
        }
        compare_or_bless(&got, &expected_name(input, ext), &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The two seed documents come out as the clean records they should have been.
#[test]
fn seeds_come_out_clean() {
    let seeds = common::corpus_dir().join("../seeds");
    let mut failures = Vec::new();
    for name in ["000_8a39c90deb070ba9.txt", "002_d7e054598282a5f6.txt"] {
        let (ext, got) = normalised(&seeds.join(name));
        assert_eq!(ext, "expected", "{name} was not written: {got}");
        for defect in common::check_record(&got) {
            failures.push(format!("{name}: {defect}"));
        }
        let expected = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/seeds").join(format!("{name}.expected"));
        compare_or_bless(&got, &expected, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
