//! The archive's state file: one SQLite file holding what the archive knows beside its record
//! files: the crawl's articles, queue, aliases and cool-downs ([`articles`]), and the search
//! index and feed signatures ([`index`]). This module owns the schema, its migrations and the
//! transactions; `import`, `normalise`, `crawl`, `search` and `feed` work through it.

use std::path::Path;

use rusqlite::Connection;

mod articles;
pub mod db;
mod hosts;
mod sources;
pub use sources::{Paging, SourceRow};
pub mod bulk;
pub mod index;

pub use articles::{Row, Status, id_key};
pub use db::{Dialect, is_server};
pub use hosts::{HostField, HostState, HostStatus};

use db::Db;

use crate::error::{Error, Result};

/// Schema 1, the crawl's tables, in the SQL both stores read alike (SQLite takes `BIGINT` as it
/// takes `INTEGER`).
const CRAWL_TABLES: &str = "CREATE TABLE articles (
        key TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt BIGINT NOT NULL DEFAULT 0,
        record_path TEXT,
        content_hash TEXT,
        first_seen BIGINT NOT NULL,
        fetched_at BIGINT,
        source TEXT
     );
     CREATE TABLE aliases (alias TEXT PRIMARY KEY, key TEXT NOT NULL);
     CREATE TABLE sources (name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, last_polled BIGINT);
     CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// Schema 2, for both stores.
const QUEUE_INDEX: &str = "ALTER TABLE articles ADD COLUMN depth BIGINT NOT NULL DEFAULT 0;
     CREATE INDEX articles_queue ON articles (status, next_attempt);";

/// Migrations, in order: the schema version is the number applied (`PRAGMA user_version`).
const MIGRATIONS: &[&str] = &[
    // 1: articles, aliases, sources, settings.
    CRAWL_TABLES,
    // 2: follow depth, and an index for the queue.
    QUEUE_INDEX,
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
    // 5: the index keeps its words once, without positions (pairs of characters for Chinese), and
    // each record's hash; the feeds' signatures. The old index cannot be converted without the
    // record files: it is emptied, and `search` says to run `reindex`.
    "INSERT INTO settings (name, value) SELECT 'index_emptied', 'schema 5' WHERE EXISTS (SELECT 1 FROM records);
     DROP TABLE records_fts;
     DELETE FROM record_entities;
     DELETE FROM records;
     ALTER TABLE records ADD COLUMN hash TEXT NOT NULL DEFAULT '';
     CREATE INDEX records_order ON records (date DESC, fetch_date DESC, path);
     CREATE VIRTUAL TABLE records_fts USING fts5(words, content = '', contentless_delete = 1, detail = none,
        tokenize = 'unicode61 remove_diacritics 0');
     CREATE TABLE feeds (name TEXT PRIMARY KEY, signature TEXT NOT NULL);",
    HOSTS_MIGRATION,
    SOURCES_MIGRATION,
];

/// Migrations of a server, step for step the same schema as [`MIGRATIONS`], so that a state
/// keeps its version number whichever store holds it. From 3 on the SQL differs: the record id
/// is a `BIGSERIAL` (SQLite's rowid), and the search index's words are a `tsvector` of the same
/// tokens FTS5 keeps.
const PG_MIGRATIONS: &[&str] = &[
    CRAWL_TABLES,
    QUEUE_INDEX,
    "CREATE TABLE records (
        id BIGSERIAL PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        key TEXT,
        account TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        source TEXT NOT NULL,
        date TEXT NOT NULL,
        fetch_date TEXT NOT NULL,
        cvss DOUBLE PRECISION
     );
     CREATE INDEX records_date ON records (date);
     CREATE INDEX records_account ON records (account, date);
     CREATE TABLE record_entities (
        record BIGINT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (record, kind, value)
     );
     CREATE INDEX record_entities_value ON record_entities (value);
     ALTER TABLE articles ADD COLUMN replace_path TEXT;",
    // 4 converted SQLite's waits to milliseconds: a server state was never in seconds.
    "SELECT 1",
    "ALTER TABLE records ADD COLUMN hash TEXT NOT NULL DEFAULT '';
     CREATE INDEX records_order ON records (date DESC, fetch_date DESC, path);
     CREATE TABLE records_words (id BIGINT PRIMARY KEY, words tsvector NOT NULL);
     CREATE INDEX records_words_gin ON records_words USING gin (words);
     CREATE TABLE feeds (name TEXT PRIMARY KEY, signature TEXT NOT NULL);",
    HOSTS_MIGRATION,
    SOURCES_MIGRATION,
];

/// 6: claims with leases (an article or a source is worked on by one host at a time, and a host
/// that dies lets go when its lease runs out), the host that fetched each article, and each
/// host's own politeness and cool-down: WeChat limits an egress address, not a fleet.
const HOSTS_MIGRATION: &str = "ALTER TABLE articles ADD COLUMN lease_owner TEXT;
     ALTER TABLE articles ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE articles ADD COLUMN fetched_by TEXT;
     ALTER TABLE sources ADD COLUMN lease_owner TEXT;
     ALTER TABLE sources ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
     CREATE TABLE hosts (
        name TEXT PRIMARY KEY,
        blocked_until_ms BIGINT NOT NULL DEFAULT 0,
        pause_until_ms BIGINT NOT NULL DEFAULT 0,
        interval_ms BIGINT NOT NULL DEFAULT 0,
        slow_until_ms BIGINT NOT NULL DEFAULT 0,
        last_seen_ms BIGINT NOT NULL DEFAULT 0,
        running BIGINT NOT NULL DEFAULT 0
     );";

/// 7: what each source did (its kind, last success and error, the articles it named) and where
/// a paged source (an album, an account's WeRead list) stands: walked to its end once, and the
/// page to ask next when a run stopped mid-walk. Alternates: the other address an article listed
/// by WeRead may have, tried when the first answers no article.
const SOURCES_MIGRATION: &str = "ALTER TABLE sources ADD COLUMN kind TEXT;
     ALTER TABLE sources ADD COLUMN last_ok BIGINT;
     ALTER TABLE sources ADD COLUMN last_error TEXT;
     ALTER TABLE sources ADD COLUMN found BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sources ADD COLUMN walked BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sources ADD COLUMN page_cursor TEXT;
     CREATE TABLE alternates (key TEXT PRIMARY KEY, url TEXT NOT NULL);";

/// The settings a host's cool-down was kept in before schema 6, when one state had one host.
const HOST_SETTINGS: [(&str, HostField); 4] = [
    ("blocked_until_ms", HostField::BlockedUntil),
    ("wechat_pause_until_ms", HostField::PauseUntil),
    ("wechat_interval_ms", HostField::Interval),
    ("wechat_slow_until_ms", HostField::SlowUntil),
];

/// The state of an archive: a SQLite file, or a PostgreSQL database several hosts share.
pub struct State {
    db: Db,
    /// The host this process works as (see [`host_name`]): the owner of its claims.
    host: String,
}

/// The identity of wxsec's state files, so that a foreign SQLite file is not taken for one.
const APPLICATION_ID: i64 = 0x7778_7365; // "wxse"

/// The name this host works under in a shared state: `WXSEC_HOST`, or the machine's name.
pub fn host_name() -> String {
    if let Ok(h) = std::env::var("WXSEC_HOST")
        && !h.trim().is_empty()
    {
        return h.trim().to_string();
    }
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length, and gethostname writes at most that much.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let name = if rc == 0 {
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    if name.is_empty() { "localhost".to_string() } else { name }
}

/// Whether a state exists to be read: a file on disk, or any server address (the server says).
pub fn exists(location: &Path) -> bool {
    db::is_server(location) || location.exists()
}

impl State {
    /// Opens (creating or migrating) the state: a file, or a `postgres://` address. A file that
    /// is not SQLite, or a SQLite file of another program, is refused with a message rather
    /// than reset.
    pub fn open(path: &Path) -> Result<State> {
        if db::is_server(path) {
            let state = State::with(Db::postgres(path)?);
            state.migrate_server(false)?;
            return Ok(state);
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
        }
        let fresh = !path.exists() || std::fs::metadata(path).is_ok_and(|m| m.len() == 0);
        let conn = Connection::open(path).map_err(|e| state_err(path, &e))?;
        let check = |e: rusqlite::Error| state_err(path, &e);
        // Reading the header is where a corrupt or foreign file shows itself.
        let (app_id, version) = identity(&conn).map_err(check)?;
        if !fresh && app_id != APPLICATION_ID {
            let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(check)?;
            if tables > 0 || version != 0 {
                return Err(Error::State {
                    path: path.to_path_buf(),
                    message: "this SQLite file belongs to another program".to_string(),
                });
            }
        }
        if version as usize > MIGRATIONS.len() {
            return Err(newer(path, version));
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(check)?;
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(check)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(check)?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(check)?;
        let state = State::with(Db::sqlite(conn, path));
        state.migrate(version as usize)?;
        Ok(state)
    }

    /// A second connection to a state another connection of this process writes, for reading
    /// from another thread (a `normalise` worker asking whether a record is indexed as it is).
    /// It sees what was committed; nothing is created or migrated.
    pub fn open_reader(path: &Path) -> Result<State> {
        if db::is_server(path) {
            return Ok(State::with(Db::postgres(path)?));
        }
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| state_err(path, &e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| state_err(path, &e))?;
        // A reader looks rows up by key (a few pages of a tree each), and a run holds one per
        // worker: SQLite's default 2 MB cache apiece was most of normalise's memory.
        conn.pragma_update(None, "cache_size", -512).map_err(|e| state_err(path, &e))?;
        Ok(State::with(Db::sqlite(conn, path)))
    }

    /// The state as it is, for a dry run: the file opened read-only and immutable (nothing is
    /// created beside it, not even SQLite's journal files), or an empty state in memory when there
    /// is no file yet. A server's state is read as it is, and must be of this wxsec's schema.
    pub fn open_snapshot(path: &Path) -> Result<State> {
        if db::is_server(path) {
            let state = State::with(Db::postgres(path)?);
            if state.migrate_server(true)? {
                return Ok(state);
            }
        } else if path.exists() {
            return State::open_file_snapshot(path);
        }
        // Nothing yet (no file, or a server's empty database): an empty state in memory.
        let conn = Connection::open_in_memory().map_err(|e| state_err(path, &e))?;
        let state = State::with(Db::sqlite(conn, path));
        state.migrate(0)?;
        Ok(state)
    }

    fn open_file_snapshot(path: &Path) -> Result<State> {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let mut uri = url::Url::from_file_path(&absolute)
            .map_err(|()| Error::State { path: path.to_path_buf(), message: "not a file path".to_string() })?;
        uri.set_query(Some("immutable=1"));
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(uri.as_str(), flags).map_err(|e| state_err(path, &e))?;
        let check = |e: rusqlite::Error| state_err(path, &e);
        let (app_id, version) = identity(&conn).map_err(check)?;
        if app_id != APPLICATION_ID || version as usize != MIGRATIONS.len() {
            return Err(not_current(path, version));
        }
        Ok(State::with(Db::sqlite(conn, path)))
    }

    fn with(db: Db) -> State {
        State { db, host: host_name() }
    }

    /// The host this process works as.
    pub fn host(&self) -> &str {
        &self.host
    }

    fn migrate(&self, from: usize) -> Result<()> {
        let conn = self.db.sqlite_conn().expect("a file's state");
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
            self.db.atomic(|| {
                conn.execute_batch(sql).map_err(|e| self.err(&e))?;
                if i + 1 == 6 {
                    self.carry_host_settings()?;
                }
                conn.pragma_update(None, "user_version", (i + 1) as i64).map_err(|e| self.err(&e))?;
                conn.pragma_update(None, "application_id", APPLICATION_ID).map_err(|e| self.err(&e))
            })?;
        }
        Ok(())
    }

    /// A state file kept its one host's cool-down in settings: it becomes this host's.
    fn carry_host_settings(&self) -> Result<()> {
        for (setting, field) in HOST_SETTINGS {
            if let Some(v) = self.setting(setting)?.and_then(|v| v.parse::<i64>().ok()) {
                self.set_host(&self.host, field, v)?;
                self.db.execute("DELETE FROM settings WHERE name = ?1", &[setting.into()])?;
            }
        }
        Ok(())
    }

    /// Creates or upgrades a server's schema. Hosts starting together take turns (an advisory
    /// lock); a database that holds other tables and no wxsec schema is refused. Read-only, it
    /// checks the schema is this wxsec's, and says whether there is one at all.
    fn migrate_server(&self, read_only: bool) -> Result<bool> {
        let db = &self.db;
        db.batch("SELECT pg_advisory_lock(2004383589)")?;
        let result = (|| -> Result<bool> {
            let has_schema = db.query_int(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'wxsec_schema'",
                &[],
            )? > 0;
            let version = if has_schema { db.query_int("SELECT max(version) FROM wxsec_schema", &[])? } else { 0 };
            if !has_schema {
                let others = db.query_int(
                    "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()",
                    &[],
                )?;
                if others > 0 {
                    return Err(Error::State {
                        path: db.label().to_path_buf(),
                        message: "this database holds tables of another program; give wxsec a database of its own"
                            .to_string(),
                    });
                }
            }
            if version as usize > PG_MIGRATIONS.len() {
                return Err(newer(db.label(), version));
            }
            if read_only {
                return match version as usize {
                    0 => Ok(false),
                    v if v == PG_MIGRATIONS.len() => Ok(true),
                    _ => Err(not_current(db.label(), version)),
                };
            }
            if !has_schema {
                db.batch("CREATE TABLE wxsec_schema (version BIGINT NOT NULL); INSERT INTO wxsec_schema VALUES (0)")?;
            }
            for (i, sql) in PG_MIGRATIONS.iter().enumerate().skip(version as usize) {
                db.atomic(|| {
                    db.batch(sql)?;
                    db.execute("UPDATE wxsec_schema SET version = ?1", &[((i + 1) as i64).into()]).map(|_| ())
                })?;
            }
            Ok(true)
        })();
        let unlocked = db.batch("SELECT pg_advisory_unlock(2004383589)");
        unlocked.and(result)
    }

    /// The schema version in force.
    pub fn version(&self) -> Result<i64> {
        match self.db.dialect() {
            Dialect::Sqlite => self.db.query_int("PRAGMA user_version", &[]),
            Dialect::Postgres => self.db.query_int("SELECT max(version) FROM wxsec_schema", &[]),
        }
    }

    fn err(&self, e: &rusqlite::Error) -> Error {
        self.db.sqlite_err(e)
    }

    /// The store.
    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    /// Whether the state is shared on a server (several hosts) rather than a file.
    pub fn is_shared(&self) -> bool {
        self.db.dialect() == Dialect::Postgres
    }

    /// The state file, or the server's address (without its password).
    pub fn path(&self) -> &Path {
        self.db.label()
    }

    /// Starts a transaction the caller ends with [`State::commit`] (bulk writes).
    pub fn begin(&self) -> Result<()> {
        self.db.begin()
    }

    /// Commits what [`State::begin`] started.
    pub fn commit(&self) -> Result<()> {
        self.db.commit()
    }

    /// A stored setting (`index_emptied`, …).
    pub fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(self.db.query_row("SELECT value FROM settings WHERE name = ?1", &[name.into()])?.map(|r| r.text(0)))
    }

    /// Stores a setting.
    pub fn set_setting(&self, name: &str, value: &str) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                &[name.into(), value.into()],
            )
            .map(|_| ())
    }

    /// Runs `f` in one transaction (bulk discovery).
    pub fn batch<T>(&self, f: impl FnOnce(&State) -> Result<T>) -> Result<T> {
        self.db.atomic(|| f(self))
    }
}

/// The crawl's tables and the columns copied from one state into another: everything but the
/// search index, which is rebuilt from the record files, and the leases, which end with the
/// copy.
const COPIED: &[(&str, &str, &str)] = &[
    (
        "articles",
        "key, url, status, attempts, last_error, next_attempt, record_path, content_hash, first_seen, fetched_at, source, depth, replace_path, fetched_by",
        // Two hosts' files may both know an article: the one that wrote it wins.
        "ON CONFLICT (key) DO UPDATE SET status = excluded.status, record_path = excluded.record_path,
         content_hash = excluded.content_hash, fetched_at = excluded.fetched_at, fetched_by = excluded.fetched_by
         WHERE articles.status <> 'done' AND excluded.status = 'done'",
    ),
    ("aliases", "alias, key", "ON CONFLICT DO NOTHING"),
    (
        "sources",
        "name, etag, last_modified, last_polled, kind, last_ok, last_error, found, walked, page_cursor",
        "ON CONFLICT DO NOTHING",
    ),
    ("alternates", "key, url", "ON CONFLICT DO NOTHING"),
    (
        "hosts",
        "name, blocked_until_ms, pause_until_ms, interval_ms, slow_until_ms, last_seen_ms",
        "ON CONFLICT DO NOTHING",
    ),
];

/// What [`State::copy_into`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    /// Rows read from the old state, by table.
    pub tables: std::collections::BTreeMap<String, usize>,
}

impl State {
    /// Copies the crawl's history (articles, aliases, sources' poll state, hosts' cool-downs)
    /// into `to`, in one transaction: a state file moved to a server, or several hosts' files
    /// merged into one. Rows `to` has already are kept, but an article this state has written
    /// wins over one `to` has not.
    pub fn copy_into(&self, to: &State) -> Result<Copied> {
        let mut copied = Copied::default();
        to.batch(|to| {
            for (table, columns, conflict) in COPIED {
                let rows = self.db.query(&format!("SELECT {columns} FROM {table}"), &[])?;
                let n = columns.split(',').count();
                let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
                let sql = format!("INSERT INTO {table} ({columns}) VALUES ({}) {conflict}", marks.join(", "));
                for row in &rows {
                    let params: Vec<db::Value> = row.0.iter().map(db::Datum::as_value).collect();
                    to.db.execute(&sql, &params)?;
                }
                copied.tables.insert((*table).to_string(), rows.len());
            }
            Ok(())
        })?;
        Ok(copied)
    }
}

fn newer(path: &Path, version: i64) -> Error {
    Error::State {
        path: path.to_path_buf(),
        message: format!("schema version {version} is newer than this wxsec ({}); upgrade wxsec", MIGRATIONS.len()),
    }
}

fn not_current(path: &Path, version: i64) -> Error {
    Error::State {
        path: path.to_path_buf(),
        message: format!(
            "a dry run reads the state as it is, and this one is not of this wxsec's schema ({version}, not {}): run `wxsec crawl` once to upgrade it",
            MIGRATIONS.len()
        ),
    }
}

/// The file's application id and schema version, where a corrupt or foreign file shows itself.
fn identity(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    let app_id = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
    let version = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    Ok((app_id, version))
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
    use crate::article::ArticleId;

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
    fn an_index_of_the_old_form_is_emptied_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v4.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..4] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 4).unwrap();
            c.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            c.execute_batch(
                "INSERT INTO records (path, account, url, title, source, date, fetch_date) VALUES ('a.md', '1', '', 't', 's', '', '');
                 INSERT INTO records_fts (rowid, title, source, body) VALUES (1, 't', 's', '远程代码执行');",
            )
            .unwrap();
        }
        let s = State::open(&path).unwrap();
        assert_eq!(s.version().unwrap(), MIGRATIONS.len() as i64);
        assert_eq!(index::count(&s).unwrap(), 0);
        assert!(index::emptied(&s).unwrap(), "search tells the user to reindex");
        index::reindex(&s, &dir.path().join("records")).unwrap_or_default();
        // A rebuild that failed leaves its mark, and search says to run it again.
        assert!(index::emptied_because(&s).unwrap().unwrap().contains("stopped before it finished"));
        std::fs::create_dir_all(dir.path().join("records")).unwrap();
        index::reindex(&s, &dir.path().join("records")).unwrap();
        assert!(!index::emptied(&s).unwrap(), "until it ran");
        let fresh = State::open(&dir.path().join("new.sqlite")).unwrap();
        assert!(!index::emptied(&fresh).unwrap(), "a new state file has nothing to rebuild");
    }

    #[test]
    fn a_one_host_cool_down_becomes_this_hosts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..5] {
                c.execute_batch(sql).unwrap();
            }
            c.pragma_update(None, "user_version", 5).unwrap();
            c.pragma_update(None, "application_id", APPLICATION_ID).unwrap();
            c.execute_batch(
                "INSERT INTO settings VALUES ('blocked_until_ms', '123'), ('wechat_interval_ms', '6000'), ('other', 'x')",
            )
            .unwrap();
        }
        let s = State::open(&path).unwrap();
        let mine = s.host_state(s.host()).unwrap();
        assert_eq!((mine.blocked_until_ms, mine.interval_ms), (123, 6000));
        assert_eq!(s.setting("blocked_until_ms").unwrap(), None, "moved, not copied");
        assert_eq!(s.setting("other").unwrap().as_deref(), Some("x"));
    }

    #[test]
    fn a_servers_password_is_not_shown() {
        let shown = db::shown(Path::new("postgres://wxsec:s3cret@db.internal:5432/wxsec"));
        assert_eq!(shown, Path::new("postgres://wxsec:***@db.internal:5432/wxsec"));
        assert!(is_server(Path::new("postgresql://db/x")) && !is_server(Path::new("postgres.sqlite")));
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
