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
    /// The article itself, when the item carries its whole text (a full-text bridge) and this is
    /// the item's own address (not a link inside its content).
    pub full: Option<FullText>,
}

/// What a full-text feed item says of its article.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FullText {
    /// The item's title.
    pub title: String,
    /// The item's author, when it names one.
    pub author: Option<String>,
    /// The article's HTML.
    pub html: String,
}

/// A feed document: its title and generator (bridges title a feed with the account's name) and
/// its WeChat items.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FeedDoc {
    /// The feed's title.
    pub title: Option<String>,
    /// The software that wrote it (`WeWe-RSS`, `Mp-We-Rss`, `RSSHub`).
    pub generator: Option<String>,
    /// Its WeChat items, the item's own address first.
    pub items: Vec<FeedItem>,
}

impl FeedDoc {
    /// The account a full-text item is of: the feed's title, unless the feed is titled with its
    /// generator's name (a bridge's feed of every account), else the item's author.
    pub fn account_of(&self, item: &FullText) -> Option<String> {
        let generic = |t: &str| {
            let t = t.trim().to_lowercase();
            t.is_empty() || self.generator.as_deref().is_some_and(|g| g.trim().to_lowercase() == t)
        };
        self.title
            .as_deref()
            .filter(|t| !generic(t))
            .map(str::to_string)
            .or_else(|| item.author.clone())
            .and_then(|a| crate::text::clean_value(&a))
    }
}

/// The WeChat articles of an RSS, Atom or JSON Feed document: each item's links, its id when that
/// is an address, and addresses in its summary or content.
pub fn feed_items(bytes: &[u8], feed_url: &str) -> Result<Vec<FeedItem>> {
    Ok(feed_doc(bytes, feed_url)?.items)
}

/// The feed document with its WeChat items; an item whose content (`content:encoded`, Atom's
/// `content`, JSON Feed's `content_html`, or a `description` that holds the article) is the
/// whole article carries it in [`FeedItem::full`].
pub fn feed_doc(bytes: &[u8], feed_url: &str) -> Result<FeedDoc> {
    let feed = feed_rs::parser::parse(bytes).map_err(|e| Error::Network {
        url: feed_url.to_string(),
        message: format!("not a feed: {e}"),
        timeout: false,
    })?;
    let mut items = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for entry in feed.entries {
        let mut own = String::new();
        for l in &entry.links {
            own.push_str(&l.href);
            own.push('\n');
        }
        own.push_str(&entry.id);
        own.push('\n');
        let summary = entry.summary.as_ref().map(|s| s.content.as_str()).unwrap_or_default();
        let content = entry.content.as_ref().and_then(|c| c.body.as_deref()).unwrap_or_default();
        let published = entry.published.or(entry.updated);
        // The longer of the two is the article when either is.
        let html = unwrap_cdata(if content.len() >= summary.len() { content } else { summary });
        let mut full = is_whole_article(html).then(|| FullText {
            title: entry.title.as_ref().map(|t| t.content.clone()).unwrap_or_default(),
            author: entry
                .authors
                .iter()
                .filter_map(|a| a.name.as_deref())
                .map(str::trim)
                .find(|a| !a.is_empty())
                .map(str::to_string),
            html: unproxied_images(html),
        });
        // An item's own link comes first; links inside its content may be to other articles,
        // which a full-text item does not lead to (they would be requests to WeChat).
        let own_links = article_links(&own);
        let inner = if full.is_some() { Vec::new() } else { article_links(&format!("{summary}\n{content}")) };
        // The whole text belongs to the item's own first address (a full-text item has no inner
        // links to take it).
        for (i, url) in own_links.into_iter().chain(inner).enumerate() {
            if seen.insert(url.clone()) {
                items.push(FeedItem { url, published, full: if i == 0 { full.take() } else { None } });
            }
        }
    }
    Ok(FeedDoc {
        title: feed.title.map(|t| t.content).filter(|t| !t.trim().is_empty()),
        generator: feed.generator.map(|g| g.content),
        items,
    })
}

/// A bridge that wrapped its content in CDATA and then escaped it (`&lt;![CDATA[…]]&gt;`) hands
/// over the wrapper as text.
fn unwrap_cdata(html: &str) -> &str {
    let t = html.trim();
    t.strip_prefix("<![CDATA[").and_then(|r| r.strip_suffix("]]>")).unwrap_or(t)
}

/// Whether an item's HTML is the article rather than its summary: WeChat's summaries are plain
/// text of at most 120 characters, so more words, a picture, or paragraphs make it the article.
pub fn is_whole_article(html: &str) -> bool {
    static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?is)<style.*?</style>|<[^>]*>").unwrap());
    static BLOCK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?i)<(p|section|h[1-6]|li|pre|table)[\s>]").unwrap());
    if html.trim().is_empty() {
        return false;
    }
    let text = crate::text::decode_entities(&TAG.replace_all(html, " "));
    let words = text.chars().filter(|c| !c.is_whitespace()).count();
    words > 140 || html.to_ascii_lowercase().contains("<img") || BLOCK.find_iter(html).take(3).count() >= 3
}

/// Image addresses a bridge routed through itself (`/static/res/logo/https://mmbiz.qpic.cn/…`,
/// as we-mp-rss serves them) back to the address they embed.
fn unproxied_images(html: &str) -> String {
    static PROXIED: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)((?:data-)?src\s*=\s*["']?)/[^"'\s>]*?/(https?://)"#).unwrap());
    PROXIED.replace_all(html, "${1}${2}").into_owned()
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
        assert!(items[0].full.is_none(), "an item without content is not full text");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].url, "https://mp.weixin.qq.com/s/One");
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","url":"https://mp.weixin.qq.com/s/Two","content_html":"<p>x</p>"}]}"#;
        assert_eq!(feed_items(json.as_bytes(), "f").unwrap()[0].url, "https://mp.weixin.qq.com/s/Two");
        assert!(feed_items(b"<html>not a feed</html>", "f").is_err());
    }

    #[test]
    fn full_text_is_told_from_a_summary() {
        assert!(!is_whole_article("Apache 官方发布安全公告，修复了 Tomcat 中的一个远程代码执行漏洞。"));
        assert!(!is_whole_article("<p>一句摘要</p>"));
        assert!(is_whole_article(r#"<p>a</p><p><img src="https://mmbiz.qpic.cn/x/640"></p>"#));
        assert!(is_whole_article(&"<p>漏洞分析正文。</p>".repeat(3)));
        assert_eq!(
            unproxied_images(r#"<img src="/static/res/logo/https://mmbiz.qpic.cn/a/640?wx_fmt=png">"#),
            r#"<img src="https://mmbiz.qpic.cn/a/640?wx_fmt=png">"#
        );
        let rss = r#"<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Mp-We-Rss</title><generator>Mp-We-Rss</generator>
            <item><title>t</title><link>https://mp.weixin.qq.com/s/Full</link><description>摘要</description>
            <content:encoded>&lt;![CDATA[&lt;p&gt;一&lt;/p&gt;&lt;p&gt;二 &lt;a href="https://mp.weixin.qq.com/s/Other"&gt;x&lt;/a&gt;&lt;/p&gt;&lt;p&gt;三&lt;/p&gt;]]&gt;</content:encoded></item></channel></rss>"#;
        let doc = feed_doc(rss.as_bytes(), "f").unwrap();
        assert_eq!(doc.items.len(), 1, "links inside a full text are not followed: {:?}", doc.items);
        let full = doc.items[0].full.as_ref().unwrap();
        assert!(full.html.starts_with("<p>一</p>"));
        assert_eq!(doc.account_of(full), None, "a feed titled with its generator's name names no account");
    }
}
