//! MHTML (RFC 2557): what Chrome's and Edge's "Webpage, Single File" and Safari's web archives
//! keep — a `multipart/related` message whose parts are the page (quoted-printable or base64,
//! named by its `Content-Location`) and its resources (images by their addresses). The page part
//! is read as the page; its address is its `Content-Location` (or the head's
//! `Snapshot-Content-Location`), its fetch date the head's `Date`; the other parts are kept by
//! address so that images need not be fetched again.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// A page kept as MHTML.
#[derive(Debug, Default)]
pub struct Mhtml {
    /// The page's bytes, decoded from their transfer encoding.
    pub html: Vec<u8>,
    /// The charset its part declares.
    pub charset: Option<String>,
    /// The page's address, as the archive names it.
    pub url: Option<String>,
    /// When the page was saved (the head's `Date`).
    pub saved: Option<DateTime<Utc>>,
    /// Every other part by its `Content-Location`: content type and bytes.
    pub resources: HashMap<String, (String, Vec<u8>)>,
}

/// Whether bytes are an MHTML archive: a message head naming `multipart/related` before any
/// markup.
pub fn is_mhtml(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(4096)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let first = text.trim_start();
    let header_like = first.split_once(':').is_some_and(|(name, _)| {
        !name.is_empty() && name.len() < 40 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    header_like && text.contains("multipart/related") && text.contains("boundary=")
}

/// The headers of a part or of the message, unfolded, names lower-cased; and what follows them.
fn headers(block: &[u8]) -> (Vec<(String, String)>, &[u8]) {
    let (head, body) = split_head(block);
    let text = String::from_utf8_lossy(head);
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.split('\n').map(|l| l.trim_end_matches('\r')) {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            out.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    (out, body)
}

/// A head and its body, cut at the first blank line.
fn split_head(block: &[u8]) -> (&[u8], &[u8]) {
    let crlf = memchr::memmem::find(block, b"\r\n\r\n").map(|i| (i, 4));
    let lf = memchr::memmem::find(block, b"\n\n").map(|i| (i, 2));
    match [crlf, lf].into_iter().flatten().min_by_key(|(i, _)| *i) {
        Some((i, n)) => (&block[..i], &block[i + n..]),
        None => (block, &[]),
    }
}

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// A parameter of a header value (`boundary="…"`, `charset=utf-8`).
fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
    })
}

/// Quoted-printable decoded: `=XX` bytes, `=` at a line's end joins it to the next.
fn quoted_printable(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    while i < body.len() {
        let b = body[i];
        if b == b'=' {
            match (body.get(i + 1), body.get(i + 2)) {
                (Some(b'\r'), Some(b'\n')) => i += 3,
                (Some(b'\n'), _) => i += 2,
                (Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                    out.push(hex(h).unwrap_or(0) << 4 | hex(l).unwrap_or(0));
                    i += 3;
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            }
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// A body undone from its transfer encoding (`quoted-printable`, `base64`; white space in base64
/// passed over); empty when it does not decode.
pub(super) fn decoded(encoding: Option<&str>, body: &[u8]) -> Vec<u8> {
    match encoding.map(|e| e.trim().to_ascii_lowercase()).as_deref() {
        Some("quoted-printable") => quoted_printable(body),
        Some("base64") => {
            use base64::Engine as _;
            let clean: Vec<u8> = body.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(clean).unwrap_or_default()
        }
        _ => body.to_vec(),
    }
}

/// Reads an MHTML archive; `None` when it holds no HTML part.
pub fn read(bytes: &[u8]) -> Option<Mhtml> {
    let (head, body) = headers(bytes);
    let boundary = header(&head, "content-type").and_then(|ct| param(ct, "boundary"))?;
    let snapshot = header(&head, "snapshot-content-location").map(str::to_string);
    let saved =
        header(&head, "date").and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok()).map(|d| d.with_timezone(&Utc));
    let delimiter = format!("--{boundary}");
    let mut pages: Vec<(Option<String>, Option<String>, Vec<u8>)> = Vec::new();
    let mut resources = HashMap::new();
    for part in split_parts(body, delimiter.as_bytes()) {
        let (hs, raw) = headers(part);
        let content_type = header(&hs, "content-type").unwrap_or("text/plain").to_string();
        let location = header(&hs, "content-location").map(str::to_string);
        let bytes = decoded(header(&hs, "content-transfer-encoding"), raw);
        let mime = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if mime == "text/html" || mime == "application/xhtml+xml" {
            pages.push((location, param(&content_type, "charset"), bytes));
        } else if let Some(loc) = location {
            resources.insert(loc, (mime, bytes));
        }
    }
    // The page the archive was taken of; a frame's page is a resource of it.
    let at = pages.iter().position(|(loc, _, _)| loc.is_some() && *loc == snapshot).unwrap_or(0);
    if pages.is_empty() {
        return None;
    }
    let (location, charset, html) = pages.swap_remove(at);
    for (loc, _, bytes) in pages {
        if let Some(loc) = loc {
            resources.insert(loc, ("text/html".to_string(), bytes));
        }
    }
    Some(Mhtml { html, charset, url: location.or(snapshot), saved, resources })
}

/// The parts between delimiter lines, the closing `--` delimiter ending them.
fn split_parts<'a>(body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut starts = Vec::new();
    for at in memchr::memmem::find_iter(body, delimiter) {
        // A delimiter stands at a line's start.
        if at == 0 || body[at - 1] == b'\n' {
            starts.push(at);
        }
    }
    for (i, &at) in starts.iter().enumerate() {
        let after = at + delimiter.len();
        if body.get(after..after + 2) == Some(b"--") {
            break;
        }
        let begin = body[after..].iter().position(|b| *b == b'\n').map_or(body.len(), |p| after + p + 1);
        let end = starts.get(i + 1).copied().unwrap_or(body.len());
        if begin < end {
            // The line break before the next delimiter belongs to it.
            let mut part = &body[begin..end];
            part = part.strip_suffix(b"\n").unwrap_or(part);
            part = part.strip_suffix(b"\r").unwrap_or(part);
            out.push(part);
        }
    }
    out
}

/// MHTML as a [`SavedForm`](super::saved::SavedForm): the page is its `text/html` part.
pub struct MhtmlForm;

impl super::saved::SavedForm for MhtmlForm {
    fn name(&self) -> &'static str {
        "mhtml"
    }

    fn is(&self, bytes: &[u8]) -> bool {
        is_mhtml(bytes)
    }

    fn read(&self, bytes: Vec<u8>) -> Result<super::saved::Kept, Vec<u8>> {
        let Some(m) = read(&bytes) else { return Err(bytes) };
        let html = super::decode_html(&m.html, m.charset.as_deref());
        let url = m
            .url
            .as_deref()
            .and_then(crate::article::article_address)
            .map(|u| u.to_string())
            .or_else(|| super::saved::saved_from(&html));
        Ok(super::saved::Kept { html, url, saved: m.saved })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blink_archive() {
        let doc = "From: <Saved by Blink>\r\nSnapshot-Content-Location: https://mp.weixin.qq.com/s/Abc\r\nDate: Tue, 20 Mar 2018 09:00:00 +0800\r\nMIME-Version: 1.0\r\nContent-Type: multipart/related;\r\n\ttype=\"text/html\";\r\n\tboundary=\"--B--\"\r\n\r\n----B--\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Location: https://mp.weixin.qq.com/s/Abc\r\n\r\n<p class=3D\"x\">=E6=BC=8F=E6=B4=9E=\r\n=E9=A2=84=E8=AD=A6</p>\r\n----B--\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\nContent-Location: https://mmbiz.qpic.cn/a/640\r\n\r\naGVs\r\nbG8=\r\n----B----\r\n";
        assert!(is_mhtml(doc.as_bytes()));
        assert!(!is_mhtml(b"<!DOCTYPE html><p>multipart/related boundary=</p>"));
        let m = read(doc.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(m.html).unwrap(), "<p class=\"x\">漏洞预警</p>");
        assert_eq!(m.url.as_deref(), Some("https://mp.weixin.qq.com/s/Abc"));
        assert_eq!(m.saved.unwrap().to_rfc3339(), "2018-03-20T01:00:00+00:00");
        assert_eq!(m.resources["https://mmbiz.qpic.cn/a/640"], ("image/png".to_string(), b"hello".to_vec()));
    }
}
