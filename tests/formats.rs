//! The formats other tools write, end to end through the binary: a backup in the quote-header
//! Markdown format and the same backup's HTML export come through whole; files that name no
//! account take the one the user gives, and the report says which format each file was read in.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(dir: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(dir).join(name)
}

fn records(dir: &Path) -> Vec<PathBuf> {
    common::record_files(dir)
}

/// The front matter's five facts, as strings.
fn facts(record: &str) -> Vec<String> {
    let (_, map) = common::front_matter(record).unwrap();
    ["title", "url", "source", "date"]
        .iter()
        .map(|k| map.get(*k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).unwrap_or_default())
        .collect()
}

/// `wxsec normalise --no-index --json --out TMP/clean --report TMP/report.jsonl FLAGS INPUT`: the
/// output folder, the report's path and the summary.
fn normalise_json(input: &Path, flags: &[&str]) -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.jsonl");
    let run = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["normalise", "--no-index", "--json", "--out"])
        .arg(out.path().join("clean"))
        .arg("--report")
        .arg(&report)
        .args(flags)
        .arg(input)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let sum = serde_json::from_slice(&run.stdout).unwrap();
    (out, report, sum)
}

/// A line's words: what survives any change of markup.
fn words(line: &str) -> String {
    line.chars().filter(|c| c.is_alphanumeric()).collect()
}

#[test]
fn a_quote_header_backup_and_its_html_export_come_through_whole() {
    let backup = tempfile::tempdir().unwrap();
    let (md, html) = (backup.path().join("md"), backup.path().join("html"));
    std::fs::create_dir_all(&md).unwrap();
    std::fs::create_dir_all(&html).unwrap();
    // The tool names its files `DATE_TITLE`.
    let md_file = md.join("2026-03-11 09-30_某OA系统远程代码执行漏洞分析（CVE-2026-21001）.md");
    std::fs::copy(fixture("records", "quote-header.md"), &md_file).unwrap();
    std::fs::copy(
        fixture("records", "quote-header-cn-date.md"),
        md.join("2026年03月08日 18-02_每周威胁情报速递（第11期）.md"),
    )
    .unwrap();
    let html_file = html.join("2026-03-11 09-30_某OA系统远程代码执行漏洞分析（CVE-2026-21001）.html");
    std::fs::copy(fixture("pages", "backup-export.html"), &html_file).unwrap();

    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.jsonl");
    let run = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["normalise", "--no-index", "--json", "--out"])
        .arg(out.path().join("md"))
        .arg("--report")
        .arg(&report)
        .arg(&md)
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let sum: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!((sum["written"].as_u64(), sum["incomplete"].as_u64()), (Some(2), Some(0)), "{sum}");
    assert_eq!(sum["formats"]["quote-header"], 2, "{sum}");
    Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--no-index", "--out"])
        .arg(out.path().join("html"))
        .arg(&html_file)
        .assert()
        .success();

    let from_md = records(&out.path().join("md"));
    let from_html = records(&out.path().join("html"));
    assert_eq!((from_md.len(), from_html.len()), (2, 1));
    let html_record = std::fs::read_to_string(&from_html[0]).unwrap();
    let md_record =
        from_md.iter().map(|p| std::fs::read_to_string(p).unwrap()).find(|r| r.contains("CVE-2026-21001")).unwrap();
    for r in [&md_record, &html_record] {
        assert!(common::check_record(r).is_empty(), "{:?}\n{r}", common::check_record(r));
    }
    let want = vec![
        "某OA系统远程代码执行漏洞分析（CVE-2026-21001）".to_string(),
        "https://mp.weixin.qq.com/s?__biz=MzU5NTc2MzAyMw==&mid=2247501234&idx=1&sn=0a1b2c3d4e5f60718293a4b5c6d7e8f9"
            .to_string(),
        "安全研究小站".to_string(),
        "2026-03-11".to_string(),
    ];
    assert_eq!(facts(&md_record), want);
    assert_eq!(facts(&html_record), want);
    // Every line the author wrote, in both records; the tool's header and footer in neither.
    let source = std::fs::read_to_string(&md_file).unwrap();
    // Between the header's rule and the footer's (the body has a rule of its own).
    let body = source.split_once("\n---\n").unwrap().1.rsplit_once("\n---\n").unwrap().0;
    let author: Vec<&str> = body.lines().filter(|l| !words(l).is_empty()).collect();
    assert!(author.len() >= 5, "{author:?}");
    for record in [&md_record, &html_record] {
        let have = words(record);
        for line in &author {
            assert!(have.contains(&words(line)), "lost {line:?}:\n{record}");
        }
        assert!(!record.contains("本文抓取时间") && !record.contains("> 来源"), "{record}");
    }
    assert!(md_record.contains("fetch_date: 2026-03-12T02:15:30.000000"), "the footer's time, in UTC:\n{md_record}");
    // And the loss audit, which reads the backup on its own, finds nothing lost.
    let audit = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/loss-audit"))
        .arg(&md)
        .arg(out.path().join("md"))
        .arg(&report)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success() && said.contains(" lines_lost=0 "), "{said}");
}

#[test]
fn files_that_name_no_account_take_the_one_the_user_gives() {
    let exports = tempfile::tempdir().unwrap();
    // wechat-article-exporter laid out as ACCOUNT/TITLE.md: one file with its title heading and
    // no account line, one (a text share) with the account line and no heading.
    let folder = exports.path().join("安全号");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::copy(fixture("records", "turndown-no-account.md"), folder.join("内网渗透之票据传递.md")).unwrap();
    std::fs::write(
        folder.join("周末随笔：应急响应的十个坑.md"),
        "原创 [安全号](javascript:void\\(0\\);) _2026年03月14日 21:00_\n\n第一个坑：没有保留现场。\n\n第二个坑：先重启再说。\n",
    )
    .unwrap();
    let run = |flags: &[&str]| {
        let (out, report, sum) = normalise_json(exports.path(), flags);
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&report).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let written: Vec<String> =
            records(&out.path().join("clean")).iter().map(|p| std::fs::read_to_string(p).unwrap()).collect();
        (sum, lines, written)
    };

    // Nothing given: the file without an account is reported, with the format and what to do.
    let (sum, lines, written) = run(&[]);
    assert_eq!((sum["written"].as_u64(), sum["incomplete"].as_u64()), (Some(1), Some(1)), "{sum}");
    assert_eq!(sum["formats"]["turndown"], 2, "{sum}");
    let incomplete = lines.iter().find(|l| l["kind"] == "incomplete").unwrap();
    assert_eq!(incomplete["format"], "turndown");
    assert!(incomplete["reason"].as_str().unwrap().contains("--source"), "{incomplete}");
    // The one with the account line takes its title from its file name, and its date from the line.
    assert_eq!(
        facts(&written[0]),
        vec!["周末随笔：应急响应的十个坑".to_string(), String::new(), "安全号".to_string(), "2026-03-14".to_string()]
    );

    // The folder's name, when the user says so; the report names the file that needed it.
    let (sum, lines, written) = run(&["--source-from-folder"]);
    assert_eq!((sum["written"].as_u64(), sum["source_given"].as_u64()), (Some(2), Some(1)), "{sum}");
    let given: Vec<&serde_json::Value> = lines.iter().filter(|l| l["kind"] == "source-given").collect();
    assert_eq!(given.len(), 1);
    assert!(given[0]["path"].as_str().unwrap().ends_with("内网渗透之票据传递.md"));
    let ticket = written.iter().find(|r| r.contains("票据传递")).unwrap();
    assert_eq!(facts(ticket)[2], "安全号");
    assert!(common::check_record(ticket).is_empty(), "{:?}", common::check_record(ticket));

    // `--source NAME`: only for the file that names none; the other keeps its own.
    let (_, _, written) = run(&["--source", "红队笔记"]);
    let sources: Vec<String> = written.iter().map(|r| facts(r)[2].clone()).collect();
    assert!(sources.contains(&"红队笔记".to_string()) && sources.contains(&"安全号".to_string()), "{sources:?}");
}

/// A backup laid out a folder per article (`ACCOUNT/YEAR/DATE_TITLE/`: `article.md` with the body
/// alone, `meta.json` with title, address and time, a minimal HTML page), as the real backup of
/// the issue is: nothing written until the account is given, then both the Markdown and the page
/// come through with the facts of `meta.json`.
#[test]
fn a_folder_per_article_backup_takes_its_facts_from_meta_json() {
    let backup = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/backup");
    let folder = backup.join("安全周记/2025/2025-03-10_出入是门：一次应急响应复盘");
    let normalise = |flags: &[&str]| normalise_json(&backup, flags);
    let (_, _, sum) = normalise(&[]);
    assert_eq!((sum["written"].as_u64(), sum["incomplete"].as_u64()), (Some(0), Some(2)), "{sum}");
    assert_eq!(sum["formats"]["meta-json"], 2, "{sum}");
    let (out, report, sum) = normalise(&["--source", "安全周记"]);
    assert_eq!((sum["written"].as_u64(), sum["source_given"].as_u64()), (Some(2), Some(2)), "{sum}");
    let md = std::fs::read_to_string(
        out.path().join("clean/安全周记/2025/2025-03-10_出入是门：一次应急响应复盘/article.md"),
    )
    .unwrap();
    let want = vec![
        "出入是门：一次应急响应复盘".to_string(),
        "https://mp.weixin.qq.com/s/ATI4PDdXpaISSj6Zr1MuBw".to_string(),
        "安全周记".to_string(),
        "2025-03-10".to_string(),
    ];
    assert_eq!(facts(&md), want);
    assert!(common::check_record(&md).is_empty(), "{:?}", common::check_record(&md));
    let audit = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/loss-audit"))
        .arg(&backup)
        .arg(out.path().join("clean"))
        .arg(&report)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&audit.stdout);
    assert!(audit.status.success() && said.contains(" lines_lost=0 ") && !said.contains(" lines=0 "), "{said}");

    // The page: its account is nowhere in it, so it is refused with what to do, then imported.
    let page = folder.join("2025-03-10_出入是门：一次应急响应复盘.html");
    let dir = tempfile::tempdir().unwrap();
    let refused = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--no-index", "--out"])
        .arg(dir.path())
        .arg(&page)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(7), "{said}");
    assert!(said.contains("account name") && said.contains("--source"), "{said}");
    let imported = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--no-index", "--source", "安全周记", "--out"])
        .arg(dir.path())
        .arg(&page)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let path = String::from_utf8(imported.stdout).unwrap();
    let html = std::fs::read_to_string(path.trim()).unwrap();
    assert_eq!(facts(&html), want);
    for line in
        ["入口是一个未修补的 Confluence（CVE-2023-22527）", "2. 排查计划任务与 SSH 公钥；", "要严打，并且打就要打醉。"]
    {
        assert!(md.contains(line) && html.contains(line), "{line}");
    }

    // With `--images local` the backup's own pictures come along into the archive's assets/.
    let (out, _, sum) = normalise(&["--source", "安全周记", "--images", "local"]);
    // Two records (article.md and its dated copy), two pictures each.
    assert_eq!(sum["images"], 4, "{sum}");
    let md = std::fs::read_to_string(
        out.path().join("clean/安全周记/2025/2025-03-10_出入是门：一次应急响应复盘/article.md"),
    )
    .unwrap();
    assert!(!md.contains("./images/"), "{md}");
    let archive = tempfile::tempdir().unwrap();
    let imported = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--no-index", "--images", "local", "--source", "安全周记", "--out"])
        .arg(archive.path())
        .arg(&page)
        .output()
        .unwrap();
    assert!(imported.status.success(), "{}", String::from_utf8_lossy(&imported.stderr));
    let path = std::path::PathBuf::from(String::from_utf8(imported.stdout).unwrap().trim());
    let record = std::fs::read_to_string(&path).unwrap();
    let links: Vec<&str> = record.lines().filter_map(|l| l.strip_prefix("![](")?.strip_suffix(')')).collect();
    assert_eq!(links.len(), 2, "{record}");
    for link in links {
        assert!(link.contains("assets/") && path.parent().unwrap().join(link).is_file(), "{link}");
    }
}
