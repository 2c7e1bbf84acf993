//! `Record`: an article as wxsec writes it, in the format of FORMAT.md (YAML front matter, then
//! Markdown) or as one JSON object with every fact; and [`parse`], reading a record file back
//! into its fields (wxsec's own records, and the formats other archivers write).

pub mod formats;

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use serde::Serialize;

use crate::article::{Article, ArticleId, Kind};
use crate::entities::Entities;

/// An article ready to be written.
#[derive(Debug, Clone)]
pub struct Record {
    /// What was read from the page.
    pub article: Article,
    /// Publish date `YYYY-MM-DD` in China Standard Time, or empty when unknown.
    pub date: String,
    /// Download time `YYYY-MM-DDTHH:MM:SS.ffffff`, UTC.
    pub fetch_date: String,
}

/// China Standard Time, in which WeChat dates its articles.
pub fn china_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("constant offset")
}

/// `t` (Unix seconds) when it is a time WeChat could have published at: official accounts
/// started in August 2012, and nothing is published after 2100.
pub fn plausible_publish_time(t: i64) -> Option<i64> {
    (1_343_000_000..4_102_444_800).contains(&t).then_some(t)
}

/// The day (`YYYY-MM-DD`) a Unix time falls on in China, as a record's `date` is.
pub fn china_day(t: i64) -> Option<String> {
    china_time().timestamp_opt(t, 0).single().map(|d| d.format("%Y-%m-%d").to_string())
}

impl Record {
    /// Builds the record of an article downloaded at `fetched_at`.
    pub fn new(article: Article, fetched_at: DateTime<Utc>) -> Record {
        let date = article.publish_time.and_then(china_day).unwrap_or_default();
        let fetch_date = fetched_at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
        Record { article, date, fetch_date }
    }

    /// A record whose dates are already known as text (a cleaned archive): `date` must be
    /// `YYYY-MM-DD` and `fetch_date` `YYYY-MM-DDTHH:MM:SS.ffffff`, or empty.
    pub fn from_parts(article: Article, date: String, fetch_date: String) -> Record {
        Record { article, date, fetch_date }
    }

    /// The record in the FORMAT.md form.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_with(false)
    }

    /// The security entities the record names (title and body).
    pub fn entities(&self) -> Entities {
        crate::entities::find(&self.article.title, &self.article.body)
    }

    /// The record in the FORMAT.md form; with `extra_fields`, the entities it names follow the
    /// five standard keys (`cves: [...]` and the like, only those found).
    pub fn to_markdown_with(&self, extra_fields: bool) -> String {
        let a = &self.article;
        let mut out = String::with_capacity(a.body.len() + 512);
        out.push_str("---\n");
        // `date` and `fetch_date` are meant to read back as YAML dates and timestamps, so they
        // stay plain; an unknown one is the empty string.
        let dated = |v: &str| if v.is_empty() { "\"\"".to_string() } else { v.to_string() };
        for (key, value) in [
            ("title", yaml_scalar(&a.title)),
            ("url", yaml_scalar(&a.url())),
            ("source", yaml_scalar(&a.source)),
            ("date", dated(&self.date)),
            ("fetch_date", dated(&self.fetch_date)),
        ] {
            out.push_str(key);
            out.push_str(": ");
            out.push_str(&value);
            out.push('\n');
        }
        if extra_fields {
            out.push_str(&self.entities().front_matter());
        }
        out.push_str("---\n\n");
        // The body is tidy already: the front matter lines are the only other text.
        out.push_str(&self.body_markdown());
        out
    }

    /// The Markdown after the front matter: `# title`, the cover, the article.
    pub fn body_markdown(&self) -> String {
        let a = &self.article;
        let mut out = String::with_capacity(a.body.len() + 256);
        out.push_str("# ");
        out.push_str(&a.title);
        out.push_str("\n\n");
        if let Some(cover) = &a.cover {
            out.push_str(&format!("![cover_image]({})\n\n", crate::markdown::escape_url(cover)));
        }
        out.push_str(&a.body);
        crate::markdown::tidy(&out)
    }

    /// The record as one JSON object with every fact found.
    pub fn to_json(&self) -> String {
        let a = &self.article;
        let published = a.publish_time.and_then(|t| china_time().timestamp_opt(t, 0).single()).map(|d| d.to_rfc3339());
        let json = JsonRecord {
            title: &a.title,
            url: a.url(),
            source: &a.source,
            date: &self.date,
            fetch_date: &self.fetch_date,
            kind: a.kind,
            author: a.author.as_deref(),
            digest: a.digest.as_deref(),
            cover: a.cover.as_deref(),
            source_url: a.source_url.as_deref(),
            original_url: a.original_url.as_deref(),
            account_id: a.account_id.as_deref(),
            biz: a.id.as_ref().map(|i| i.biz.as_str()),
            mid: a.id.as_ref().map(|i| i.mid.as_str()),
            idx: a.id.as_ref().map(|i| i.idx.as_str()),
            sn: a.id.as_ref().and_then(|i| i.sn.as_deref()),
            short_url: a.short_url.as_deref(),
            published,
            images: &a.images,
            entities: self.entities(),
            markdown: self.body_markdown(),
        };
        let mut s = serde_json::to_string_pretty(&json).expect("plain data serialises");
        s.push('\n');
        s
    }

    /// The canonical id, when the page gave one.
    pub fn id(&self) -> Option<&ArticleId> {
        self.article.id.as_ref()
    }
}

#[derive(Serialize)]
struct JsonRecord<'a> {
    title: &'a str,
    url: String,
    source: &'a str,
    date: &'a str,
    fetch_date: &'a str,
    kind: Kind,
    author: Option<&'a str>,
    digest: Option<&'a str>,
    cover: Option<&'a str>,
    source_url: Option<&'a str>,
    original_url: Option<&'a str>,
    account_id: Option<&'a str>,
    biz: Option<&'a str>,
    mid: Option<&'a str>,
    idx: Option<&'a str>,
    sn: Option<&'a str>,
    short_url: Option<&'a str>,
    published: Option<String>,
    images: &'a [String],
    #[serde(flatten)]
    entities: Entities,
    markdown: String,
}

/// Writes a string as a YAML scalar that reads back as exactly that string: plain where that is
/// safe under YAML 1.1 and 1.2, double-quoted otherwise.
pub fn yaml_scalar(s: &str) -> String {
    if plain_is_safe(s) {
        return s.to_string();
    }
    // A JSON string is a YAML double-quoted scalar; YAML also needs the characters it treats as
    // line breaks or as non-printable escaped, which JSON leaves raw.
    let json = serde_json::to_string(s).expect("strings serialise");
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            '\u{7f}'..='\u{9f}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}' => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn plain_is_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else { return false };
    if s.trim() != s || s.ends_with(':') {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`~".contains(first) {
        return false;
    }
    // Numbers, dates, times and `=` are all ASCII: a value that starts like one but holds other
    // characters (`36氪`, `2024年漏洞报告`) can only read back as a string.
    if (first.is_ascii_digit() || "+.=".contains(first)) && s.is_ascii() {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.contains('\t') {
        return false;
    }
    if s.chars().any(|c| {
        c.is_control() || matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
    }) {
        return false;
    }
    // Words YAML 1.1 reads as booleans or null; YAML 1.2's are a subset.
    let lower = s.to_ascii_lowercase();
    // `<<` is YAML 1.1's merge key.
    !matches!(lower.as_str(), "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "<<")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        assert_eq!(yaml_scalar("Apache Tomcat 漏洞"), "Apache Tomcat 漏洞");
        assert_eq!(yaml_scalar("a: b"), "\"a: b\"");
        assert_eq!(yaml_scalar("yes"), "\"yes\"");
        assert_eq!(yaml_scalar("2024"), "\"2024\"");
        assert_eq!(yaml_scalar("2024-01-01"), "\"2024-01-01\"");
        assert_eq!(yaml_scalar(".inf"), "\".inf\"");
        assert_eq!(yaml_scalar("36氪"), "36氪");
        assert_eq!(yaml_scalar(""), "\"\"");
        assert_eq!(yaml_scalar("a\u{2028}b"), "\"a\\Lb\"");
        assert_eq!(yaml_scalar("https://mp.weixin.qq.com/s/x"), "https://mp.weixin.qq.com/s/x");
    }
}
