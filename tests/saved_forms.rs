//! Pages kept in other forms than a saved HTML file (fixtures/saved/, made from fixture pages by
//! scripts/make-saved-forms): each gives the same record as the raw page, its fetch date from the
//! archive's own headers.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn wxsec() -> Command {
    Command::cargo_bin("wxsec").unwrap()
}

fn import(target: &Path, out: &Path) -> String {
    let o = wxsec().args(["import", "--no-index", "--out"]).arg(out).arg(target).output().unwrap();
    assert!(o.status.success(), "{}: {}", target.display(), String::from_utf8_lossy(&o.stderr));
    let path = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
    std::fs::read_to_string(path).unwrap()
}

fn without_fetch_date(record: &str) -> String {
    record.lines().filter(|l| !l.starts_with("fetch_date: ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn an_mhtml_archive_gives_the_raw_page_s_record() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for (name, fetched) in [("modern-2025", "2024-12-26T02:30:00"), ("desktop-2018", "2018-03-20T01:00:00")] {
        let saved = import(&root.join(format!("fixtures/saved/{name}.mhtml")), &dir.path().join("a"));
        let raw = import(&root.join(format!("fixtures/pages/{name}.html")), &dir.path().join("b"));
        assert_eq!(without_fetch_date(&saved), without_fetch_date(&raw), "{name}");
        assert!(saved.contains(&format!("fetch_date: {fetched}")), "{name}: the archive's Date\n{saved}");
        // The same from standard input.
        let bytes = std::fs::read(root.join(format!("fixtures/saved/{name}.mhtml"))).unwrap();
        let o = wxsec()
            .args(["import", "--no-index", "--out"])
            .arg(dir.path().join("c"))
            .arg("-")
            .write_stdin(bytes)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn a_singlefile_page_gives_the_raw_page_s_record_with_its_address_and_saved_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let saved = import(&root.join("fixtures/saved/saved-no-scripts.singlefile.html"), &dir.path().join("a"));
    let raw = import(&root.join("fixtures/pages/saved-no-scripts.html"), &dir.path().join("b"));
    let facts = |r: &str| {
        r.lines().filter(|l| !l.starts_with("fetch_date: ") && !l.starts_with("url: ")).collect::<Vec<_>>().join("\n")
    };
    assert_eq!(facts(&saved), facts(&raw));
    assert!(saved.contains("\nurl: https://mp.weixin.qq.com/s?__biz=MjM5ODYxMDA5OQ==&mid=2651960800&idx=1&sn=595842fb2dc75aa505f544b956f2d65c\n"), "{saved}");
    assert!(saved.contains("\nfetch_date: 2026-01-02T03:04:05"), "the comment's saved date, in UTC: {saved}");
    assert!(!saved.contains("data:image"), "an inlined image is no link of the record");
}
