//! The images a saved page carries with it: an MHTML archive's image parts, a WARC's image
//! responses, a SingleFile page's `data:` URIs (each under the `data-src` address WeChat gave
//! the picture). With `--images local` they go into `assets/` from the archive itself: a picture
//! the archive kept is never fetched again (it may be gone from WeChat by now).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::{mhtml, warc};
use crate::error::{Error, Result};

/// A saved page's own images, by address.
#[derive(Default)]
pub struct Kept {
    by_url: HashMap<String, Held>,
    /// The same pictures by host and path: a page asks for `…/640?wx_fmt=png&tp=webp` what the
    /// archive kept as `…/640?wx_fmt=png`.
    by_path: HashMap<String, String>,
    /// Where a web archive's images wait while its pages are read (removed with the `Kept`).
    spill: Option<tempfile::TempDir>,
}

enum Held {
    Memory(String, Vec<u8>),
    Disk(String, PathBuf),
}

impl Kept {
    /// The images of the saved page at `path`, whatever its form: an MHTML archive, a WARC, an
    /// HTML page with `data:` images; none for anything else.
    pub fn of_file(path: &Path) -> Result<Kept> {
        if warc::is_warc(path) {
            return Kept::of_warc(path);
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        Ok(Kept::of_bytes(&bytes))
    }

    /// The images of a saved page's bytes (MHTML or HTML).
    pub fn of_bytes(bytes: &[u8]) -> Kept {
        let mut kept = Kept::default();
        if mhtml::is_mhtml(bytes) {
            for (url, (ctype, body)) in mhtml::read(bytes).map(|m| m.resources).unwrap_or_default() {
                if ctype.starts_with("image/") {
                    kept.insert(url, Held::Memory(ctype, body));
                }
            }
            return kept;
        }
        if memchr::memmem::find(bytes, b"data:image/").is_none() {
            return kept;
        }
        let html = scraper::Html::parse_document(&String::from_utf8_lossy(bytes));
        let img = scraper::Selector::parse("img").expect("a valid selector");
        for el in html.select(&img) {
            let attr = |name| el.value().attr(name).map(str::trim).filter(|v: &&str| !v.is_empty());
            let address = attr("data-src")
                .or_else(|| attr("data-original"))
                .filter(|a| a.starts_with("http") || a.starts_with("//"));
            let (Some(address), Some(data)) = (address, attr("src")) else { continue };
            if let Some((ctype, body)) = data_uri(data) {
                kept.insert(address.to_string(), Held::Memory(ctype, body));
            }
        }
        kept
    }

    /// A web archive's images, read in a pass of their own and held on disk, not in memory: an
    /// archive may hold gigabytes of them.
    fn of_warc(path: &Path) -> Result<Kept> {
        let mut kept = Kept::default();
        let mut records = warc::Pages::open(path)?;
        let mut n = 0usize;
        while let Some((url, ctype, body)) = records.next_image()? {
            if kept.spill.is_none() {
                kept.spill = Some(
                    tempfile::Builder::new()
                        .prefix("wxsec-warc-images")
                        .tempdir()
                        .map_err(|source| Error::Write { path: std::env::temp_dir(), source })?,
                );
            }
            let dir = kept.spill.as_ref().map(|d| d.path().to_path_buf()).unwrap_or_default();
            let file = dir.join(n.to_string());
            std::fs::write(&file, &body).map_err(|source| Error::Write { path: file.clone(), source })?;
            n += 1;
            kept.insert(url, Held::Disk(ctype, file));
        }
        Ok(kept)
    }

    fn insert(&mut self, url: String, held: Held) {
        // The first capture of an address is the one kept (a WARC's later ones are revisits).
        if self.by_url.contains_key(&url) {
            return;
        }
        self.by_path.entry(picture(&url)).or_insert_with(|| url.clone());
        self.by_url.insert(url, held);
    }

    /// How many images are kept.
    pub fn len(&self) -> usize {
        self.by_url.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_url.is_empty()
    }

    /// The content type and bytes kept for an image address, by the address itself or else by
    /// its host and path.
    pub fn get(&self, url: &str) -> Option<(String, Vec<u8>)> {
        let held = self.by_url.get(url).or_else(|| self.by_path.get(&picture(url)).and_then(|u| self.by_url.get(u)))?;
        match held {
            Held::Memory(ctype, body) => Some((ctype.clone(), body.clone())),
            Held::Disk(ctype, file) => std::fs::read(file).ok().map(|b| (ctype.clone(), b)),
        }
    }
}

/// An address's host and path, without scheme, query or fragment.
fn picture(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    let url = url.split_once("://").map_or(url, |(_, rest)| rest);
    url.trim_start_matches('/').to_string()
}

/// A `data:` URI's content type and bytes (base64 or percent-encoded).
fn data_uri(uri: &str) -> Option<(String, Vec<u8>)> {
    let rest = uri.strip_prefix("data:")?;
    let (meta, data) = rest.split_once(',')?;
    let ctype = meta.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    if !ctype.starts_with("image/") {
        return None;
    }
    let body = if meta.split(';').any(|p| p.trim().eq_ignore_ascii_case("base64")) {
        mhtml::decoded(Some("base64"), data.as_bytes())
    } else {
        url::form_urlencoded::parse(format!("x={}", data.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())?
    };
    (!body.is_empty()).then_some((ctype, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &str =
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";

    #[test]
    fn a_singlefile_page_keeps_each_picture_under_its_address() {
        let html = format!(
            r#"<html><body><img data-src="https://mmbiz.qpic.cn/a/B/640?wx_fmt=png" src="data:image/png;base64,{PNG}">
            <img src="data:image/png;base64,{PNG}"><img data-src="https://mmbiz.qpic.cn/a/C/640" src="x.png">
            <img data-src="//mmbiz.qpic.cn/a/D/640" src="data:image/png;base64,{PNG}"></body></html>"#
        );
        let kept = Kept::of_bytes(html.as_bytes());
        assert_eq!(kept.len(), 2);
        assert!(kept.get("https://mmbiz.qpic.cn/a/D/640").is_some(), "a protocol-relative address");
        let (ctype, bytes) = kept.get("https://mmbiz.qpic.cn/a/B/640?wx_fmt=png&tp=webp").unwrap();
        assert_eq!((ctype.as_str(), &bytes[..4]), ("image/png", &b"\x89PNG"[..]));
        assert!(kept.get("https://mmbiz.qpic.cn/a/C/640").is_none());
    }

    #[test]
    fn data_uris() {
        assert_eq!(data_uri("data:image/svg+xml,%3Csvg%3E").unwrap(), ("image/svg+xml".to_string(), b"<svg>".to_vec()));
        assert!(data_uri("data:text/html;base64,PGI+").is_none());
        assert!(data_uri("https://x").is_none());
    }
}
