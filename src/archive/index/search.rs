//! Search: candidates from the index a page at a time, each confirmed and its snippet cut from
//! the record file, so memory stays flat however many records match.

use std::path::Path;
use std::path::PathBuf;

use serde::Serialize;

use super::words::{fold, match_query, plain_words, term_occurs, term_tokens};
use super::{normal_id, read_file, record_ids};
use crate::archive::Dialect;
use crate::archive::State;
use crate::archive::db::Value;
use crate::error::Result;

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
pub(super) const WALK_FROM: i64 = 1_000;

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
    let folded_terms = fold_terms(&terms);
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
            if !holds_every_term(&record.title, &record.source, &text, &folded_terms) {
                continue;
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

/// Whether a record holds every term (folded with [`fold_terms`]) in its title, its account or
/// its words ([`plain_words`] of its body): the rule a search confirms its candidates by, and
/// the one a scan of the files (`examples/scan.rs`) must agree with.
pub fn holds_every_term(title: &str, source: &str, words: &str, folded_terms: &[String]) -> bool {
    if folded_terms.is_empty() {
        return true;
    }
    let haystack = fold(&format!("{title}\n{source}\n{words}"));
    folded_terms.iter().all(|t| term_occurs(&haystack, t))
}

/// The terms of a query as [`holds_every_term`] takes them.
pub fn fold_terms(terms: &[String]) -> Vec<String> {
    terms.iter().map(|t| fold(t)).collect()
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
