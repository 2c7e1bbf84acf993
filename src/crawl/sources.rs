//! Finding article addresses: in a file of addresses, in a feed's items, on an album page, and
//! inside fetched articles (links to other articles of the same account).

use std::path::Path;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use regex::Regex;

use crate::article::{ArticleId, article_address};
use crate::error::{Error, Result};

static WECHAT_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)https?:(?://|\\/\\/)mp\.weixin\.qq\.com(?:/|\\/)s[^\s"'<>()\[\]{}]*"#).unwrap());

/// The addresses of a file: one per line, `#` comments and blank lines skipped.
pub fn read_urls(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
    Ok(text
        .lines()
        .map(|l| l.split_once(" #").map_or(l, |(a, _)| a).trim())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// Every WeChat article address in a text (HTML, JSON, Markdown, a script), decoded and
/// normalised, once each, in order.
pub fn article_links(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in WECHAT_LINK.find_iter(text) {
        let raw = m.as_str().replace("\\/", "/").replace("\\x26", "&").replace("\\u0026", "&");
        let raw = crate::text::decode_entities(&raw);
        let Some(url) = article_address(&raw) else { continue };
        let is_article = ArticleId::from_url(url.as_str()).is_some_and(|id| id.sn.is_some())
            || crate::article::short_link(url.as_str()).is_some();
        let url = url.to_string();
        if is_article && !out.contains(&url) {
            out.push(url);
        }
    }
    out
}

/// The article addresses of one account (`__biz`) among `links`.
pub fn same_account<'a>(links: &'a [String], biz: &'a str) -> impl Iterator<Item = &'a String> + 'a {
    links.iter().filter(move |l| ArticleId::from_url(l).is_some_and(|id| id.biz == biz))
}

/// A feed item that points at WeChat.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// The article's address.
    pub url: String,
    /// When the feed says it was published (or updated).
    pub published: Option<DateTime<Utc>>,
}

/// The WeChat articles of an RSS, Atom or JSON Feed document: each item's links, its id when that
/// is an address, and addresses in its summary or content.
pub fn feed_items(bytes: &[u8], feed_url: &str) -> Result<Vec<FeedItem>> {
    let feed = feed_rs::parser::parse(bytes).map_err(|e| Error::Network {
        url: feed_url.to_string(),
        message: format!("not a feed: {e}"),
        timeout: false,
    })?;
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in feed.entries {
        let mut text = String::new();
        for l in &entry.links {
            text.push_str(&l.href);
            text.push('\n');
        }
        text.push_str(&entry.id);
        text.push('\n');
        if let Some(s) = &entry.summary {
            text.push_str(&s.content);
        }
        if let Some(c) = entry.content.as_ref().and_then(|c| c.body.as_ref()) {
            text.push_str(c);
        }
        let published = entry.published.or(entry.updated);
        // An item's own link comes first; links inside its content may be to other articles.
        for url in article_links(&text) {
            if seen.insert(url.clone()) {
                items.push(FeedItem { url, published });
            }
        }
    }
    Ok(items)
}

/// Whether an item passes `--since`.
pub fn since_ok(item: &FeedItem, since: Option<NaiveDate>) -> bool {
    match (since, item.published) {
        (Some(day), Some(p)) => p.with_timezone(&crate::record::china_time()).date_naive() >= day,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_in_any_markup() {
        let text = r#"<a href="https://mp.weixin.qq.com/s?__biz=MzA=&amp;mid=1&amp;idx=1&amp;sn=ab&amp;chksm=x#rd">a</a>
            "link":"http:\/\/mp.weixin.qq.com\/s\/AbC_d-1" msg_link = "http://mp.weixin.qq.com/s?__biz=MzA=\x26amp;mid=2\x26amp;idx=1\x26amp;sn=cd"
            [x](https://mp.weixin.qq.com/s/AbC_d-1) https://mp.weixin.qq.com/mp/profile_ext?action=home"#;
        assert_eq!(
            article_links(text),
            vec![
                "https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=ab",
                "https://mp.weixin.qq.com/s/AbC_d-1",
                "https://mp.weixin.qq.com/s?__biz=MzA=&mid=2&idx=1&sn=cd"
            ]
        );
    }

    #[test]
    fn feeds_of_three_kinds() {
        let rss = r#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
            <item><title>a</title><link>https://mp.weixin.qq.com/s/One</link><pubDate>Mon, 06 Jan 2025 08:00:00 GMT</pubDate></item>
            <item><title>b</title><link>https://example.com/not-wechat</link></item></channel></rss>"#;
        let items = feed_items(rss.as_bytes(), "f").unwrap();
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].url, "https://mp.weixin.qq.com/s/One");
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","url":"https://mp.weixin.qq.com/s/Two","content_html":"<p>x</p>"}]}"#;
        assert_eq!(feed_items(json.as_bytes(), "f").unwrap()[0].url, "https://mp.weixin.qq.com/s/Two");
        assert!(feed_items(b"<html>not a feed</html>", "f").is_err());
    }
}
