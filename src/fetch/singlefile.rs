//! SingleFile (the browser extension archivists use): one HTML file of the rendered page, its
//! scripts removed and its images inlined as `data:` URIs, opened by a comment that names the
//! page and the moment it was saved:
//! `<!--\n Page saved with SingleFile \n url: https://… \n saved date: Wed Sep 24 2026 10:00:00 GMT+0800 (…)\n-->`
//! (`COMMENT_HEADER` in SingleFile's own source; "Archive processed by SingleFile" in old ones).

use chrono::{DateTime, Utc};

/// What a SingleFile comment says of its page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Saved {
    /// The page's address.
    pub url: Option<String>,
    /// When it was saved.
    pub saved: Option<DateTime<Utc>>,
}

/// The comment's facts, when the page opens with one (within its first 8 KB).
pub fn comment(html: &str) -> Option<Saved> {
    let head = html.get(..html.floor_char_boundary(8192)).unwrap_or_default();
    let at = head.find("Page saved with SingleFile").or_else(|| head.find("Archive processed by SingleFile"))?;
    let start = head.get(..at)?.rfind("<!--")?;
    let rest = html.get(start + 4..)?;
    let body = rest.get(..rest.find("-->")?)?;
    let mut saved = Saved::default();
    for line in body.lines().map(str::trim) {
        if let Some(u) = line.strip_prefix("url:") {
            saved.url = Some(u.trim().to_string()).filter(|u| !u.is_empty());
        } else if let Some(d) = line.strip_prefix("saved date:") {
            saved.saved = js_date(d.trim());
        }
    }
    Some(saved)
}

/// A date as JavaScript's `Date.toString()` writes it (`Wed Sep 24 2026 10:00:00 GMT+0800
/// (China Standard Time)`), or in RFC 2822 / RFC 3339.
fn js_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.split(" (").next().unwrap_or(s).trim();
    DateTime::parse_from_str(s, "%a %b %d %Y %H:%M:%S GMT%z")
        .or_else(|_| DateTime::parse_from_rfc2822(s))
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

/// SingleFile as a [`SavedForm`](super::saved::SavedForm): told by its comment, whose address
/// and date the page gets.
pub struct SingleFileForm;

impl super::saved::SavedForm for SingleFileForm {
    fn name(&self) -> &'static str {
        "singlefile"
    }

    fn is(&self, bytes: &[u8]) -> bool {
        // The comment opens the file; a raw look is wide enough for any ASCII-compatible charset
        // (the decoded head `comment` reads is at most this long).
        let head = &bytes[..bytes.len().min(2 * 8192)];
        [&b"Page saved with SingleFile"[..], b"Archive processed by SingleFile"]
            .iter()
            .any(|m| memchr::memmem::find(head, m).is_some())
    }

    fn read(&self, bytes: Vec<u8>) -> Result<super::saved::Kept, Vec<u8>> {
        let html = super::decode_html_owned(bytes, None);
        match comment(&html) {
            Some(saved) => {
                let url = saved.url.as_deref().and_then(crate::article::article_address).map(|u| u.to_string());
                Ok(super::saved::Kept { html, url, saved: saved.saved })
            }
            // The text is valid UTF-8 now: plain HTML reads it back as it is.
            None => Err(html.into_bytes()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_comment() {
        let page = "<!DOCTYPE html> <html lang=\"zh-CN\"><!--\n Page saved with SingleFile \n url: https://mp.weixin.qq.com/s/Abc \n saved date: Thu Dec 03 2026 19:24:00 GMT+0800 (中国标准时间)\n--><head>";
        let s = comment(page).unwrap();
        assert_eq!(s.url.as_deref(), Some("https://mp.weixin.qq.com/s/Abc"));
        assert_eq!(s.saved.unwrap().to_rfc3339(), "2026-12-03T11:24:00+00:00");
        assert_eq!(comment("<html><!-- saved from url=(0010)x --><p>no</p>"), None);
    }
}
