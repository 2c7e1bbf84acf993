//! Walking a tree of record files: one rule for every command that reads an archive folder
//! (`normalise` its inputs, `reindex` its output), so that what one reads the other reads too.
//! Hidden record files (`.NET 反序列化….md` is an article's title) are read; hidden folders
//! (`.git`, `.wxsec`) are not; a symbolic link is never followed. Anything not read is counted.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::store;

/// What the walk finds.
pub enum Found {
    /// A record file, with the path it keeps relative to its input.
    Record(PathBuf, PathBuf),
    /// Something not read: a hidden folder (`.git`, `.wxsec`), a file that is not a record
    /// (`.png`), a symlink, a folder the caller leaves out. Counted, never silent.
    Skipped(Skip),
}

/// Why something was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A hidden folder (its files are not counted one by one).
    HiddenFolder,
    /// A file whose name does not end as a record's does.
    NotRecord,
    /// A symbolic link (never followed: it may leave the archive).
    Symlink,
}

/// What the walk leaves out and takes in.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Folders never entered, and not counted (the output folder inside an input; an
    /// archive's own `.wxsec/`, `assets/` and `feeds/`).
    pub skip: &'a [PathBuf],
    /// Removes the temporary files a killed run left (`.wxsec-*.tmp`): set when the walk is over
    /// a folder records are written into. A folder is listed before any of its files is handed
    /// over, so the walking run's own are never among them.
    pub clear_scraps: bool,
    /// Which files are records, by name.
    pub is_record: fn(&Path) -> bool,
}

/// The record files `normalise` reads: Markdown and text.
pub fn is_text_record(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "md" | "markdown" | "txt"))
}

/// What `normalise` reads: record files, and the pages other tools saved (HTML, MHTML, WARC),
/// each told apart by its content once read. A saved page beside a record of its own name
/// (`NAME.html` by `NAME.md`, as backup tools keep both) is that record's source, not another
/// article: the record is read, the page is not.
pub fn is_normalise_input(path: &Path) -> bool {
    if is_text_record(path) {
        return true;
    }
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let Some(ext) = SAVED_PAGE_ENDINGS.iter().find(|ext| name.ends_with(*ext)) else { return false };
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = file.get(..file.len() - ext.len()).unwrap_or_default();
    !["md", "markdown", "txt"].iter().any(|e| path.with_file_name(format!("{stem}.{e}")).exists())
}

/// How the names of saved pages end.
const SAVED_PAGE_ENDINGS: &[&str] = &[".html", ".htm", ".xhtml", ".mht", ".mhtml", ".warc", ".warc.gz"];

/// The record files wxsec writes: Markdown and the JSON form.
pub fn is_written_record(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "md" | "json"))
}

/// Walks the inputs and hands each record file to `found` with the path it keeps relative to
/// its input, in sorted order, without collecting them (an archive may hold millions). A folder
/// that cannot be read is handed over as an error; `found` returning false stops the walk.
pub fn walk(paths: &[PathBuf], rules: Rules<'_>, mut found: impl FnMut(crate::error::Result<Found>) -> bool) {
    for input in paths {
        if std::fs::metadata(input).is_ok_and(|m| m.is_file()) {
            let name = input.file_name().map(PathBuf::from).unwrap_or_else(|| input.clone());
            if !found(Ok(Found::Record(input.clone(), name))) {
                return;
            }
            continue;
        }
        // Compared when met, not once at the start: the output folder may be made meanwhile.
        let left_out = |dir: &Path| rules.skip.iter().any(|s| same_place(dir, s));
        if left_out(input) {
            continue;
        }
        let mut stack = vec![input.clone()];
        while let Some(dir) = stack.pop() {
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
                let hidden = path.file_name().map(|n| n.as_encoded_bytes().starts_with(b".")).unwrap_or(true);
                let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
                let skipped = if meta.file_type().is_symlink() {
                    Some(Skip::Symlink)
                } else if meta.is_dir() {
                    if left_out(&path) {
                        continue;
                    }
                    if !hidden {
                        subdirs.push(path.clone());
                    }
                    hidden.then_some(Skip::HiddenFolder)
                } else if rules.clear_scraps && store::is_scrap(&path) {
                    let _ = std::fs::remove_file(&path);
                    None
                } else if (rules.is_record)(&path) {
                    let rel = path.strip_prefix(input).map(Path::to_path_buf).unwrap_or_else(|_| path.clone());
                    if !found(Ok(Found::Record(path, rel))) {
                        return;
                    }
                    None
                } else {
                    Some(Skip::NotRecord)
                };
                if let Some(why) = skipped
                    && !found(Ok(Found::Skipped(why)))
                {
                    return;
                }
            }
            stack.extend(subdirs.into_iter().rev());
        }
    }
}

fn same_place(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
