//! The files side of `normalise`: walking the inputs, writing each record whole (mirrored under
//! `--out` or replaced in place), the JSON Lines report and the counts. One file is held in
//! memory at a time.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use serde::Serialize;

use super::{Outcome, normalise_text};
use crate::error::{Error, Result};
use crate::store;

/// Where cleaned records go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Mirrored under this folder, at the same relative paths.
    Out(PathBuf),
    /// Over the input files themselves.
    InPlace,
}

/// Settings of one `normalise` run.
#[derive(Debug, Clone)]
pub struct NormaliseOptions {
    /// Where records go.
    pub destination: Destination,
    /// The JSON Lines report of stubs, truncated and unreadable files.
    pub report: Option<PathBuf>,
}

/// Counts of a run, one outcome per file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files read.
    pub read: usize,
    /// Clean records written (new or changed).
    pub written: usize,
    /// Clean records already as they should be (not rewritten).
    pub unchanged: usize,
    /// Stubs (reported, not written).
    pub stubs: usize,
    /// Truncated records (reported, not written).
    pub truncated: usize,
    /// Records of other sites (repaired and kept).
    pub other_sites: usize,
    /// Files in no known record format.
    pub unrecognised: usize,
    /// Files that could not be read or written.
    pub errors: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} read, {} written, {} unchanged, {} stubs, {} truncated, {} other sites, {} unrecognised, {} errors",
            self.read,
            self.written,
            self.unchanged,
            self.stubs,
            self.truncated,
            self.other_sites,
            self.unrecognised,
            self.errors
        )
    }
}

#[derive(Serialize)]
struct ReportLine<'a> {
    path: &'a str,
    url: &'a str,
    kind: &'a str,
    reason: &'a str,
}

/// Walks the inputs and hands each record file to `found` with the path it keeps relative to
/// its input, in sorted order, without collecting them (an archive may hold millions). A folder
/// that cannot be read is handed over as an error; `found` returning false stops the walk.
pub fn walk(paths: &[PathBuf], skip: Option<&Path>, mut found: impl FnMut(Result<(PathBuf, PathBuf)>) -> bool) {
    for input in paths {
        if std::fs::metadata(input).is_ok_and(|m| m.is_file()) {
            let name = input.file_name().map(PathBuf::from).unwrap_or_else(|| input.clone());
            if !found(Ok((input.clone(), name))) {
                return;
            }
            continue;
        }
        let mut stack = vec![input.clone()];
        while let Some(dir) = stack.pop() {
            if skip.is_some_and(|s| same_place(&dir, s)) {
                continue;
            }
            let entries = match std::fs::read_dir(&dir) {
                Ok(rd) => rd,
                Err(source) => {
                    if !found(Err(Error::Read { path: dir.clone(), source })) {
                        return;
                    }
                    continue;
                }
            };
            let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            entries.sort();
            let mut subdirs = Vec::new();
            for path in entries {
                let hidden = path.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
                let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
                if hidden || meta.file_type().is_symlink() {
                    continue;
                }
                if meta.is_dir() {
                    subdirs.push(path);
                } else if is_record_file(&path) {
                    let rel = path.strip_prefix(input).map(Path::to_path_buf).unwrap_or_else(|_| path.clone());
                    if !found(Ok((path, rel))) {
                        return;
                    }
                }
            }
            stack.extend(subdirs.into_iter().rev());
        }
    }
}

fn is_record_file(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "md" | "markdown" | "txt"))
}

fn same_place(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
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
    let skip = match &opts.destination {
        Destination::Out(dir) => Some(dir.as_path()),
        Destination::InPlace => None,
    };
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
    // Folders written to, synced once each at the end rather than after every file.
    let touched: Mutex<HashSet<PathBuf>> = Mutex::new(HashSet::new());
    // Twice the cores: a worker waiting on fsync leaves its core to another.
    let workers = (2 * std::thread::available_parallelism().map_or(1, |n| n.get())).clamp(2, 16);
    let (job_tx, job_rx) = mpsc::sync_channel::<Result<(PathBuf, PathBuf)>>(256);
    let job_rx = Mutex::new(job_rx);
    let (tx, rx) = mpsc::sync_channel::<(PathBuf, Result<(FileOutcome, super::Normalised)>)>(64);
    std::thread::scope(|scope| -> Result<()> {
        let found_ref = &found;
        scope.spawn(move || {
            walk(paths, skip, |job| {
                found_ref.fetch_add(1, Ordering::Relaxed);
                job_tx.send(job).is_ok()
            })
        });
        for _ in 0..workers {
            let tx = tx.clone();
            let (job_rx, claimed, touched, dest) = (&job_rx, &claimed, &touched, &opts.destination);
            scope.spawn(move || {
                loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => break,
                    };
                    let Ok(job) = job else { break };
                    let sent = match job {
                        Ok((path, rel)) => {
                            let result = one_file(&path, &rel, dest, claimed.as_ref(), touched);
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
        drop(tx);
        for (done, (path, result)) in rx.into_iter().enumerate() {
            summary.read += 1;
            let line = match result {
                Ok((outcome, n)) => {
                    match outcome {
                        FileOutcome::Written => summary.written += 1,
                        FileOutcome::Unchanged => summary.unchanged += 1,
                        FileOutcome::Other => summary.other_sites += 1,
                        FileOutcome::Reported(Outcome::Stub) => summary.stubs += 1,
                        FileOutcome::Reported(Outcome::Truncated) => summary.truncated += 1,
                        FileOutcome::Reported(_) => summary.unrecognised += 1,
                    }
                    (!n.reason.is_empty() || n.record.is_none()).then(|| (n.url, n.kind.to_string(), n.reason))
                }
                Err(e) => {
                    summary.errors += 1;
                    warn(&e);
                    Some((String::new(), "error".to_string(), e.to_string()))
                }
            };
            if let (Some(w), Some((url, kind, reason))) = (report.as_mut(), line) {
                let shown = path.display().to_string();
                let json = serde_json::to_string(&ReportLine { path: &shown, url: &url, kind: &kind, reason: &reason })
                    .expect("plain data serialises");
                writeln!(w, "{json}").map_err(report_err)?;
            }
            progress(done + 1, found.load(Ordering::Relaxed));
        }
        Ok(())
    })?;
    for dir in touched.into_inner().unwrap_or_default() {
        store::sync_dir(&dir);
    }
    if let Some(mut w) = report {
        w.flush().map_err(report_err)?;
    }
    Ok(summary)
}

enum FileOutcome {
    Written,
    Unchanged,
    Other,
    Reported(Outcome),
}

fn one_file(
    path: &Path,
    rel: &Path,
    dest: &Destination,
    claimed: Option<&Mutex<HashSet<PathBuf>>>,
    touched: &Mutex<HashSet<PathBuf>>,
) -> Result<(FileOutcome, super::Normalised)> {
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
    let text = crate::fetch::decode_html(&bytes, None);
    let n = normalise_text(&text);
    let Some(record) = &n.record else {
        return Ok((FileOutcome::Reported(n.outcome), n));
    };
    let (dir, name) = match dest {
        Destination::Out(out) => (out.clone(), rel.to_path_buf()),
        Destination::InPlace => (
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
            PathBuf::from(path.file_name().unwrap_or_default()),
        ),
    };
    let target = dir.join(&name);
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
    if !unchanged {
        let base = if dir.as_os_str().is_empty() { Path::new(".") } else { &dir };
        let written = store::write_whole(base, &name, record.as_bytes())?;
        if let Some(parent) = written.parent() {
            touched.lock().map(|mut t| t.insert(parent.to_path_buf())).ok();
        }
    }
    let outcome = match (n.outcome, unchanged) {
        (Outcome::OtherSite, _) => FileOutcome::Other,
        (_, true) => FileOutcome::Unchanged,
        _ => FileOutcome::Written,
    };
    Ok((outcome, n))
}
