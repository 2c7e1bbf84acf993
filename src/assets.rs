//! Local images (`--images local`): every image a record shows is downloaded once, stored by the
//! SHA-256 of its bytes under `assets/` in the archive folder, and the record links to it by a
//! relative path. An image that cannot be had keeps its remote link and is reported, so a later
//! run can try again: a record never loses a picture to a failed download.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::fetch::Fetcher;
use crate::fetch::kept::Kept;
use crate::fetch::limiter::HostLimiter;

/// What to do with a record's images.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Images {
    /// Keep the links to WeChat's image host.
    #[default]
    Remote,
    /// Download them into `assets/` and link there.
    Local,
}

/// The folder of the downloaded images, inside the archive folder.
pub const ASSETS_DIR: &str = "assets";

/// An image that kept its remote link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// Its address.
    pub url: String,
    /// Why.
    pub error: String,
}

/// Images of a run: where each address was stored, and what failed.
pub struct Localiser {
    root: PathBuf,
    fetcher: Fetcher,
    limiter: HostLimiter,
    /// Address → path below the archive folder, for every image stored this run.
    stored: HashMap<String, String>,
    /// Addresses that failed this run (not tried twice in one run).
    failed: HashMap<String, String>,
    /// Hosts that answered 429 or 503: asked nothing more this run.
    resting: std::collections::HashSet<String>,
    /// Images downloaded.
    pub downloaded: usize,
    /// Images already in `assets/` (same bytes from another address or an earlier run).
    pub reused: usize,
    /// Images taken from the saved page's own archive, not fetched.
    pub from_archive: usize,
}

// `![alt](target)` with a web address as the target; alt text cannot hold a `]` in wxsec's
// Markdown (it is escaped), and the address cannot hold `)` or spaces (they are percent-encoded).
static IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(!\[(?:[^\]\\\n]|\\.)*\]\()(https?://[^)\s]+)(\))").unwrap());

/// The web addresses of the images in a Markdown text, in order, once each.
pub fn image_urls(markdown: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in IMAGE.captures_iter(markdown) {
        let u = c[2].to_string();
        if !out.contains(&u) {
            out.push(u);
        }
    }
    out
}

// `![alt](target)` with a relative path as the target: no scheme, not rooted, not a fragment.
static SAVED_IMAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(!\[(?:[^\]\\\n]|\\.)*\]\()([^)\s:/#][^)\s:]*)(\))").unwrap());

/// The largest image copied from a saved page's folder.
const MAX_SAVED_IMAGE: u64 = 32 << 20;

/// Images a saved page or a backup's Markdown links by a path relative to its own folder `base`
/// (`./images/img_001.jpeg`, as backup tools save them): copied into `root/assets` by the hash of
/// their bytes, the links rewritten for the record at `record` (as [`Localiser::localise`] takes
/// it). A path that leaves `base` (`../../secret`), a missing file, or a file that is not an
/// image keeps its link: a record never takes in a file from outside the backup. Returns the
/// Markdown and how many links were made local.
pub fn copy_saved_images(markdown: &str, base: &Path, root: &Path, record: &Path) -> Result<(String, usize)> {
    if !SAVED_IMAGE.is_match(markdown) {
        return Ok((markdown.to_string(), 0));
    }
    let Ok(inside) = std::fs::canonicalize(base) else { return Ok((markdown.to_string(), 0)) };
    let mut stored: HashMap<String, String> = HashMap::new();
    let mut error = None;
    let out = SAVED_IMAGE.replace_all(markdown, |c: &regex::Captures| {
        let target = &c[2];
        if error.is_none() && !stored.contains_key(target) {
            match copy_one(target, &inside, root) {
                Ok(Some(asset)) => {
                    stored.insert(target.to_string(), asset);
                }
                Ok(None) => {}
                Err(e) => error = Some(e),
            }
        }
        match stored.get(target) {
            Some(asset) => format!("{}{}{}", &c[1], relative_link(record, root, asset), &c[3]),
            None => c[0].to_string(),
        }
    });
    match error {
        Some(e) => Err(e),
        None => Ok((out.into_owned(), stored.len())),
    }
}

/// One saved image into `root/assets`; `None` when it is not there, not an image, or outside.
fn copy_one(target: &str, inside: &Path, root: &Path) -> Result<Option<String>> {
    let decoded = crate::text::decode_entities(target).replace("%20", " ");
    let Ok(path) = std::fs::canonicalize(inside.join(decoded)) else { return Ok(None) };
    if !path.starts_with(inside) || !path.is_file() {
        return Ok(None);
    }
    let Ok(file) = std::fs::File::open(&path) else { return Ok(None) };
    let mut bytes = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_SAVED_IMAGE + 1), &mut bytes).is_err()
        || bytes.len() as u64 > MAX_SAVED_IMAGE
    {
        return Ok(None);
    }
    let Some(ext) = image_extension(&bytes, None) else { return Ok(None) };
    let hash: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
    let asset = format!("{ASSETS_DIR}/{}/{hash}.{ext}", hash.get(..2).unwrap_or_default());
    if !std::fs::metadata(root.join(&asset)).is_ok_and(|m| m.len() == bytes.len() as u64) {
        crate::store::write_atomic(root, Path::new(&asset), &bytes)?;
    }
    Ok(Some(asset))
}

/// `markdown` with each image address found in `map` replaced by its value.
pub fn rewrite(markdown: &str, map: &HashMap<String, String>) -> String {
    IMAGE
        .replace_all(markdown, |c: &regex::Captures| match map.get(&c[2]) {
            Some(local) => format!("{}{}{}", &c[1], local, &c[3]),
            None => c[0].to_string(),
        })
        .into_owned()
}

/// The link from a record at `record` to an asset at `asset` (relative to the archive folder
/// `root`). A record given relative to the archive folder gets `../` once per folder it is in;
/// one given by an absolute path (normalising several folders) gets the path between the two.
pub fn relative_link(record: &Path, root: &Path, asset: &str) -> String {
    if record.is_absolute() {
        return relative_to(&root.join(asset), record.parent().unwrap_or(Path::new("/")));
    }
    let depth = record.parent().map_or(0, |p| p.components().count());
    format!("{}{asset}", "../".repeat(depth))
}

/// A path with `.` and `..` resolved by text (the files may not exist).
pub fn normal(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// `target` as a relative reference (`/`-separated) from folder `from`; both may be relative to the
/// current folder.
pub fn relative_to(target: &Path, from: &Path) -> String {
    let (t, f) = (normal(&abs(target)), normal(&abs(from)));
    let tc: Vec<_> = t.components().collect();
    let fc: Vec<_> = f.components().collect();
    let common = tc.iter().zip(&fc).take_while(|(a, b)| a == b).count();
    let mut s = "../".repeat(fc.len() - common);
    let rest: Vec<String> = tc[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    s.push_str(&rest.join("/"));
    s
}

/// A path made absolute against the current folder (nothing resolved on disk).
pub fn abs(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

impl Localiser {
    /// A localiser writing into `root/assets`, spacing requests to each image host by `delay`.
    pub fn new(root: &Path, fetcher: Fetcher, delay: std::time::Duration) -> Localiser {
        Localiser {
            root: root.to_path_buf(),
            fetcher,
            limiter: HostLimiter::new(delay, 0.5),
            stored: HashMap::new(),
            failed: HashMap::new(),
            resting: std::collections::HashSet::new(),
            downloaded: 0,
            reused: 0,
            from_archive: 0,
        }
    }

    /// Downloads the images of one record at `record` (relative to the archive folder) and
    /// returns the address → relative link map for it, with the images that failed. Only a
    /// failure to write into `assets/` is an error.
    pub async fn localise(&mut self, urls: &[String], record: &Path) -> Result<(HashMap<String, String>, Vec<Failed>)> {
        self.localise_kept(urls, record, &Kept::default()).await
    }

    /// As `localise`, the images `kept` holds (a saved page's own) taken from it, not fetched.
    pub async fn localise_kept(
        &mut self,
        urls: &[String],
        record: &Path,
        kept: &Kept,
    ) -> Result<(HashMap<String, String>, Vec<Failed>)> {
        let mut map = HashMap::new();
        let mut failed = Vec::new();
        for url in urls {
            if let Some((ctype, bytes)) = kept.get(url)
                && let Some(asset) = self.store(url, &bytes, Some(&ctype))?
            {
                self.from_archive += 1;
                map.insert(url.clone(), relative_link(record, &self.root, &asset));
                continue;
            }
            if let Some(err) = self.failed.get(url) {
                failed.push(Failed { url: url.clone(), error: err.clone() });
                continue;
            }
            let asset = match self.stored.get(url) {
                Some(a) => a.clone(),
                None => match self.download(url).await {
                    Ok(Some(a)) => a,
                    Ok(None) => continue,
                    Err(DownloadError::Write(e)) => return Err(e),
                    Err(DownloadError::Fetch(msg)) => {
                        self.failed.insert(url.clone(), msg.clone());
                        failed.push(Failed { url: url.clone(), error: msg });
                        continue;
                    }
                },
            };
            map.insert(url.clone(), relative_link(record, &self.root, &asset));
        }
        Ok((map, failed))
    }

    async fn download(&mut self, url: &str) -> std::result::Result<Option<String>, DownloadError> {
        let Ok(parsed) = url::Url::parse(url) else { return Ok(None) };
        let host = parsed.host_str().unwrap_or_default().to_string();
        if self.resting.contains(&host) {
            return Err(DownloadError::Fetch(format!(
                "{host} asked to slow down (429/503) earlier in this run; not asked again"
            )));
        }
        self.limiter.acquire(&host).await;
        let (bytes, ctype) = match self.fetcher.fetch_image(url).await {
            Ok(x) => x,
            Err(e) => {
                if matches!(e, crate::Error::Status { status: 429 | 503, .. }) {
                    self.resting.insert(host);
                }
                return Err(DownloadError::Fetch(e.to_string()));
            }
        };
        let reused = self.reused;
        match self.store(url, &bytes, ctype.as_deref()).map_err(DownloadError::Write)? {
            Some(asset) => {
                self.downloaded += usize::from(self.reused == reused);
                Ok(Some(asset))
            }
            None => Err(DownloadError::Fetch(format!(
                "not an image ({}, {} bytes)",
                ctype.as_deref().unwrap_or("no content type"),
                bytes.len()
            ))),
        }
    }

    /// Stores an image's bytes under `assets/` by their hash; `None` when they are no image.
    fn store(&mut self, url: &str, bytes: &[u8], ctype: Option<&str>) -> Result<Option<String>> {
        let Some(ext) = image_extension(bytes, ctype) else { return Ok(None) };
        let hash: String = Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect();
        let asset = format!("{ASSETS_DIR}/{}/{hash}.{ext}", hash.get(..2).unwrap_or_default());
        let path = self.root.join(&asset);
        if std::fs::metadata(&path).is_ok_and(|m| m.len() == bytes.len() as u64) {
            self.reused += 1;
        } else {
            crate::store::write_atomic(&self.root, Path::new(&asset), bytes)?;
        }
        self.stored.insert(url.to_string(), asset.clone());
        Ok(Some(asset))
    }
}

enum DownloadError {
    Fetch(String),
    Write(crate::Error),
}

/// The file extension of an image, from its first bytes (servers often say
/// `application/octet-stream`); `None` when the bytes are not an image (an HTML error page).
pub fn image_extension(bytes: &[u8], content_type: Option<&str>) -> Option<&'static str> {
    let ext = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        "png"
    } else if bytes.starts_with(b"\xff\xd8\xff") {
        "jpg"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "gif"
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        "webp"
    } else if bytes.len() > 12 && &bytes[4..8] == b"ftyp" && (&bytes[8..12] == b"avif" || &bytes[8..12] == b"avis") {
        "avif"
    } else if bytes.starts_with(b"BM") && content_type.is_some_and(|c| c.contains("bmp")) {
        "bmp"
    } else if content_type.is_some_and(|c| c.starts_with("image/svg"))
        && String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).contains("<svg")
    {
        "svg"
    } else {
        return None;
    };
    Some(ext)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_and_rewritten() {
        let md = "# T\n\n![cover_image](https://mmbiz.qpic.cn/a/0?wx_fmt=png)\n\n![图 \\] 1](http://x.example/b.jpg) ![](data:image/png;base64,AA)\n\n[not an image](https://mmbiz.qpic.cn/a/0?wx_fmt=png)\n";
        let urls = image_urls(md);
        assert_eq!(urls, ["https://mmbiz.qpic.cn/a/0?wx_fmt=png", "http://x.example/b.jpg"]);
        let map = HashMap::from([(urls[0].clone(), "../assets/ab/ab.png".to_string())]);
        let out = rewrite(md, &map);
        assert!(out.contains("![cover_image](../assets/ab/ab.png)"));
        assert!(out.contains("[not an image](https://mmbiz.qpic.cn/a/0?wx_fmt=png)"), "links stay");
        assert!(out.contains("(http://x.example/b.jpg)"));
        let root = Path::new("/a/archive");
        assert_eq!(relative_link(Path::new("3093190038/1_1.md"), root, "assets/ab/x.png"), "../assets/ab/x.png");
        assert_eq!(relative_link(Path::new("x.md"), root, "assets/ab/x.png"), "assets/ab/x.png");
        assert_eq!(
            relative_link(Path::new("/a/other/2024/x.md"), root, "assets/ab/x.png"),
            "../../archive/assets/ab/x.png"
        );
    }

    #[test]
    fn images_are_told_by_their_bytes() {
        assert_eq!(image_extension(b"\x89PNG\r\n\x1a\n....", Some("application/octet-stream")), Some("png"));
        assert_eq!(image_extension(b"\xff\xd8\xff\xe0", None), Some("jpg"));
        assert_eq!(image_extension(b"<html>error</html>", Some("image/png")), None);
    }

    /// A saved page's own images come into `assets/`; nothing outside its folder does.
    #[test]
    fn saved_images_are_copied_and_nothing_outside() {
        let dir = tempfile::tempdir().unwrap();
        let (base, root) = (dir.path().join("backup/post"), dir.path().join("archive"));
        std::fs::create_dir_all(base.join("images")).unwrap();
        std::fs::write(base.join("images/a.png"), b"\x89PNG\r\n\x1a\n....").unwrap();
        std::fs::write(base.join("images/not.png"), b"<html>").unwrap();
        std::fs::write(dir.path().join("backup/secret.png"), b"\x89PNG\r\n\x1a\nsecret").unwrap();
        let md = "![](./images/a.png)\n![](images/a.png)\n![](images/not.png)\n![](../secret.png)\n![](missing.png)\n![](https://x.example/b.png)\n";
        let (out, n) = copy_saved_images(md, &base, &root, Path::new("s/x.md")).unwrap();
        assert_eq!(n, 2, "two links made local");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines[0].starts_with("![](../assets/") && lines[0] == lines[1], "{out}");
        assert_eq!(&lines[2..], &md.lines().collect::<Vec<_>>()[2..], "the rest keep their links");
        let stored: usize = std::fs::read_dir(root.join("assets"))
            .unwrap()
            .map(|d| std::fs::read_dir(d.unwrap().path()).unwrap().count())
            .sum();
        assert_eq!(stored, 1, "one image, stored once");
    }
}
