//! Putting records on disk: the path comes from the article's identity, never from its title, and
//! a record is written whole or not at all (a temporary file, synced, then renamed over the old
//! one). Jobs that write thousands of records make them durable in batches ([`Stager`],
//! [`Batch`]): one sync of the file system for a few thousand files instead of two per file.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::record::Record;

/// The output forms of `import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The FORMAT.md record.
    Markdown,
    /// One JSON object with every fact.
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }
}

/// The path of a record below the output folder, relative: `{account}/{mid}_{idx}.md`, where the
/// account is the number `__biz` encodes; `s/{id}.md` for an article known only by its short link;
/// `local/{hash}.md` for a saved page with no identity at all.
pub fn relative_path(record: &Record, format: Format) -> PathBuf {
    let a = &record.article;
    let ext = format.extension();
    if let Some(id) = &a.id {
        let account = biz_number(&id.biz).unwrap_or_else(|| hex(id.biz.as_bytes()));
        return PathBuf::from(account).join(format!("{}_{}.{ext}", id.mid, id.idx));
    }
    if let Some(short) = a.short_url.as_deref().and_then(|u| u.rsplit('/').next()) {
        // A short id may spell a name Windows reserves for a device (`CON`, `NUL`…).
        let reserved = matches!(short.to_ascii_uppercase().as_str(), "CON" | "PRN" | "AUX" | "NUL")
            || (short.len() == 4
                && ["COM", "LPT"].iter().any(|p| short.to_ascii_uppercase().starts_with(p))
                && short.as_bytes()[3].is_ascii_digit());
        let name = if reserved { format!("{short}_") } else { short.to_string() };
        return PathBuf::from("s").join(format!("{name}.{ext}"));
    }
    let key = format!("{}\n{}\n{}", a.source, a.title, record.date);
    PathBuf::from("local").join(format!("{:016x}.{ext}", fnv1a(key.as_bytes())))
}

/// Writes `contents` to `out/relative` atomically and durably; returns the full path. `relative`
/// must stay inside `out`: no parent or absolute components, and no symlinked folder on the way.
pub fn write_atomic(out: &Path, relative: &Path, contents: &[u8]) -> Result<PathBuf> {
    let path = write_via(out, relative, contents, None)?;
    sync_dir(path.parent().unwrap_or(out));
    Ok(path)
}

/// The folder a path is in, `.` for a bare file name (whose parent is the empty path).
pub fn folder_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Makes the renames in a folder durable. Where the platform cannot sync a folder the renames
/// still stand; only their durability across a power cut is then the file system's.
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Like [`write_atomic`], with the temporary file in `tmp_dir` (on the same file system as
/// `out`): a run killed mid-write leaves its scrap there, where the next run clears it, and never
/// beside the records.
pub fn write_atomic_via(out: &Path, relative: &Path, contents: &[u8], tmp_dir: &Path) -> Result<PathBuf> {
    let path = write_via(out, relative, contents, Some(tmp_dir))?;
    sync_dir(path.parent().unwrap_or(out));
    Ok(path)
}

fn write_via(out: &Path, relative: &Path, contents: &[u8], tmp_dir: Option<&Path>) -> Result<PathBuf> {
    let (staged, file) = stage(out, relative, contents, tmp_dir, None)?;
    let werr = |source| Error::Write { path: staged.path.clone(), source };
    file.sync_all().map_err(werr)?;
    drop(file);
    staged.tmp.persist(&staged.path).map_err(|e| werr(e.error))?;
    Ok(staged.path)
}

/// A record written whole under a temporary name, not yet durable and not yet under its own name.
/// Dropped without [`Batch::commit`], its temporary file goes and the old record stays.
pub struct Staged {
    tmp: tempfile::TempPath,
    path: PathBuf,
    len: usize,
}

impl Staged {
    /// The record's path once committed.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Writes records whole under temporary names for a [`Batch`]; shared by the threads that write.
/// The folders it has checked (made, and found to be no symlink) are remembered, so a record
/// costs no `mkdir` or `stat` of its folder after the first.
pub struct Stager {
    tmp_dir: Option<PathBuf>,
    checked: Mutex<HashSet<PathBuf>>,
}

impl Stager {
    /// Temporary files go into `tmp_dir` (on the records' file system; it is emptied first: what
    /// is there is a killed run's scrap), or beside each record without one.
    pub fn new(tmp_dir: Option<&Path>) -> Result<Stager> {
        if let Some(t) = tmp_dir {
            clear_scratch(t);
            std::fs::create_dir_all(t).map_err(|source| Error::Write { path: t.to_path_buf(), source })?;
        }
        Ok(Stager { tmp_dir: tmp_dir.map(Path::to_path_buf), checked: Mutex::default() })
    }

    /// Writes `contents` for `out/relative` under a temporary name.
    pub fn stage(&self, out: &Path, relative: &Path, contents: &[u8]) -> Result<Staged> {
        // The file is closed here: a batch holds thousands of records, never thousands of
        // descriptors.
        stage(out, relative, contents, self.tmp_dir.as_deref(), Some(&self.checked)).map(|(s, _)| s)
    }
}

/// Records staged and not yet committed. [`Batch::commit`] makes their contents durable first
/// and only then gives them their names, so a crash at any point leaves each record either as it
/// was or whole: never a name pointing at a partial file.
#[derive(Default)]
pub struct Batch {
    staged: Vec<Staged>,
    bytes: usize,
}

/// A batch is committed at this many files (`WXSEC_BATCH_FILES` sets another number) or bytes,
/// whichever comes first: a crash loses at most this much work, which the next run does again.
const BATCH_FILES: usize = 4096;
const BATCH_BYTES: usize = 64 << 20;

fn batch_files() -> usize {
    static FILES: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
        std::env::var("WXSEC_BATCH_FILES").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(BATCH_FILES)
    });
    *FILES
}

impl Batch {
    /// Adds a staged record.
    pub fn push(&mut self, staged: Staged) {
        self.bytes += staged.len;
        self.staged.push(staged);
    }

    /// Whether the batch is due to be committed.
    pub fn is_full(&self) -> bool {
        self.staged.len() >= batch_files() || self.bytes >= BATCH_BYTES
    }

    /// Makes the staged records durable, renames each into place, makes the renames durable.
    /// Returns the paths committed. On an error, the records not yet renamed are dropped (their
    /// old files stay) and the error names the first that failed.
    pub fn commit(&mut self) -> Result<Vec<PathBuf>> {
        let staged = std::mem::take(&mut self.staged);
        self.bytes = 0;
        if staged.is_empty() {
            return Ok(Vec::new());
        }
        sync_contents(&staged)?;
        let mut folders = Vec::new();
        let mut done = Vec::with_capacity(staged.len());
        for s in staged {
            let Staged { tmp, path, .. } = s;
            tmp.persist(&path).map_err(|e| Error::Write { path: path.clone(), source: e.error })?;
            if let Some(parent) = path.parent() {
                folders.push(parent.to_path_buf());
            }
            done.push(path);
        }
        folders.sort();
        folders.dedup();
        sync_names(&folders)?;
        Ok(done)
    }
}

/// One `syncfs` per file system the batch wrote to (Linux); elsewhere a sync of each file.
#[cfg(target_os = "linux")]
fn sync_contents(staged: &[Staged]) -> Result<()> {
    let mut folders: Vec<&Path> = staged.iter().filter_map(|s| s.tmp.parent()).collect();
    folders.sort();
    folders.dedup();
    let folders: Vec<PathBuf> = folders.into_iter().map(Path::to_path_buf).collect();
    sync_names(&folders)
}

#[cfg(not(target_os = "linux"))]
fn sync_contents(staged: &[Staged]) -> Result<()> {
    for s in staged {
        let synced = std::fs::File::open(&s.tmp).and_then(|f| f.sync_all());
        synced.map_err(|source| Error::Write { path: s.path.clone(), source })?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn sync_names(folders: &[PathBuf]) -> Result<()> {
    let mut devices = HashSet::new();
    for dir in folders {
        use std::os::unix::fs::MetadataExt;
        // A folder is opened only for the first of its file system: a batch touches hundreds.
        let Ok(meta) = std::fs::metadata(dir) else { continue };
        if devices.insert(meta.dev()) {
            let synced = std::fs::File::open(dir).and_then(|d| syncfs(&d));
            synced.map_err(|source| Error::Write { path: dir.clone(), source })?;
        }
    }
    Ok(())
}

#[cfg(not(target_os = "linux"))]
fn sync_names(folders: &[PathBuf]) -> Result<()> {
    folders.iter().for_each(|d| sync_dir(d));
    Ok(())
}

/// Flushes the whole file system `file` is on: one call makes a batch of records durable (what
/// git's `core.fsyncMethod=batch` does with one fsync after many writes).
#[cfg(target_os = "linux")]
fn syncfs(file: &std::fs::File) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is open for the duration of the call; syncfs reads nothing else.
    match unsafe { libc::syncfs(file.as_raw_fd()) } {
        0 => Ok(()),
        _ => Err(std::io::Error::last_os_error()),
    }
}

fn stage(
    out: &Path,
    relative: &Path,
    contents: &[u8],
    tmp_dir: Option<&Path>,
    checked: Option<&Mutex<HashSet<PathBuf>>>,
) -> Result<(Staged, std::fs::File)> {
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(Error::Write {
            path: relative.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "path leaves the output folder"),
        });
    }
    let path = out.join(relative);
    let dir = path.parent().unwrap_or(out);
    let known = checked.is_some_and(|c| c.lock().is_ok_and(|c| c.contains(dir)));
    if !known {
        check_folders(out, relative, dir)?;
        if let Some(c) = checked {
            c.lock().map(|mut c| c.insert(dir.to_path_buf())).ok();
        }
    }
    let existing = std::fs::symlink_metadata(&path).ok();
    if existing.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        return Err(Error::Write {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "the record path is a symlink; refused"),
        });
    }
    let werr = |source| Error::Write { path: path.clone(), source };
    let tmp_in = tmp_dir.unwrap_or(dir);
    let mut tmp = temp_builder().tempfile_in(tmp_in).map_err(werr)?;
    // A record rewritten in place keeps the mode its owner gave it.
    if let Some(meta) = existing {
        tmp.as_file().set_permissions(meta.permissions()).map_err(werr)?;
    }
    tmp.write_all(contents).map_err(werr)?;
    let (file, tmp) = tmp.into_parts();
    Ok((Staged { tmp, path, len: contents.len() }, file))
}

/// Makes the record's folder, and refuses when a folder between `out` and it is a symlink: one
/// planted in the archive would send the write elsewhere.
fn check_folders(out: &Path, relative: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write { path: dir.to_path_buf(), source })?;
    let mut cur = out.to_path_buf();
    for comp in relative.parent().into_iter().flat_map(Path::components) {
        cur.push(comp);
        let meta = std::fs::symlink_metadata(&cur).map_err(|source| Error::Write { path: cur.clone(), source })?;
        if meta.file_type().is_symlink() {
            return Err(Error::Write {
                path: cur,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "a symlink inside the output folder; refused",
                ),
            });
        }
    }
    Ok(())
}

/// Removes the temporary files a killed run left in a scratch folder (only wxsec's own names).
pub fn clear_scratch(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if is_scrap(&entry.path()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The name every temporary file of wxsec has: `.wxsec-…tmp`.
const TEMP_PREFIX: &str = ".wxsec-";
const TEMP_SUFFIX: &str = ".tmp";

/// Whether a file is one of wxsec's temporary files, as a killed run leaves them.
pub fn is_scrap(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(TEMP_PREFIX) && n.ends_with(TEMP_SUFFIX))
}

/// Temporary files are created as an ordinary file would be: read-write for all, less the umask
/// (tempfile's own 0600 would make records and feeds unreadable to a web server or a team).
fn temp_builder() -> tempfile::Builder<'static, 'static> {
    let mut b = tempfile::Builder::new();
    b.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b
}

/// The account number a `__biz` value encodes (`MzI2NTg4OTc5Nw==` → `3265889797`).
pub fn biz_number(biz: &str) -> Option<String> {
    let bytes = base64_decode(biz)?;
    let s = String::from_utf8(bytes).ok()?;
    (!s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// `__biz` comes in the standard alphabet and, copied from some links, in the URL-safe one, with
/// or without its padding: read as one alphabet, padding optional, loose final bits accepted.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let standard: String = s
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    LENIENT.decode(standard).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// FNV-1a, 64 bits: a stable hash for names and change detection (not for security).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biz_numbers() {
        assert_eq!(biz_number("MzI2NTg4OTc5Nw==").as_deref(), Some("3265889797"));
        assert_eq!(biz_number("Li4vZXRj"), None); // "../etc"
        // Without padding, and in the URL-safe alphabet (`MzA=` and `Mz-_` forms both occur).
        assert_eq!(biz_number("MzI2NTg4OTc5Nw").as_deref(), Some("3265889797"));
        assert_eq!(biz_number("MjM5ODYxMDA5OQ==").as_deref(), Some("2398610099"));
        assert_eq!(biz_number("Mz!2"), None);
        assert_eq!(biz_number(""), None);
    }

    #[test]
    fn refuses_paths_that_leave() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_atomic(dir.path(), Path::new("../x.md"), b"x").is_err());
        assert!(write_atomic(dir.path(), Path::new("/etc/x.md"), b"x").is_err());
        let p = write_atomic(dir.path(), Path::new("a/b.md"), b"x").unwrap();
        assert_eq!(std::fs::read(p).unwrap(), b"x");
    }

    #[test]
    fn a_batch_names_its_records_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let scratch = dir.path().join(".wxsec/tmp");
        std::fs::create_dir_all(&scratch).unwrap();
        std::fs::write(scratch.join(".wxsec-killed.tmp"), b"scrap").unwrap();
        std::fs::write(dir.path().join("old.md"), b"old").unwrap();
        let stager = Stager::new(Some(&scratch)).unwrap();
        assert!(std::fs::read_dir(&scratch).unwrap().next().is_none(), "a killed run's scrap is cleared");
        let mut batch = Batch::default();
        batch.push(stager.stage(dir.path(), Path::new("old.md"), b"new").unwrap());
        batch.push(stager.stage(dir.path(), Path::new("a/b.md"), b"b").unwrap());
        assert_eq!(std::fs::read(dir.path().join("old.md")).unwrap(), b"old", "nothing named before the commit");
        assert!(!dir.path().join("a/b.md").exists());
        assert_eq!(batch.commit().unwrap().len(), 2);
        assert_eq!(std::fs::read(dir.path().join("old.md")).unwrap(), b"new");
        assert_eq!(std::fs::read(dir.path().join("a/b.md")).unwrap(), b"b");
        // A batch dropped uncommitted (a failure elsewhere) leaves the records as they were and
        // no temporary file.
        let mut dropped = Batch::default();
        dropped.push(stager.stage(dir.path(), Path::new("old.md"), b"newer").unwrap());
        drop(dropped);
        assert_eq!(std::fs::read(dir.path().join("old.md")).unwrap(), b"new");
        assert!(std::fs::read_dir(&scratch).unwrap().next().is_none());
        assert!(stager.stage(dir.path(), Path::new("../x.md"), b"x").is_err());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinked_folders() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("a")).unwrap();
        assert!(write_atomic(dir.path(), Path::new("a/b.md"), b"x").is_err());
        assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none());
    }
}
