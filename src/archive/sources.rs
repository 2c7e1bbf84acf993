//! What the state keeps of each source beyond its feed validators: its kind, its last success
//! and error, the articles it named, and where a paged source stands (walked to its end once, the
//! page to ask next when a run stopped mid-walk). A page's articles and the position after it
//! are kept in one transaction, so a run killed mid-walk asks again at most the page in flight.

use super::State;
use crate::error::Result;

/// Where a paged source stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paging {
    /// Walked to its end (or back to `--since`) once: later runs stop at the first page that
    /// brings nothing new.
    pub walked: bool,
    /// The page to ask next, when a walk stopped before its end (a kill, an error).
    pub cursor: Option<String>,
}

/// One source as `wxsec status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRow {
    /// Its name.
    pub name: String,
    /// `urls`, `feed`, `album`, `weread` or `opml`, once polled by a wxsec that knows.
    pub kind: Option<String>,
    /// Unix seconds of its last poll.
    pub last_polled: Option<i64>,
    /// Unix seconds of its last successful poll.
    pub last_ok: Option<i64>,
    /// What failed at its last poll, if the last poll failed.
    pub last_error: Option<String>,
    /// Articles it named that the state did not know.
    pub found: i64,
}

impl State {
    /// Where a paged source stands.
    pub fn paging(&self, name: &str) -> Result<Paging> {
        let row = self.db.query_row("SELECT walked, page_cursor FROM sources WHERE name = ?1", &[name.into()])?;
        Ok(row.map(|r| Paging { walked: r.int(0) != 0, cursor: r.opt_text(1) }).unwrap_or_default())
    }

    /// Keeps one page of a paged source: its addresses discovered (with the other address each
    /// may have), and the page to ask next (`None` at the end of the walk, which then counts as
    /// walked). Returns how many addresses were new.
    pub fn keep_page(
        &self,
        name: &str,
        kind: &str,
        found: &[(String, Option<String>)],
        next: Option<&str>,
        now: i64,
    ) -> Result<usize> {
        self.batch(|s| {
            let mut added = 0;
            for (url, alternate) in found {
                if s.discover(url, name, 0, now)? {
                    added += 1;
                    if let (Some(alt), Some((key, _))) = (alternate, State::key_for(url)) {
                        s.db.execute(
                            "INSERT INTO alternates (key, url) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING",
                            &[key.as_str().into(), alt.as_str().into()],
                        )?;
                    }
                }
            }
            s.count_found(name, kind, added)?;
            s.db.execute(
                "UPDATE sources SET page_cursor = CAST(?2 AS TEXT), walked = CASE WHEN CAST(?3 AS BIGINT) = 1 THEN 1 ELSE walked END WHERE name = ?1",
                &[name.into(), next.into(), i64::from(next.is_none()).into()],
            )?;
            Ok(added)
        })
    }

    /// Ends a walk before the list's end (nothing new on a page, or `--since` reached): the
    /// source counts as walked and the next run starts at its first page.
    pub fn walk_done(&self, name: &str) -> Result<()> {
        self.db.execute("UPDATE sources SET page_cursor = NULL, walked = 1 WHERE name = ?1", &[name.into()]).map(|_| ())
    }

    /// Forgets that a source was walked (`crawl --backfill`): its next walk goes to the end.
    pub fn walk_again(&self, name: &str) -> Result<()> {
        self.db.execute("UPDATE sources SET page_cursor = NULL, walked = 0 WHERE name = ?1", &[name.into()]).map(|_| ())
    }

    /// Adds to the articles a source named, and keeps its kind.
    pub fn count_found(&self, name: &str, kind: &str, added: usize) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO sources (name, kind, found) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, found = sources.found + excluded.found",
                &[name.into(), kind.into(), (added as i64).into()],
            )
            .map(|_| ())
    }

    /// Keeps how a poll of a source ended: a success clears its last error.
    pub fn source_outcome(&self, name: &str, kind: &str, error: Option<&str>, now: i64) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO sources (name, kind, last_polled, last_ok, last_error)
                 VALUES (?1, ?2, ?3, CASE WHEN CAST(?4 AS TEXT) IS NULL THEN CAST(?3 AS BIGINT) END, CAST(?4 AS TEXT))
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, last_polled = excluded.last_polled,
                 last_ok = coalesce(excluded.last_ok, sources.last_ok), last_error = excluded.last_error",
                &[name.into(), kind.into(), now.into(), error.into()],
            )
            .map(|_| ())
    }

    /// Every source, as `wxsec status` shows them.
    pub fn source_rows(&self) -> Result<Vec<SourceRow>> {
        let rows = self
            .db
            .query("SELECT name, kind, last_polled, last_ok, last_error, found FROM sources ORDER BY name", &[])?;
        Ok(rows
            .iter()
            .map(|r| SourceRow {
                name: r.text(0),
                kind: r.opt_text(1),
                last_polled: r.opt_int(2),
                last_ok: r.opt_int(3),
                last_error: r.opt_text(4),
                found: r.int(5),
            })
            .collect())
    }

    /// Whether an article has another address to try.
    pub fn has_alternate(&self, key: &str) -> Result<bool> {
        Ok(self.db.query_int("SELECT count(*) FROM alternates WHERE key = ?1", &[key.into()])? > 0)
    }

    /// The other address of an article that answered no article, taken once: it is queued in
    /// the article's place.
    pub fn take_alternate(&self, key: &str) -> Result<Option<String>> {
        let row = self.db.query_row("SELECT url FROM alternates WHERE key = ?1", &[key.into()])?;
        if row.is_some() {
            self.db.execute("DELETE FROM alternates WHERE key = ?1", &[key.into()])?;
        }
        Ok(row.map(|r| r.text(0)))
    }
}
