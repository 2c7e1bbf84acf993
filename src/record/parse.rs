//! Reading the record formats other archivers write, told apart by their content: the
//! front-matter format (fixed key lines that are not valid YAML), the header-line format (`# title`,
//! `account   YYYY-MM-DD HH:MM`), a header of labelled lines (`- 来源: 账号` or `> 来源: 账号`),
//! Obsidian Web Clipper's YAML front matter, and wechat-article-exporter's Markdown (turndown's
//! output of the page: the title as a setext heading, the account as a `javascript:` link).

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
    /// The name the report and the README use.
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
        return web_clipper(rest).or_else(|| front_matter(rest));
    }
    header_lines(&text).or_else(|| turndown(&text))
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

/// Obsidian Web Clipper's front matter: real YAML, `source` the article's address (there is no
/// `url` key), `author` a wiki link or a list of them, `published` the publishing day, `created`
/// the clipping day. `None` when the front matter is not the clipper's.
fn web_clipper(rest: &str) -> Option<Parsed> {
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
fn zoned_day(value: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(value.trim()) {
        Ok(t) => t.with_timezone(&crate::record::china_time()).format("%Y-%m-%d").to_string(),
        Err(_) => labelled_date(value, false),
    }
}

/// A `fetch_date` (UTC) from a time with its zone; a day alone says no time and gives none.
fn zoned_time(value: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%S%.6f").to_string())
        .unwrap_or_default()
}

/// wechat-article-exporter's Markdown: turndown's rendering of the page's article element. The
/// title is a setext heading (`标题` over `===`); the account is the `javascript:` link of the
/// line under it (`原创 作者 [账号](javascript:void\(0\);)`); there is no address. A file with the
/// account line but no heading takes its title from its file name (the exporter names files by
/// title), which the caller knows.
fn turndown(text: &str) -> Option<Parsed> {
    let all: Vec<&str> = text.split('\n').collect();
    let first = all.iter().position(|l| !l.trim().is_empty())?;
    let underline = all.get(first + 1).map(|l| l.trim()).unwrap_or_default();
    if !underline.is_empty() && underline.chars().all(|c| c == '=') {
        let title = unescape_turndown(all[first].trim());
        return turndown_after(&all, first + 2, title.clone()).or_else(|| {
            let body = all[first + 2..].join("\n");
            Some(Parsed { title, body, format: Format::Turndown, ..Parsed::default() })
        });
    }
    turndown_after(&all, first, String::new())
}

/// The exporter's account line in the first lines from `from`: the record from there on.
fn turndown_after(all: &[&str], from: usize, title: String) -> Option<Parsed> {
    static ACCOUNT_LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[([^\]]+)\]\(javascript:(?:\\.|[^)\\])*\)").unwrap());
    static CN_DATE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日(?:\s*[0-9]{1,2}:[0-9]{2})?|[0-9]{4}-[0-9]{2}-[0-9]{2}(?: [0-9]{2}:[0-9]{2})?").unwrap()
    });
    let (at, line) = all
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(_, l)| !l.trim().is_empty())
        .take(4)
        .find(|(_, l)| ACCOUNT_LINK.is_match(l))?;
    let c = ACCOUNT_LINK.captures(line)?;
    let source = unescape_turndown(c[1].trim());
    let date = CN_DATE.find(line).map(|m| labelled_date(m.as_str(), false)).unwrap_or_default();
    Some(Parsed { title, source, date, body: all[at + 1..].join("\n"), format: Format::Turndown, ..Parsed::default() })
}

/// Text as turndown escaped it (`\_`, `\[`, `\*`): the backslashes before punctuation go.
fn unescape_turndown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\'
            && let Some(&next) = chars.peek()
            && next.is_ascii_punctuation()
        {
            out.push(next);
            chars.next();
            continue;
        }
        out.push(c);
    }
    out
}

/// The facts a backup tool keeps in a `meta.json` beside an article's files: `title`, `url`
/// (or `link`), `publish_time` (Unix seconds) or `date`, and the account when it names one
/// (`nickname`, `account`, `source`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sidecar {
    /// The article's title.
    pub title: String,
    /// Its address.
    pub url: String,
    /// Its publish time (Unix seconds), when given as one.
    pub publish_time: Option<i64>,
    /// Its publish day (`YYYY-MM-DD`, China), from the time or a `date`.
    pub date: String,
    /// The account, when the file names it.
    pub source: String,
}

impl Sidecar {
    /// The `meta.json` in the folder of `path`, when there is one that names a title.
    pub fn beside(path: &std::path::Path) -> Option<Sidecar> {
        let file = path.parent()?.join("meta.json");
        let text = std::fs::read(&file).ok().filter(|b| b.len() < 1 << 20)?;
        let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| v.get(k).and_then(|x| x.as_str())).map(str::trim).unwrap_or_default().to_string()
        };
        let title = text(&["title"]);
        if title.is_empty() {
            return None;
        }
        let publish_time = ["publish_time", "create_time", "datetime"]
            .iter()
            .find_map(|k| v.get(k).and_then(|x| x.as_i64().or_else(|| x.as_str()?.trim().parse().ok())))
            .and_then(crate::record::plausible_publish_time);
        let date = publish_time
            .and_then(crate::record::china_day)
            .unwrap_or_else(|| Some(text(&["date"])).filter(|d| is_date(d)).unwrap_or_default());
        Some(Sidecar {
            title,
            url: text(&["url", "link", "content_url"]),
            publish_time,
            date,
            source: text(&["nickname", "account", "source"]),
        })
    }

    /// A Markdown body with no header of its own, read with these facts.
    pub fn parsed(&self, body: &str) -> Parsed {
        let body = body.strip_prefix('\u{feff}').unwrap_or(body).replace("\r\n", "\n");
        Parsed {
            title: self.title.clone(),
            url: self.url.clone(),
            source: self.source.clone(),
            date: self.date.clone(),
            fetch_date: String::new(),
            body,
            format: Format::MetaJson,
        }
    }
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

/// The header as labelled lines, each a list item (`- 来源: 账号`) or a quote (`> 来源: 账号`,
/// blank lines between): `来源`/`公众号`, `发布时间` (or `发布时间(UTC)`), `原文链接`, then an
/// optional `---` rule. `未知` (unknown) is no name at all; a UTC time is dated in China Standard
/// Time, as every record is.
fn listed_header(all: &[&str], from: usize) -> Option<Header> {
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
fn is_rule(line: &str) -> bool {
    let l = line.trim();
    l.len() >= 3 && l.chars().all(|c| c == '-')
}

/// What a header of labelled lines says, and where the body starts.
struct Header {
    source: String,
    date: String,
    url: String,
    fetch_date: String,
    body_from: usize,
    format: Format,
}

/// A local time in China (`2026-03-12 10:15:30`, `…T10:15`) as a `fetch_date` in UTC.
fn china_time_as_utc(value: &str) -> Option<String> {
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
fn fetched_footer(body: &str) -> Option<(String, String)> {
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
