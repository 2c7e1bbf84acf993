//! The index's defects found at ten times the archive, each held by a test: `reindex` indexes
//! exactly what `normalise` indexes and counts what it leaves out; a search's memory is bounded by
//! its limit, not by its hits; a punctuated term narrows on all its words and finds what a scan
//! of the files finds.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use assert_cmd::Command;

fn wxsec() -> Command {
    Command::cargo_bin("wxsec").unwrap()
}

fn record(title: &str, mid: u32, date: &str, body: &str) -> String {
    format!(
        "---\ntitle: {title}\nurl: https://mp.weixin.qq.com/s?__biz=MzI2NTg4OTc5Nw==&mid={mid}&idx=1&sn=0123456789abcdef0123456789abcdef\nsource: 测试账号\ndate: {date}\nfetch_date: 2026-11-21T23:59:43\n---\n\n# {title}\n\n{body}\n"
    )
}

fn indexed_paths(archive: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(archive.join(".wxsec/state.sqlite")).unwrap();
    let mut stmt = conn.prepare("SELECT path FROM records").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

/// A hidden record file (`.NET …md`, an article's title) is indexed by `reindex` as by
/// `normalise`; a hidden folder, a file that is no record by name, a record file that is no
/// record and a symbolic link are counted, each by its kind.
#[test]
fn reindex_indexes_what_normalise_indexes_and_counts_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(input.join("其他")).unwrap();
    std::fs::create_dir_all(input.join(".git")).unwrap();
    std::fs::write(
        input.join(".NET 反序列化漏洞分析.md"),
        record(".NET 反序列化漏洞分析", 2247500001, "2025-01-02", "BinaryFormatter 反序列化漏洞的利用链。"),
    )
    .unwrap();
    std::fs::write(
        input.join("其他/a.md"),
        record("某 OA 远程代码执行漏洞", 2247500002, "2025-01-03", "上传接口未校验文件类型。"),
    )
    .unwrap();
    std::fs::write(
        input.join(".git/HEAD.md"),
        record("not an article", 2247500003, "2025-01-04", "a hidden folder's file"),
    )
    .unwrap();
    let out = dir.path().join("out");
    let n = wxsec().arg("normalise").arg("--out").arg(&out).arg(&input).output().unwrap();
    assert!(n.status.success(), "{}", String::from_utf8_lossy(&n.stderr));
    let by_normalise = indexed_paths(&out);
    assert_eq!(by_normalise.len(), 2, "{by_normalise:?}");
    assert!(by_normalise.iter().any(|p| p.ends_with(".NET 反序列化漏洞分析.md")), "{by_normalise:?}");

    // Beside the records: a picture, a Markdown file that is no record, a link, a hidden folder.
    std::fs::write(out.join("notes.png"), b"\x89PNG").unwrap();
    std::fs::write(out.join("README.md"), "just notes\n").unwrap();
    std::os::unix::fs::symlink(out.join("其他/a.md"), out.join("link.md")).unwrap();
    std::fs::create_dir_all(out.join(".obsidian")).unwrap();
    std::fs::write(out.join(".obsidian/x.md"), record("hidden", 2247500004, "2025-01-05", "x")).unwrap();
    let re = wxsec().arg("reindex").arg("--out").arg(&out).arg("--json").output().unwrap();
    assert!(re.status.success(), "{}", String::from_utf8_lossy(&re.stderr));
    let v: serde_json::Value = serde_json::from_str(String::from_utf8_lossy(&re.stdout).trim()).unwrap();
    assert_eq!(indexed_paths(&out), by_normalise, "reindex indexes exactly what normalise indexed");
    assert_eq!(v["indexed"], 2, "{v}");
    assert_eq!((v["not_records"].as_u64(), v["other_files"].as_u64()), (Some(1), Some(2)), "{v}");
    // .obsidian; not the archive's own .wxsec.
    assert_eq!(v["hidden_folders"], 1, "{v}");
    assert_eq!(v["skipped"], 4, "{v}");
    let said = String::from_utf8_lossy(&re.stderr);
    assert!(
        said.contains("2 records indexed, 4 skipped (1 files not records, 2 other files, 1 hidden folders)"),
        "{said}"
    );
}

/// The largest resident size a child reached, in KiB, read by waiting on it (`wait4`, which
/// `Child::wait` does not offer).
#[allow(clippy::zombie_processes)]
fn peak_kib(mut cmd: std::process::Command) -> (i64, std::process::ExitStatus) {
    let child = cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child's, not yet waited for.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    use std::os::unix::process::ExitStatusExt;
    (usage.ru_maxrss, std::process::ExitStatus::from_raw(status))
}

/// A search whose term is in every one of 2,000 indexed records, with long paths, reads a page
/// of candidates at a time: its peak memory is that of a search with a handful of hits.
#[test]
fn a_search_s_memory_is_bounded_by_its_limit_not_its_hits() {
    let dir = tempfile::tempdir().unwrap();
    let (small, large) = (dir.path().join("small"), dir.path().join("large"));
    // Long rows that cost the index nothing: the paths of the records not on disk.
    let padding = "p/".repeat(32_000);
    for (archive, count) in [(&small, 30usize), (&large, 2_000)] {
        std::fs::create_dir_all(archive.join(".wxsec")).unwrap();
        let state = wxsec::archive::State::open(&archive.join(".wxsec/state.sqlite")).unwrap();
        state
            .batch(|s| {
                for i in 0..count {
                    // Only the newest 30 are on disk: the rest are candidates the search need not read.
                    let date = format!("20{:02}-01-01", 25 - (i / 80).min(24));
                    let text = record(&format!("漏洞 {i}"), 2247500000 + i as u32, &date, "漏洞的正文。");
                    let path = if i < 30 { format!("r/{i:06}.md") } else { format!("r/{padding}{i:06}.md") };
                    if i < 30 {
                        std::fs::create_dir_all(archive.join("r")).unwrap();
                        std::fs::write(archive.join(&path), &text).unwrap();
                    }
                    let e = wxsec::archive::index::Entry::of_file_text(&text, path, false).unwrap();
                    wxsec::archive::index::upsert_in_batch(s, &e)?;
                }
                Ok(())
            })
            .unwrap();
    }
    let search = |archive: &Path| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("wxsec"));
        c.args(["search", "--limit", "20", "--out"]).arg(archive).arg("漏洞");
        let (kib, status) = peak_kib(c);
        assert!(status.success());
        kib
    };
    let (few, many) = (search(&small), search(&large));
    // The rows of 2,000 hits are over 120 MB (146 MB peak when they were all read); a page of them
    // a few MB.
    assert!(many < few + 16 * 1024, "peak {many} KiB over 2,000 hits against {few} KiB over 30");
    let out = wxsec().args(["search", "--limit", "20", "--json", "--out"]).arg(&large).arg("漏洞").output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 20);
}

/// `rk-7` narrows on `rk` and `7…` and is found where a word starts, as a scan of the files
/// finds it: in `RK-7` and `的rk-7x`, not in `fork-7`.
#[test]
fn punctuated_terms_narrow_on_all_their_words_and_match_a_scan() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let bodies = [
        ("a", "型号 RK-7 存在漏洞。"),
        ("b", "fork-7 is another thing."),
        ("c", "影响的rk-7x固件。"),
        ("d", "rk 与 7 分开写。"),
        ("e", "CVE-2021-44228 即 Log4Shell。"),
        ("f", "xCVE-2021-44228 不是。"),
    ];
    for (i, (name, body)) in bodies.iter().enumerate() {
        std::fs::write(
            input.join(format!("{name}.md")),
            record(&format!("记录{name}"), 2247500100 + i as u32, "2025-02-01", body),
        )
        .unwrap();
    }
    let out = dir.path().join("out");
    assert!(wxsec().arg("normalise").arg("--out").arg(&out).arg(&input).output().unwrap().status.success());
    let found = |term: &str| -> BTreeSet<String> {
        let o = wxsec().args(["search", "--json", "--out"]).arg(&out).arg(term).output().unwrap();
        assert!(o.status.success());
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["title"].as_str().unwrap().to_string())
            .collect()
    };
    let scan = |term: &str| -> BTreeSet<String> {
        bodies
            .iter()
            .filter(|(name, body)| {
                wxsec::archive::index::term_occurs(
                    &format!("记录{name}\n测试账号\n{}", body.to_lowercase()),
                    &term.to_lowercase(),
                )
            })
            .map(|(name, _)| format!("记录{name}"))
            .collect()
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(found("rk-7"), set(&["记录a", "记录c"]));
    assert_eq!(found("CVE-2021-44228"), set(&["记录e"]));
    for term in
        ["rk-7", "RK-7", "k-7", "fork-7", "CVE-2021-44228", "2021-44228", "7x固件", "的rk", "rk-7x固件", "x固件"]
    {
        assert_eq!(found(term), scan(term), "{term}");
    }
}
