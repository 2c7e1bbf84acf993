//! Pages kept in other forms than a saved HTML file (fixtures/saved/, made from fixture pages by
//! scripts/make-saved-forms): each gives the same record as the raw page, its fetch date from the
//! archive's own headers.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod common;

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

#[test]
fn a_web_archive_gives_each_article_once_with_its_record_s_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let raw: Vec<String> = ["modern-2025", "desktop-2018"]
        .iter()
        .map(|n| import(&root.join(format!("fixtures/pages/{n}.html")), &dir.path().join("raw")))
        .collect();
    for (i, form) in ["two-articles.warc", "two-articles.warc.gz"].iter().enumerate() {
        let out = dir.path().join(format!("w{i}"));
        let o = wxsec()
            .args(["import", "--no-index", "--json", "--out"])
            .arg(&out)
            .arg(root.join("fixtures/saved").join(form))
            .output()
            .unwrap();
        assert!(o.status.success(), "{form}: {}", String::from_utf8_lossy(&o.stderr));
        let lines: Vec<serde_json::Value> =
            String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        // Two articles: the chunked and gzipped one (reached by a redirect, kept again by a
        // revisit and a second capture) and the plain one; the rest of the archive is no article.
        assert_eq!(lines.len(), 2, "{form}: {lines:?}");
        let records: Vec<String> =
            lines.iter().map(|l| std::fs::read_to_string(l["path"].as_str().unwrap()).unwrap()).collect();
        assert_eq!(without_fetch_date(&records[0]), without_fetch_date(&raw[0]), "{form}");
        assert_eq!(without_fetch_date(&records[1]), without_fetch_date(&raw[1]), "{form}");
        assert!(
            records[0].contains("fetch_date: 2024-12-26T02:30:01"),
            "the WARC-Date of its response: {}",
            records[0]
        );
        assert!(records[1].contains("fetch_date: 2018-03-20T01:00:00"));
        assert!(lines[0]["target"].as_str().unwrap().contains(&format!("{form}#https://mp.weixin.qq.com/s?")));
    }
    // An archive cut short keeps the articles before the cut, and says what broke.
    let whole = std::fs::read(root.join("fixtures/saved/two-articles.warc")).unwrap();
    let cut = dir.path().join("cut.warc");
    // Cut inside the second article's record, before the pictures that follow it.
    let second = whole.windows(20).position(|w| w == b"2018-03-20T01:00:00Z").unwrap();
    std::fs::write(&cut, &whole[..second + 2000]).unwrap();
    let o = wxsec().args(["import", "--no-index", "--out"]).arg(dir.path().join("cut")).arg(&cut).output().unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1);
    assert!(String::from_utf8_lossy(&o.stderr).contains("ends inside a record"));
}

/// The body's image links of a record: (local ones, remote ones).
fn image_links(record: &str) -> (Vec<String>, Vec<String>) {
    let re = regex::Regex::new(r"!\[[^\]]*\]\(([^)\s]+)\)").unwrap();
    let body = record.split("\n---\n").nth(1).unwrap_or_default();
    let links: Vec<String> = re.captures_iter(body).map(|c| c[1].to_string()).collect();
    links.into_iter().partition(|l| !l.starts_with("http"))
}

#[test]
fn with_local_images_an_archive_s_own_pictures_come_from_it_never_fetched() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let cover = regex::Regex::new(r"^https://mmbiz\.qpic\.cn/mmbiz_jpg/[A-Za-z0-9]*[Cc]over").unwrap();
    for form in ["desktop-2018.mhtml", "saved-no-scripts.singlefile.html", "two-articles.warc.gz"] {
        let out = dir.path().join(form);
        // Any request for an image would go to a port where nothing listens, and fail.
        let o = wxsec()
            .args(["import", "--no-index", "--json", "--images", "local", "--out"])
            .arg(&out)
            .arg(root.join("fixtures/saved").join(form))
            .env("HTTPS_PROXY", "http://127.0.0.1:9")
            .env("HTTP_PROXY", "http://127.0.0.1:9")
            .env("ALL_PROXY", "http://127.0.0.1:9")
            .output()
            .unwrap();
        assert!(o.status.success(), "{form}: {}", String::from_utf8_lossy(&o.stderr));
        let mut local_seen = 0;
        for line in String::from_utf8_lossy(&o.stdout).lines() {
            let written: serde_json::Value = serde_json::from_str(line).unwrap();
            let path = PathBuf::from(written["path"].as_str().unwrap());
            let record = std::fs::read_to_string(&path).unwrap();
            let (local, remote) = image_links(&record);
            for link in &local {
                let file = path.parent().unwrap().join(link);
                let bytes = std::fs::read(&file).unwrap_or_else(|e| panic!("{form}: {link}: {e}"));
                assert!(bytes.starts_with(b"\x89PNG"), "{form}: {link} is the archive's PNG, not a download");
            }
            local_seen += local.len();
            // Every picture of the body is in the archive; the cover, which the page never
            // shows, is not, and kept its link when its fetch failed.
            assert!(
                remote.iter().all(|r| cover.is_match(r)),
                "{form}: fetched, not taken from the archive: {remote:?}"
            );
        }
        assert!(local_seen > 0, "{form}: no picture came from the archive");
    }
}

#[test]
fn normalise_reads_saved_pages_in_a_folder_as_import_does_and_writes_each_record_beside_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("web")).unwrap();
    for name in ["desktop-2018.mhtml", "saved-no-scripts.singlefile.html"] {
        std::fs::copy(root.join("fixtures/saved").join(name), input.join(name)).unwrap();
    }
    std::fs::copy(root.join("fixtures/saved/two-articles.warc.gz"), input.join("web/crawl.warc.gz")).unwrap();
    // A raw page under a Markdown name is a page too: its content says so.
    std::fs::copy(root.join("fixtures/pages/modern-2025.html"), input.join("modern.md")).unwrap();
    std::fs::copy(root.join("fixtures/records/quote-header.md"), input.join("quote-header.md")).unwrap();
    std::fs::copy(root.join("fixtures/pages/deleted.html"), input.join("deleted.html")).unwrap();
    let out = dir.path().join("out");
    let run = |args: &[&str]| {
        let o = wxsec()
            .args(["normalise", "--no-index", "--json", "--report"])
            .arg(dir.path().join("report.jsonl"))
            .args(args)
            .arg("--out")
            .arg(&out)
            .arg(&input)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let first = run(&[]);
    assert_eq!(first["written"], 6, "{first}");
    assert_eq!(first["stubs"], 1, "the deleted page: {first}");
    for (form, n) in [("mhtml", 1), ("singlefile", 1), ("warc", 2), ("html-page", 2)] {
        assert_eq!(first["formats"][form], n, "{form}: {first}");
    }
    // Each record is the one import makes of the same file.
    for (saved, record) in [
        ("desktop-2018.mhtml", "desktop-2018.md"),
        ("saved-no-scripts.singlefile.html", "saved-no-scripts.singlefile.md"),
        ("modern.md", "modern.md.md"),
    ] {
        let imported = import(&input.join(saved), &dir.path().join("imported"));
        let written = std::fs::read_to_string(out.join(record)).unwrap_or_else(|e| panic!("{record}: {e}"));
        // A raw page names no date: import dates it now, normalise by its file.
        let dated = saved.ends_with(".mhtml") || saved.contains("singlefile");
        if dated {
            assert_eq!(written, imported, "{saved}");
        } else {
            assert_eq!(without_fetch_date(&written), without_fetch_date(&imported), "{saved}");
        }
    }
    let warc_records: Vec<PathBuf> = walk(&out.join("web/crawl.records"));
    assert_eq!(warc_records.len(), 2, "{warc_records:?}");
    assert!(std::fs::read_to_string(out.join("quote-header.md")).unwrap().starts_with("---\n"));
    let report = std::fs::read_to_string(dir.path().join("report.jsonl")).unwrap();
    assert!(report.contains("\"kind\":\"deleted\"") && report.contains("deleted.html"), "{report}");
    // Nothing changed: nothing is written again, and the records are what normalise keeps.
    let second = run(&[]);
    assert_eq!((second["written"].as_u64(), second["unchanged"].as_u64()), (Some(0), Some(6)), "{second}");
    let again = dir.path().join("again");
    let o = wxsec().args(["normalise", "--no-index", "--json", "--out"]).arg(&again).arg(&out).output().unwrap();
    let third: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(third["written"], 6, "{third}");
    for record in walk(&out) {
        let rel = record.strip_prefix(&out).unwrap();
        assert_eq!(std::fs::read(&record).unwrap(), std::fs::read(again.join(rel)).unwrap(), "{}", rel.display());
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    common::files_below(dir, |p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect()
}

#[test]
fn normalise_with_local_images_takes_a_saved_page_s_pictures_from_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for name in ["desktop-2018.mhtml", "saved-no-scripts.singlefile.html", "two-articles.warc"] {
        std::fs::copy(root.join("fixtures/saved").join(name), input.join(name)).unwrap();
    }
    let out = dir.path().join("out");
    let o = wxsec()
        .args(["normalise", "--no-index", "--json", "--images", "local", "--out"])
        .arg(&out)
        .arg(&input)
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("ALL_PROXY", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let mut local_seen = 0;
    for record in walk(&out) {
        let text = std::fs::read_to_string(&record).unwrap();
        let (local, remote) = image_links(&text);
        for link in &local {
            assert!(std::fs::read(record.parent().unwrap().join(link)).unwrap().starts_with(b"\x89PNG"), "{link}");
        }
        local_seen += local.len();
        assert!(
            remote.iter().all(|r| r.to_lowercase().contains("cover")),
            "{}: fetched, not from the archive: {remote:?}",
            record.display()
        );
    }
    // desktop-2018 twice (MHTML, WARC: banner and screenshot each) and the SingleFile picture.
    assert_eq!(local_seen, 5, "{summary}");
    assert_eq!(summary["images"], 5, "{summary}");
}

#[test]
fn in_place_a_saved_page_keeps_its_file_and_its_record_goes_beside_it_once() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    for name in ["desktop-2018.mhtml", "two-articles.warc"] {
        std::fs::copy(root.join("fixtures/saved").join(name), dir.path().join(name)).unwrap();
    }
    let run = || {
        let o = wxsec().args(["normalise", "--no-index", "--json", "--in-place"]).arg(dir.path()).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()
    };
    let first = run();
    assert_eq!(first["written"], 3, "{first}");
    let saved = std::fs::read(root.join("fixtures/saved/desktop-2018.mhtml")).unwrap();
    assert_eq!(std::fs::read(dir.path().join("desktop-2018.mhtml")).unwrap(), saved, "the archive is kept as it was");
    assert!(dir.path().join("desktop-2018.md").is_file());
    // Again: the page is now the source of the record beside it, which is as it should be.
    let second = run();
    assert_eq!((second["written"].as_u64(), second["skipped_files"].as_u64()), (Some(0), Some(1)), "{second}");
    assert_eq!(walk(dir.path()).len(), 3);
}
