//! Saved pages among `normalise`'s inputs: an HTML page, an MHTML archive, a SingleFile page or
//! a WARC in an archive folder is read by its content, as `import` reads it, and its record is
//! written beside it, never over it: `NAME.md` for a page, `NAME.records/ACCOUNT/MID_IDX.md` for
//! each article of a web archive. A page that is no article is reported with its kind.

use std::path::{Path, PathBuf};

use super::{Normalised, Outcome};
use crate::error::{Error, Result};
use crate::extract::Known;
use crate::fetch::{FetchedPage, mhtml, warc};
use crate::page::PageKind;

/// Whether a file's bytes are a saved page rather than a record: an MHTML archive, or an HTML
/// document (a doctype or `<html>` first, as no Markdown record starts).
pub(super) fn is_page(bytes: &[u8]) -> bool {
    if mhtml::is_mhtml(bytes) {
        return true;
    }
    let head = &bytes[..bytes.len().min(2048)];
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = text.trim_start();
    // A browser's `<!-- saved from url=… -->` comes first.
    while let Some(after) = rest.strip_prefix("<!--") {
        rest = after.split_once("-->").map_or("", |(_, next)| next.trim_start());
    }
    rest.starts_with("<!doctype html") || rest.starts_with("<html")
}

/// The record of one saved page (`bytes`, read from `path`), and the name it is written under,
/// relative to the folder of the page's own.
pub(super) fn page(
    path: &Path,
    bytes: Vec<u8>,
    extra_fields: bool,
    source: Option<&str>,
) -> Result<(Normalised, PathBuf)> {
    let shown = path.display().to_string();
    let name = record_name(path);
    // A page that names no date of its own was saved when its file was last written: a second
    // run gives the same record, not one dated anew. The form it was kept in goes to the
    // summary's formats.
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok().map(chrono::DateTime::<chrono::Utc>::from);
    let (page, format) = FetchedPage::read_saved(shown, bytes, modified);
    let (n, _) = read(&page, &Known::for_file(path, source), extra_fields, format)?;
    Ok((n, name))
}

/// The records of a web archive's articles, each handed to `each` as it is read (an archive may
/// hold thousands): with its name below the folder named after the archive, and the article's
/// address. `each` returning false stops the reading.
pub(super) fn archive(
    path: &Path,
    extra_fields: bool,
    source: Option<&str>,
    max_body: usize,
    mut each: impl FnMut(Result<(Normalised, PathBuf)>) -> bool,
) {
    let mut pages = match warc::Pages::open(path) {
        Ok(p) => p,
        Err(e) => {
            each(Err(e));
            return;
        }
    };
    let folder = archive_folder(path);
    let known = Known { source: source.map(str::to_string), ..Known::default() };
    let mut names = std::collections::HashSet::new();
    loop {
        let page = match pages.next_page(max_body) {
            Ok(Some(page)) => page,
            Ok(None) => {
                let c = &pages.counts;
                tracing::info!(path = %path.display(), records = c.records, pages = names.len(), again = c.again, other = c.other, "web archive read");
                return;
            }
            Err(e) => {
                each(Err(e));
                return;
            }
        };
        let outcome = read(&page, &known, extra_fields, "warc").map(|(mut n, name)| {
            // The report names the archive and the address inside it.
            if n.record.is_none() {
                n.reason = format!("{}: {}", page.target, n.reason);
            }
            (n, folder.join(name.unwrap_or_default()))
        });
        // An article kept under two addresses is written once.
        if let Ok((n, name)) = &outcome
            && n.record.is_some()
            && !names.insert(name.clone())
        {
            continue;
        }
        if !each(outcome) {
            return;
        }
    }
}

/// A page read as `import` reads it: its record and the name `import` gives it, or what it is
/// instead.
fn read(
    page: &FetchedPage,
    known: &Known,
    extra_fields: bool,
    format: &'static str,
) -> Result<(Normalised, Option<PathBuf>)> {
    let url = page.url.clone().unwrap_or_default();
    match crate::import::read_page_with(page, known) {
        Ok(record) => {
            let name = crate::store::relative_path(&record, crate::store::Format::Markdown);
            let n = Normalised {
                outcome: Outcome::Clean,
                url: record.article.url(),
                record: Some(record.to_markdown_with(extra_fields)),
                kind: "clean",
                reason: String::new(),
                format: Some(format),
                source_given: false,
            };
            Ok((n, Some(name)))
        }
        Err(Error::NotArticle { kind, evidence, .. }) => {
            let (outcome, name) = match kind {
                PageKind::Verify => (Outcome::Stub, "verify"),
                PageKind::Deleted => (Outcome::Stub, "deleted"),
                PageKind::Removed => (Outcome::Stub, "removed"),
                PageKind::Expired => (Outcome::Stub, "expired"),
                PageKind::Unavailable => (Outcome::Stub, "unavailable"),
                PageKind::Gone => (Outcome::Stub, "migrated"),
                _ => (Outcome::Unrecognised, "unrecognised"),
            };
            let reason = format!(
                "a saved page that is no article: {kind}{}",
                evidence.map(|e| format!(" ({e})")).unwrap_or_default()
            );
            let mut n = Normalised::reported(outcome, &url, name, reason);
            n.format = Some(format);
            Ok((n, None))
        }
        Err(e) => Err(e),
    }
}

/// A saved page's record is `NAME.md` beside it; `NAME.EXT.md` when a `NAME.md` of its own is
/// there already (a page and the record another tool made of it), or the page is itself named
/// `.md`.
fn record_name(path: &Path) -> PathBuf {
    let file = path.file_name().map(PathBuf::from).unwrap_or_default();
    let plain = file.with_extension("md");
    if plain == file || path.with_extension("md").exists() {
        let mut named = file.into_os_string();
        named.push(".md");
        return PathBuf::from(named);
    }
    plain
}

/// The folder a web archive's records go into: its name without `.warc` / `.warc.gz`.
fn archive_folder(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = ["warc.gz", "warc", "gz"]
        .iter()
        .find_map(|ext| name.strip_suffix(&format!(".{ext}")))
        .filter(|s| !s.is_empty())
        .unwrap_or(&name);
    PathBuf::from(format!("{stem}.records"))
}
