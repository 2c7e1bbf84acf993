//! The crawl's tables: articles keyed by their canonical id (`__biz:mid:idx`); a short link is a
//! row of its own until its page names the id, then an alias. Every change is committed as it
//! happens, so a killed run loses at most the article in flight.

use rusqlite::{Connection, OptionalExtension, params};

use super::State;
use crate::article::{ArticleId, article_address, short_link};
use crate::error::Result;

/// An article's place in the crawl.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Known, not yet written (or to be tried again).
    Pending,
    /// Its record is on disk.
    Done,
    /// Deleted by its publisher: never fetched again.
    Deleted,
    /// Removed by WeChat (or the account blocked or gone): never fetched again.
    Removed,
    /// Failed; tried again after `next_attempt`.
    Failed,
    /// Failed too often: reported, not tried again.
    GaveUp,
}

impl Status {
    /// The word stored in the state file.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Done => "done",
            Status::Deleted => "deleted",
            Status::Removed => "removed",
            Status::Failed => "failed",
            Status::GaveUp => "gave-up",
        }
    }
}

/// One article row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `biz:mid:idx`, or `s:SHORTID` for a short link not yet resolved.
    pub key: String,
    /// The address to request.
    pub url: String,
    /// Status word.
    pub status: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Follow depth at which it was found (0 for a configured source).
    pub depth: i64,
    /// The record's path, once written.
    pub record_path: Option<String>,
    /// Hash of the record's body, once written.
    pub content_hash: Option<String>,
    /// A broken record file (stub or truncated) that the record must replace, from
    /// `normalise --queue`.
    pub replace_path: Option<String>,
}

impl State {
    /// The key an address is known by, and the address to request for it.
    pub fn key_for(url: &str) -> Option<(String, String)> {
        let normal = article_address(url)?;
        if let Some(id) = ArticleId::from_url(normal.as_str()) {
            return Some((id_key(&id), normal.to_string()));
        }
        let short = short_link(normal.as_str())?;
        let id = short.rsplit('/').next()?.to_string();
        Some((format!("s:{id}"), short))
    }

    /// Adds an address unless it is known (directly or as an alias). Returns whether it is new.
    pub fn discover(&self, url: &str, source: &str, depth: i64, now: i64) -> Result<bool> {
        let Some((key, request)) = State::key_for(url) else { return Ok(false) };
        let aliased: Option<String> = self
            .conn
            .query_row("SELECT key FROM aliases WHERE alias = ?1", [&key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql_error(&e))?;
        if aliased.is_some() {
            return Ok(false);
        }
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO articles (key, url, status, first_seen, source, depth) VALUES (?1, ?2, 'pending', ?3, ?4, ?5)",
                params![key, request, now, source, depth],
            )
            .map_err(|e| self.sql_error(&e))?;
        Ok(added == 1)
    }

    /// Queues an article whose record file is broken (a stub or cut short) to be fetched again
    /// and written over `replace_path`. An article already known is queued again, unless WeChat
    /// has said it is deleted or removed. Returns whether it was queued.
    pub fn queue_repair(&self, url: &str, replace_path: &str, now: i64) -> Result<bool> {
        let Some((key, request)) = State::key_for(url) else { return Ok(false) };
        let key: String = self
            .conn
            .query_row("SELECT key FROM aliases WHERE alias = ?1", [&key], |r| r.get(0))
            .optional()
            .map_err(|e| self.sql_error(&e))?
            .unwrap_or(key);
        let changed = self
            .conn
            .execute(
                "INSERT INTO articles (key, url, status, first_seen, source, replace_path)
                 VALUES (?1, ?2, 'pending', ?3, 'repair', ?4)
                 ON CONFLICT(key) DO UPDATE SET status = 'pending', attempts = 0, next_attempt = 0,
                   replace_path = ?4, content_hash = NULL
                 WHERE status NOT IN ('deleted', 'removed')",
                params![key, request, now, replace_path],
            )
            .map_err(|e| self.sql_error(&e))?;
        Ok(changed == 1)
    }

    /// Whether an address is already known.
    pub fn knows(&self, url: &str) -> Result<bool> {
        let Some((key, _)) = State::key_for(url) else { return Ok(false) };
        let n: i64 = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM articles WHERE key = ?1) + (SELECT count(*) FROM aliases WHERE alias = ?1)",
                [&key],
                |r| r.get(0),
            )
            .map_err(|e| self.sql_error(&e))?;
        Ok(n > 0)
    }

    /// Whether an article's record is on disk (`done`), by its key or an alias of it.
    pub fn is_done(&self, key: &str) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) FROM articles WHERE status = 'done'
                 AND key IN (?1, (SELECT key FROM aliases WHERE alias = ?1))",
                [key],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.sql_error(&e))
    }

    /// Whether an article is still waiting to be fetched at `now` (ms).
    pub fn is_due(&self, key: &str, now: i64) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) FROM articles WHERE key = ?1 AND status IN ('pending', 'failed') AND next_attempt <= ?2",
                params![key, now],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.sql_error(&e))
    }

    /// Makes `key` (a short link's row) an alias of `canonical`, an article already archived:
    /// the row goes (see [`merge_into`]), and the address is never fetched again.
    pub fn alias(&self, key: &str, canonical: &str) -> Result<()> {
        if key == canonical || canonical.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction().map_err(|e| self.sql_error(&e))?;
        merge_into(&tx, key, canonical).map_err(|e| self.sql_error(&e))?;
        tx.commit().map_err(|e| self.sql_error(&e))
    }

    /// Articles due now: pending, or failed with their wait over; oldest first.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<Row>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, url, status, attempts, depth, record_path, content_hash, replace_path FROM articles
                 WHERE status IN ('pending', 'failed') AND next_attempt <= ?1
                 ORDER BY next_attempt, first_seen, key LIMIT ?2",
            )
            .map_err(|e| self.sql_error(&e))?;
        let rows = stmt
            .query_map(params![now, limit as i64], |r| {
                Ok(Row {
                    key: r.get(0)?,
                    url: r.get(1)?,
                    status: r.get(2)?,
                    attempts: r.get(3)?,
                    depth: r.get(4)?,
                    record_path: r.get(5)?,
                    content_hash: r.get(6)?,
                    replace_path: r.get(7)?,
                })
            })
            .map_err(|e| self.sql_error(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.sql_error(&e))
    }

    /// How many articles are due at `now` (pending, or failed with their wait over).
    pub fn due_count(&self, now: i64) -> Result<usize> {
        self.conn
            .query_row(
                "SELECT count(*) FROM articles WHERE status IN ('pending', 'failed') AND next_attempt <= ?1",
                [now],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(|e| self.sql_error(&e))
    }

    /// The earliest time a waiting article becomes due, if any is waiting.
    pub fn next_due(&self) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT min(next_attempt) FROM articles WHERE status IN ('pending', 'failed')", [], |r| r.get(0))
            .map_err(|e| self.sql_error(&e))
    }

    /// Records that an article's record is on disk. A short-link row learns its canonical key
    /// here; if that key is already known, the short link becomes an alias of it.
    pub fn done(&self, row: &Row, id: Option<&ArticleId>, record_path: &str, hash: &str, now: i64) -> Result<()> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.sql_error(&e))?;
        let mut key = row.key.clone();
        if let Some(id) = id {
            let canonical = id_key(id);
            if canonical != key {
                merge_into(&tx, &key, &canonical).map_err(|e| self.sql_error(&e))?;
                key = canonical;
            }
        }
        tx.execute(
            "UPDATE articles SET status = 'done', record_path = ?2, content_hash = ?3, fetched_at = ?4,
             last_error = NULL, attempts = attempts + 1, replace_path = NULL WHERE key = ?1",
            params![key, record_path, hash, now],
        )
        .map_err(|e| self.sql_error(&e))?;
        tx.commit().map_err(|e| self.sql_error(&e))
    }

    /// Records a final outcome that is not a record (deleted, removed, gave up).
    pub fn finish(&self, key: &str, status: Status, error: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE articles SET status = ?2, last_error = ?3, fetched_at = ?4, attempts = attempts + 1 WHERE key = ?1",
                params![key, status.as_str(), error, now],
            )
            .map(|_| ())
            .map_err(|e| self.sql_error(&e))
    }

    /// Records a failure to try again at `next_attempt`.
    pub fn retry_later(&self, key: &str, error: &str, next_attempt: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE articles SET status = 'failed', last_error = ?2, next_attempt = ?3, attempts = attempts + 1 WHERE key = ?1",
                params![key, error, next_attempt],
            )
            .map(|_| ())
            .map_err(|e| self.sql_error(&e))
    }

    /// Puts an article back in the queue without counting an attempt (the host was blocked).
    pub fn postpone(&self, key: &str, next_attempt: i64) -> Result<()> {
        self.conn
            .execute("UPDATE articles SET next_attempt = ?2 WHERE key = ?1", params![key, next_attempt])
            .map(|_| ())
            .map_err(|e| self.sql_error(&e))
    }

    /// A source's conditional-request validators.
    pub fn source_validators(&self, name: &str) -> Result<(Option<String>, Option<String>)> {
        self.conn
            .query_row("SELECT etag, last_modified FROM sources WHERE name = ?1", [name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.sql_error(&e))
    }

    /// Records a poll of a source (validators kept when the server sent none).
    pub fn polled(&self, name: &str, etag: Option<&str>, last_modified: Option<&str>, now: i64) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO sources (name, etag, last_modified, last_polled) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(name) DO UPDATE SET etag = coalesce(?2, etag),
                 last_modified = coalesce(?3, last_modified), last_polled = ?4",
                params![name, etag, last_modified, now],
            )
            .map(|_| ())
            .map_err(|e| self.sql_error(&e))
    }

    /// Counts by status.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM articles GROUP BY status ORDER BY status")
            .map_err(|e| self.sql_error(&e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.sql_error(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.sql_error(&e))
    }

    /// Every source with its last poll.
    pub fn sources(&self) -> Result<Vec<(String, Option<i64>)>> {
        let mut stmt =
            self.conn.prepare("SELECT name, last_polled FROM sources ORDER BY name").map_err(|e| self.sql_error(&e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.sql_error(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.sql_error(&e))
    }

    /// Every article, for consistency checks: (key, status, record path).
    pub fn all(&self) -> Result<Vec<(String, String, Option<String>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, status, record_path FROM articles ORDER BY key")
            .map_err(|e| self.sql_error(&e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| self.sql_error(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.sql_error(&e))
    }
}

/// Makes `key` an alias of `canonical`: its row goes when `canonical` has one already, and
/// otherwise becomes `canonical`'s row.
fn merge_into(tx: &Connection, key: &str, canonical: &str) -> rusqlite::Result<()> {
    tx.execute("INSERT OR REPLACE INTO aliases (alias, key) VALUES (?1, ?2)", params![key, canonical])?;
    let exists: i64 = tx.query_row("SELECT count(*) FROM articles WHERE key = ?1", [canonical], |r| r.get(0))?;
    if exists > 0 {
        tx.execute("DELETE FROM articles WHERE key = ?1", [key])?;
    } else {
        tx.execute("UPDATE articles SET key = ?1 WHERE key = ?2", params![canonical, key])?;
    }
    Ok(())
}

/// The key of a canonical id.
pub fn id_key(id: &ArticleId) -> String {
    format!("{}:{}:{}", id.biz, id.mid, id.idx)
}
