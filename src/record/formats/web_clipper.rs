//! Obsidian Web Clipper's records: real YAML front matter with `title`, `source` (the address),
//! `author`, `published`, `created`.

use regex::Regex;
use std::sync::LazyLock;

use super::labelled::labelled_date;
use super::{Format, Parsed, Reader, front_matter_of, scalar};

/// Obsidian Web Clipper's front matter: real YAML, `source` the article's address (there is no
/// `url` key), `author` a wiki link or a list of them, `published` the publishing day, `created`
/// the clipping day. `None` when the front matter is not the clipper's.
pub(super) fn web_clipper(rest: &str) -> Option<Parsed> {
    static KEY: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^([A-Za-z_][A-Za-z0-9_-]*):(?:\s+(.*?))?\s*$").unwrap());
    static ITEM: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\s+-\s+(.*?)\s*$").unwrap());
    let end = rest
        .find("\n---\n")
        .map(|e| (e + 1, e + 5))
        .or_else(|| rest.strip_suffix("\n---").map(|r| (r.len() + 1, rest.len())))?;
    let head = rest.get(..end.0).unwrap_or_default();
    let mut values: Vec<(String, Vec<String>)> = Vec::new();
    for line in head.lines() {
        if let Some(c) = KEY.captures(line) {
            let first = c.get(2).map(|m| scalar(m.as_str())).filter(|v| !v.is_empty());
            values.push((c[1].to_string(), first.into_iter().collect()));
        } else if let Some(c) = ITEM.captures(line)
            && let Some((_, list)) = values.last_mut()
        {
            list.push(scalar(&c[1]));
        }
    }
    let get = |k: &str| values.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_slice());
    let url = get("source")?.first()?.clone();
    if get("url").is_some() || !url.starts_with("http") || get("title").is_none() {
        return None;
    }
    let first = |k: &str| get(k).and_then(|v| v.first()).cloned().unwrap_or_default();
    let source = get("author")
        .unwrap_or_default()
        .iter()
        .map(|a| {
            let a = a.trim().trim_start_matches("[[").trim_end_matches("]]");
            a.split('|').next().unwrap_or_default().trim().to_string()
        })
        .find(|a| !a.is_empty())
        .unwrap_or_default();
    let body = rest.get(end.1.min(rest.len())..).unwrap_or_default();
    Some(Parsed {
        title: first("title"),
        url,
        source,
        date: zoned_day(&first("published")),
        fetch_date: zoned_time(&first("created")),
        body: body.to_string(),
        format: Format::WebClipper,
    })
}

/// The day in China of `2026-03-11`, `2026-03-11T10:00:00+08:00` or `2026-03-11 10:00`.
pub(super) fn zoned_day(value: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(value.trim()) {
        Ok(t) => t.with_timezone(&crate::record::china_time()).format("%Y-%m-%d").to_string(),
        Err(_) => labelled_date(value, false),
    }
}

/// A `fetch_date` (UTC) from a time with its zone; a day alone says no time and gives none.
pub(super) fn zoned_time(value: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

/// Obsidian Web Clipper's front matter.
pub struct WebClipper;

impl Reader for WebClipper {
    fn formats(&self) -> &'static [Format] {
        &[Format::WebClipper]
    }

    fn read(&self, text: &str) -> Option<Parsed> {
        front_matter_of(text).and_then(web_clipper)
    }
}
