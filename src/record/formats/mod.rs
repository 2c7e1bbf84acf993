//! Reading the record formats other archivers write, told apart by their content: the
//! front-matter format (fixed key lines that are not valid YAML), the header-line format (`# title`,
//! `account   YYYY-MM-DD HH:MM`), a header of labelled lines (`- 来源: 账号` or `> 来源: 账号`),
//! Obsidian Web Clipper's YAML front matter, and wechat-article-exporter's Markdown (turndown's
//! output of the page: the title as a setext heading, the account as a `javascript:` link).

mod front_matter;
mod header_lines;
mod labelled;
mod meta_json;
mod turndown;
mod web_clipper;

use std::sync::LazyLock;

use regex::Regex;

pub(crate) use labelled::{labelled_date, names_no_one};
pub use meta_json::Sidecar;

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
    /// `# title` then a list of labelled lines: `- 来源: 账号`, `- 发布时间(UTC): …`, `- 原文链接: …`.
    ListHeader,
    /// `# title` then labelled quotes: `> 来源: 账号`, `> 发布时间: …`, `> 原文链接: …`, a `---` rule,
    /// the body, and a `*本文抓取时间: …*` footer.
    QuoteHeader,
    /// Obsidian Web Clipper: YAML front matter with `title`, `source` (the address), `author`,
    /// `published`, `created`, `tags`.
    WebClipper,
    /// wechat-article-exporter's Markdown: turndown's rendering of the page, no metadata.
    Turndown,
    /// The article's Markdown alone, its facts in a `meta.json` beside it (backup tools that
    /// write a folder per article: `article.md`, `meta.json`, `images/`).
    MetaJson,
}

impl Format {
    /// The name the report and docs/formats.md use.
    pub fn name(self) -> &'static str {
        match self {
            Format::FrontMatter => "front-matter",
            Format::HeaderLines => "header-lines",
            Format::ListHeader => "list-header",
            Format::QuoteHeader => "quote-header",
            Format::WebClipper => "web-clipper",
            Format::Turndown => "turndown",
            Format::MetaJson => "meta-json",
        }
    }
}

static DATE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$").unwrap());
static FETCH_DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?$").unwrap());

/// A record format another archiver writes: one file of this folder each, tried in [`READERS`]'s
/// order, the first that knows the text wins. A reader is told by content alone (never by a file
/// name): it says `None` for a text that is not in its format, so the next one may try.
pub trait Reader: Sync {
    /// The formats this reader can tell a text is in (the `format` of what it reads).
    fn formats(&self) -> &'static [Format];
    /// The record, when `text` (a byte-order mark and carriage returns already gone) is in one
    /// of this reader's formats.
    fn read(&self, text: &str) -> Option<Parsed>;
}

/// Every reader, in the order they are tried: the two front matters first (the clipper's is
/// real YAML with keys the other lacks), then the `# title` headers, then the exporter's
/// Markdown, which has the least to go by. `meta.json` is no reader of a text: its facts sit
/// beside the file ([`Sidecar`]).
pub const READERS: &[&dyn Reader] =
    &[&web_clipper::WebClipper, &front_matter::FrontMatter, &header_lines::HeaderLines, &turndown::Turndown];

/// Reads a dirty record. `None` when the text is in none of the formats.
pub fn parse(text: &str) -> Option<Parsed> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text: std::borrow::Cow<str> =
        if text.contains('\r') { text.replace("\r\n", "\n").replace('\r', "\n").into() } else { text.into() };
    READERS.iter().find_map(|r| r.read(&text))
}

/// The front matter a text opens with, after its `---` line: a text that opens one is read by
/// the front-matter readers only, whether or not they know it.
fn front_matter_of(text: &str) -> Option<&str> {
    text.strip_prefix("---\n")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_format_has_its_reader_and_each_reader_reads_its_own() {
        let samples = [
            (
                "---\ntitle: t\nurl: https://mp.weixin.qq.com/s/a\nsource: S\ndate: 2024-01-02\nfetch_date: 2025-01-01T00:00:00\n---\n\nb\n",
                Format::FrontMatter,
            ),
            (
                "---\ntitle: t\nsource: https://mp.weixin.qq.com/s/a\nauthor:\n  - \"[[S]]\"\n---\nb\n",
                Format::WebClipper,
            ),
            ("# t\n\nS   2024-01-02 10:00\n\nb\n", Format::HeaderLines),
            ("# t\n\n- 来源: S\n- 发布时间: 2024-01-02 10:00:00\n\nb\n", Format::ListHeader),
            ("# t\n\n> 来源: S\n\n> 发布时间: 2024-01-02 10:00:00\n\n---\n\nb\n", Format::QuoteHeader),
            ("t\n===\n\n原创 A [S](javascript:void\\(0\\);)\n\nb\n", Format::Turndown),
        ];
        for (text, format) in samples {
            let readers: Vec<_> = READERS.iter().filter(|r| r.formats().contains(&format)).collect();
            assert!(!readers.is_empty(), "{format:?} has no reader");
            assert_eq!(parse(text).map(|p| p.format), Some(format), "{text:?}");
            let first = READERS.iter().find_map(|r| r.read(text)).map(|p| p.format);
            assert!(readers.iter().any(|r| r.read(text).map(|p| p.format) == first), "{format:?}");
        }
        assert!(READERS.iter().all(|r| !r.formats().contains(&Format::MetaJson)), "meta.json is read beside a file");
    }

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
    fn quoted_headers_as_writers_vary_them() {
        let p = parse("# T\n> 公众号: 安全号\n> 作者: 张三  \n> 发布时间: 2025-01-09 02:41・北京\n> 分类: 漏洞\n> 原文链接: https://mp.weixin.qq.com/s/abc\n\n---\n\n正文\n").unwrap();
        assert_eq!(
            (p.source.as_str(), p.date.as_str(), p.url.as_str(), p.format),
            ("安全号", "2025-01-09", "https://mp.weixin.qq.com/s/abc", Format::QuoteHeader)
        );
        assert_eq!(p.body.trim(), "正文");
        let utc = parse("# T\n\n> 来源: 号  \n> 发布时间: 2025-12-30T17:49:05Z  \n\n正文\n").unwrap();
        assert_eq!((utc.source.as_str(), utc.date.as_str()), ("号", "2025-12-31"));
        // Only the address and the fetch time: the tool's header still, with no account; the epoch
        // a missing timestamp prints is no date.
        let bare =
            parse("# T\n\n> 原文链接: https://mp.weixin.qq.com/s/x\n> 抓取时间: 2026-01-21 20:30:00\n\n---\n\n正文\n")
                .unwrap();
        assert_eq!(
            (bare.source.as_str(), bare.url.as_str(), bare.fetch_date.as_str(), bare.format),
            ("", "https://mp.weixin.qq.com/s/x", "2026-01-21T12:30:00.000000", Format::QuoteHeader)
        );
        assert_eq!(bare.body.trim(), "正文");
        let epoch = parse("# T\n> 公众号: 号\n> 发布时间: 1970-01-01 08:33:45\n\n正文\n").unwrap();
        assert_eq!(epoch.date, "");
        // A list under a heading without `来源` stays no record.
        assert!(parse("# 链接\n\n- 原文链接: https://x.example/a\n").is_none());
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
