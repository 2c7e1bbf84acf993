//! The crawl state: one SQLite file. Articles are keyed by their canonical id (`__biz:mid:idx`);
//! a short link is a row of its own until its page names the id, then an alias. Every change is
//! committed as it happens, so a killed run loses at most the article in flight.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use crate::article::{ArticleId, article_address, short_link};
use crate::error::{Error, Result};

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

/// Migrations, in order: the schema version is the number applied (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    // 1: articles, aliases, sources, settings.
    "CREATE TABLE articles (
        key TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt INTEGER NOT NULL DEFAULT 0,
        record_path TEXT,
        content_hash TEXT,
        first_seen INTEGER NOT NULL,
        fetched_at INTEGER,
        source TEXT
     );
     CREATE TABLE aliases (alias TEXT PRIMARY KEY, key TEXT NOT NULL);
     CREATE TABLE sources (name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, last_polled INTEGER);
     CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);",
    // 2: follow depth, and an index for the queue.
    "ALTER TABLE articles ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
     CREATE INDEX articles_queue ON articles (status, next_attempt);",
    // 3: the search index (see `index`), and the files a repair replaces.
    "CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        key TEXT,
        account TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        source TEXT NOT NULL,
        date TEXT NOT NULL,
        fetch_date TEXT NOT NULL,
        cvss REAL
     );
     CREATE INDEX records_date ON records (date);
     CREATE INDEX records_account ON records (account, date);
     CREATE TABLE record_entities (
        record INTEGER NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (record, kind, value)
     ) WITHOUT ROWID;
     CREATE INDEX record_entities_value ON record_entities (value);
     CREATE VIRTUAL TABLE records_fts USING fts5(title, source, body, tokenize = 'trigram');
     ALTER TABLE articles ADD COLUMN replace_path TEXT;",
    // 4: waits kept in milliseconds (a Retry-After or a cool-down is never rounded down).
    "UPDATE articles SET next_attempt = next_attempt * 1000 WHERE next_attempt > 0;
     INSERT OR REPLACE INTO settings (name, value)
        SELECT 'blocked_until_ms', CAST(value AS INTEGER) * 1000 FROM settings WHERE name = 'blocked_until';
     DELETE FROM settings WHERE name = 'blocked_until';",
];

/// The state file of a crawl.
pub struct State {
    conn: Connection,
    path: PathBuf,
}

/// The identity of wxsec's state files, so that a foreign SQLite file is not taken for one.
const APPLICATION_ID: i64 = 0x7778_7365; // "wxse"

impl State {
    /// Opens (creating or migrating) the state file. A file that is not SQLite, or a SQLite
    /// file of another program, is refused with a message rather than reset.
    pub fn open(path: &Path) -> Result<State> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
        }
        let fresh = !path.exists() || std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
        let conn = Connection::open(path).map_err(|e| state_err(path, &e))?;
        let state = State { conn, path: path.to_path_buf() };
        let check = |e: rusqlite::Error| state_err(path, &e);
        // Reading the header is where a corrupt or foreign file shows itself.
        let (app_id, version) = identity(&state.conn).map_err(check)?;
        if !fresh && app_id != APPLICATION_ID {
            let tables: i64 =
                state.conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(check)?;
            if tables > 0 || version != 0 {
                return Err(Error::State {
                    path: path.to_path_buf(),
                    message: "this SQLite file belongs to another program".to_string(),
                });
            }
        }
        if version as usize > MIGRATIONS.len() {
            return Err(Error::State {
                path: path.to_path_buf(),
                message: format!(
                    "schema version {version} is newer than this wxsec ({}); upgrade wxsec",
                    MIGRATIONS.len()
                ),
            });
        }
        state.conn.pragma_update(None, "journal_mode", "WAL").map_err(check)?;
        state.conn.pragma_update(None, "synchronous", "NORMAL").map_err(check)?;
        state.conn.pragma_update(None, "foreign_keys", "ON").map_err(check)?;
        state.conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(check)?;
        state.migrate(version as usize)?;
        Ok(state)
    }

    /// The state as it is, for a dry run: the file opened read-only and immutable (nothing is
    /// created beside it, not even SQLite's journal files), or an empty state in memory when there
    /// is no file yet.
    pub fn open_snapshot(path: &Path) -> Result<State> {
        if !path.exists() {
            let conn = Connection::open_in_memory().map_err(|e| state_err(path, &e))?;
            let state = State { conn, path: path.to_path_buf() };
            state.migrate(0)?;
            return Ok(state);
        }
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut uri = url::Url::from_file_path(&absolute)
            .map_err(|()| Error::State { path: path.to_path_buf(), message: "not a file path".to_string() })?;
        uri.set_query(Some("immutable=1"));
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(uri.as_str(), flags).map_err(|e| state_err(path, &e))?;
        let state = State { conn, path: path.to_path_buf() };
        let check = |e: rusqlite::Error| state_err(path, &e);
        let (app_id, version) = identity(&state.conn).map_err(check)?;
        if app_id != APPLICATION_ID || version as usize != MIGRATIONS.len() {
            return Err(Error::State {
                path: path.to_path_buf(),
                message: format!(
                    "a dry run reads the state as it is, and this one is not of this wxsec's schema ({version}, not {}): run `wxsec crawl` once to upgrade it",
                    MIGRATIONS.len()
                ),
            });
        }
        Ok(state)
    }

    fn migrate(&self, from: usize) -> Result<()> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            let tx = self.conn.unchecked_transaction().map_err(|e| self.err(&e))?;
            tx.execute_batch(sql).map_err(|e| self.err(&e))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(|e| self.err(&e))?;
            tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| self.err(&e))?;
            tx.commit().map_err(|e| self.err(&e))?;
        }
        Ok(())
    }

    /// The schema version in force.
    pub fn version(&self) -> Result<i64> {
        self.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(|e| self.err(&e))
    }

    fn err(&self, e: &rusqlite::Error) -> Error {
        state_err(&self.path, e)
    }

    /// The connection, for the search index's tables.
    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// A SQLite error as wxsec reports it, naming the state file.
    pub(crate) fn sql_error(&self, e: &rusqlite::Error) -> Error {
        self.err(e)
    }

    /// The state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

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
            .map_err(|e| self.err(&e))?;
        if aliased.is_some() {
            return Ok(false);
        }
        let added = self
            .conn
            .execute(
                "INSERT OR IGNORE INTO articles (key, url, status, first_seen, source, depth) VALUES (?1, ?2, 'pending', ?3, ?4, ?5)",
                params![key, request, now, source, depth],
            )
            .map_err(|e| self.err(&e))?;
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
            .map_err(|e| self.err(&e))?
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
            .map_err(|e| self.err(&e))?;
        Ok(changed == 1)
    }

    /// Starts a transaction the caller ends with [`State::commit`] (bulk writes).
    pub fn begin(&self) -> Result<()> {
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(&e))
    }

    /// Commits what [`State::begin`] started.
    pub fn commit(&self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(&e))
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
            .map_err(|e| self.err(&e))?;
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
            .map_err(|e| self.err(&e))
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
            .map_err(|e| self.err(&e))
    }

    /// Makes `key` (a short link's row) an alias of `canonical`, an article already archived:
    /// the row goes (see [`merge_into`]), and the address is never fetched again.
    pub fn alias(&self, key: &str, canonical: &str) -> Result<()> {
        if key == canonical || canonical.is_empty() {
            return Ok(());
        }
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(&e))?;
        merge_into(&tx, key, canonical).map_err(|e| self.err(&e))?;
        tx.commit().map_err(|e| self.err(&e))
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
            .map_err(|e| self.err(&e))?;
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
            .map_err(|e| self.err(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.err(&e))
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
            .map_err(|e| self.err(&e))
    }

    /// The earliest time a waiting article becomes due, if any is waiting.
    pub fn next_due(&self) -> Result<Option<i64>> {
        self.conn
            .query_row("SELECT min(next_attempt) FROM articles WHERE status IN ('pending', 'failed')", [], |r| r.get(0))
            .map_err(|e| self.err(&e))
    }

    /// Records that an article's record is on disk. A short-link row learns its canonical key
    /// here; if that key is already known, the short link becomes an alias of it.
    pub fn done(&self, row: &Row, id: Option<&ArticleId>, record_path: &str, hash: &str, now: i64) -> Result<()> {
        let tx = self.conn.unchecked_transaction().map_err(|e| self.err(&e))?;
        let mut key = row.key.clone();
        if let Some(id) = id {
            let canonical = id_key(id);
            if canonical != key {
                merge_into(&tx, &key, &canonical).map_err(|e| self.err(&e))?;
                key = canonical;
            }
        }
        tx.execute(
            "UPDATE articles SET status = 'done', record_path = ?2, content_hash = ?3, fetched_at = ?4,
             last_error = NULL, attempts = attempts + 1, replace_path = NULL WHERE key = ?1",
            params![key, record_path, hash, now],
        )
        .map_err(|e| self.err(&e))?;
        tx.commit().map_err(|e| self.err(&e))
    }

    /// Records a final outcome that is not a record (deleted, removed, gave up).
    pub fn finish(&self, key: &str, status: Status, error: &str, now: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE articles SET status = ?2, last_error = ?3, fetched_at = ?4, attempts = attempts + 1 WHERE key = ?1",
                params![key, status.as_str(), error, now],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// Records a failure to try again at `next_attempt`.
    pub fn retry_later(&self, key: &str, error: &str, next_attempt: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE articles SET status = 'failed', last_error = ?2, next_attempt = ?3, attempts = attempts + 1 WHERE key = ?1",
                params![key, error, next_attempt],
            )
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// Puts an article back in the queue without counting an attempt (the host was blocked).
    pub fn postpone(&self, key: &str, next_attempt: i64) -> Result<()> {
        self.conn
            .execute("UPDATE articles SET next_attempt = ?2 WHERE key = ?1", params![key, next_attempt])
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// A stored setting (`blocked_until`, …).
    pub fn setting(&self, name: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM settings WHERE name = ?1", [name], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(&e))
    }

    /// Stores a setting.
    pub fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        self.conn
            .execute("INSERT OR REPLACE INTO settings (name, value) VALUES (?1, ?2)", params![name, value])
            .map(|_| ())
            .map_err(|e| self.err(&e))
    }

    /// A source's conditional-request validators.
    pub fn source_validators(&self, name: &str) -> Result<(Option<String>, Option<String>)> {
        self.conn
            .query_row("SELECT etag, last_modified FROM sources WHERE name = ?1", [name], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map(Option::unwrap_or_default)
            .map_err(|e| self.err(&e))
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
            .map_err(|e| self.err(&e))
    }

    /// Counts by status.
    pub fn counts(&self) -> Result<Vec<(String, i64)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, count(*) FROM articles GROUP BY status ORDER BY status")
            .map_err(|e| self.err(&e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.err(&e))
    }

    /// Every source with its last poll.
    pub fn sources(&self) -> Result<Vec<(String, Option<i64>)>> {
        let mut stmt =
            self.conn.prepare("SELECT name, last_polled FROM sources ORDER BY name").map_err(|e| self.err(&e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).map_err(|e| self.err(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.err(&e))
    }

    /// Every article, for consistency checks: (key, status, record path).
    pub fn all(&self) -> Result<Vec<(String, String, Option<String>)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, status, record_path FROM articles ORDER BY key")
            .map_err(|e| self.err(&e))?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).map_err(|e| self.err(&e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>().map_err(|e| self.err(&e))
    }

    /// Runs `f` in one transaction (bulk discovery).
    pub fn batch<T>(&self, f: impl FnOnce(&State) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(&e))?;
        match f(self) {
            Ok(v) => {
                self.conn.execute_batch("COMMIT").map_err(|e| self.err(&e))?;
                Ok(v)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }
}

/// The file's application id and schema version, where a corrupt or foreign file shows itself.
fn identity(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let app_id = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((app_id, version))
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

fn state_err(path: &Path, e: &rusqlite::Error) -> Error {
    let message = match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            "not a wxsec state file (not SQLite, or corrupted)".to_string()
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseCorrupt => {
            "the state file is corrupted".to_string()
        }
        // A full disk or an I/O failure is the file system's, not the state's: exit 6, and
        // the state is whole (SQLite rolled back).
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DiskFull => {
            return Error::Write { path: path.to_path_buf(), source: std::io::Error::from_raw_os_error(28) };
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::SystemIoFailure => {
            let cause = std::io::Error::last_os_error();
            let source = match cause.raw_os_error() {
                Some(28) => cause,
                _ => std::io::Error::other(format!("disk I/O error ({e}); is the disk full or read-only?")),
            };
            return Error::Write { path: path.to_path_buf(), source };
        }
        other => other.to_string(),
    };
    Error::State { path: path.to_path_buf(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_links_become_aliases() {
        let dir = tempfile::tempdir().unwrap();
        let s = State::open(&dir.path().join("state.sqlite")).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        assert!(s.discover("https://mp.weixin.qq.com/s/AbC", "test", 0, 1).unwrap());
        assert!(!s.discover("http://mp.weixin.qq.com/s/AbC?scene=1", "test", 0, 1).unwrap());
        let row = s.due(10, 10).unwrap().pop().unwrap();
        assert_eq!(row.key, "s:AbC");
        let id = ArticleId::new("MzA=", "1", "2", Some("ab")).unwrap();
        s.done(&row, Some(&id), "x.md", "h", 5).unwrap();
        assert!(!s.discover("https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=ab", "t", 0, 6).unwrap());
        assert!(!s.discover("https://mp.weixin.qq.com/s/AbC", "t", 0, 6).unwrap());
        assert_eq!(s.counts().unwrap(), vec![("done".to_string(), 1)]);
    }

    #[test]
    fn foreign_and_corrupt_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.sqlite");
        std::fs::write(&junk, b"this is not a database, just some text that is long enough to fill a header....")
            .unwrap();
        let e = State::open(&junk).err().unwrap().to_string();
        assert!(e.contains("not a wxsec state file"), "{e}");
        let foreign = dir.path().join("foreign.sqlite");
        Connection::open(&foreign).unwrap().execute_batch("CREATE TABLE t (x)").unwrap();
        let e = State::open(&foreign).err().unwrap().to_string();
        assert!(e.contains("another program"), "{e}");
    }

    #[test]
    fn version_one_files_migrate_with_their_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(MIGRATIONS[0]).unwrap();
            c.pragma_update(None, "user_version", 1).unwrap();
            c.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            c.execute(
                "INSERT INTO articles (key, url, status, first_seen) VALUES ('a:1:1', 'https://mp.weixin.qq.com/s?__biz=a', 'done', 1)",
                [],
            )
            .unwrap();
        }
        let s = State::open(&path).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(s.all().unwrap(), vec![("a:1:1".to_string(), "done".to_string(), None)]);
    }
}
