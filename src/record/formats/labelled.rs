//! Headers of labelled lines, as backup scripts write them: a list (`- 来源: 账号`) or quotes
//! (`> 来源: 账号`, `> 发布时间: …`, `> 原文链接: …`), a `---` rule, and a `*本文抓取时间: …*` footer;
//! and the times those tools write, read as the day they were in China.

use regex::Regex;
use std::sync::LazyLock;

use super::Format;
use super::header_lines::Header;

/// The header as labelled lines, each a list item (`- 来源: 账号`) or a quote (`> 来源: 账号`,
/// blank lines between): `来源`/`公众号`, `发布时间` (or `发布时间(UTC)`), `原文链接`, then an
/// optional `---` rule. `未知` (unknown) is no name at all; a UTC time is dated in China Standard
/// Time, as every record is.
pub(super) fn listed_header(all: &[&str], from: usize) -> Option<Header> {
    static ITEM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^\s*([-*>])\s*(?:\*\*)?(来源|公众号|发布时间(?:\s*[(（]UTC[)）])?|原文链接|原文地址|抓取时间)(?:\*\*)?\s*[:：]\s*(?:\*\*)?\s*(.*?)\s*$",
        )
        .unwrap()
    });
    let (mut source, mut date, mut url, mut quoted) = (None, String::new(), String::new(), false);
    let mut fetch_date = String::new();
    let mut at = from;
    while let Some(line) = all.get(at) {
        if line.trim().is_empty() {
            at += 1;
            continue;
        }
        let Some(c) = ITEM.captures(line) else {
            // Other labelled quotes of the same block (`> 作者: …`, `> 分类: …`) are header too; a
            // list item after a list header may be the body's first line, and stays.
            if quoted {
                static OTHER: LazyLock<Regex> =
                    LazyLock::new(|| Regex::new(r"^\s*>\s*(?:\*\*)?[^\s:：*]{1,10}(?:\*\*)?\s*[:：]").unwrap());
                if OTHER.is_match(line) {
                    at += 1;
                    continue;
                }
            }
            break;
        };
        quoted = &c[1] == ">";
        let value = c[3].to_string();
        match &c[2] {
            "来源" | "公众号" => source = Some(if names_no_one(&value) { String::new() } else { value }),
            "原文链接" | "原文地址" => {
                // `[URL](URL)` or `<URL>` as some writers link it.
                let v = value.trim_start_matches(['[', '<']);
                url = v
                    .split(|c: char| c.is_whitespace() || matches!(c, ']' | '>' | ')'))
                    .next()
                    .unwrap_or_default()
                    .to_string()
            }
            "抓取时间" => fetch_date = china_time_as_utc(&value).unwrap_or_default(),
            key => date = labelled_date(&value, key.contains("UTC")),
        }
        at += 1;
    }
    // A quoted header is the tool's even without an account (some name only the address); a
    // list needs its `来源`, or an ordinary list under a heading would be taken for one.
    let source = if quoted { source.unwrap_or_default() } else { source? };
    while all.get(at).is_some_and(|l| l.trim().is_empty()) {
        at += 1;
    }
    if all.get(at).is_some_and(|l| is_rule(l)) {
        at += 1;
    }
    let format = if quoted { Format::QuoteHeader } else { Format::ListHeader };
    Some(Header { source, date, url, fetch_date, body_from: at, format })
}

/// Whether a labelled account is the tools' word for none (`未知`, unknown).
pub(crate) fn names_no_one(value: &str) -> bool {
    matches!(value, "未知" | "unknown" | "-")
}

/// A Markdown thematic break of dashes (`---`, `----`), as tools put between header and body.
pub(super) fn is_rule(line: &str) -> bool {
    let l = line.trim();
    l.len() >= 3 && l.chars().all(|c| c == '-')
}

/// A local time in China (`2026-03-12 10:15:30`, `…T10:15`) as a `fetch_date` in UTC.
pub(super) fn china_time_as_utc(value: &str) -> Option<String> {
    let local = value.trim().replace('T', " ");
    let at = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(&local, f).ok())?;
    Some((at - chrono::Duration::hours(8)).format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
}

/// A labelled time as written by the tools (`2026-03-11 10:00:00`, `2026-03-11`, `2026/3/11`,
/// `2026年03月11日 10:00`), as the day it was in China (UTC+8): a UTC time is moved there first.
/// Empty when it is none of these (`未知时间`, unknown).
pub(crate) fn labelled_date(value: &str, utc: bool) -> String {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value.trim()) {
        return t.with_timezone(&crate::record::china_time()).format("%Y-%m-%d").to_string();
    }
    // The time and what some writers put after it (`2025-01-09 02:41・北京`).
    static LEADING: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*[0-9]{4}[-/年][0-9]{1,2}[-/月][0-9]{1,2}日?(?:\s*[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?)?").unwrap()
    });
    let value = LEADING.find(value).map_or(value, |m| m.as_str());
    // The Unix epoch is what a missing timestamp prints as, not a day anything was published.
    if value.trim_start().starts_with("1970-01-01") {
        return String::new();
    }
    let value: String = value
        .trim()
        .chars()
        .map(|c| match c {
            '年' | '月' | '/' => '-',
            '日' => ' ',
            c => c,
        })
        .collect();
    let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&value, format) {
            let t = if utc { t + chrono::Duration::hours(8) } else { t };
            return t.format("%Y-%m-%d").to_string();
        }
    }
    match chrono::NaiveDate::parse_from_str(value.split(' ').next().unwrap_or_default(), "%Y-%m-%d") {
        Ok(d) if !utc && value.bytes().take(10).all(|b| b.is_ascii_digit() || b == b'-') => {
            d.format("%Y-%m-%d").to_string()
        }
        _ => String::new(),
    }
}

/// The footer a backup tool ends its records with (`---` then `*本文抓取时间: 2026-03-12 10:00:00*`):
/// the body without it, and the time it names as a `fetch_date` (UTC; the tool wrote the local
/// time of a machine in China).
pub(super) fn fetched_footer(body: &str) -> Option<(String, String)> {
    static FOOTER: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(
            r"^[*_]*\s*本文抓取时间\s*[:：]\s*([0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2})?)\s*[*_]*$",
        )
        .unwrap()
    });
    let trimmed = body.trim_end();
    let (before, last) = trimmed.rsplit_once('\n').unwrap_or(("", trimmed));
    let c = FOOTER.captures(last.trim())?;
    let fetched = china_time_as_utc(&c[1])?;
    let mut kept = before.trim_end();
    if let Some((above, rule)) = kept.rsplit_once('\n')
        && is_rule(rule)
    {
        kept = above;
    }
    Some((format!("{}\n", kept.trim_end()), fetched))
}
