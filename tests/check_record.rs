//! The records wxsec writes pass the project's reference checker, `../shared/tools/check-record`
//! (Python, PyYAML: YAML 1.1), on every corpus article and every fixture, with and without the
//! entities in the front matter.

mod common;

use std::path::Path;
use std::process::Command;

use wxsec::FetchedPage;
use wxsec::store::Format;

#[test]
fn reference_checker_passes_every_record_we_write() {
    let corpus = common::corpus_dir();
    let checker = corpus.join("../tools/check-record");
    assert!(checker.is_file(), "{} is missing", checker.display());
    let out = tempfile::tempdir().unwrap();
    // Fixtures reuse the ids of corpus pages, so each is written to a folder of its own.
    let mut written = 0;
    let html = corpus.join("html");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    for (dir, sub) in [(&html, "corpus"), (&fixtures, "fixtures")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "html") {
                continue;
            }
            let page = FetchedPage::from_file(&path, 64 << 20).unwrap();
            if wxsec::import::write_page(&page, &out.path().join(sub), Format::Markdown).is_ok() {
                written += 1;
                // The same record with the entities after the five keys (`--extra-fields`).
                let record = wxsec::Record::new(wxsec::extract::extract(&page).unwrap(), page.fetched_at);
                let rel = wxsec::store::relative_path(&record, Format::Markdown);
                let extra = wxsec::import::contents(&record, Format::Markdown, true);
                wxsec::store::write_atomic(&out.path().join(format!("{sub}-extra")), &rel, &extra).unwrap();
                written += 1;
            }
        }
    }
    assert!(written >= 68, "only {written} records written");
    let output = Command::new("python3")
        .arg(&checker)
        .arg(out.path())
        .output()
        .expect("python3 runs (the checker needs python3 with PyYAML: python3 -m pip install pyyaml)");
    let report = String::from_utf8_lossy(&output.stdout);
    let errors = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "check-record failed:\n{report}\n{errors}");
    assert!(report.contains(&format!("records: {written} checked, {written} clean")), "{report}");
}
