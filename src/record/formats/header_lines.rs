//! Records that open with `# title` and a header under it: an account line
//! (`account   YYYY-MM-DD HH:MM`, the header-line format), labelled lines ([`super::labelled`]),
//! or the exporter's account link ([`super::turndown`]).

use regex::Regex;
use std::sync::LazyLock;

use super::labelled::{fetched_footer, listed_header};
use super::turndown::turndown_after;
use super::{Format, Parsed, Reader, front_matter_of, is_date};

pub(super) static ACCOUNT_LINE: LazyLock<Regex> =
    // Full-width digits still make the line an account line; `is_date` then refuses the date.
    LazyLock::new(|| {
        Regex::new(r"^\s*(.*?)\s{2,}([0-9０-９]{4}-[0-9０-９]{2}-[0-9０-９]{2}) [0-9０-９]{2}:[0-9０-９]{2}\s*$")
            .unwrap()
    });

pub(super) static SOURCE_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*[-*]?\s*(?:原文链接|原文地址|URL Source|原始链接)\s*[:：]\s*(https?://\S+)\s*$").unwrap()
});

pub(super) fn header_lines(text: &str) -> Option<Parsed> {
    let mut lines = text.split('\n').enumerate().skip_while(|(_, l)| l.trim().is_empty());
    let (title_at, title_line) = lines.next()?;
    let title = title_line.trim_start().strip_prefix('#')?.trim().to_string();
    if title.is_empty() {
        return None;
    }
    let all: Vec<&str> = text.split('\n').collect();
    // The account line comes within the next three lines (after an optional `原创 author` line).
    let account = all.iter().enumerate().skip(title_at + 1).take(3).find_map(|(i, line)| {
        let c = ACCOUNT_LINE.captures(line)?;
        let left = c.get(1).map_or("", |m| m.as_str()).trim();
        let source = split_wide(left).last().map(|s| s.to_string()).unwrap_or_default();
        let date = if is_date(&c[2]) { c[2].to_string() } else { String::new() };
        Some((source, date, String::new(), i + 1))
    });
    // A `# title` with neither header under it is a page of links or a README, not a record,
    // unless turndown wrote it (the exporter's account link under the title).
    let header = account
        .map(|(source, date, url, body_from)| Header {
            source,
            date,
            url,
            fetch_date: String::new(),
            body_from,
            format: Format::HeaderLines,
        })
        .or_else(|| listed_header(&all, title_at + 1));
    let Some(Header { source, date, url: variant_url, mut fetch_date, body_from, format }) = header else {
        return turndown_after(&all, title_at + 1, title);
    };
    let mut body = all[body_from.min(all.len())..].join("\n");
    if format != Format::HeaderLines
        && let Some((kept, fetched)) = fetched_footer(&body)
    {
        body = kept;
        fetch_date = fetched;
    }
    // Some exports name the page they came from near the top.
    // Under an account line the record is the WeChat article: a `原文链接` in its first lines is
    // the page it reposts (article text), unless it is the article's own address.
    let url = if variant_url.is_empty() {
        all.iter()
            .skip(body_from)
            .take(12)
            .find_map(|l| SOURCE_LINK.captures(l).map(|c| c[1].to_string()))
            .filter(|u| u.contains("mp.weixin.qq.com/"))
    } else {
        Some(variant_url)
    }
    .unwrap_or_default();
    Some(Parsed { title, url, source, date, fetch_date, body, format })
}

/// What a header of labelled lines says, and where the body starts.
pub(super) struct Header {
    pub(super) source: String,
    pub(super) date: String,
    pub(super) url: String,
    pub(super) fetch_date: String,
    pub(super) body_from: usize,
    pub(super) format: Format,
}

/// Splits on runs of two or more spaces (the header line's column separator).
pub(super) fn split_wide(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = s.trim();
    while let Some(at) = rest.find("  ") {
        parts.push(rest.get(..at).unwrap_or_default().trim());
        rest = rest.get(at..).unwrap_or_default().trim_start();
    }
    if !rest.is_empty() {
        parts.push(rest);
    }
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

/// A `# title` and the header under it: an account line, labelled lines (a list or quotes), or the exporter's account link.
pub struct HeaderLines;

impl Reader for HeaderLines {
    fn formats(&self) -> &'static [Format] {
        &[Format::HeaderLines, Format::ListHeader, Format::QuoteHeader, Format::Turndown]
    }

    fn read(&self, text: &str) -> Option<Parsed> {
        if front_matter_of(text).is_some() { None } else { header_lines(text) }
    }
}
