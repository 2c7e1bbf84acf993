//! What `normalise` saw of each input the last time, so that a run over an archive where nothing
//! changed reads no file: an input whose size and modification time are those it had, whose
//! record is on disk as it was written and in the index with the same hash, has the outcome it had.
//! A million inputs are then a million `stat`s and lookups, not twenty gigabytes read.
//!
//! The cache is a SQLite file of its own in the archive's `.wxsec/` (a cache: deleting it costs
//! only time). It is trusted only as far as it can be checked: the binary and the options must be
//! those it was made with (another build may clean differently), an input changed within two
//! seconds of being seen is not remembered (a later change in the same tick would not show in its
//! time), and a hit is confirmed against the index, so that a state made anew never misses a
//! record the cache remembers.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use rusqlite::{Connection, OptionalExtension, params};

use super::Outcome;

/// The cache's file, in the archive's `.wxsec/`.
pub(super) fn file(root: &Path) -> PathBuf {
    root.join(".wxsec").join("normalise-seen.sqlite")
}

/// An input's size and modification time (nanoseconds), as compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Stamp {
    pub size: i64,
    pub mtime: i64,
}

impl Stamp {
    pub(super) fn of(path: &Path) -> Option<Stamp> {
        let meta = std::fs::metadata(path).ok()?;
        let mtime = meta.modified().ok()?.duration_since(UNIX_EPOCH).ok()?.as_nanos() as i64;
        Some(Stamp { size: meta.len() as i64, mtime })
    }
}

/// What was seen of an input: its outcome, and the record written for it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Seen {
    pub outcome: Outcome,
    pub kind: String,
    pub reason: String,
    pub url: String,
    pub format: String,
    pub source_given: bool,
    /// The record file (empty when none was written) and its stamp once written.
    pub target: PathBuf,
    pub target_stamp: Stamp,
    /// The record's hash, as the index keeps it.
    pub hash: String,
}

fn outcome_code(o: Outcome) -> i64 {
    match o {
        Outcome::Clean => 0,
        Outcome::OtherSite => 1,
        Outcome::Stub => 2,
        Outcome::Truncated => 3,
        Outcome::Incomplete => 4,
        Outcome::Unrecognised => 5,
    }
}

fn outcome_of(code: i64) -> Option<Outcome> {
    Some(match code {
        0 => Outcome::Clean,
        1 => Outcome::OtherSite,
        2 => Outcome::Stub,
        3 => Outcome::Truncated,
        4 => Outcome::Incomplete,
        5 => Outcome::Unrecognised,
        _ => return None,
    })
}

/// The identity of a run's way of cleaning: the binary and the options that change a record.
pub(super) fn fingerprint(options: &str) -> String {
    let exe = std::env::current_exe().ok().and_then(|e| Stamp::of(&e));
    format!("{}:{exe:?}:{options}", env!("CARGO_PKG_VERSION"))
}

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS seen (
        input TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        mtime INTEGER NOT NULL,
        outcome INTEGER NOT NULL,
        kind TEXT NOT NULL,
        reason TEXT NOT NULL,
        url TEXT NOT NULL,
        format TEXT NOT NULL,
        source_given INTEGER NOT NULL,
        target TEXT NOT NULL,
        target_size INTEGER NOT NULL,
        target_mtime INTEGER NOT NULL,
        hash TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS made_by (fingerprint TEXT NOT NULL);";

/// The cache, as the writing thread holds it.
pub(super) struct Writer {
    conn: Connection,
}

impl Writer {
    /// Opens (or makes) the cache; one made by another binary or other options is emptied.
    pub(super) fn open(path: &Path, fingerprint: &str) -> rusqlite::Result<Writer> {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let conn = Connection::open(path)?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")?;
        conn.execute_batch(SCHEMA)?;
        let made: Option<String> = conn.query_row("SELECT fingerprint FROM made_by", [], |r| r.get(0)).optional()?;
        if made.as_deref() != Some(fingerprint) {
            conn.execute_batch("DELETE FROM seen; DELETE FROM made_by;")?;
            conn.execute("INSERT INTO made_by (fingerprint) VALUES (?1)", [fingerprint])?;
        }
        Ok(Writer { conn })
    }

    /// Remembers inputs whose records are now durable, in one transaction.
    pub(super) fn remember(&mut self, rows: &[(PathBuf, Stamp, Seen)]) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        {
            let mut put = tx.prepare_cached(
                "INSERT OR REPLACE INTO seen (input, size, mtime, outcome, kind, reason, url, format, source_given,
                    target, target_size, target_mtime, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for (input, stamp, s) in rows {
                put.execute(params![
                    input.to_string_lossy(),
                    stamp.size,
                    stamp.mtime,
                    outcome_code(s.outcome),
                    s.kind,
                    s.reason,
                    s.url,
                    s.format,
                    s.source_given,
                    s.target.to_string_lossy(),
                    s.target_stamp.size,
                    s.target_stamp.mtime,
                    s.hash,
                ])?;
            }
        }
        tx.commit()
    }
}

/// A worker's reading connection.
pub(super) struct Reader {
    conn: Connection,
}

impl Reader {
    pub(super) fn open(path: &Path) -> Option<Reader> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).ok()?;
        // Up to sixteen workers hold one each: a lookup walks four pages of the tree, and the
        // default 2 MB cache apiece was a quarter of the run's memory.
        conn.execute_batch("PRAGMA cache_size = -256").ok()?;
        Some(Reader { conn })
    }

    /// What was seen of `input` when it had `stamp`.
    pub(super) fn lookup(&self, input: &Path, stamp: Stamp) -> Option<Seen> {
        let mut get = self
            .conn
            .prepare_cached(
                "SELECT outcome, kind, reason, url, format, source_given, target, target_size, target_mtime, hash
                 FROM seen WHERE input = ?1 AND size = ?2 AND mtime = ?3",
            )
            .ok()?;
        get.query_row(params![input.to_string_lossy(), stamp.size, stamp.mtime], |r| {
            Ok(Seen {
                outcome: outcome_of(r.get(0)?).unwrap_or(Outcome::Unrecognised),
                kind: r.get(1)?,
                reason: r.get(2)?,
                url: r.get(3)?,
                format: r.get(4)?,
                source_given: r.get(5)?,
                target: PathBuf::from(r.get::<_, String>(6)?),
                target_stamp: Stamp { size: r.get(7)?, mtime: r.get(8)? },
                hash: r.get(9)?,
            })
        })
        .ok()
    }
}

/// Whether a stamp is old enough to be trusted: a file written in the last two seconds may be
/// written again within the same tick of its clock.
pub(super) fn settled(stamp: Stamp) -> bool {
    let now = std::time::SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    stamp.mtime < now - 2_000_000_000
}

/// A kind or format name read back from the cache, as the `'static` names outcomes carry: the
/// names are few, each kept once for the run.
pub(super) fn interned(name: &str) -> &'static str {
    static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let Ok(mut names) = NAMES.lock() else { return "unknown" };
    if let Some(n) = names.iter().find(|n| **n == name) {
        return n;
    }
    let n: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.push(n);
    n
}

/// Remembers the inputs whose records the last commit made durable, each with its record's
/// stamp as it now is on disk. A cache that cannot be written is given up: the run goes on, and
/// the next one reads every file.
pub(super) fn remember(writer: &mut Option<Writer>, rows: &mut Vec<(PathBuf, Stamp, Seen)>) {
    let Some(w) = writer.as_mut() else { return rows.clear() };
    let mut kept = Vec::with_capacity(rows.len());
    for (input, mut stamp, mut seen) in rows.drain(..) {
        if matches!(seen.outcome, Outcome::Clean | Outcome::OtherSite) {
            let Some(now) = Stamp::of(&seen.target) else { continue };
            seen.target_stamp = now;
            // In place, the input is its record: as it is now.
            if seen.target == input {
                stamp = now;
            }
        }
        kept.push((input, stamp, seen));
    }
    if let Err(e) = w.remember(&kept) {
        tracing::warn!(error = %e, "the cache of inputs seen could not be written; the next run reads every file");
        *writer = None;
    }
}
