//! A saved page's bytes told apart by their content: an MHTML archive's page part, a SingleFile
//! page, or plain HTML, each with the address and date it carries. Each form is one file behind
//! [`SavedForm`], tried in [`FORMS`]' order.

use chrono::{DateTime, Utc};

use super::{FetchedPage, decode_html_owned};
use crate::article::article_address;

/// What a saved form says of the page it keeps: its HTML, decoded, and the address and the
/// moment of saving the form records (when it records them).
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// The page's HTML.
    pub html: String,
    /// The article's address, when the form names one.
    pub url: Option<String>,
    /// When the page was saved, when the form says.
    pub saved: Option<DateTime<Utc>>,
}

/// A form one saved page is kept in, one file each (`mhtml.rs`, `singlefile.rs`; plain HTML
/// here), tried in [`FORMS`]' order: told by a look at its bytes, then read. A web archive,
/// many pages in one file, is read page by page by `warc::Pages` instead.
pub trait SavedForm: Sync {
    /// Its name in `normalise`'s summary (`formats`).
    fn name(&self) -> &'static str;
    /// Whether `bytes` look like this form.
    fn is(&self, bytes: &[u8]) -> bool;
    /// The page these bytes keep, or the bytes back when they are not this form after all (a
    /// broken archive, a marker in the text), for the next form to read.
    fn read(&self, bytes: Vec<u8>) -> Result<Kept, Vec<u8>>;
}

/// Every form, most particular first; plain HTML reads anything and comes last.
pub const FORMS: &[&dyn SavedForm] = &[&super::mhtml::MhtmlForm, &super::singlefile::SingleFileForm, &HtmlPage];

/// A page saved as plain HTML ("Webpage, HTML only", a backup tool's export, a raw download).
pub struct HtmlPage;

impl SavedForm for HtmlPage {
    fn name(&self) -> &'static str {
        "html-page"
    }

    fn is(&self, _: &[u8]) -> bool {
        true
    }

    fn read(&self, bytes: Vec<u8>) -> Result<Kept, Vec<u8>> {
        let html = decode_html_owned(bytes, None);
        Ok(Kept { url: saved_from(&html), saved: None, html })
    }
}

impl FetchedPage {
    /// A saved page's bytes as a page, told apart by their content: an MHTML archive's page part
    /// with the address and date the archive gives; a SingleFile page with those its comment
    /// gives; else the bytes as HTML.
    pub fn of_saved(target: String, bytes: Vec<u8>) -> FetchedPage {
        Self::of_saved_at(target, bytes, None)
    }

    /// As `of_saved`, with `saved` the date of a page whose bytes give none (a file's
    /// modification time), instead of now.
    pub fn of_saved_at(target: String, bytes: Vec<u8>, saved: Option<DateTime<Utc>>) -> FetchedPage {
        Self::read_saved(target, bytes, saved).0
    }

    /// As `of_saved_at`, with the name of the form the page was kept in.
    pub fn read_saved(target: String, bytes: Vec<u8>, saved: Option<DateTime<Utc>>) -> (FetchedPage, &'static str) {
        let mut bytes = bytes;
        for form in FORMS {
            if !form.is(&bytes) {
                continue;
            }
            match form.read(bytes) {
                Ok(kept) => {
                    let fetched_at = kept.saved.or(saved).unwrap_or_else(Utc::now);
                    return (FetchedPage { target, url: kept.url, html: kept.html, fetched_at }, form.name());
                }
                Err(back) => bytes = back,
            }
        }
        // Plain HTML reads any bytes; this is only reached if FORMS lost it.
        let kept = HtmlPage.read(bytes).unwrap_or_default();
        let fetched_at = saved.unwrap_or_else(Utc::now);
        (FetchedPage { target, url: kept.url, html: kept.html, fetched_at }, HtmlPage.name())
    }
}

/// Browsers write where a saved page came from: `<!-- saved from url=(0094)https://… -->`, and
/// some tools a leading `<!--URL-->` comment.
pub(super) fn saved_from(html: &str) -> Option<String> {
    let head = html.get(..html.floor_char_boundary(2048)).unwrap_or_default();
    let start = head.find("<!--")?;
    let comment = head.get(start + 4..).unwrap_or_default();
    let comment = comment.get(..comment.find("-->")?).unwrap_or_default();
    let at = comment.find("http")?;
    let url = comment.get(at..).unwrap_or_default().split_whitespace().next()?;
    article_address(url).map(|u| u.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each form is told by its content, whatever the file is called, and the page it gives
    /// names the article and the moment of saving the form recorded.
    #[test]
    fn each_form_is_told_by_its_content() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for (file, form) in [
            ("fixtures/saved/modern-2025.mhtml", "mhtml"),
            ("fixtures/saved/desktop-2018.mhtml", "mhtml"),
            ("fixtures/saved/saved-no-scripts.singlefile.html", "singlefile"),
            ("fixtures/pages/modern-2025.html", "html-page"),
        ] {
            let bytes = std::fs::read(dir.join(file)).unwrap();
            let (page, name) = FetchedPage::read_saved(file.to_string(), bytes, None);
            assert_eq!(name, form, "{file}");
            assert!(page.html.contains("js_content"), "{file}");
            if form != "html-page" {
                assert!(page.url.as_deref().is_some_and(|u| u.starts_with("https://mp.weixin.qq.com/")), "{file}");
            }
        }
        // A marker in the text is not a SingleFile page: its comment is missing, plain HTML reads it.
        let fake = b"<html><body><p>Page saved with SingleFile</p></body></html>".to_vec();
        assert_eq!(FetchedPage::read_saved("x".into(), fake, None).1, "html-page");
        // A broken MHTML head (no page part) is read as what it is: text.
        let broken = b"MIME-Version: 1.0\r\nContent-Type: multipart/related; boundary=\"b\"\r\n\r\n--b--\r\n".to_vec();
        assert_eq!(FetchedPage::read_saved("y".into(), broken, None).1, "html-page");
        assert_eq!(FORMS.last().map(|f| f.name()), Some("html-page"), "plain HTML reads anything, last");
    }
}
