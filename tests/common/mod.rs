//! Helpers shared by the integration tests: where the shared corpus is, and the FORMAT.md checks
//! in Rust (the same rules as `../shared/tools/check-record`, with the front matter read back by a
//! real YAML parser).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use regex::Regex;

pub mod crawl;
pub mod fakes;

/// The shared corpus: `$WXSEC_CORPUS`, else `../shared/corpus` beside the clone. Panics with a
/// clear message when it is absent: these tests read real pages in place and have nothing to
/// check without them.
pub fn corpus_dir() -> PathBuf {
    let dir = std::env::var_os("WXSEC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    assert!(
        dir.join("html/MANIFEST.tsv").is_file(),
        "the shared corpus is absent: expected {}/html/MANIFEST.tsv. Put ../shared beside the clone, \
         or set WXSEC_CORPUS to the folder that holds html/ and md/.",
        dir.display()
    );
    dir
}

/// The rows of a MANIFEST.tsv, as maps from column name to value.
pub fn manifest(path: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).expect("manifest readable");
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().expect("header").split('\t').map(|s| s.trim().to_string()).collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(
                    l.split('\t').map(|v| v.trim_end_matches('\r').to_string()).chain(std::iter::repeat(String::new())),
                )
                .collect()
        })
        .collect()
}

/// The record files of an archive, sorted (the `.wxsec` state folder aside).
pub fn record_files(archive: &std::path::Path) -> Vec<PathBuf> {
    files_below(archive, |p| p.file_name().is_none_or(|n| n != ".wxsec"))
}

/// Every file below `dir`, sorted, entering only the paths `keep` accepts (none when `dir` is
/// not there).
pub fn files_below(dir: &std::path::Path, keep: impl Fn(&std::path::Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if !keep(&p) {
                continue;
            }
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

/// A TSV field as written by a CSV writer: `"…"` with `""` for a quote inside.
fn unquote(v: &str) -> String {
    match v.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) if v.len() >= 2 => inner.replace("\"\"", "\""),
        _ => v.to_string(),
    }
}

pub const KEYS: [&str; 5] = ["title", "url", "source", "date", "fetch_date"];

const CHROME: [&str; 13] = [
    "预览时标签不可点",
    "微信扫一扫",
    "关注该公众号",
    "继续滑动看下一个",
    "轻触阅读原文",
    "向上滑动看下一个",
    "使用小程序",
    "轻点两下取消赞",
    "轻点两下取消在看",
    "微信扫一扫可打开此内容",
    "使用完整服务",
    "![跳转二维码]",
    "![作者头像]",
];

/// The front matter of a record, read by a YAML parser: every value must be a scalar.
pub fn front_matter(record: &str) -> Result<(Vec<String>, BTreeMap<String, serde_json::Value>), String> {
    let rest = record.strip_prefix("---\n").ok_or("does not start with ---")?;
    let end = rest.find("\n---\n").ok_or("front matter not closed")?;
    let head = &rest[..end + 1];
    let keys = head
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with([' ', '\t', '#']))
        .map(|l| l.split(':').next().unwrap_or("").to_string())
        .collect();
    let map: BTreeMap<String, serde_json::Value> =
        serde_saphyr::from_str(head).map_err(|e| format!("front matter is not valid YAML: {e}"))?;
    Ok((keys, map))
}

/// Every defect of a record against FORMAT.md; empty when it is clean.
pub fn check_record(record: &str) -> Vec<String> {
    let mut bad = Vec::new();
    let (keys, meta) = match front_matter(record) {
        Ok(x) => x,
        Err(e) => return vec![e],
    };
    if keys.len() < 5 || keys[..5] != KEYS {
        bad.push(format!("front matter keys are {keys:?}"));
    }
    for k in ["title", "url", "source"] {
        match meta.get(k) {
            Some(serde_json::Value::String(_)) => {}
            other => bad.push(format!("{k} does not read back as a string: {other:?}")),
        }
    }
    for k in ["title", "source"] {
        if let Some(serde_json::Value::String(s)) = meta.get(k) {
            if s.trim().is_empty() {
                bad.push(format!("{k} is empty"));
            }
            if s.trim() != s || s.contains('\n') {
                bad.push(format!("{k} has a line break or surrounding spaces"));
            }
        }
    }
    let long = Regex::new(r"^https://mp\.weixin\.qq\.com/s\?__biz=[^&]+&mid=\d+&idx=\d+&sn=[0-9a-f]+$").unwrap();
    let short = Regex::new(r"^https://mp\.weixin\.qq\.com/s/[A-Za-z0-9_-]+$").unwrap();
    if let Some(serde_json::Value::String(url)) = meta.get("url")
        && url.contains("mp.weixin.qq.com")
        && !long.is_match(url)
        && !short.is_match(url)
    {
        bad.push(format!("url is not canonical: {url}"));
    }
    let raw = |key: &str| {
        record.lines().find_map(|l| l.strip_prefix(&format!("{key}: ")).map(str::to_string)).unwrap_or_default()
    };
    let date = raw("date");
    if date != "\"\"" && !Regex::new(r"^\d{4}-\d{2}-\d{2}$").unwrap().is_match(&date) {
        bad.push(format!("date is {date:?}"));
    }
    let fetch = raw("fetch_date");
    if fetch != "\"\"" && !Regex::new(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$").unwrap().is_match(&fetch) {
        bad.push(format!("fetch_date is {fetch:?}"));
    }

    let body_at = record[4..].find("\n---\n").unwrap() + 4 + 5;
    let body = &record[body_at..];
    let title = meta.get("title").and_then(|v| v.as_str()).unwrap_or("");
    let lines: Vec<&str> = body.split('\n').collect();
    if !body.starts_with("\n# ") {
        bad.push("body does not start with a blank line and '# '".into());
    } else if lines[1] != format!("# {title}") {
        bad.push(format!("first heading {:?} is not '# ' + title", lines[1]));
    }
    if !body.ends_with('\n') || body.ends_with("\n\n") {
        bad.push("file does not end with exactly one newline".into());
    }
    let mut blank = 0;
    for (n, line) in lines.iter().enumerate() {
        if line.trim_end() != *line {
            bad.push(format!("body line {n} ends in white space"));
        }
        blank = if line.is_empty() { blank + 1 } else { 0 };
        if blank == 2 && n != lines.len() - 1 {
            bad.push(format!("body line {n}: two blank lines in a row"));
        }
    }
    let tag = Regex::new(
        r"(?i)(^|[^\\])</?(table|tbody|thead|tr|td|th|section|span|p|br|div|img|script|style|iframe|strong|em|b|i|u|font|center|h[1-6]|ul|ol|li|blockquote|pre|code|a|svg|mpvoice|mpvideo|qqmusic|mp-[a-z-]+|grammarly-[a-z-]+)(\s[^>]*)?/?>",
    )
    .unwrap();
    let empty_emph = Regex::new(r"(^|[^*])\*\*\*\*([^*]|$)").unwrap();
    let js_link = Regex::new(r"(?i)\]\(\s*javascript:").unwrap();
    let empty_link = Regex::new(r"(^|[^!])\[[^\]]*\]\(\s*\)").unwrap();
    let mut fence: Option<String> = None;
    for (n, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start_matches(' ');
        let marker: String = trimmed.chars().take_while(|c| *c == '`' || *c == '~').collect();
        if let Some(f) = &fence {
            if marker.len() >= f.len() && marker.starts_with(&f[..1]) && line.len() - trimmed.len() <= 3 {
                fence = None;
            }
            continue;
        }
        if marker.len() >= 3 && line.len() - trimmed.len() <= 3 {
            fence = Some(marker);
            continue;
        }
        let line = strip_code_spans(line);
        if let Some(m) = tag.find(&line) {
            bad.push(format!("body line {n}: raw HTML {:?}", m.as_str()));
        }
        // A chrome phrase is chrome when it stands as a line of its own; inside a sentence it is
        // the author's (`可以微信扫一扫登入`), and FORMAT.md keeps the author's words.
        for c in CHROME {
            let t = line.trim();
            if t == c || (c.starts_with("![") && t.starts_with(c)) {
                bad.push(format!("body line {n}: chrome {c}"));
            }
        }
        if line.contains("![]()") {
            bad.push(format!("body line {n}: empty image"));
        }
        if empty_emph.is_match(&line) {
            bad.push(format!("body line {n}: empty emphasis"));
        }
        if line.contains("&nbsp;") {
            bad.push(format!("body line {n}: &nbsp;"));
        }
        if line.chars().any(|c| matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}')) {
            bad.push(format!("body line {n}: zero-width character"));
        }
        if js_link.is_match(&line) {
            bad.push(format!("body line {n}: javascript: link"));
        }
        if empty_link.is_match(&line) {
            bad.push(format!("body line {n}: empty link"));
        }
    }
    bad
}

/// The line with its inline code spans removed (their content is code, not prose).
fn strip_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let run = rest[start..].chars().take_while(|c| *c == '`').count();
        let ticks = "`".repeat(run);
        let after = &rest[start + run..];
        let mut search = after;
        let mut close = None;
        let mut offset = 0;
        while let Some(p) = search.find(&ticks) {
            let len = search[p..].chars().take_while(|c| *c == '`').count();
            if len == run {
                close = Some(offset + p);
                break;
            }
            offset += p + len;
            search = &search[p + len..];
        }
        match close {
            Some(c) => {
                out.push_str(&rest[..start]);
                rest = &after[c + run..];
            }
            None => {
                out.push_str(&rest[..start + run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Where the search index and the record files disagree: an indexed record that is not on disk,
/// or whose file changed since it was indexed, or (with `every_file`) a record file the index
/// does not name.
#[allow(dead_code)]
pub fn index_disagreements(archive: &std::path::Path, every_file: bool) -> Vec<String> {
    let conn = rusqlite::Connection::open(archive.join(".wxsec/state.sqlite")).unwrap();
    let mut stmt = conn.prepare("SELECT path, hash FROM records").unwrap();
    let indexed: BTreeMap<String, String> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect();
    let mut out = Vec::new();
    for (path, hash) in &indexed {
        match std::fs::read(archive.join(path)) {
            Ok(bytes) if format!("{:016x}", wxsec::store::fnv1a(&bytes)) == *hash => {}
            Ok(_) => out.push(format!("{path}: indexed, and changed since")),
            Err(_) => out.push(format!("{path}: indexed, not on disk")),
        }
    }
    if every_file {
        for f in record_files(archive) {
            let rel = f.strip_prefix(archive).unwrap().to_string_lossy().into_owned();
            if !indexed.contains_key(&rel) {
                out.push(format!("{rel}: on disk, not indexed"));
            }
        }
    }
    out
}

/// A new, empty PostgreSQL database for one test, on the server `WXSEC_TEST_POSTGRES` names
/// (`scripts/test` starts one): its address, or `None` (with a line saying the test did nothing)
/// when no server is given. With `WXSEC_REQUIRE_POSTGRES=1` (CI), a missing server fails the test.
pub fn postgres_database(name: &str) -> Option<String> {
    let Some(admin) = std::env::var("WXSEC_TEST_POSTGRES").ok().filter(|s| !s.is_empty()) else {
        assert!(
            std::env::var("WXSEC_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "WXSEC_REQUIRE_POSTGRES=1 and no WXSEC_TEST_POSTGRES: the shared-state tests need a server (scripts/test starts one)"
        );
        eprintln!("skipped: no PostgreSQL server (set WXSEC_TEST_POSTGRES, or run scripts/test, which starts one)");
        return None;
    };
    let db = format!("wxsec_{name}_{}", std::process::id());
    let url = admin.clone();
    let create = db.clone();
    let name = name.to_string();
    // The client blocks on a runtime of its own: not on a test's runtime thread.
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&url, postgres::NoTls).expect("WXSEC_TEST_POSTGRES reachable");
        // This test's databases of earlier runs go: a server kept between runs does not fill up.
        let stale =
            c.query("SELECT datname FROM pg_database WHERE datname LIKE $1", &[&format!("wxsec_{name}_%")]).unwrap();
        for row in stale {
            let old: String = row.get(0);
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)")).unwrap();
        }
        c.batch_execute(&format!("CREATE DATABASE {create}")).unwrap();
    })
    .join()
    .unwrap();
    let mut u = url::Url::parse(&admin).unwrap();
    u.set_path(&db);
    Some(u.to_string())
}
