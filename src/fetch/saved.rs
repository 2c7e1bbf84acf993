//! A saved page's bytes told apart by their content: an MHTML archive's page part, a SingleFile
//! page, or plain HTML, each with the address and date it carries.

use chrono::{DateTime, Utc};

use super::{FetchedPage, decode_html, decode_html_owned, mhtml, singlefile};
use crate::article::article_address;

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
        let now = || saved.unwrap_or_else(Utc::now);
        if mhtml::is_mhtml(&bytes)
            && let Some(m) = mhtml::read(&bytes)
        {
            let html = decode_html(&m.html, m.charset.as_deref());
            let url = m.url.as_deref().and_then(article_address).map(|u| u.to_string()).or_else(|| saved_from(&html));
            return FetchedPage { target, url, html, fetched_at: m.saved.unwrap_or_else(now) };
        }
        let html = decode_html_owned(bytes, None);
        if let Some(saved) = singlefile::comment(&html) {
            let url = saved.url.as_deref().and_then(article_address).map(|u| u.to_string());
            return FetchedPage { target, url, html, fetched_at: saved.saved.unwrap_or_else(now) };
        }
        let url = saved_from(&html);
        FetchedPage { target, url, html, fetched_at: now() }
    }
}

/// Browsers write where a saved page came from: `<!-- saved from url=(0094)https://… -->`, and
/// some tools a leading `<!--URL-->` comment.
fn saved_from(html: &str) -> Option<String> {
    let head = html.get(..html.floor_char_boundary(2048)).unwrap_or_default();
    let start = head.find("<!--")?;
    let comment = head.get(start + 4..).unwrap_or_default();
    let comment = comment.get(..comment.find("-->")?).unwrap_or_default();
    let at = comment.find("http")?;
    let url = comment.get(at..).unwrap_or_default().split_whitespace().next()?;
    article_address(url).map(|u| u.to_string())
}
