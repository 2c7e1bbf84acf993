//! wechat-article-exporter's Markdown: turndown's rendering of the page, with no metadata but a
//! setext title and the account as a `javascript:` link.

use regex::Regex;
use std::sync::LazyLock;

use super::labelled::labelled_date;
use super::{Format, Parsed, Reader, front_matter_of};

/// wechat-article-exporter's Markdown: turndown's rendering of the page's article element. The
/// title is a setext heading (`标题` over `===`); the account is the `javascript:` link of the
/// line under it (`原创 作者 [账号](javascript:void\(0\);)`); there is no address. A file with the
/// account line but no heading takes its title from its file name (the exporter names files by
/// title), which the caller knows.
pub(super) fn turndown(text: &str) -> Option<Parsed> {
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
pub(super) fn turndown_after(all: &[&str], from: usize, title: String) -> Option<Parsed> {
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
pub(super) fn unescape_turndown(s: &str) -> String {
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

/// wechat-article-exporter's Markdown with no `# title`.
pub struct Turndown;

impl Reader for Turndown {
    fn formats(&self) -> &'static [Format] {
        &[Format::Turndown]
    }

    fn read(&self, text: &str) -> Option<Parsed> {
        if front_matter_of(text).is_some() { None } else { turndown(text) }
    }
}
