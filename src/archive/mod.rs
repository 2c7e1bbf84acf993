//! The archive's state file: one SQLite file holding what the archive knows beside its record
//! files: the crawl's articles, queue, aliases and cool-downs ([`articles`]), and the search
//! index and feed signatures ([`index`]). This module owns the schema, its migrations and the
//! transactions; `import`, `normalise`, `crawl`, `search` and `feed` work through it.

use std::path::Path;

use rusqlite::Connection;

mod articles;
mod copy;
pub mod db;
mod hosts;
mod schema;
mod sources;
pub use sources::{Paging, SourceRow};
pub mod bulk;
pub mod index;

pub use articles::{Row, Status, id_key};
pub use copy::Copied;
pub use db::{Dialect, is_server};
pub use hosts::{HostField, HostState, HostStatus};
use schema::{APPLICATION_ID, HOST_SETTINGS, MIGRATIONS, PG_MIGRATIONS, newer, not_current};

use db::Db;

use crate::error::{Error, Result};

/// The state of an archive: a SQLite file, or a PostgreSQL database several hosts share.
pub struct State {
    db: Db,
    /// The host this process works as (see [`host_name`]): the owner of its claims.
    host: String,
}

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

/// The error of a state that cannot be used, with what to do for a file or for a server.
pub fn state_error(location: impl Into<std::path::PathBuf>, message: impl Into<String>) -> Error {
    let path = location.into();
    Error::State { server: db::is_server(&path), path, message: message.into() }
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
                return Err(state_error(path.to_path_buf(), "this SQLite file belongs to another program".to_string()));
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
            .map_err(|()| state_error(path.to_path_buf(), "not a file path".to_string()))?;
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
                    return Err(state_error(
                        db.label().to_path_buf(),
                        "this database holds tables of another program; give wxsec a database of its own".to_string(),
                    ));
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
    state_error(path.to_path_buf(), message)
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
