//! The files side of `normalise`: walking the inputs, writing each record whole (mirrored under
//! `--out` or replaced in place), the JSON Lines report and the counts. One file is held in
//! memory at a time.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use super::Outcome;
use super::summary::ReportLine;
pub use super::summary::Summary;
use crate::error::{Error, Result};
use crate::store;
use crate::tree::{self, Found, Skip, walk};

/// Where cleaned records go.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Destination {
    /// Mirrored under this folder, at the same relative paths.
    Out(PathBuf),
    /// Over the input files themselves.
    #[default]
    InPlace,
}

/// Settings of one `normalise` run.
#[derive(Debug, Clone, Default)]
pub struct NormaliseOptions {
    /// Where records go.
    pub destination: Destination,
    /// The JSON Lines report of stubs, truncated and unreadable files.
    pub report: Option<PathBuf>,
    /// Security entities in the front matter.
    pub extra_fields: bool,
    /// The archive folder: index paths are relative to it, and `assets/` is in it.
    pub root: PathBuf,
    /// The state file: the search index is kept there, and `queue` adds to its crawl queue.
    pub state: Option<PathBuf>,
    /// Put every stub and truncated record into the crawl queue, to be fetched again and written
    /// over the broken file.
    pub queue: bool,
    /// Remote image links, or images downloaded into `ROOT/assets`.
    pub images: crate::assets::Images,
    /// Spacing of requests to each image host.
    pub image_delay: std::time::Duration,
    /// Non-public hosts images may come from.
    pub image_allow: crate::fetch::guard::Allowed,
    /// The account of files that name none (`--source`, `--source-from-folder`).
    pub given: super::Given,
}

/// The largest record file read; the seed archive's largest is about 300 KB.
const MAX_RECORD_BYTES: u64 = 64 << 20;

/// Normalises every file on a few threads (reading, cleaning and writing one file is independent
/// of the others); calls `progress` after each file and `warn` with each
/// failure, both on the calling thread.
pub fn run(
    paths: &[PathBuf],
    opts: &NormaliseOptions,
    mut progress: impl FnMut(usize, usize),
    mut warn: impl FnMut(&Error),
) -> Result<Summary> {
    let in_place = opts.destination == Destination::InPlace;
    let skip: Vec<PathBuf> = match &opts.destination {
        Destination::Out(dir) => vec![dir.clone()],
        Destination::InPlace => Vec::new(),
    };
    let rules = tree::Rules { skip: &skip, clear_scraps: in_place, is_record: tree::is_normalise_input };
    for input in paths {
        std::fs::metadata(input).map_err(|source| Error::Read { path: input.clone(), source })?;
    }
    let mut report = match &opts.report {
        Some(p) => Some(BufWriter::new(File::create(p).map_err(|source| Error::Write { path: p.clone(), source })?)),
        None => None,
    };
    let report_err = |source| Error::Write { path: opts.report.clone().unwrap_or_default(), source };
    let mut summary = Summary::default();
    let found = AtomicUsize::new(0);
    // Two inputs can share relative paths; one input cannot, and then nothing is remembered.
    let claimed: Option<Mutex<HashSet<PathBuf>>> = (paths.len() > 1).then(|| Mutex::new(HashSet::new()));
    // Twice the cores: a worker waiting on fsync leaves its core to another.
    let workers = (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(2, 16);
    let (job_tx, job_rx) = mpsc::sync_channel::<Result<(PathBuf, PathBuf)>>(256);
    let (skipped_folders, skipped_files) = (AtomicUsize::new(0), AtomicUsize::new(0));
    // Held by the workers alone: when they stop (the writer failed), the walker's next send
    // fails and it stops too, instead of waiting forever on a full queue no one reads.
    let job_rx = std::sync::Arc::new(Mutex::new(job_rx));
    let (tx, rx) = mpsc::sync_channel::<(PathBuf, Result<Done>)>(2 * workers);
    let state = opts.state.as_deref().map(crate::archive::State::open).transpose()?;
    // A server's words index takes new rows into its pending list and merges them into the tree
    // a list at a time: the default list of 4 MB merged every few hundred records.
    if let Some(s) = state.as_ref().filter(|s| s.db().dialect() == crate::archive::db::Dialect::Postgres) {
        s.db().batch("SET gin_pending_list_limit = '64MB'")?;
    }
    // What was seen of each input, kept beside the index: without the index nothing can confirm
    // it, and a run without it reads every file.
    let options =
        format!("{:?}|{}|{:?}|{:?}|{}", opts.destination, opts.extra_fields, opts.given, opts.images, opts.queue);
    let mut seen_writer = state.as_ref().and_then(|_| {
        super::seen::Writer::open(&super::seen::file(&opts.root), &super::seen::fingerprint(&options))
            .map_err(|e| tracing::warn!(error = %e, "the cache of inputs seen could not be opened; every file is read"))
            .ok()
    });
    let seen_path = seen_writer.as_ref().map(|_| super::seen::file(&opts.root));
    let mut remembering: Vec<(PathBuf, super::seen::Stamp, super::seen::Seen)> = Vec::new();
    // Index entries waiting to go to a server in one statement (a file's index takes each at once).
    let mut bulk: Vec<crate::archive::index::Entry> = Vec::new();
    // Records are made durable a batch at a time, and the index's transaction commits only after
    // its batch is: a crash loses at most the open batch, never a record, and the index never
    // names a record that is not on disk.
    let scratch = match &opts.destination {
        Destination::Out(dir) => Some(dir.join(".wxsec/normalise-tmp")),
        Destination::InPlace => None,
    };
    let stager = store::Stager::new(scratch.as_deref())?;
    let mut batch = store::Batch::default();
    let now = chrono::Utc::now().timestamp();
    // Clean records whose images are to be made local once the files are all written.
    let mut with_images: Vec<(PathBuf, PathBuf)> = Vec::new();
    if let Some(s) = &state {
        s.begin()?;
    }
    std::thread::scope(|scope| -> Result<()> {
        let (found_ref, folders, files) = (&found, &skipped_folders, &skipped_files);
        scope.spawn(move || {
            walk(paths, rules, |job| {
                let job = match job {
                    Ok(Found::Record(path, rel)) => Ok((path, rel)),
                    Ok(Found::Skipped(Skip::HiddenFolder)) => {
                        folders.fetch_add(1, Ordering::Relaxed);
                        return true;
                    }
                    Ok(Found::Skipped(_)) => {
                        files.fetch_add(1, Ordering::Relaxed);
                        return true;
                    }
                    Err(e) => Err(e),
                };
                found_ref.fetch_add(1, Ordering::Relaxed);
                job_tx.send(job).is_ok()
            })
        });
        for _ in 0..workers {
            let tx = tx.clone();
            let job_rx = std::sync::Arc::clone(&job_rx);
            let (claimed, stager) = (&claimed, &stager);
            let index_root = state.as_ref().map(|_| opts.root.as_path());
            let state_path = opts.state.as_deref().filter(|_| state.is_some());
            let seen_path = seen_path.as_deref();
            scope.spawn(move || {
                let seen_reader = seen_path.and_then(super::seen::Reader::open);
                // The worker's own reading connection: a record already indexed as it is costs
                // no entry (parse, words, entities) and no trip to the writing thread.
                let reader = state_path.and_then(|p| crate::archive::State::open_reader(p).ok());
                let index = index_root.map(|root| (root, reader.as_ref()));
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(job) = job else { break };
                    let sent = match job {
                        Ok((path, rel)) if crate::fetch::warc::is_warc(&path) => {
                            // A web archive gives one outcome per article, each sent as it is read.
                            let mut sent = Ok(());
                            let mut first = true;
                            super::saved::archive(
                                &path,
                                opts.extra_fields,
                                opts.given.source.as_deref(),
                                MAX_RECORD_BYTES as usize,
                                |page| {
                                    if !std::mem::take(&mut first) {
                                        found_ref.fetch_add(1, Ordering::Relaxed);
                                    }
                                    let done = page.and_then(|(n, name)| {
                                        finish(&path, &rel, n, Some(name), opts, index, claimed.as_ref(), stager)
                                    });
                                    sent = tx.send((path.clone(), done));
                                    sent.is_ok()
                                },
                            );
                            sent
                        }
                        Ok((path, rel)) => {
                            let result = remembered_or(&path, seen_reader.as_ref(), index, || {
                                one_file(&path, &rel, opts, index, claimed.as_ref(), stager)
                            });
                            tx.send((path, result))
                        }
                        Err(e) => tx.send((PathBuf::new(), Err(e))),
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            });
        }
        drop((tx, job_rx));
        for (done, (path, result)) in rx.into_iter().enumerate() {
            summary.read += 1;
            let line = match result {
                Ok(Done { outcome, n, target, staged, entry, stamp, hash, remembered }) => {
                    summary.remembered += usize::from(remembered);
                    if let Some(stamp) = stamp.filter(|s| seen_writer.is_some() && super::seen::settled(*s))
                        && let Ok(input) = std::path::absolute(&path)
                    {
                        remembering.push((
                            input,
                            stamp,
                            super::seen::Seen {
                                outcome: n.outcome,
                                kind: n.kind.to_string(),
                                reason: n.reason.clone(),
                                url: n.url.clone(),
                                format: n.format.unwrap_or_default().to_string(),
                                source_given: n.source_given,
                                target: std::path::absolute(&target).unwrap_or_else(|_| target.clone()),
                                target_stamp: super::seen::Stamp { size: 0, mtime: 0 },
                                hash: hash.unwrap_or_default(),
                            },
                        ));
                    }
                    if let Some(st) = staged {
                        batch.push(st);
                    }
                    if let Some(s) = &state {
                        keep_state(s, opts, &outcome, &n, entry, &target, now, &mut summary, &mut bulk)?;
                    }
                    if batch.is_full() || (done + 1) % 4096 == 0 {
                        flush_bulk(state.as_ref(), &mut bulk)?;
                        commit(&mut batch, state.as_ref())?;
                        super::seen::remember(&mut seen_writer, &mut remembering);
                    }
                    if opts.images == crate::assets::Images::Local && n.record.is_some() {
                        with_images.push((target, path.clone()));
                    }
                    match outcome {
                        FileOutcome::Written => summary.written += 1,
                        FileOutcome::Unchanged => summary.unchanged += 1,
                        FileOutcome::Other => summary.other_sites += 1,
                        FileOutcome::Reported(Outcome::Stub) => summary.stubs += 1,
                        FileOutcome::Reported(Outcome::Truncated) => summary.truncated += 1,
                        FileOutcome::Reported(Outcome::Incomplete) => summary.incomplete += 1,
                        FileOutcome::Reported(_) => summary.unrecognised += 1,
                    }
                    if n.record.is_none() {
                        *summary.kinds.entry(n.kind).or_default() += 1;
                    }
                    if let Some(f) = n.format {
                        *summary.formats.entry(f).or_default() += 1;
                    }
                    summary.source_given += usize::from(n.source_given);
                    if n.record.is_none() || n.source_given {
                        tracing::debug!(path = %path.display(), kind = n.kind, format = n.format.unwrap_or(""), reason = n.reason, "reported");
                    }
                    (!n.reason.is_empty() || n.record.is_none())
                        .then(|| (n.url, n.kind.to_string(), n.reason, n.format.unwrap_or_default()))
                }
                Err(e) => {
                    summary.errors += 1;
                    warn(&e);
                    Some((String::new(), "error".to_string(), e.to_string(), ""))
                }
            };
            if let (Some(w), Some((url, kind, reason, format))) = (report.as_mut(), line) {
                let shown = path.display().to_string();
                let json = serde_json::to_string(&ReportLine {
                    path: &shown,
                    url: &url,
                    kind: &kind,
                    reason: &reason,
                    format,
                })
                .expect("plain data serialises");
                writeln!(w, "{json}").map_err(report_err)?;
            }
            progress(done + 1, found.load(Ordering::Relaxed));
        }
        Ok(())
    })?;
    summary.skipped_folders = skipped_folders.into_inner();
    summary.skipped_files = skipped_files.into_inner();
    flush_bulk(state.as_ref(), &mut bulk)?;
    commit(&mut batch, state.as_ref())?;
    super::seen::remember(&mut seen_writer, &mut remembering);
    // The scratch folder is empty once every batch is committed: it goes, and `.wxsec` with it
    // when nothing else is there (an output written without the index holds records only).
    if let Some(dir) = &scratch {
        let _ = std::fs::remove_dir(dir);
        let _ = dir.parent().map(std::fs::remove_dir);
    }
    if !with_images.is_empty() {
        super::images::local_images(&with_images, opts, &mut summary, &mut warn)?;
    }
    if let Some(mut w) = report {
        w.flush().map_err(report_err)?;
    }
    Ok(summary)
}

/// Makes the batch's records durable and under their names, then commits the index that names
/// them.
fn commit(batch: &mut store::Batch, state: Option<&crate::archive::State>) -> Result<()> {
    batch.commit()?;
    if let Some(s) = state {
        s.commit()?;
        s.begin()?;
    }
    Ok(())
}

/// How many index entries go to a server in one statement.
const BULK: usize = 256;

/// Sends the entries waiting for the server, those it holds as they are left out.
fn flush_bulk(state: Option<&crate::archive::State>, bulk: &mut Vec<crate::archive::index::Entry>) -> Result<()> {
    let Some(state) = state.filter(|_| !bulk.is_empty()) else { return Ok(()) };
    let same = crate::archive::bulk::unchanged(state, bulk)?;
    bulk.retain(|e| !same.contains(&e.path));
    crate::archive::bulk::upsert_many(state, bulk)?;
    bulk.clear();
    Ok(())
}

/// One file done by a worker: its outcome, the record staged for the batch, its index entry.
struct Done {
    outcome: FileOutcome,
    n: super::Normalised,
    target: PathBuf,
    staged: Option<store::Staged>,
    entry: Option<crate::archive::index::Entry>,
    /// The input's stamp as read, to be remembered once its record is durable; `None` when the
    /// outcome came from what was remembered (or cannot be).
    stamp: Option<super::seen::Stamp>,
    /// The record's hash, as the index keeps it.
    hash: Option<String>,
    /// The outcome is the one remembered: the file was not read.
    remembered: bool,
}

enum FileOutcome {
    Written,
    Unchanged,
    /// A record of another site (written or already as it should be).
    Other,
    Reported(Outcome),
}

/// The outcome remembered for an input as it is now, else the one `read` gives, stamped as the
/// input was before it was read (a change made while it is read shows next time).
fn remembered_or(
    path: &Path,
    seen: Option<&super::seen::Reader>,
    index: Option<(&Path, Option<&crate::archive::State>)>,
    read: impl FnOnce() -> Result<Done>,
) -> Result<Done> {
    let stamp = seen.and(super::seen::Stamp::of(path));
    if let (Some(reader), Some(stamp)) = (seen, stamp)
        && let Some(done) = remembered(reader, path, stamp, index)
    {
        return Ok(done);
    }
    let mut done = read()?;
    done.stamp = stamp;
    Ok(done)
}

/// The outcome an input had when it was last seen as it is, when its record is still on disk
/// and in the index as written.
fn remembered(
    reader: &super::seen::Reader,
    path: &Path,
    stamp: super::seen::Stamp,
    index: Option<(&Path, Option<&crate::archive::State>)>,
) -> Option<Done> {
    let seen = reader.lookup(&std::path::absolute(path).ok()?, stamp)?;
    let written = matches!(seen.outcome, Outcome::Clean | Outcome::OtherSite);
    if written {
        if super::seen::Stamp::of(&seen.target) != Some(seen.target_stamp) {
            return None;
        }
        let (root, state) = index?;
        let indexed = crate::archive::index::index_path(root, &seen.target);
        if crate::archive::index::indexed_hash(state?, &indexed).ok().flatten().as_deref() != Some(seen.hash.as_str()) {
            return None;
        }
    }
    let n = super::Normalised {
        outcome: seen.outcome,
        // Only whether there is a record matters past this point; its text is on disk.
        record: written.then(String::new),
        url: seen.url,
        kind: super::seen::interned(&seen.kind),
        reason: seen.reason,
        format: (!seen.format.is_empty()).then(|| super::seen::interned(&seen.format)),
        source_given: seen.source_given,
    };
    let outcome = match seen.outcome {
        Outcome::Clean => FileOutcome::Unchanged,
        Outcome::OtherSite => FileOutcome::Other,
        o => FileOutcome::Reported(o),
    };
    Some(Done { outcome, n, target: seen.target, staged: None, entry: None, stamp: None, hash: None, remembered: true })
}

fn one_file(
    path: &Path,
    rel: &Path,
    opts: &NormaliseOptions,
    index: Option<(&Path, Option<&crate::archive::State>)>,
    claimed: Option<&Mutex<HashSet<PathBuf>>>,
    stager: &store::Stager,
) -> Result<Done> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| {
            let len = f.metadata().map_or(0, |m| m.len()).min(MAX_RECORD_BYTES + 1);
            bytes.reserve(len as usize + 1);
            f.take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)
        })
        .map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(Error::Read {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, "larger than 64 MiB, not a record"),
        });
    }
    if super::saved::is_page(&bytes) {
        let (n, name) = super::saved::page(path, bytes, opts.extra_fields, opts.given.source.as_deref())?;
        return finish(path, rel, n, Some(name), opts, index, claimed, stager);
    }
    let text = crate::fetch::decode_html_owned(bytes, None);
    let n = crate::error::guarded(&path.display().to_string(), || {
        let n = super::normalise_file(&text, opts.extra_fields, &opts.given, super::Place::of(path));
        // A file with no header of its own may have its facts in a `meta.json` beside it; looked
        // for only then, so that other files cost no extra stat.
        if n.outcome == Outcome::Unrecognised
            && let Some(sidecar) = crate::record::formats::Sidecar::beside(path)
        {
            let place = super::Place { sidecar: Some(&sidecar), ..super::Place::of(path) };
            return Ok(super::normalise_file(&text, opts.extra_fields, &opts.given, place));
        }
        Ok(n)
    })?;
    finish(path, rel, n, None, opts, index, claimed, stager)
}

/// Stages one outcome's record (when it has one and it changed) and reads its index entry.
/// `saved` is the name a saved page's record takes beside the page (a record file is written
/// under its own name).
#[allow(clippy::too_many_arguments)]
fn finish(
    path: &Path,
    rel: &Path,
    n: super::Normalised,
    saved: Option<PathBuf>,
    opts: &NormaliseOptions,
    index: Option<(&Path, Option<&crate::archive::State>)>,
    claimed: Option<&Mutex<HashSet<PathBuf>>>,
    stager: &store::Stager,
) -> Result<Done> {
    let (dir, name) = match &opts.destination {
        Destination::Out(out) => (out.clone(), rel.to_path_buf()),
        Destination::InPlace => (
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
            PathBuf::from(path.file_name().unwrap_or_default()),
        ),
    };
    let name = match saved {
        Some(own) => name.parent().map_or_else(|| own.clone(), |p| p.join(&own)),
        None => name,
    };
    let target = dir.join(&name);
    let Some(record) = &n.record else {
        return Ok(Done {
            outcome: FileOutcome::Reported(n.outcome),
            n,
            target,
            staged: None,
            entry: None,
            stamp: None,
            hash: None,
            remembered: false,
        });
    };
    // Two inputs with the same relative path would overwrite each other under `--out`.
    if claimed.is_some_and(|c| !c.lock().map_or(true, |mut c| c.insert(target.clone()))) {
        return Err(Error::Write {
            path: target,
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "another input of this run has the same relative path; normalise the folders one at a time",
            ),
        });
    }
    // Only a file of the same length can be the same record: most targets need no read.
    let unchanged = std::fs::metadata(&target).is_ok_and(|m| m.len() == record.len() as u64)
        && std::fs::read(&target).is_ok_and(|old| old == record.as_bytes());
    let staged = if unchanged {
        None
    } else {
        let base = if dir.as_os_str().is_empty() { Path::new(".") } else { &dir };
        Some(stager.stage(base, &name, record.as_bytes())?)
    };
    // The entry is read here, on the worker, so that the one thread writing the index does
    // nothing but write it.
    let entry = index.and_then(|(root, reader)| {
        let path = crate::archive::index::index_path(root, &target);
        let current = unchanged
            && reader.is_some_and(|r| {
                crate::archive::index::indexed_hash(r, &path).ok().flatten()
                    == Some(crate::archive::index::file_hash(record.as_bytes()))
            });
        if current { None } else { crate::archive::index::Entry::of_file_text(record, path, false) }
    });
    let outcome = match (n.outcome, unchanged) {
        (Outcome::OtherSite, _) => FileOutcome::Other,
        (_, true) => FileOutcome::Unchanged,
        _ => FileOutcome::Written,
    };
    let hash = Some(crate::archive::index::file_hash(record.as_bytes()));
    Ok(Done { outcome, n, target, staged, entry, stamp: None, hash, remembered: false })
}

/// Keeps the state current with one file's outcome: a record is indexed, a stub or truncated
/// record leaves the index and, with `--queue`, joins the crawl queue to be fetched again.
#[allow(clippy::too_many_arguments)]
fn keep_state(
    state: &crate::archive::State,
    opts: &NormaliseOptions,
    outcome: &FileOutcome,
    n: &super::Normalised,
    entry: Option<crate::archive::index::Entry>,
    target: &Path,
    now: i64,
    summary: &mut Summary,
    bulk: &mut Vec<crate::archive::index::Entry>,
) -> Result<()> {
    match (entry, outcome) {
        // On a server entries go a batch at a time, each round trip carrying hundreds.
        (Some(e), _) if state.db().dialect() == crate::archive::db::Dialect::Postgres => {
            bulk.push(e);
            if bulk.len() >= BULK {
                flush_bulk(Some(state), bulk)?;
            }
            Ok(())
        }
        // A record the index holds as it is now is left alone, so a second run costs no
        // indexing; one whose file changed (or a run killed before its index committed) is
        // indexed again.
        (Some(e), _) => {
            if crate::archive::index::indexed_hash(state, &e.path)?.as_deref() == Some(e.hash.as_str()) {
                return Ok(());
            }
            crate::archive::index::upsert_in_batch(state, &e)
        }
        (None, FileOutcome::Reported(Outcome::Stub | Outcome::Truncated)) => {
            // Entries waiting for the server go first: a removal must come after them.
            flush_bulk(Some(state), bulk)?;
            let indexed = crate::archive::index::index_path(&opts.root, target);
            crate::archive::index::remove(state, &indexed)?;
            if opts.queue && !n.url.is_empty() {
                let absolute = std::path::absolute(target).unwrap_or_else(|_| target.to_path_buf());
                if state.queue_repair(&n.url, &absolute.to_string_lossy(), now)? {
                    summary.queued += 1;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
