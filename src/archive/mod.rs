//! The archive's state file: one SQLite file holding what the archive knows beside its record
//! files: the crawl's articles, queue, aliases and cool-downs ([`articles`]), and the search
//! index and feed signatures ([`index`]). This module owns the schema, its migrations and the
//! transactions; `import`, `normalise`, `crawl`, `search` and `feed` work through it.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

mod articles;
pub mod index;

pub use articles::{Row, Status, id_key};

use crate::error::{Error, Result};

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

    /// A second connection to a state file another connection of this process writes, for
    /// reading from another thread (a `normalise` worker asking whether a record is indexed as it
    /// is). It sees what was committed; nothing is created or migrated.
    pub fn open_reader(path: &Path) -> Result<State> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| state_err(path, &e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| state_err(path, &e))?;
        Ok(State { conn, path: path.to_path_buf() })
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

    /// Starts a transaction the caller ends with [`State::commit`] (bulk writes).
    pub fn begin(&self) -> Result<()> {
        self.conn.execute_batch("BEGIN").map_err(|e| self.err(&e))
    }

    /// Commits what [`State::begin`] started.
    pub fn commit(&self) -> Result<()> {
        self.conn.execute_batch("COMMIT").map_err(|e| self.err(&e))
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
        std::fs::create_dir_all(dir.path().join("records")).unwrap();
        index::reindex(&s, &dir.path().join("records")).unwrap();
        assert!(!index::emptied(&s).unwrap(), "until it ran");
        let fresh = State::open(&dir.path().join("new.sqlite")).unwrap();
        assert!(!index::emptied(&fresh).unwrap(), "a new state file has nothing to rebuild");
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
