//! The search index: every record of the archive, its security entities and its words, in the
//! state file beside the crawl's tables. The words are kept once, in a contentless FTS5 table
//! without positions: Chinese (and Japanese, Korean) text as its overlapping pairs of characters,
//! so any substring of two characters or more is answered by the index, one character by a
//! prefix of the pairs; other scripts as whole words, matched from their start. The text itself
//! is not stored: a hit is confirmed, and its snippet cut, from the record file at query time.
//! `import`, `crawl` and `normalise` keep it current as they write; `reindex` rebuilds it.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use regex::Regex;
use serde::Serialize;

use super::db::Value;
use super::{Dialect, State, id_key};
use crate::article::ArticleId;
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
fn read_back(text: &str, json: bool) -> Option<crate::record::parse::Parsed> {
    let mut p = if json {
        let v: serde_json::Value = serde_json::from_str(text).ok()?;
        let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or_default().to_string();
        crate::record::parse::Parsed {
            title: s("title"),
            url: s("url"),
            source: s("source"),
            date: s("date"),
            fetch_date: s("fetch_date"),
            body: s("markdown"),
            ..Default::default()
        }
    } else {
        let p = crate::record::parse::parse(text)?;
        if p.title.is_empty() {
            return None;
        }
        p
    };
    p.body = strip_title_line(&p.body, &p.title).to_string();
    Some(p)
}

/// A record file on disk read back, or `None` when it is gone or not a record.
fn read_file(file: &Path) -> Option<crate::record::parse::Parsed> {
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

/// A term or a text cut into runs: words of letters and digits, and runs of paired script.
fn runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| c.is_alphanumeric())?;
        let tail = rest.get(start..).unwrap_or_default();
        let paired = tail.chars().next().is_some_and(is_paired);
        let end = tail.find(|c: char| !c.is_alphanumeric() || is_paired(c) != paired).unwrap_or(tail.len());
        let run = tail.get(..end).unwrap_or_default();
        rest = tail.get(end..).unwrap_or_default();
        Some((paired, run))
    })
}

/// Appends the tokens of `text`, separated by spaces, for the index: each word lower-cased, and
/// each run of paired script as its overlapping pairs and its last character alone (so that a
/// single character is found as a prefix of the tokens, wherever it stands in its run).
pub fn index_words(text: &str, out: &mut String) {
    for (paired, run) in runs(text) {
        if paired {
            let mut prev: Option<char> = None;
            for c in run.chars() {
                if let Some(p) = prev {
                    out.push(p);
                    out.push(c);
                    out.push(' ');
                }
                prev = Some(c);
            }
            if let Some(p) = prev {
                out.push(p);
                out.push(' ');
            }
        } else {
            out.extend(run.chars().flat_map(char::to_lowercase));
            out.push(' ');
        }
    }
}

/// The index tokens one search term needs, each with whether it may be a prefix of a token
/// (`None` when the index cannot narrow the term: no letters or digits; the record files
/// decide). Pairs of characters must all occur; a single character, and a word the term ends
/// with, match as a prefix; every other word is a whole word of the text, so that a punctuated
/// term narrows on all its words (`rk-7` on `rk` and `7…`, `CVE-2025` on `cve` and `2025…`). A
/// first word written against paired script may end a longer word in the text (`𝕏漏洞` in
/// `cccc𝕏漏洞`): the rest of the term narrows, the file decides ([`term_occurs`]). A term of one
/// word matches words that start with it (`tomca` finds Tomcat).
fn term_tokens(term: &str) -> Option<Vec<(String, bool)>> {
    let runs: Vec<(bool, &str)> = runs(term).collect();
    let ends_in_word = term.trim_end().ends_with(|c: char| c.is_alphanumeric());
    let glued = first_word_glued(term);
    let mut parts = Vec::new();
    for (i, (paired, run)) in runs.iter().enumerate() {
        let chars: Vec<char> = run.chars().collect();
        let last = i + 1 == runs.len();
        if *paired && chars.len() > 1 {
            parts.extend(chars.windows(2).map(|w| (w.iter().collect::<String>(), false)));
        } else if i == 0 && glued {
            continue;
        } else if *paired || (last && ends_in_word) {
            parts.push((run.to_lowercase(), true));
        } else {
            parts.push((run.to_lowercase(), false));
        }
    }
    (!parts.is_empty()).then_some(parts)
}

fn is_spaced_word(c: char) -> bool {
    c.is_alphanumeric() && !is_paired(c)
}

/// Whether a term starts with a word of a spaced script written straight against paired script
/// (`Tomcat漏洞`): the one case where the term's first word may end a longer word.
fn first_word_glued(term: &str) -> bool {
    let t = term.trim_start();
    t.starts_with(is_spaced_word) && t.chars().find(|c| !is_spaced_word(*c)).is_some_and(is_paired)
}

/// Whether a folded term occurs in a folded text as the index narrows it: a term that starts
/// with a word of a spaced script starts a word there (`rk-7` is not in `fork-7`, `tomca` not in
/// `atomcat`), unless that word is written against paired script (`Tomcat漏洞` is in
/// `ApacheTomcat漏洞`); a term that starts with paired script or punctuation may start anywhere.
/// So the files confirm exactly what a scan of them by this rule finds.
pub fn term_occurs(text: &str, term: &str) -> bool {
    if !term.starts_with(is_spaced_word) || first_word_glued(term) {
        return text.contains(term);
    }
    text.match_indices(term)
        .any(|(at, _)| !text.get(..at).and_then(|b| b.chars().next_back()).is_some_and(is_spaced_word))
}

/// The query for every term's tokens, in the store's language: an FTS5 expression, or a
/// PostgreSQL `tsquery`.
fn match_query(tokens: &[(String, bool)], dialect: Dialect) -> String {
    let each = tokens.iter().map(|(t, prefix)| match dialect {
        Dialect::Sqlite => format!("\"{}\"{}", t.replace('"', "\"\""), if *prefix { " *" } else { "" }),
        Dialect::Postgres => {
            format!("'{}'{}", t.replace('\\', "\\\\").replace('\'', "''"), if *prefix { ":*" } else { "" })
        }
    });
    each.collect::<Vec<_>>().join(match dialect {
        Dialect::Sqlite => " AND ",
        Dialect::Postgres => " & ",
    })
}

/// Text folded for matching a term: lower case, runs of white space as one space.
fn fold(text: &str) -> String {
    crate::text::fold_ws(&text.to_lowercase())
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

/// Markdown reduced to its words, by a CommonMark parser: images dropped, links to their text,
/// marks and escapes gone, a line per block (what search snippets are cut from). Tables are read
/// as the lines they are: a GFM table drops the cells beyond its header's count, and records
/// (other sites' above all) have rows longer than their header.
pub fn plain_words(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>").unwrap());
    let mut out = String::with_capacity(md.len());
    let mut in_image = 0usize;
    for event in Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if in_image == 0 => out.push_str(&t),
            // Raw HTML in a record (another site's) keeps its words, not its tags.
            Event::Html(h) | Event::InlineHtml(h) if in_image == 0 => out.push_str(&TAG.replace_all(&h, " ")),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::HtmlBlock,
            ) => out.push('\n'),
            _ => {}
        }
    }
    out.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| "|-: ".contains(c)))
        .collect::<Vec<_>>()
        .join("\n")
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

/// What `reindex` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReindexSummary {
    /// Record files indexed.
    pub indexed: usize,
    /// Everything not indexed: the three counts below added up.
    pub skipped: usize,
    /// Record files that are not records (no front matter, no title).
    pub not_records: usize,
    /// Files that are not record files by name (`.png`, `.txt`) and symbolic links.
    pub other_files: usize,
    /// Hidden folders (`.wxsec`, `.git`), whose files are not counted one by one.
    pub hidden_folders: usize,
}

/// Rebuilds the index from the record files under `root` (Markdown and JSON records) by the
/// walk `normalise` makes ([`crate::tree`]): hidden record files are indexed, hidden folders are
/// not, and whatever is not indexed is counted (the archive's own `.wxsec/`, `assets/` and
/// `feeds/` aside). The files are walked,
/// not collected, so memory does not grow with the archive.
pub fn reindex(state: &State, root: &Path) -> Result<ReindexSummary> {
    let mut summary = ReindexSummary::default();
    let skip = [root.join(".wxsec"), root.join("assets"), root.join("feeds")];
    let rules = crate::tree::Rules { skip: &skip, clear_scraps: false, is_record: crate::tree::is_written_record };
    let dialect = state.db().dialect();
    // Emptied and marked in one transaction, then filled a batch a transaction: one transaction of
    // a million records wrote the whole index into the write-ahead log and then again into the
    // file, and looked every page up in a log of gigabytes. A rebuild stopped midway leaves the
    // mark, and `search` says to run it again (what it holds is whole records, never more).
    state.batch(|s| {
        s.db().batch(match dialect {
            Dialect::Sqlite => {
                "INSERT INTO records_fts (records_fts) VALUES ('delete-all'); DELETE FROM record_entities;
                 DELETE FROM records;"
            }
            Dialect::Postgres => {
                // The words' index is built once at the end: a GIN index fed row by row spends
                // most of a rebuild merging its pending list.
                "TRUNCATE records_words, record_entities, records; DROP INDEX IF EXISTS records_words_gin;"
            }
        })?;
        s.set_setting("index_emptied", REBUILDING)
    })?;
    if dialect == Dialect::Sqlite {
        // Segments are left to pile up to the crisis limit (16 a level) instead of merged four at
        // a time, and all merged once at the end: each word is rewritten about half as often.
        state.db().batch("INSERT INTO records_fts (records_fts, rank) VALUES ('automerge', 0)")?;
    }
    state.begin()?;
    // One thread walks, the others read and parse the files; this thread only writes.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let (other_files, hidden_folders) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let filled = std::thread::scope(|scope| -> Result<()> {
        let (file_tx, file_rx) = std::sync::mpsc::sync_channel::<Result<PathBuf>>(256);
        // Only the workers hold the receiver: when they stop, the walker's next send fails.
        let file_rx = std::sync::Arc::new(std::sync::Mutex::new(file_rx));
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Option<Entry>>>(64);
        let (others, hidden) = (&other_files, &hidden_folders);
        scope.spawn(move || {
            crate::tree::walk(&[root.to_path_buf()], rules, |found| {
                let file = match found {
                    Ok(crate::tree::Found::Record(path, _)) => Ok(path),
                    Ok(crate::tree::Found::Skipped(crate::tree::Skip::HiddenFolder)) => {
                        hidden.fetch_add(1, Ordering::Relaxed);
                        return true;
                    }
                    Ok(crate::tree::Found::Skipped(_)) => {
                        others.fetch_add(1, Ordering::Relaxed);
                        return true;
                    }
                    Err(e) => Err(e),
                };
                file_tx.send(file).is_ok()
            })
        });
        for _ in 0..workers {
            let (tx, file_rx) = (tx.clone(), std::sync::Arc::clone(&file_rx));
            scope.spawn(move || {
                loop {
                    let next = match file_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(file) = next else { break };
                    let entry = file.and_then(|file| {
                        std::fs::read(&file).map_err(|source| Error::Read { path: file.clone(), source }).map(|bytes| {
                            let json = file.extension().is_some_and(|e| e == "json");
                            Entry::of_file_text(&String::from_utf8_lossy(&bytes), index_path(root, &file), json)
                        })
                    });
                    if tx.send(entry).is_err() {
                        break;
                    }
                }
            });
        }
        drop((tx, file_rx));
        // On an error the receivers go with this scope's end: the workers' and the walker's
        // sends fail and they stop (a full queue never holds them).
        // A server takes entries a batch a statement; the file one at a time.
        let server = dialect == Dialect::Postgres;
        let mut bulk = Vec::new();
        for entry in rx {
            match entry? {
                Some(e) if server => {
                    bulk.push(e);
                    summary.indexed += 1;
                    if bulk.len() >= 256 {
                        super::bulk::upsert_many(state, &bulk)?;
                        bulk.clear();
                    }
                }
                Some(e) => {
                    upsert_in_batch(state, &e)?;
                    summary.indexed += 1;
                }
                None => summary.not_records += 1,
            }
            if summary.indexed > 0 && summary.indexed % REINDEX_COMMIT_EVERY == 0 {
                super::bulk::upsert_many(state, &bulk)?;
                bulk.clear();
                state.commit()?;
                state.begin()?;
            }
        }
        super::bulk::upsert_many(state, &bulk)?;
        Ok(())
    });
    // A failed batch is undone; those committed before it stay, under the mark.
    if let Err(e) = filled {
        state.db().rollback();
        return Err(e);
    }
    state.commit()?;
    summary.other_files = other_files.into_inner();
    summary.hidden_folders = hidden_folders.into_inner();
    summary.skipped = summary.not_records + summary.other_files + summary.hidden_folders;
    state.batch(|s| {
        match dialect {
            Dialect::Sqlite => s.db().batch(
                "INSERT INTO records_fts (records_fts) VALUES ('optimize');
                 INSERT INTO records_fts (records_fts, rank) VALUES ('automerge', 4);",
            )?,
            Dialect::Postgres => s.db().batch("CREATE INDEX records_words_gin ON records_words USING gin (words)")?,
        }
        s.db().execute("DELETE FROM settings WHERE name = 'index_emptied'", &[])?;
        Ok(())
    })?;
    Ok(summary)
}

/// The mark a rebuild leaves until it is done.
const REBUILDING: &str = "reindex unfinished";

/// How many records a rebuild indexes a transaction.
const REINDEX_COMMIT_EVERY: usize = 20_000;

/// Why the index is not whole, when it is not: an upgrade set the old one aside, or a rebuild
/// stopped before its end.
pub fn emptied_because(state: &State) -> Result<Option<String>> {
    Ok(state.setting("index_emptied")?.map(|v| {
        if v == REBUILDING {
            "a `wxsec reindex` stopped before it finished: run it again to rebuild the index whole".to_string()
        } else {
            "this wxsec keeps its index in a new form, and the old one was set aside: run `wxsec reindex` once to rebuild it from the record files".to_string()
        }
    }))
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

/// From how many candidates a search walks the records newest first instead of sorting its
/// candidates (looking a thousand rows up and sorting them costs about what a walk does).
const WALK_FROM: i64 = 1_000;

/// Runs a search; newest first. `open`/`close` mark each match in the snippet. `root` is the
/// archive folder the indexed paths are relative to: each hit is confirmed against its record
/// file, and its snippet cut from it.
pub fn search(state: &State, root: &Path, q: &Query, open: &str, close: &str) -> Result<Vec<Hit>> {
    let db = state.db();
    let dialect = db.dialect();
    let mut sql = String::from("SELECT r.id, r.title, r.source, r.date, r.url, r.path FROM records r WHERE TRUE");
    let mut args: Vec<String> = Vec::new();
    // Control characters match nothing a record holds, and a NUL ends FTS5's reading of a quoted
    // phrase early ("unterminated string"): they are not part of any term.
    let terms: Vec<String> = q
        .terms
        .iter()
        .map(|t| t.chars().filter(|c| !c.is_control()).collect::<String>())
        .filter(|t| !t.trim().is_empty())
        .collect();
    let tokens: Vec<(String, bool)> = terms.iter().filter_map(|t| term_tokens(t)).flatten().collect();
    if !tokens.is_empty() {
        let expr = match_query(&tokens, dialect);
        args.push(expr);
        let n = args.len();
        match dialect {
            Dialect::Sqlite => {
                // Few candidates are looked up one by one and sorted. More (a word in a thousand
                // records) are met by walking the records newest first against the candidates
                // gathered once. A word in a tenth of the records or more (`漏洞`) is walked
                // asking the index of each record by its rowid instead: gathering half a million
                // candidates cost more than the few hundred questions the first page needs,
                // while a rarer word's walk would ask thousands. Counting stops at the threshold.
                let total = db.query_int("SELECT coalesce(max(id), 0) FROM records", &[])?;
                let common = (total / 10).max(WALK_FROM);
                let many = db.query_int(
                    &format!(
                        "SELECT count(*) FROM (SELECT rowid FROM records_fts WHERE records_fts MATCH ?1 LIMIT {common})"
                    ),
                    &[args[n - 1].as_str().into()],
                )?;
                if many >= common {
                    sql.push_str(&format!(
                        " AND EXISTS (SELECT 1 FROM records_fts WHERE records_fts MATCH ?{n} AND rowid = r.id)"
                    ));
                } else {
                    let walk = if many > WALK_FROM { "+" } else { "" };
                    sql.push_str(&format!(
                        " AND {walk}r.id IN (SELECT rowid FROM records_fts WHERE records_fts MATCH ?{n})"
                    ));
                }
            }
            Dialect::Postgres => {
                sql.push_str(&format!(
                    " AND r.id IN (SELECT id FROM records_words WHERE words @@ CAST(CAST(?{n} AS TEXT) AS tsquery))"
                ));
            }
        }
    }
    if let Some(s) = &q.source {
        args.push(s.clone());
        sql.push_str(&format!(" AND (r.source = ?{0} OR r.account = ?{0})", args.len()));
    }
    if let Some(d) = q.since {
        args.push(d.format("%Y-%m-%d").to_string());
        sql.push_str(&format!(" AND r.date >= ?{}", args.len()));
    }
    if let Some(id) = &q.id {
        args.push(normal_id(id));
        let n = args.len();
        // An id many records name (a Log4Shell) is met walking the records newest first, as a
        // common word is: looking thousands of rows up one by one and sorting them, from a cold
        // disk, cost a quarter of a second.
        let many = db.query_int(
            &format!(
                "SELECT count(*) FROM (SELECT 1 FROM record_entities WHERE value = ?1 LIMIT {WALK_FROM}) AS named"
            ),
            &[args[n - 1].as_str().into()],
        )?;
        // `+` keeps SQLite from driving the query by the ids; a server plans for itself.
        let walk = if many >= WALK_FROM && dialect == Dialect::Sqlite { "+" } else { "" };
        sql.push_str(&format!(" AND {walk}r.id IN (SELECT record FROM record_entities WHERE value = ?{n})"));
    }
    sql.push_str(" ORDER BY r.date DESC, r.fetch_date DESC, r.path");
    // Candidates are read a page at a time, the page sized by the limit: a common word's
    // hundreds of thousands of candidates are never all in memory, and the walk stops as soon as
    // the limit's hits are confirmed.
    let page = (q.limit.saturating_mul(2)).clamp(32, 1024);
    sql.push_str(&format!(" LIMIT ?{} OFFSET ?{}", args.len() + 1, args.len() + 2));
    let mut needles: Vec<String> = terms.clone();
    if let Some(id) = &q.id {
        needles.push(normal_id(id));
    }
    let folded_terms: Vec<String> = terms.iter().map(|t| fold(t)).collect();
    let mut hits = Vec::new();
    let mut offset = 0usize;
    'pages: while hits.len() < q.limit {
        let mut params: Vec<Value> = args.iter().map(|a| a.as_str().into()).collect();
        params.extend([Value::Int(page as i64), Value::Int(offset as i64)]);
        let rows = db.query(&sql, &params)?;
        let fetched = rows.len();
        for row in rows {
            if hits.len() >= q.limit {
                break 'pages;
            }
            let (id, title, source, date, url, path) =
                (row.int(0), row.text(1), row.text(2), row.text(3), row.text(4), row.text(5));
            let file = if Path::new(&path).is_absolute() { PathBuf::from(&path) } else { root.join(&path) };
            // The index narrows; the file decides. A record gone since it was indexed is no hit,
            // and neither is one whose pairs of characters occur but not side by side.
            // Only what a hit needs is read: its words, not its entities or tokens.
            let Some(record) = read_file(&file) else { continue };
            let text = plain_words(&record.body);
            if !folded_terms.is_empty() {
                let haystack = fold(&format!("{}\n{}\n{}", record.title, record.source, text));
                if !folded_terms.iter().all(|t| term_occurs(&haystack, t)) {
                    continue;
                }
            }
            let cves = record_ids(state, id, Some("cve"))?;
            let snippet = snippet(&text, &needles, open, close);
            hits.push(Hit { title, source, date, url, path, snippet, cves });
        }
        if fetched < page {
            break;
        }
        offset += fetched;
    }
    Ok(hits)
}

/// Whether an upgrade emptied the index (its format changed) and `reindex` has not run since.
pub fn emptied(state: &State) -> Result<bool> {
    Ok(state.setting("index_emptied")?.is_some())
}

/// An indexed record as a listing shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The record file, as indexed.
    pub path: String,
    /// `biz:mid:idx`, when the address names the article.
    pub key: Option<String>,
    /// The account's number, or a name made from its title.
    pub account: String,
    /// Front matter.
    pub url: String,
    /// Front matter.
    pub title: String,
    /// Front matter.
    pub source: String,
    /// Front matter.
    pub date: String,
    /// Front matter.
    pub fetch_date: String,
    /// Every entity id the record names, sorted by kind and value.
    pub ids: Vec<String>,
}

/// The newest `limit` records, of one account or of all, newest first.
pub fn newest(state: &State, account: Option<&str>, limit: usize) -> Result<Vec<Listed>> {
    // Two statements, so that each has its index: one account's records by (account, date), all
    // of them by (date, fetch_date, path); one `account = ?1 OR ?1 IS NULL` could use neither.
    let sql = match account {
        Some(_) => {
            "SELECT id, path, key, account, url, title, source, date, fetch_date FROM records
             WHERE account = ?1 ORDER BY date DESC, fetch_date DESC, path LIMIT ?2"
        }
        None => {
            "SELECT id, path, key, account, url, title, source, date, fetch_date FROM records
             WHERE CAST(?1 AS TEXT) IS NULL ORDER BY date DESC, fetch_date DESC, path LIMIT ?2"
        }
    };
    let found = state.db().query(sql, &[account.into(), (limit.min(i64::MAX as usize) as i64).into()])?;
    let mut out = Vec::with_capacity(found.len());
    for r in found {
        out.push(Listed {
            path: r.text(1),
            key: r.opt_text(2),
            account: r.text(3),
            url: r.text(4),
            title: r.text(5),
            source: r.text(6),
            date: r.text(7),
            fetch_date: r.text(8),
            ids: record_ids(state, r.int(0), None)?,
        });
    }
    Ok(out)
}

/// One feed as the index orders its entries: its account (`None` for the feed of every
/// account), the account's name as its newest record gives it, and a signature of its entries
/// (their paths and file hashes): a feed whose signature is the one it was written with needs no
/// rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPlan {
    /// The account, or `None` for every account.
    pub account: Option<String>,
    /// The account's name in its newest record.
    pub source: String,
    /// A hash of the entries' paths and file hashes, newest first.
    pub signature: String,
    /// Entries.
    pub entries: usize,
}

/// The plans of every feed: the one of all accounts first, then one per account in order, each
/// of its newest `limit` records. One pass over the index, reading no record file.
pub fn feed_plans(state: &State, limit: usize) -> Result<Vec<FeedPlan>> {
    let db = state.db();
    let limit = limit.min(i64::MAX as usize) as i64;
    let sign = |rows: &[(String, String)]| {
        let mut h = String::new();
        for (path, hash) in rows {
            h.push_str(path);
            h.push('\0');
            h.push_str(hash);
            h.push('\n');
        }
        format!("{:016x}", crate::store::fnv1a(h.as_bytes()))
    };
    let mut plans = Vec::new();
    let all = db.query(
        "SELECT source, path, hash FROM records ORDER BY date DESC, fetch_date DESC, path LIMIT ?1",
        &[limit.into()],
    )?;
    let source = all.first().map(|r| r.text(0)).unwrap_or_default();
    let rows: Vec<(String, String)> = all.iter().map(|r| (r.text(1), r.text(2))).collect();
    plans.push(FeedPlan { account: None, source, signature: sign(&rows), entries: rows.len() });
    // Each account's newest entries through the (account, date) index, the accounts met one
    // after the other along it: ranking every record of the archive at once sorted a million rows
    // to look at a few thousand.
    let mut account = String::new();
    let mut first = true;
    loop {
        let next = db.query_row(
            if first {
                "SELECT min(account) FROM records"
            } else {
                "SELECT min(account) FROM records WHERE account > ?1"
            },
            &if first { vec![] } else { vec![account.as_str().into()] },
        )?;
        first = false;
        let Some(name) = next.and_then(|r| r.opt_text(0)) else { break };
        let rows = db.query(
            "SELECT source, path, hash FROM records WHERE account = ?1
             ORDER BY date DESC, fetch_date DESC, path LIMIT ?2",
            &[name.as_str().into(), limit.into()],
        )?;
        let source = rows.first().map(|r| r.text(0)).unwrap_or_default();
        let entries: Vec<(String, String)> = rows.iter().map(|r| (r.text(1), r.text(2))).collect();
        plans.push(FeedPlan { account: Some(name.clone()), source, signature: sign(&entries), entries: entries.len() });
        account = name;
    }
    Ok(plans)
}

/// The signature a feed file was last written with.
pub fn feed_signature(state: &State, name: &str) -> Result<Option<String>> {
    Ok(state.db().query_row("SELECT signature FROM feeds WHERE name = ?1", &[name.into()])?.map(|r| r.text(0)))
}

/// Records the signature a feed file was written with.
pub fn set_feed_signature(state: &State, name: &str, signature: &str) -> Result<()> {
    state
        .db()
        .execute(
            "INSERT INTO feeds (name, signature) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET signature = excluded.signature",
            &[name.into(), signature.into()],
        )
        .map(|_| ())
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
