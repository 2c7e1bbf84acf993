//! Reading the two formats other archivers write: the front-matter format (fixed key lines that
//! are not valid YAML) and the header-line format (`# title`, `account   YYYY-MM-DD HH:MM`).

use regex::Regex;
use std::sync::LazyLock;

/// What a dirty record says about itself, before cleaning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// The title as written (may hold line breaks or literal `\n`).
    pub title: String,
    /// The address as written.
    pub url: String,
    /// The account (or feed) name.
    pub source: String,
    /// `YYYY-MM-DD`, or empty.
    pub date: String,
    /// `YYYY-MM-DDTHH:MM:SS.ffffff`, or empty.
    pub fetch_date: String,
    /// The Markdown after the front matter or header lines.
    pub body: String,
    /// Which format the file was in.
    pub format: Format,
}

/// The record formats `normalise` reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// `---` front matter with `title/url/source/date/fetch_date` key lines.
    #[default]
    FrontMatter,
    /// `# title` then `account   YYYY-MM-DD HH:MM` (and since 2026 a `原创 author` line).
    HeaderLines,
}

const KEYS: [&str; 5] = ["title", "url", "source", "date", "fetch_date"];

static DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").unwrap());
static FETCH_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$").unwrap());
static EXTRA_KEY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_-]*:(\s|$)").unwrap());
static ACCOUNT_LINE: LazyLock<Regex> =
    // Full-width digits still make the line an account line; `is_date` then refuses the date.
    LazyLock::new(|| {
        Regex::new(r"^\s*(.*?)\s{2,}([0-9０-９]{4}-[0-9０-９]{2}-[0-9０-９]{2}) [0-9０-９]{2}:[0-9０-９]{2}\s*$")
            .unwrap()
    });
static SOURCE_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*[-*]?\s*(?:原文链接|原文地址|URL Source|原始链接)\s*[:：]\s*(https?://\S+)\s*$").unwrap()
});

/// Reads a dirty record. `None` when the text is in neither format.
pub fn parse(text: &str) -> Option<Parsed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text: std::borrow::Cow<str> =
        if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n").into() } else { text.into() };
    if let Some(rest) = text.strip_prefix("---\n") {
        return front_matter(rest);
    }
    header_lines(&text)
}

fn front_matter(rest: &str) -> Option<Parsed> {
    let end = rest.find("\n---\n").map(|e| (e + 1, e + 5)).or_else(|| {
        // A file that ends right after its front matter.
        rest.strip_suffix("\n---")
            .map(|r| (r.len() + 1, rest.len()))
            .or_else(|| rest.strip_suffix("\n---\n").map(|r| (r.len() + 1, rest.len())))
    })?;
    let head = rest.get(..end.0).unwrap_or_default();
    let body = rest.get(end.1.min(rest.len())..).unwrap_or_default();
    // Key lines start at column 0 with a known key; a line that does not continues the value
    // before it (multi-line titles are common in the seed archive).
    let mut values: Vec<(usize, String)> = Vec::new();
    for line in head.lines() {
        // Keys after the five (wxsec's own `--extra-fields`, or another tool's) are not carried
        // over: wxsec derives its extra facts from the record again.
        if values.iter().any(|(k, _)| *k == 4) && EXTRA_KEY.is_match(line) {
            break;
        }
        let key = KEYS.iter().position(|k| line.strip_prefix(k).is_some_and(|r| r.starts_with(':')));
        let next_expected = values.len();
        match key {
            Some(k) if k == next_expected || (k > next_expected && values.iter().all(|(v, _)| *v < k)) => {
                let v = line.get(KEYS[k].len() + 1..).unwrap_or_default().trim_start();
                values.push((k, v.to_string()));
            }
            _ => match values.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line);
                }
                None => return None,
            },
        }
    }
    let get = |k: usize| values.iter().find(|(i, _)| *i == k).map(|(_, v)| scalar(v)).unwrap_or_default();
    let date = get(3);
    let fetch_date = get(4);
    Some(Parsed {
        title: get(0),
        url: get(1),
        source: get(2),
        date: if is_date(date.trim()) { date.trim().to_string() } else { String::new() },
        fetch_date: normal_fetch_date(fetch_date.trim()),
        body: body.to_string(),
        format: Format::FrontMatter,
    })
}

/// Whether `s` is a day of the calendar written `YYYY-MM-DD` in ASCII digits.
pub fn is_date(s: &str) -> bool {
    DATE.is_match(s) && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// `fetch_date` with exactly six fraction digits, or empty when it is not a timestamp.
fn normal_fetch_date(s: &str) -> String {
    if !FETCH_DATE.is_match(s) || chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_err() {
        return String::new();
    }
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    format!("{secs}.{frac:0<6}")
}

/// A value as written: a double-quoted YAML/JSON string or a single-quoted YAML one is unquoted;
/// anything else is the text itself (the seed archive never quoted).
fn scalar(raw: &str) -> String {
    let v = raw.trim();
    if v.len() >= 2
        && v.starts_with('"')
        && v.ends_with('"')
        && !v.contains('\n')
        && let Ok(s) = serde_json::from_str::<String>(&yaml_escapes_as_json(v))
    {
        return s;
    }
    if v.len() >= 2 && v.starts_with('\'') && v.ends_with('\'') && !v.contains('\n') {
        let inner = v.get(1..v.len() - 1).unwrap_or_default();
        if !inner.replace("''", "").contains('\'') {
            return inner.replace("''", "'");
        }
    }
    v.to_string()
}

/// A YAML double-quoted scalar as a JSON string: YAML's own escapes (`\N`, `\L`, `\P`, `\_`,
/// `\xXX`) become `\u` escapes; an escaped backslash stays one (`\\L` is a backslash and an L).
fn yaml_escapes_as_json(quoted: &str) -> String {
    let mut out = String::with_capacity(quoted.len() + 8);
    let mut chars = quoted.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('N') => out.push_str("\\u0085"),
            Some('L') => out.push_str("\\u2028"),
            Some('P') => out.push_str("\\u2029"),
            Some('_') => out.push_str("\\u00a0"),
            Some('x') => {
                let hex: String = (0..2).filter_map(|_| chars.next_if(char::is_ascii_hexdigit)).collect();
                out.push_str(&format!("\\u00{hex:0>2}"));
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

fn header_lines(text: &str) -> Option<Parsed> {
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
    // A `# title` with neither header under it is a page of links or a README, not a record.
    let (source, date, variant_url, body_from) = account.or_else(|| listed_header(&all, title_at + 1))?;
    let body = all[body_from.min(all.len())..].join("\n");
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
    Some(Parsed { title, url, source, date, fetch_date: String::new(), body, format: Format::HeaderLines })
}

/// The header as a list: `- 来源: 账号`, `- 发布时间(UTC): 2026-04-04 12:00:20`, `- 原文链接: URL`,
/// then a `----` rule. `未知` (unknown) is no name at all; a UTC time is dated in China Standard
/// Time, as every record is. Returns (source, date, url, first body line).
fn listed_header(all: &[&str], from: usize) -> Option<(String, String, String, usize)> {
    static ITEM: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^\s*-\s*(来源|发布时间(?:\s*[(（]UTC[)）])?|原文链接)\s*[:：]\s*(.*?)\s*$").unwrap()
    });
    let (mut source, mut date, mut url) = (None, String::new(), String::new());
    let mut at = from;
    while let Some(line) = all.get(at) {
        if line.trim().is_empty() {
            at += 1;
            continue;
        }
        let Some(c) = ITEM.captures(line) else { break };
        let value = c[2].to_string();
        match &c[1] {
            "来源" => {
                source = Some(if matches!(value.as_str(), "未知" | "unknown" | "-") { String::new() } else { value })
            }
            "原文链接" => url = value.split_whitespace().next().unwrap_or_default().to_string(),
            key => date = listed_date(&value, key.contains("UTC")),
        }
        at += 1;
    }
    let source = source?;
    while all.get(at).is_some_and(|l| l.trim().is_empty()) {
        at += 1;
    }
    if all.get(at).is_some_and(|l| l.trim().len() >= 3 && l.trim().chars().all(|c| c == '-')) {
        at += 1;
    }
    Some((source, date, url, at))
}

/// `YYYY-MM-DD[ HH:MM[:SS]]` as the day it was in China (UTC+8) when `utc`.
fn listed_date(value: &str, utc: bool) -> String {
    let value = value.trim();
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, format) {
            let t = if utc { t + chrono::Duration::hours(8) } else { t };
            return t.format("%Y-%m-%d").to_string();
        }
    }
    let day = value.get(..10).unwrap_or_default();
    if is_date(day) && !utc { day.to_string() } else { String::new() }
}

/// Splits on runs of two or more spaces (the header line's column separator).
fn split_wide(s: &str) -> Vec<&str> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_with_a_multi_line_title() {
        let p = parse("---\ntitle: a: b\nsecond #line\nurl: https://x\nsource: S\ndate: 2024-01-02\nfetch_date: 2025-10-04T04:36:04.68\n---\n\n# a\n").unwrap();
        assert_eq!(p.title, "a: b\nsecond #line");
        assert_eq!(p.url, "https://x");
        assert_eq!(p.source, "S");
        assert_eq!(p.date, "2024-01-02");
        assert_eq!(p.fetch_date, "2025-10-04T04:36:04.680000");
        assert_eq!(p.body, "\n# a\n");
    }

    #[test]
    fn dates_are_ascii_calendar_days() {
        let p = |date: &str, fetch: &str| {
            parse(&format!("---\ntitle: t\nurl: u\nsource: s\ndate: {date}\nfetch_date: {fetch}\n---\n\n# t\n"))
                .unwrap()
        };
        let full_width = p("２０２４-01-01", "2024-01-01T00:00:0０");
        assert_eq!((full_width.date.as_str(), full_width.fetch_date.as_str()), ("", ""));
        let arabic_indic = p("٢٠٢٤-01-01", "2024-01-01T00:00:00.٥");
        assert_eq!((arabic_indic.date.as_str(), arabic_indic.fetch_date.as_str()), ("", ""));
        let impossible = p("2024-02-30", "2024-01-01T25:00:00");
        assert_eq!((impossible.date.as_str(), impossible.fetch_date.as_str()), ("", ""));
        let fine = p("2024-02-29", "2024-01-01T23:59:59.5");
        assert_eq!((fine.date.as_str(), fine.fetch_date.as_str()), ("2024-02-29", "2024-01-01T23:59:59.500000"));
        let header = parse("# 标题\n\n安全号  ２０２４-01-02 10:00\n\n正文\n").unwrap();
        assert_eq!(header.date, "");
    }

    #[test]
    fn quoted_values_are_unquoted() {
        let p =
            parse("---\ntitle: \"a: \\\"b\\\"\"\nurl: 'it''s'\nsource: \"yes\"\ndate: \"\"\nfetch_date: \"\"\n---\n")
                .unwrap();
        assert_eq!(p.title, "a: \"b\"");
        assert_eq!(p.url, "it's");
        assert_eq!(p.source, "yes");
        assert_eq!(p.date, "");
        let escaped =
            parse("---\ntitle: \"X-Ray-\\\\LS \\L \\x41\"\nurl: u\nsource: s\ndate: \"\"\nfetch_date: \"\"\n---\n")
                .unwrap();
        assert_eq!(escaped.title, "X-Ray-\\LS \u{2028} A");
    }

    #[test]
    fn header_lines_in_both_shapes() {
        let p = parse("#  标题  \n 360数字安全   2026-01-30 03:03  \n  \n正文").unwrap();
        assert_eq!((p.title.as_str(), p.source.as_str(), p.date.as_str()), ("标题", "360数字安全", "2026-01-30"));
        assert_eq!(p.body, "  \n正文");
        let p = parse(
            "#  T  \n原创 升斗安全XiuXiu\n                    升斗安全XiuXiu  升斗安全   2026-01-18 11:16  \n正文",
        )
        .unwrap();
        assert_eq!((p.source.as_str(), p.date.as_str()), ("升斗安全", "2026-01-18"));
        assert_eq!(p.body, "正文");
        assert!(parse("no title here").is_none());
        // A page of links under a heading, a README: no header, no record.
        assert!(parse("# 每日安全资讯（2022-04-11）\n\n- Feed\n  - [a](https://a)\n").is_none());
        assert!(parse("# 历史存档\n").is_none());
        assert!(parse("").is_none());
    }

    #[test]
    fn header_as_a_list() {
        let p = parse("# T\n\n- 来源: 安全号\n- 发布时间(UTC): 2026-04-04 17:00:20\n- 原文链接: https://mp.weixin.qq.com/s/abc\n\n----\n\n正文\n").unwrap();
        assert_eq!(
            (p.source.as_str(), p.date.as_str(), p.url.as_str()),
            ("安全号", "2026-04-05", "https://mp.weixin.qq.com/s/abc")
        );
        assert_eq!(p.body.trim(), "正文");
        let unknown = parse("# T\n\n- 来源: 未知\n- 发布时间(UTC): 2026-04-01 03:28:00\n- 原文链接: https://x.y/z\n\n----\n\nTitle: T\n").unwrap();
        assert_eq!((unknown.source.as_str(), unknown.date.as_str()), ("", "2026-04-01"));
    }
}
