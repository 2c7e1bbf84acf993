//! The search index: every record of the archive, its security entities and its words, in the
//! state file beside the crawl's tables. SQLite FTS5 with the `trigram` tokenizer matches any
//! substring of three characters or more, which is what Chinese needs without a word segmenter;
//! shorter terms fall back to `LIKE` over the same table. `import`, `crawl` and `normalise` keep
//! it current as they write; `reindex` rebuilds it from the files.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::article::ArticleId;
use crate::crawl::state::{State, id_key};
use crate::entities::{self, Entities};
use crate::error::{Error, Result};
use crate::record::Record;

/// What the index keeps of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The record file, relative to the archive folder (absolute when outside it).
    pub path: String,
    /// `biz:mid:idx`, when the address names the article.
    pub key: Option<String>,
    /// The feed an entry belongs to: the account's number, or a name made from its title.
    pub account: String,
    /// Front matter.
    pub title: String,
    /// Front matter.
    pub url: String,
    /// Front matter.
    pub source: String,
    /// Front matter (`YYYY-MM-DD` or empty).
    pub date: String,
    /// Front matter.
    pub fetch_date: String,
    /// The body as plain words, for matching and snippets.
    pub text: String,
    /// Security entities.
    pub entities: Entities,
}

impl Entry {
    /// The entry of a record about to be written at `path`.
    pub fn of_record(record: &Record, path: String) -> Entry {
        let a = &record.article;
        let url = a.url();
        Entry::new(path, &a.title, &url, &a.source, &record.date, &record.fetch_date, &a.body)
    }

    fn new(path: String, title: &str, url: &str, source: &str, date: &str, fetch_date: &str, body: &str) -> Entry {
        let id = ArticleId::from_url(url);
        let account = match &id {
            Some(id) => crate::store::biz_number(&id.biz).unwrap_or_else(|| id.biz.clone()),
            None => format!("source-{:016x}", crate::store::fnv1a(source.as_bytes())),
        };
        Entry {
            path,
            key: id.as_ref().map(id_key),
            account,
            title: title.to_string(),
            url: url.to_string(),
            source: source.to_string(),
            date: date.to_string(),
            fetch_date: fetch_date.to_string(),
            text: plain_words(body),
            entities: entities::find(title, body),
        }
    }

    /// The entry of a record file's text (Markdown record or JSON object), as `reindex` reads it.
    pub fn of_file_text(text: &str, path: String, json: bool) -> Option<Entry> {
        if json {
            let v: serde_json::Value = serde_json::from_str(text).ok()?;
            let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
            let body = s("markdown");
            let body = strip_title_line(&body, &s("title"));
            return Some(Entry::new(path, &s("title"), &s("url"), &s("source"), &s("date"), &s("fetch_date"), body));
        }
        let p = crate::normalise::parse::parse(text)?;
        if p.title.is_empty() {
            return None;
        }
        let body = strip_title_line(&p.body, &p.title);
        Some(Entry::new(path, &p.title, &p.url, &p.source, &p.date, &p.fetch_date, body))
    }
}

/// The body without the record's own `# title` line and cover image.
pub fn strip_title_line<'a>(body: &'a str, title: &str) -> &'a str {
    let mut rest = body.trim_start_matches('\n');
    if let Some(r) = rest.strip_prefix("# ").and_then(|r| r.strip_prefix(title)) {
        rest = r.trim_start_matches('\n');
    }
    if rest.starts_with("![cover_image](")
        && let Some(end) = rest.find('\n')
    {
        rest = rest.get(end..).unwrap_or_default().trim_start_matches('\n');
    }
    rest
}

static IMAGE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"!\[[^\]\n]*\]\([^)\n]*\)").unwrap());
static LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\[([^\]\n]*)\]\([^)\n]*\)").unwrap());
// A tag left in the Markdown; an escaped `\<` is the author's text, not a tag.
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|[^\\])</?[A-Za-z][^>\n]*>").unwrap());
static MARKS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^[ \t]*(?:#{1,6} |> ?|[-*+] |[0-9]+\. )|\*\*|`|\\").unwrap());

/// Markdown reduced to its words: images dropped, links to their text, marks removed.
pub fn plain_words(md: &str) -> String {
    let s = IMAGE.replace_all(md, "");
    let s = LINK.replace_all(&s, "$1");
    let s = TAG.replace_all(&s, "$1");
    let s = MARKS.replace_all(&s, "");
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| "|-: ".contains(c)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Adds or replaces the entry of one record file.
pub fn upsert(state: &State, e: &Entry) -> Result<()> {
    let conn = state.conn();
    let err = |x: rusqlite::Error| state.sql_error(&x);
    // A savepoint, so that an upsert is whole both alone and inside a caller's batch.
    conn.execute_batch("SAVEPOINT upsert").map_err(err)?;
    let result = upsert_in(conn, e);
    match result {
        Ok(()) => conn.execute_batch("RELEASE upsert").map_err(err),
        Err(x) => {
            let _ = conn.execute_batch("ROLLBACK TO upsert; RELEASE upsert");
            Err(err(x))
        }
    }
}

fn upsert_in(tx: &rusqlite::Connection, e: &Entry) -> rusqlite::Result<()> {
    let old: Option<i64> =
        tx.query_row("SELECT id FROM records WHERE path = ?1", [&e.path], |r| r.get(0)).optional()?;
    if let Some(id) = old {
        remove_id(tx, id)?;
    }
    let cvss = e.entities.cvss.iter().copied().fold(None, |m: Option<f32>, s| Some(m.map_or(s, |m| m.max(s))));
    tx.execute(
        "INSERT INTO records (path, key, account, url, title, source, date, fetch_date, cvss)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![e.path, e.key, e.account, e.url, e.title, e.source, e.date, e.fetch_date, cvss],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO records_fts (rowid, title, source, body) VALUES (?1, ?2, ?3, ?4)",
        params![id, e.title, e.source, e.text],
    )?;
    for (kind, value) in e.entities.ids() {
        tx.execute(
            "INSERT OR IGNORE INTO record_entities (record, kind, value) VALUES (?1, ?2, ?3)",
            params![id, kind, value],
        )?;
    }
    Ok(())
}

fn remove_id(conn: &rusqlite::Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM records_fts WHERE rowid = ?1", [id])?;
    conn.execute("DELETE FROM record_entities WHERE record = ?1", [id])?;
    conn.execute("DELETE FROM records WHERE id = ?1", [id])?;
    Ok(())
}

/// Drops the entry of a record file (it turned out to be a stub, or is gone).
pub fn remove(state: &State, path: &str) -> Result<()> {
    let conn = state.conn();
    let id: Option<i64> = conn
        .query_row("SELECT id FROM records WHERE path = ?1", [path], |r| r.get(0))
        .optional()
        .map_err(|x| state.sql_error(&x))?;
    match id {
        Some(id) => remove_id(conn, id).map_err(|x| state.sql_error(&x)),
        None => Ok(()),
    }
}

/// How many records the index holds.
pub fn count(state: &State) -> Result<i64> {
    state.conn().query_row("SELECT count(*) FROM records", [], |r| r.get(0)).map_err(|x| state.sql_error(&x))
}

/// Whether a record file is in the index.
pub fn contains(state: &State, path: &str) -> Result<bool> {
    state
        .conn()
        .query_row("SELECT count(*) FROM records WHERE path = ?1", [path], |r| r.get::<_, i64>(0))
        .map(|n| n > 0)
        .map_err(|x| state.sql_error(&x))
}

/// How a record's path is kept: relative to the archive folder when inside it.
pub fn index_path(root: &Path, file: &Path) -> String {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let (root, file) = (abs(root), abs(file));
    match file.strip_prefix(&root).ok().filter(|r| !r.as_os_str().is_empty()) {
        Some(r) => r.to_string_lossy().into_owned(),
        None => file.to_string_lossy().into_owned(),
    }
}

/// What `reindex` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReindexSummary {
    /// Record files indexed.
    pub indexed: usize,
    /// Files that are not records (no front matter, no title).
    pub skipped: usize,
}

/// Rebuilds the index from the record files under `root` (Markdown and JSON records; hidden
/// folders, `assets/` and `feeds/` are not records).
pub fn reindex(state: &State, root: &Path) -> Result<ReindexSummary> {
    let mut files = Vec::new();
    collect(root, root, &mut files)?;
    files.sort();
    let mut summary = ReindexSummary::default();
    state.batch(|s| {
        s.conn()
            .execute_batch("DELETE FROM records_fts; DELETE FROM record_entities; DELETE FROM records;")
            .map_err(|x| s.sql_error(&x))?;
        for file in &files {
            let text = std::fs::read(file).map_err(|source| Error::Read { path: file.clone(), source })?;
            let text = String::from_utf8_lossy(&text);
            let json = file.extension().is_some_and(|e| e == "json");
            match Entry::of_file_text(&text, index_path(root, file), json) {
                Some(e) => {
                    upsert(s, &e)?;
                    summary.indexed += 1;
                }
                None => summary.skipped += 1,
            }
        }
        Ok(())
    })?;
    Ok(summary)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Read { path: dir.to_path_buf(), source })?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(kind) = entry.file_type() else { continue };
        if name.starts_with('.') || kind.is_symlink() {
            continue;
        }
        if kind.is_dir() {
            if dir == root && matches!(name.as_str(), "assets" | "feeds") {
                continue;
            }
            collect(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "md" || e == "json") {
            out.push(path);
        }
    }
    Ok(())
}

/// A search.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Words to find (each must occur); any substring, case-insensitive for Latin letters.
    pub terms: Vec<String>,
    /// Only this account (its name as in `source`, or its number).
    pub source: Option<String>,
    /// Only records published on or after this day.
    pub since: Option<chrono::NaiveDate>,
    /// Only records naming this CVE (or CNVD, CNNVD, GHSA, ATT&CK) id.
    pub id: Option<String>,
    /// At most this many hits.
    pub limit: usize,
}

/// One record found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// Front matter.
    pub title: String,
    /// Front matter.
    pub source: String,
    /// Front matter.
    pub date: String,
    /// Front matter.
    pub url: String,
    /// The record file, as indexed (relative to the archive folder).
    pub path: String,
    /// Words around the first match, each match between `open` and `close` marks.
    pub snippet: String,
    /// The CVE ids the record names.
    pub cves: Vec<String>,
}

/// Runs a search; newest first. `open`/`close` mark each match in the snippet.
pub fn search(state: &State, q: &Query, open: &str, close: &str) -> Result<Vec<Hit>> {
    let mut sql = String::from(
        "SELECT r.id, r.title, r.source, r.date, r.url, r.path, f.body FROM records r JOIN records_fts f ON f.rowid = r.id WHERE 1",
    );
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
    // Control characters match nothing a record holds, and a NUL ends FTS5's reading of a quoted
    // phrase early ("unterminated string"): they are not part of any term.
    let terms: Vec<String> = q
        .terms
        .iter()
        .map(|t| t.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|t| !t.trim().is_empty())
        .collect();
    let long: Vec<&String> = terms.iter().filter(|t| t.chars().count() >= 3).collect();
    if !long.is_empty() {
        // Each term a quoted phrase: FTS5 query syntax in the user's words stays literal.
        let phrase = long.iter().map(|t| format!("\"{}\"", t.replace('"', "\"\""))).collect::<Vec<_>>().join(" AND ");
        sql.push_str(" AND records_fts MATCH ?");
        args.push(Box::new(phrase));
    }
    for t in terms.iter().filter(|t| t.chars().count() < 3) {
        let pattern = format!("%{}%", t.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        sql.push_str(" AND (f.title LIKE ? ESCAPE '\\' OR f.body LIKE ? ESCAPE '\\')");
        args.push(Box::new(pattern.clone()));
        args.push(Box::new(pattern));
    }
    if let Some(s) = &q.source {
        sql.push_str(" AND (r.source = ? OR r.account = ?)");
        args.push(Box::new(s.clone()));
        args.push(Box::new(s.clone()));
    }
    if let Some(d) = q.since {
        sql.push_str(" AND r.date >= ?");
        args.push(Box::new(d.format("%Y-%m-%d").to_string()));
    }
    if let Some(id) = &q.id {
        sql.push_str(" AND r.id IN (SELECT record FROM record_entities WHERE value = ?)");
        args.push(Box::new(normal_id(id)));
    }
    sql.push_str(" ORDER BY r.date DESC, r.fetch_date DESC, r.path LIMIT ?");
    args.push(Box::new(q.limit as i64));
    let conn = state.conn();
    let err = |x: rusqlite::Error| state.sql_error(&x);
    let mut stmt = conn.prepare(&sql).map_err(err)?;
    let rows = stmt
        .query_map(rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())), |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
            ))
        })
        .map_err(err)?;
    let mut needles: Vec<String> = q.terms.clone();
    if let Some(id) = &q.id {
        needles.push(normal_id(id));
    }
    let mut hits = Vec::new();
    for row in rows {
        let (id, title, source, date, url, path, body) = row.map_err(err)?;
        let cves = record_ids(state, id, Some("cve"))?;
        let snippet = snippet(&body, &needles, open, close);
        hits.push(Hit { title, source, date, url, path, snippet, cves });
    }
    Ok(hits)
}

/// The entity ids of one indexed record (of one kind, or all), sorted by kind and value.
pub(crate) fn record_ids(state: &State, record: i64, kind: Option<&str>) -> Result<Vec<String>> {
    let err = |x: rusqlite::Error| state.sql_error(&x);
    let mut stmt = state
        .conn()
        .prepare_cached(
            "SELECT value FROM record_entities WHERE record = ?1 AND (?2 IS NULL OR kind = ?2) ORDER BY kind, value",
        )
        .map_err(err)?;
    let ids = stmt.query_map(params![record, kind], |r| r.get(0)).map_err(err)?;
    ids.collect::<rusqlite::Result<Vec<String>>>().map_err(err)
}

/// An id as the index keeps it: upper case, GHSA groups lower case.
pub fn normal_id(id: &str) -> String {
    let e = entities::find("", id.trim());
    e.cves
        .into_iter()
        .chain(e.cnvds)
        .chain(e.cnnvds)
        .chain(e.ghsas)
        .next()
        .unwrap_or_else(|| id.trim().to_ascii_uppercase())
}

/// About 100 characters of `text` around the first needle found, every needle marked.
pub fn snippet(text: &str, needles: &[String], open: &str, close: &str) -> String {
    // ASCII folding keeps every byte where it was, so positions found in `folded` are positions
    // in `text` (Unicode lower-casing can change lengths).
    let folded = text.to_ascii_lowercase();
    let needles: Vec<String> = needles.iter().filter(|n| !n.is_empty()).map(|n| n.to_ascii_lowercase()).collect();
    let first = needles.iter().filter_map(|n| folded.find(n.as_str())).min().unwrap_or(0);
    let chars_before = 30;
    let start = text.get(..first).unwrap_or_default().char_indices().rev().nth(chars_before - 1).map_or(0, |(i, _)| i);
    let end = text.get(first..).unwrap_or_default().char_indices().nth(90).map_or(text.len(), |(i, _)| first + i);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut i = start;
    while i < end {
        let hit = needles.iter().find(|n| {
            folded.get(i..).unwrap_or_default().starts_with(n.as_str()) && text.is_char_boundary(i + n.len())
        });
        match hit {
            Some(n) => {
                out.push_str(open);
                out.push_str(text.get(i..i + n.len()).unwrap_or_default());
                out.push_str(close);
                i += n.len();
            }
            None => {
                let c = text.get(i..).unwrap_or_default().chars().next().unwrap_or(' ');
                out.push(if c == '\n' { ' ' } else { c });
                i += c.len_utf8();
            }
        }
    }
    if end < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_snippets() {
        let md = "## 漏洞概述\n\n![x](https://mmbiz.qpic.cn/a.png)\n\n**Apache Tomcat** 存在[远程代码执行](https://x.example/)漏洞。\n\n| a | b |\n|---|---|\n";
        assert_eq!(plain_words(md), "漏洞概述\nApache Tomcat 存在远程代码执行漏洞。\n| a | b |");
        let s = snippet("前面的话。Apache tomcat 存在漏洞", &["TOMCAT".into(), "漏洞".into()], "[", "]");
        assert_eq!(s, "前面的话。Apache [tomcat] 存在[漏洞]");
    }

    #[test]
    fn index_and_search() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("s.sqlite")).unwrap();
        let mk = |path: &str, title: &str, date: &str, body: &str| {
            Entry::new(
                path.into(),
                title,
                "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=1&idx=1&sn=a",
                "安全中心",
                date,
                "",
                body,
            )
        };
        upsert(&state, &mk("a.md", "Tomcat 漏洞预警", "2025-03-12", "CVE-2025-24813 远程代码执行漏洞")).unwrap();
        upsert(&state, &mk("b.md", "周报", "2024-01-01", "本周勒索软件动态")).unwrap();
        upsert(&state, &mk("a.md", "Tomcat 漏洞预警", "2025-03-12", "CVE-2025-24813 远程代码执行漏洞，请升级"))
            .unwrap();
        let q = |terms: &[&str]| Query {
            terms: terms.iter().map(|s| s.to_string()).collect(),
            limit: 10,
            ..Default::default()
        };
        let titles = |q: &Query| search(&state, q, "[", "]").unwrap().into_iter().map(|h| h.path).collect::<Vec<_>>();
        assert_eq!(titles(&q(&["代码执行"])), ["a.md"]);
        assert_eq!(titles(&q(&["勒索"])), ["b.md"], "two-character terms fall back to LIKE");
        assert_eq!(titles(&q(&["tomcat", "升级"])), ["a.md"]);
        assert_eq!(titles(&Query { id: Some("cve-2025-24813".into()), ..q(&[]) }), ["a.md"]);
        assert_eq!(titles(&Query { since: chrono::NaiveDate::from_ymd_opt(2025, 1, 1), ..q(&[]) }), ["a.md"]);
        assert_eq!(titles(&Query { source: Some("3093190038".into()), ..q(&[]) }).len(), 2);
        assert!(titles(&q(&["\"unbalanced AND"])).is_empty(), "query syntax stays literal");
        // A NUL in a term ended FTS5's quoted phrase early ("unterminated string").
        assert_eq!(titles(&q(&["代码\0执行"])), ["a.md"]);
        assert_eq!(titles(&q(&["\u{1}\0"])).len(), 2, "a term of control characters is no term");
        remove(&state, "a.md").unwrap();
        assert!(titles(&q(&["代码执行"])).is_empty());
    }
}
