//! `reindex`: the index rebuilt from the record files, committed in steps under a mark that a
//! cut rebuild leaves behind, so a search never trusts a half-built index.

use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering;

use serde::Serialize;

use super::{Entry, index_path, upsert_in_batch};
use crate::archive::Dialect;
use crate::archive::State;
use crate::error::Error;
use crate::error::Result;

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
                        super::super::bulk::upsert_many(state, &bulk)?;
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
                super::super::bulk::upsert_many(state, &bulk)?;
                bulk.clear();
                state.commit()?;
                state.begin()?;
            }
        }
        super::super::bulk::upsert_many(state, &bulk)?;
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
pub(super) const REBUILDING: &str = "reindex unfinished";

/// How many records a rebuild indexes a transaction.
pub(super) const REINDEX_COMMIT_EVERY: usize = 20_000;

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
