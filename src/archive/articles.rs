//! The crawl's tables: articles keyed by their canonical id (`__biz:mid:idx`); a short link is a
//! row of its own until its page names the id, then an alias. Every change is committed as it
//! happens, so a killed run loses at most the article in flight.

use super::{Dialect, State, db};
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

/// The columns a [`Row`] is read from, in its order.
const ROW: &str = "key, url, status, attempts, depth, record_path, content_hash, replace_path";

fn row_of(r: &db::Row) -> Row {
    Row {
        key: r.text(0),
        url: r.text(1),
        status: r.text(2),
        attempts: r.int(3),
        depth: r.int(4),
        record_path: r.opt_text(5),
        content_hash: r.opt_text(6),
        replace_path: r.opt_text(7),
    }
}

/// Letting go of an article's lease, as every outcome does.
const RELEASE: &str = "lease_owner = NULL, lease_until = 0";

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

    fn aliased(&self, key: &str) -> Result<Option<String>> {
        Ok(self.db.query_row("SELECT key FROM aliases WHERE alias = ?1", &[key.into()])?.map(|r| r.text(0)))
    }

    /// Adds an address unless it is known (directly or as an alias). Returns whether it is new.
    pub fn discover(&self, url: &str, source: &str, depth: i64, now: i64) -> Result<bool> {
        let Some((key, request)) = State::key_for(url) else { return Ok(false) };
        if self.aliased(&key)?.is_some() {
            return Ok(false);
        }
        let added = self.db.execute(
            "INSERT INTO articles (key, url, status, first_seen, source, depth) VALUES (?1, ?2, 'pending', ?3, ?4, ?5)
             ON CONFLICT (key) DO NOTHING",
            &[(&key).into(), (&request).into(), now.into(), source.into(), depth.into()],
        )?;
        Ok(added == 1)
    }

    /// Queues an article whose record file is broken (a stub or cut short) to be fetched again
    /// and written over `replace_path`. An article already known is queued again, unless WeChat
    /// has said it is deleted or removed. Returns whether it was queued.
    pub fn queue_repair(&self, url: &str, replace_path: &str, now: i64) -> Result<bool> {
        let Some((key, request)) = State::key_for(url) else { return Ok(false) };
        let key = self.aliased(&key)?.unwrap_or(key);
        let changed = self.db.execute(
            "INSERT INTO articles (key, url, status, first_seen, source, replace_path)
             VALUES (?1, ?2, 'pending', ?3, 'repair', ?4)
             ON CONFLICT (key) DO UPDATE SET status = 'pending', attempts = 0, next_attempt = 0,
               replace_path = excluded.replace_path, content_hash = NULL
             WHERE articles.status NOT IN ('deleted', 'removed')",
            &[(&key).into(), (&request).into(), now.into(), replace_path.into()],
        )?;
        Ok(changed == 1)
    }

    /// Whether an address is already known.
    pub fn knows(&self, url: &str) -> Result<bool> {
        let Some((key, _)) = State::key_for(url) else { return Ok(false) };
        let n = self.db.query_int(
            "SELECT (SELECT count(*) FROM articles WHERE key = ?1) + (SELECT count(*) FROM aliases WHERE alias = ?1)",
            &[(&key).into()],
        )?;
        Ok(n > 0)
    }

    /// Whether an article's record is on disk (`done`), by its key or an alias of it.
    pub fn is_done(&self, key: &str) -> Result<bool> {
        let n = self.db.query_int(
            "SELECT count(*) FROM articles WHERE status = 'done'
             AND (key = ?1 OR key IN (SELECT key FROM aliases WHERE alias = ?1))",
            &[key.into()],
        )?;
        Ok(n > 0)
    }

    /// Makes `key` (a short link's row) an alias of `canonical`, an article already archived:
    /// the row goes (see [`State::merge_into`]), and the address is never fetched again.
    pub fn alias(&self, key: &str, canonical: &str) -> Result<()> {
        if key == canonical || canonical.is_empty() {
            return Ok(());
        }
        self.db.atomic(|| self.merge_into(key, canonical))
    }

    /// Articles due now: pending, or failed with their wait over; oldest first.
    pub fn due(&self, now: i64, limit: usize) -> Result<Vec<Row>> {
        let sql = format!(
            "SELECT {ROW} FROM articles WHERE status IN ('pending', 'failed') AND next_attempt <= ?1
             ORDER BY next_attempt, first_seen, key LIMIT ?2"
        );
        Ok(self
            .db
            .query(&sql, &[now.into(), (limit.min(i64::MAX as usize) as i64).into()])?
            .iter()
            .map(row_of)
            .collect())
    }

    /// The time leases are measured by, in Unix milliseconds: the server's clock when hosts
    /// share one (their own clocks may disagree), else this machine's.
    pub fn lease_clock(&self) -> Result<i64> {
        match self.db.dialect() {
            Dialect::Postgres => {
                self.db.query_int("SELECT CAST(floor(extract(epoch FROM clock_timestamp()) * 1000) AS BIGINT)", &[])
            }
            Dialect::Sqlite => Ok(chrono::Utc::now().timestamp_millis()),
        }
    }

    /// Claims the next article due at `now` (ms) for this host: one no other host holds a live
    /// lease on (or this host's own, left by a run of it that was killed), held for `lease` ms of
    /// the [lease clock](State::lease_clock). On a server, rows another host is claiming at this
    /// instant are skipped, not waited for.
    pub fn claim(&self, now: i64, lease: i64) -> Result<Option<Row>> {
        let clock = self.lease_clock()?;
        // A state file has one host at a time (the crawl's lock): its leases are never in the
        // way, and a run that follows a killed one takes its article back at once.
        let (held, skip) = match self.db.dialect() {
            Dialect::Postgres => ("AND (lease_until <= ?4 OR lease_owner = ?1)", " FOR UPDATE SKIP LOCKED"),
            Dialect::Sqlite => ("", ""),
        };
        let sql = format!(
            "UPDATE articles SET lease_owner = ?1, lease_until = ?2 WHERE key = (
                SELECT key FROM articles WHERE status IN ('pending', 'failed') AND next_attempt <= ?3 {held}
                ORDER BY next_attempt, first_seen, key LIMIT 1{skip})
             RETURNING {ROW}"
        );
        let params = [self.host.as_str().into(), (clock + lease).into(), now.into(), clock.into()];
        let rows = self.db.query(&sql, if held.is_empty() { &params[..3] } else { &params })?;
        Ok(rows.first().map(row_of))
    }

    /// Lets go of an article this host claimed and did not finish (it was told to stop).
    pub fn release(&self, key: &str) -> Result<()> {
        let sql = format!("UPDATE articles SET {RELEASE} WHERE key = ?1 AND lease_owner = ?2");
        self.db.execute(&sql, &[key.into(), self.host.as_str().into()]).map(|_| ())
    }

    /// How many articles are due at `now` (pending, or failed with their wait over).
    pub fn due_count(&self, now: i64) -> Result<usize> {
        let n = self.db.query_int(
            "SELECT count(*) FROM articles WHERE status IN ('pending', 'failed') AND next_attempt <= ?1",
            &[now.into()],
        )?;
        Ok(n as usize)
    }

    /// The earliest time a waiting article can be claimed, if any is waiting: its retry time,
    /// or the end of another host's lease on it.
    pub fn next_due(&self) -> Result<Option<i64>> {
        let sql = match self.db.dialect() {
            Dialect::Postgres => {
                "SELECT min(CASE WHEN lease_owner = ?1 OR lease_until < next_attempt THEN next_attempt ELSE lease_until END)
                 FROM articles WHERE status IN ('pending', 'failed')"
            }
            Dialect::Sqlite => {
                "SELECT min(next_attempt) FROM articles WHERE status IN ('pending', 'failed') AND ?1 IS NOT NULL"
            }
        };
        let row = self.db.query_row(sql, &[self.host.as_str().into()])?;
        Ok(row.and_then(|r| r.opt_int(0)))
    }

    /// Records that an article's record is on disk. A short-link row learns its canonical key
    /// here; if that key is already known, the short link becomes an alias of it.
    pub fn done(&self, row: &Row, id: Option<&ArticleId>, record_path: &str, hash: &str, now: i64) -> Result<()> {
        self.db.atomic(|| {
            let mut key = row.key.clone();
            if let Some(id) = id {
                let canonical = id_key(id);
                if canonical != key {
                    self.merge_into(&key, &canonical)?;
                    key = canonical;
                }
            }
            let sql = format!(
                "UPDATE articles SET status = 'done', record_path = ?2, content_hash = ?3, fetched_at = ?4,
                 last_error = NULL, attempts = attempts + 1, replace_path = NULL, fetched_by = ?5, {RELEASE}
                 WHERE key = ?1"
            );
            self.db
                .execute(&sql, &[(&key).into(), record_path.into(), hash.into(), now.into(), self.host.as_str().into()])
                .map(|_| ())
        })
    }

    /// Records a final outcome that is not a record (deleted, removed, gave up).
    pub fn finish(&self, key: &str, status: Status, error: &str, now: i64) -> Result<()> {
        let sql = format!(
            "UPDATE articles SET status = ?2, last_error = ?3, fetched_at = ?4, attempts = attempts + 1,
             fetched_by = ?5, {RELEASE} WHERE key = ?1"
        );
        self.db
            .execute(&sql, &[key.into(), status.as_str().into(), error.into(), now.into(), self.host.as_str().into()])
            .map(|_| ())
    }

    /// Records a failure to try again at `next_attempt`.
    pub fn retry_later(&self, key: &str, error: &str, next_attempt: i64) -> Result<()> {
        let sql = format!(
            "UPDATE articles SET status = 'failed', last_error = ?2, next_attempt = ?3, attempts = attempts + 1,
             {RELEASE} WHERE key = ?1"
        );
        self.db.execute(&sql, &[key.into(), error.into(), next_attempt.into()]).map(|_| ())
    }

    /// Puts an article back in the queue without counting an attempt (the host was blocked).
    pub fn postpone(&self, key: &str, next_attempt: i64) -> Result<()> {
        let sql = format!("UPDATE articles SET next_attempt = ?2, {RELEASE} WHERE key = ?1");
        self.db.execute(&sql, &[key.into(), next_attempt.into()]).map(|_| ())
    }

    /// A source's conditional-request validators.
    pub fn source_validators(&self, name: &str) -> Result<(Option<String>, Option<String>)> {
        let row = self.db.query_row("SELECT etag, last_modified FROM sources WHERE name = ?1", &[name.into()])?;
        Ok(row.map(|r| (r.opt_text(0), r.opt_text(1))).unwrap_or_default())
    }

    /// Claims a source for this host to poll, for `lease` ms: false while another host holds it.
    pub fn claim_source(&self, name: &str, lease: i64) -> Result<bool> {
        // A state file has one host at a time (its lock): a lease a killed run left, even under
        // another host name, holds nothing back.
        if !self.is_shared() {
            return Ok(true);
        }
        let now = self.lease_clock()?;
        let lease_until = now + lease;
        let changed = self.db.execute(
            "INSERT INTO sources (name, lease_owner, lease_until) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
             WHERE sources.lease_until <= ?4 OR sources.lease_owner = ?2",
            &[name.into(), self.host.as_str().into(), lease_until.into(), now.into()],
        )?;
        Ok(changed == 1)
    }

    /// Whether another host is polling a source now.
    pub fn sources_busy(&self) -> Result<bool> {
        let now = self.lease_clock()?;
        let n = self.db.query_int(
            "SELECT count(*) FROM sources WHERE lease_until > ?1 AND lease_owner <> ?2",
            &[now.into(), self.host.as_str().into()],
        )?;
        Ok(n > 0)
    }

    /// Records a poll of a source (validators kept when the server sent none), and lets go of
    /// it.
    pub fn polled(&self, name: &str, etag: Option<&str>, last_modified: Option<&str>, now: i64) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO sources (name, etag, last_modified, last_polled) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET etag = coalesce(excluded.etag, sources.etag),
                 last_modified = coalesce(excluded.last_modified, sources.last_modified),
                 last_polled = excluded.last_polled, lease_owner = NULL, lease_until = 0",
                &[name.into(), etag.into(), last_modified.into(), now.into()],
            )
            .map(|_| ())
    }

    /// Lets go of a source this host claimed and could not poll.
    pub fn release_source(&self, name: &str) -> Result<()> {
        self.db
            .execute(
                "UPDATE sources SET lease_owner = NULL, lease_until = 0 WHERE name = ?1 AND lease_owner = ?2",
                &[name.into(), self.host.as_str().into()],
            )
            .map(|_| ())
    }

    /// Counts by status.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let rows = self.db.query("SELECT status, count(*) FROM articles GROUP BY status ORDER BY status", &[])?;
        Ok(rows.iter().map(|r| (r.text(0), r.int(1))).collect())
    }

    /// Every article, for consistency checks: (key, status, record path).
    pub fn all(&self) -> Result<Vec<(String, String, Option<String>)>> {
        let rows = self.db.query("SELECT key, status, record_path FROM articles ORDER BY key", &[])?;
        Ok(rows.iter().map(|r| (r.text(0), r.text(1), r.opt_text(2))).collect())
    }

    /// Every article with the host that finished it, for checks of a shared crawl: (key,
    /// status, host).
    pub fn finished_by(&self) -> Result<Vec<(String, String, Option<String>)>> {
        let rows = self.db.query("SELECT key, status, fetched_by FROM articles ORDER BY key", &[])?;
        Ok(rows.iter().map(|r| (r.text(0), r.text(1), r.opt_text(2))).collect())
    }

    /// Makes `key` an alias of `canonical`: its row goes when `canonical` has one already, and
    /// otherwise becomes `canonical`'s row.
    fn merge_into(&self, key: &str, canonical: &str) -> Result<()> {
        self.db.execute(
            "INSERT INTO aliases (alias, key) VALUES (?1, ?2) ON CONFLICT (alias) DO UPDATE SET key = excluded.key",
            &[key.into(), canonical.into()],
        )?;
        let exists = self.db.query_int("SELECT count(*) FROM articles WHERE key = ?1", &[canonical.into()])?;
        if exists > 0 {
            self.db.execute("DELETE FROM articles WHERE key = ?1", &[key.into()])?;
        } else {
            self.db.execute("UPDATE articles SET key = ?1 WHERE key = ?2", &[canonical.into(), key.into()])?;
        }
        Ok(())
    }
}

/// The key of a canonical id.
pub fn id_key(id: &ArticleId) -> String {
    format!("{}:{}:{}", id.biz, id.mid, id.idx)
}
