//! The search index: every record of the archive, its security entities and its words, in the
//! state file beside the crawl's tables. The words are kept once, in a contentless FTS5 table
//! without positions: Chinese (and Japanese, Korean) text as its overlapping pairs of characters,
//! so any substring of two characters or more is answered by the index, one character by a
//! prefix of the pairs; other scripts as whole words, matched from their start. The text itself
//! is not stored: a hit is confirmed, and its snippet cut, from the record file at query time.
//! `import`, `crawl` and `normalise` keep it current as they write; `reindex` rebuilds it.

mod listing;
mod rebuild;
mod search;
mod words;

pub use listing::{FeedPlan, Listed, feed_plans, feed_signature, newest, set_feed_signature};
pub use rebuild::{ReindexSummary, emptied_because, reindex};
pub use search::{Hit, Query, fold_terms, holds_every_term, search, snippet};
pub use words::{index_words, plain_words, strip_title_line, term_occurs};

use std::path::Path;

use super::db::Value;
use super::{Dialect, State, id_key};
use crate::article::ArticleId;
use crate::entities::{self, Entities};
use crate::error::Result;
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
    /// A hash of the record file's bytes: an entry whose file changed is indexed again.
    pub hash: String,
    /// What the index keeps of the words: title, account and body as tokens ([`index_words`]).
    pub words: String,
}

impl Entry {
    /// The highest CVSS score the record names.
    pub fn top_cvss(&self) -> Option<f32> {
        self.entities.cvss.iter().copied().fold(None, |m: Option<f32>, s| Some(m.map_or(s, |m| m.max(s))))
    }

    /// The entry of a record about to be written at `path` as `contents`.
    pub fn of_record(record: &Record, path: String, contents: &[u8]) -> Entry {
        let a = &record.article;
        let url = a.url();
        Entry {
            hash: file_hash(contents),
            ..Entry::new(path, &a.title, &url, &a.source, &record.date, &record.fetch_date, &a.body)
        }
    }

    fn new(path: String, title: &str, url: &str, source: &str, date: &str, fetch_date: &str, body: &str) -> Entry {
        let id = ArticleId::from_url(url);
        let account = match &id {
            Some(id) => crate::store::biz_number(&id.biz).unwrap_or_else(|| id.biz.clone()),
            None => format!("source-{:016x}", crate::store::fnv1a(source.as_bytes())),
        };
        let text = plain_words(body);
        // Made where the entry is (a worker thread), so the one thread writing the index only
        // writes.
        let mut words = String::with_capacity(text.len() + title.len() + source.len());
        for part in [title, source, &text] {
            index_words(part, &mut words);
        }
        Entry {
            path,
            key: id.as_ref().map(id_key),
            account,
            title: title.to_string(),
            url: url.to_string(),
            source: source.to_string(),
            date: date.to_string(),
            fetch_date: fetch_date.to_string(),
            text,
            entities: entities::find(title, body),
            hash: String::new(),
            words,
        }
    }

    /// The entry of a record file's text (Markdown record or JSON object), as `reindex` reads it.
    pub fn of_file_text(text: &str, path: String, json: bool) -> Option<Entry> {
        let p = read_back(text, json)?;
        let e = Entry::new(path, &p.title, &p.url, &p.source, &p.date, &p.fetch_date, &p.body);
        Some(Entry { hash: file_hash(text.as_bytes()), ..e })
    }
}

/// A record file's text read back (a Markdown record, or the JSON form's keys): its front matter,
/// and its body without the `# title` line and cover.
fn read_back(text: &str, json: bool) -> Option<crate::record::formats::Parsed> {
    let mut p = if json {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
        crate::record::formats::Parsed {
            title: s("title"),
            url: s("url"),
            source: s("source"),
            date: s("date"),
            fetch_date: s("fetch_date"),
            body: s("markdown"),
            ..Default::default()
        }
    } else {
        let p = crate::record::formats::parse(text)?;
        if p.title.is_empty() {
            return None;
        }
        p
    };
    p.body = strip_title_line(&p.body, &p.title).to_string();
    Some(p)
}

/// A record file on disk read back as the index reads it, or `None` when it is gone or not a
/// record.
pub fn read_file(file: &Path) -> Option<crate::record::formats::Parsed> {
    let bytes = std::fs::read(file).ok()?;
    read_back(&String::from_utf8_lossy(&bytes), file.extension().is_some_and(|e| e == "json"))
}

/// The hash the index keeps of a record file's bytes.
pub fn file_hash(bytes: &[u8]) -> String {
    format!("{:016x}", crate::store::fnv1a(bytes))
}

/// The scripts written without spaces between words, indexed as pairs of characters.
fn is_paired(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF // kana
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3FFFF // Han
        | 0xAC00..=0xD7AF // Hangul
    )
}

/// Adds or replaces the entry of one record file.
pub fn upsert(state: &State, e: &Entry) -> Result<()> {
    // Whole both alone and inside a caller's batch.
    state.db().atomic(|| upsert_in(state, e))
}

/// Adds or replaces an entry inside a transaction the caller rolls back whole on any error
/// (`normalise`, `reindex`). No savepoint of its own: FTS5 writes its pending words to disk at
/// every savepoint, and one per record made a segment per record and most of indexing's time.
pub fn upsert_in_batch(state: &State, e: &Entry) -> Result<()> {
    upsert_in(state, e)
}

/// PostgreSQL refuses a lexeme of 2 KiB or more: such a "word" (a run of base64, say) is no
/// search term anyone types.
pub(crate) const LONGEST_TOKEN: usize = 1024;

fn upsert_in(state: &State, e: &Entry) -> Result<()> {
    let db = state.db();
    // A server takes an entry as it takes a batch of them: one statement either way.
    if db.dialect() == Dialect::Postgres {
        return super::bulk::upsert_many(state, std::slice::from_ref(e));
    }
    let fields: [Value; 10] = [
        (&e.path).into(),
        e.key.as_ref().into(),
        (&e.account).into(),
        (&e.url).into(),
        (&e.title).into(),
        (&e.source).into(),
        (&e.date).into(),
        (&e.fetch_date).into(),
        e.top_cvss().map(f64::from).into(),
        (&e.hash).into(),
    ];
    if let Some(old) = db.query_row("SELECT id FROM records WHERE path = ?1", &[(&e.path).into()])? {
        remove_id(state, old.int(0))?;
    }
    // Neither RETURNING nor an upsert clause here: either makes SQLite open a statement
    // transaction, and FTS5 writes its pending words out at each one (a third of indexing's
    // time when it did).
    db.execute(
        "INSERT INTO records (path, key, account, url, title, source, date, fetch_date, cvss, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        &fields,
    )?;
    let id = db.last_insert_rowid();
    db.execute("INSERT INTO records_fts (rowid, words) VALUES (?1, ?2)", &[id.into(), (&e.words).into()])?;
    for (kind, value) in e.entities.ids() {
        db.execute(
            "INSERT OR IGNORE INTO record_entities (record, kind, value) VALUES (?1, ?2, ?3)",
            &[id.into(), kind.into(), value.into()],
        )?;
    }
    Ok(())
}

fn remove_id(state: &State, id: i64) -> Result<()> {
    let db = state.db();
    match db.dialect() {
        Dialect::Sqlite => db.execute("DELETE FROM records_fts WHERE rowid = ?1", &[id.into()])?,
        Dialect::Postgres => db.execute("DELETE FROM records_words WHERE id = ?1", &[id.into()])?,
    };
    db.execute("DELETE FROM record_entities WHERE record = ?1", &[id.into()])?;
    db.execute("DELETE FROM records WHERE id = ?1", &[id.into()])?;
    Ok(())
}

/// Drops the entry of a record file (it turned out to be a stub, or is gone).
pub fn remove(state: &State, path: &str) -> Result<()> {
    match state.db().query_row("SELECT id FROM records WHERE path = ?1", &[path.into()])? {
        Some(r) => remove_id(state, r.int(0)),
        None => Ok(()),
    }
}

/// How many records the index holds.
pub fn count(state: &State) -> Result<i64> {
    state.db().query_int("SELECT count(*) FROM records", &[])
}

/// The hash of a record file as it was indexed, if it is.
pub fn indexed_hash(state: &State, path: &str) -> Result<Option<String>> {
    Ok(state.db().query_row("SELECT hash FROM records WHERE path = ?1", &[path.into()])?.map(|r| r.text(0)))
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

/// Whether an upgrade emptied the index (its format changed) and `reindex` has not run since.
pub fn emptied(state: &State) -> Result<bool> {
    Ok(state.setting("index_emptied")?.is_some())
}

/// The entity ids of one indexed record (of one kind, or all), sorted by kind and value.
pub(crate) fn record_ids(state: &State, record: i64, kind: Option<&str>) -> Result<Vec<String>> {
    let rows = state.db().query(
        "SELECT value FROM record_entities WHERE record = ?1 AND (CAST(?2 AS TEXT) IS NULL OR kind = ?2)
         ORDER BY kind, value",
        &[record.into(), kind.into()],
    )?;
    Ok(rows.iter().map(|r| r.text(0)).collect())
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

#[cfg(test)]
mod tests {
    use super::words::{match_query, term_tokens};
    use super::*;

    #[test]
    fn words_and_snippets() {
        let md = "## 漏洞概述\n\n![x](https://mmbiz.qpic.cn/a.png)\n\n**Apache Tomcat** 存在[远程代码执行](https://x.example/)漏洞。\n\n| a | b |\n|---|---|\n";
        assert_eq!(plain_words(md), "漏洞概述\nApache Tomcat 存在远程代码执行漏洞。\n| a | b |");
        // A row longer than its header keeps every cell's words.
        assert_eq!(plain_words("| a |\n|---|\n| b | 勒索软件 |\n"), "| a |\n| b | 勒索软件 |");
        // Escapes are the author's characters; code keeps its text; raw HTML its words.
        assert_eq!(plain_words("\\<script\\> \\*星号\\* `a_b`\n\n<div>块</div>\n"), "<script> *星号* a_b\n块");
        let s = snippet("前面的话。Apache tomcat 存在漏洞", &["TOMCAT".into(), "漏洞".into()], "[", "]");
        assert_eq!(s, "前面的话。Apache [tomcat] 存在[漏洞]");
    }

    #[test]
    fn index_and_search() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(&dir.path().join("s.sqlite")).unwrap();
        // Entries as `normalise` makes them: from the record file, which is written too, since a
        // hit is confirmed and its snippet cut from the file.
        let put = |path: &str, title: &str, date: &str, body: &str| {
            let text = format!(
                "---\ntitle: {title}\nurl: https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=1&idx=1&sn=a\nsource: 安全中心\ndate: {date}\nfetch_date: 2025-01-01T00:00:00.000\n---\n\n# {title}\n\n{body}\n"
            );
            std::fs::write(dir.path().join(path), &text).unwrap();
            upsert(&state, &Entry::of_file_text(&text, path.into(), false).unwrap()).unwrap();
        };
        put("a.md", "Tomcat 漏洞预警", "2025-03-12", "CVE-2025-24813 远程代码执行漏洞");
        put("b.md", "周报", "2024-01-01", "本周勒索软件动态——代码与执行");
        put("a.md", "Tomcat 漏洞预警", "2025-03-12", "CVE-2025-24813 远程代码执行漏洞，请升级");
        let q = |terms: &[&str]| Query {
            terms: terms.iter().map(|s| s.to_string()).collect(),
            limit: 10,
            ..Default::default()
        };
        let titles = |q: &Query| {
            search(&state, dir.path(), q, "[", "]").unwrap().into_iter().map(|h| h.path).collect::<Vec<_>>()
        };
        assert_eq!(titles(&q(&["代码执行"])), ["a.md"], "pairs that occur apart are no hit");
        assert_eq!(titles(&q(&["勒索"])), ["b.md"], "two characters: one pair");
        assert_eq!(titles(&q(&["索"])), ["b.md"], "one character: a prefix of the pairs");
        assert_eq!(titles(&q(&["执"])).len(), 2);
        assert_eq!(titles(&q(&["tomcat", "升级"])), ["a.md"]);
        assert_eq!(titles(&q(&["TOMCA"])), ["a.md"], "a word matches from its start");
        assert_eq!(titles(&q(&["cve-2025-24813"])), ["a.md"]);
        assert_eq!(titles(&Query { id: Some("cve-2025-24813".into()), ..q(&[]) }), ["a.md"]);
        assert_eq!(titles(&Query { since: chrono::NaiveDate::from_ymd_opt(2025, 1, 1), ..q(&[]) }), ["a.md"]);
        assert_eq!(titles(&Query { source: Some("3093190038".into()), ..q(&[]) }).len(), 2);
        assert!(titles(&q(&["\"unbalanced AND"])).is_empty(), "query syntax stays literal");
        // A NUL in a term ended FTS5's quoted phrase early ("unterminated string").
        assert_eq!(titles(&q(&["代码\0执行"])), ["a.md"]);
        assert_eq!(titles(&q(&["\u{1}\0"])).len(), 2, "a term of control characters is no term");
        assert_eq!(titles(&q(&["——"])), ["b.md"], "a term without letters is checked in the files alone");
        std::fs::remove_file(dir.path().join("b.md")).unwrap();
        assert!(titles(&q(&["勒索"])).is_empty(), "a record gone from disk is no hit");
        remove(&state, "a.md").unwrap();
        assert!(titles(&q(&["代码执行"])).is_empty());
    }

    fn term_query(term: &str) -> Option<String> {
        term_tokens(term).map(|t| match_query(&t, Dialect::Sqlite))
    }

    #[test]
    fn tokens() {
        let mut out = String::new();
        index_words("Apache Tomcat 远程代码执行，CVE-2025-1 漏", &mut out);
        assert_eq!(out, "apache tomcat 远程 程代 代码 码执 执行 行 cve 2025 1 漏 ");
        assert_eq!(term_query("远程代码").unwrap(), "\"远程\" AND \"程代\" AND \"代码\"");
        assert_eq!(term_query("漏").unwrap(), "\"漏\" *");
        assert_eq!(term_query("Tomcat漏洞").unwrap(), "\"漏洞\"", "Tomcat may end a longer word");
        assert_eq!(term_query("漏洞Tomcat 8").unwrap(), "\"漏洞\" AND \"tomcat\" AND \"8\" *");
        assert_eq!(term_query("CVE-2025").unwrap(), "\"cve\" AND \"2025\" *");
        assert_eq!(term_query("rk-7").unwrap(), "\"rk\" AND \"7\" *", "every word of a punctuated term narrows");
        assert_eq!(term_query("a.b_c/d").unwrap(), "\"a\" AND \"b\" AND \"c\" AND \"d\" *");
        assert_eq!(term_query("tomca").unwrap(), "\"tomca\" *");
        assert_eq!(term_query("，；"), None);
    }
}
