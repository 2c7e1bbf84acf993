//! The project's own pages in `fixtures/pages/`, each with its expected output beside it:
//! `NAME.md` and `NAME.json` for an article, `NAME.err` for a page that is not one.
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
