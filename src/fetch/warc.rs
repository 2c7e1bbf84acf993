//! WARC (ISO 28500): what ArchiveBox, Browsertrix and `wget --warc-file` keep. A file (or a
//! gzip stream of one member per record, `.warc.gz`) of records, each a version line, headers,
//! a blank line and `Content-Length` bytes. The `response` records of WeChat article addresses
//! are the pages: their HTTP message is read (chunked bodies joined, `gzip`/`deflate`/`br`
//! undone), their address is `WARC-Target-URI` and their fetch date `WARC-Date`. Records are
//! read one at a time, so an archive of any size is never all in memory.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, Utc};

use super::FetchedPage;
use crate::article::{article_address, is_article_address};
use crate::error::{Error, Result};

/// Whether a file's first bytes are a WARC (plain, or gzip holding one).
pub fn is_warc(path: &Path) -> bool {
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut head = [0u8; 8];
    let mut f = file.take(8);
    let n = f.read(&mut head).unwrap_or(0);
    if head[..n].starts_with(b"WARC/") {
        return true;
    }
    if head[..n].starts_with(&[0x1f, 0x8b]) {
        let Ok(file) = std::fs::File::open(path) else { return false };
        let mut inner = [0u8; 5];
        let mut gz = flate2::read::MultiGzDecoder::new(file);
        return gz.read_exact(&mut inner).is_ok() && &inner == b"WARC/";
    }
    false
}

/// What reading an archive met beside the pages it gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// Records read.
    pub records: usize,
    /// Records that are no article page (requests, metadata, images, redirects, other sites).
    pub other: usize,
    /// `revisit` records and article addresses met again.
    pub again: usize,
}

/// The article pages of a WARC file, one at a time.
pub struct Pages {
    reader: Box<dyn BufRead>,
    shown: String,
    seen: std::collections::HashSet<String>,
    /// What was met beside the pages.
    pub counts: Counts,
}

impl Pages {
    /// Opens a WARC file.
    pub fn open(path: &Path) -> Result<Pages> {
        let err = |source| Error::Read { path: path.to_path_buf(), source };
        let mut file = std::fs::File::open(path).map_err(err)?;
        let mut magic = [0u8; 2];
        let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
        let file = std::fs::File::open(path).map_err(err)?;
        let reader: Box<dyn BufRead> = if gz {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
        } else {
            Box::new(BufReader::new(file))
        };
        Ok(Pages { reader, shown: path.display().to_string(), seen: Default::default(), counts: Counts::default() })
    }

    fn bad(&self, message: String) -> Error {
        Error::Read {
            path: self.shown.clone().into(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, message),
        }
    }

    /// The next record: its headers (names lower-cased) and block; `None` at the end.
    fn record(&mut self) -> Result<Option<(Headers, Vec<u8>)>> {
        let mut line = String::new();
        // Blank lines between records (the two CRLFs that end one) are passed over.
        loop {
            line.clear();
            let n = self.reader.read_line(&mut line).map_err(|e| self.bad(e.to_string()))?;
            if n == 0 {
                return Ok(None);
            }
            if !line.trim().is_empty() {
                break;
            }
        }
        if !line.starts_with("WARC/") {
            return Err(self.bad(format!("a record starts with {:?}, not a WARC version line", line.trim())));
        }
        let mut headers = Vec::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line).map_err(|e| self.bad(e.to_string()))? == 0 {
                return Err(self.bad("the archive ends inside a record's headers".to_string()));
            }
            let l = line.trim_end_matches(['\r', '\n']);
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let length: u64 = header(&headers, "content-length")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| self.bad("a record without Content-Length".to_string()))?;
        let mut block = Vec::with_capacity(length.min(64 << 20) as usize);
        (&mut self.reader).take(length).read_to_end(&mut block).map_err(|e| self.bad(e.to_string()))?;
        if (block.len() as u64) < length {
            return Err(self.bad("the archive ends inside a record".to_string()));
        }
        self.counts.records += 1;
        Ok(Some((headers, block)))
    }

    /// The next article page, or `None` at the end of the archive.
    pub fn next_page(&mut self, max_body: usize) -> Result<Option<FetchedPage>> {
        while let Some((headers, block)) = self.record()? {
            let kind = header(&headers, "warc-type").unwrap_or_default().to_ascii_lowercase();
            let target = header(&headers, "warc-target-uri").unwrap_or_default().trim_matches(['<', '>']).to_string();
            let address = article_address(&target).filter(is_article_address);
            if kind == "revisit" && address.is_some() {
                self.counts.again += 1;
                continue;
            }
            let Some(address) = address.filter(|_| kind == "response") else {
                self.counts.other += 1;
                continue;
            };
            let Some((status, http_headers, body)) = http_message(&block) else {
                self.counts.other += 1;
                continue;
            };
            if status != 200 {
                // A redirect (a short link to its long address) or an error: the page is
                // another record, or is not kept.
                self.counts.other += 1;
                continue;
            }
            if !self.seen.insert(address.to_string()) {
                self.counts.again += 1;
                continue;
            }
            let body = decoded_body(&http_headers, body).map_err(|e| self.bad(format!("{target}: {e}")))?;
            if body.len() > max_body {
                return Err(Error::TooLarge { url: target, limit: max_body });
            }
            let charset = header(&http_headers, "content-type").and_then(|ct| {
                ct.to_ascii_lowercase().split("charset=").nth(1).map(|c| c.trim_matches(['"', ' ']).to_string())
            });
            let fetched_at = header(&headers, "warc-date")
                .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                .map_or_else(Utc::now, |d| d.with_timezone(&Utc));
            return Ok(Some(FetchedPage {
                target: format!("{}#{address}", self.shown),
                url: Some(address.to_string()),
                html: super::decode_html(&body, charset.as_deref()),
                fetched_at,
            }));
        }
        Ok(None)
    }

    /// The next image the archive holds (a `200` response whose type is an image): its address,
    /// content type and body; `None` at the end. A pass of its own, so that pages and images
    /// may come in any order.
    pub fn next_image(&mut self) -> Result<Option<(String, String, Vec<u8>)>> {
        while let Some((headers, block)) = self.record()? {
            if !header(&headers, "warc-type").is_some_and(|k| k.eq_ignore_ascii_case("response")) {
                continue;
            }
            let target = header(&headers, "warc-target-uri").unwrap_or_default().trim_matches(['<', '>']).to_string();
            let Some((200, http_headers, body)) = http_message(&block) else { continue };
            let ctype = header(&http_headers, "content-type").unwrap_or_default().to_ascii_lowercase();
            if !ctype.starts_with("image/") {
                continue;
            }
            let body = decoded_body(&http_headers, body).map_err(|e| self.bad(format!("{target}: {e}")))?;
            return Ok(Some((target, ctype, body)));
        }
        Ok(None)
    }
}

/// Headers, names lower-cased, in order.
type Headers = Vec<(String, String)>;

fn header<'a>(hs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    hs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// An HTTP response's status, headers and raw body.
fn http_message(block: &[u8]) -> Option<(u16, Headers, &[u8])> {
    let end = memchr::memmem::find(block, b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| memchr::memmem::find(block, b"\n\n").map(|i| (i, 2)))?;
    let head = String::from_utf8_lossy(&block[..end.0]);
    let mut lines = head.lines();
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Some((status, headers, &block[end.0 + end.1..]))
}

/// A body as the page: chunks joined, content encodings undone (in the order applied).
fn decoded_body(headers: &[(String, String)], body: &[u8]) -> std::io::Result<Vec<u8>> {
    let chunked = header(headers, "transfer-encoding").is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let mut bytes = if chunked { dechunked(body)? } else { body.to_vec() };
    let encodings = header(headers, "content-encoding").unwrap_or_default().to_ascii_lowercase();
    for enc in encodings.split(',').map(str::trim).rev().filter(|e| !e.is_empty() && *e != "identity") {
        let mut out = Vec::new();
        match enc {
            "gzip" | "x-gzip" => {
                flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut out)?;
            }
            "deflate" => {
                if flate2::read::ZlibDecoder::new(&bytes[..]).read_to_end(&mut out).is_err() {
                    out.clear();
                    flate2::read::DeflateDecoder::new(&bytes[..]).read_to_end(&mut out)?;
                }
            }
            "br" => {
                brotli::Decompressor::new(&bytes[..], 4096).read_to_end(&mut out)?;
            }
            other => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("unknown content encoding {other}"),
                ));
            }
        }
        bytes = out;
    }
    Ok(bytes)
}

/// A chunked body's chunks, joined.
fn dechunked(mut body: &[u8]) -> std::io::Result<Vec<u8>> {
    let bad = || std::io::Error::new(std::io::ErrorKind::InvalidData, "a chunked body broken off");
    let mut out = Vec::with_capacity(body.len());
    loop {
        let eol = memchr::memchr(b'\n', body).ok_or_else(bad)?;
        let size_line = String::from_utf8_lossy(&body[..eol]);
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16).map_err(|_| bad())?;
        body = &body[eol + 1..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(body.get(..size).ok_or_else(bad)?);
        body = &body[size..];
        body = body.strip_prefix(b"\r\n").or_else(|| body.strip_prefix(b"\n")).unwrap_or(body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_and_encodings() {
        assert_eq!(dechunked(b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n").unwrap(), b"abcde");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, "漏洞".as_bytes()).unwrap();
        let zipped = gz.finish().unwrap();
        let headers = vec![("content-encoding".to_string(), "gzip".to_string())];
        assert_eq!(decoded_body(&headers, &zipped).unwrap(), "漏洞".as_bytes());
        let (status, hs, body) = http_message(b"HTTP/1.1 301 Moved\r\nLocation: /s?x\r\n\r\n").unwrap();
        assert_eq!((status, hs[0].1.as_str(), body.len()), (301, "/s?x", 0));
    }
}
