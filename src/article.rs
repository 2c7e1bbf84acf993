//! `Article`: everything read from one article page, before it becomes a record.
//!
//! Field docs say where each value comes from; `extract` fills them in order of trust.

use serde::Serialize;
use url::Url;

/// The host every article address is on.
pub const WECHAT_HOST: &str = "mp.weixin.qq.com";

/// What kind of post the page carries (WeChat's `item_show_type`, and what the page shows).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An ordinary post (`item_show_type` 0): rich HTML in `#js_content`.
    Article,
    /// A picture post (8): a description and the images of `picture_page_info_list`.
    Picture,
    /// A text-only post (10): `content_noencode`, no title of its own.
    Text,
    /// A video post (5), or a post whose content is a single video.
    Video,
    /// A post that shares another account's article (`#js_share_content`).
    Share,
}

/// The identity of a WeChat article: `__biz` (the account), `mid` (the mass send), `idx` (the
/// position in it) and `sn` (the signature that makes the address valid; old pages may lack it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArticleId {
    /// `__biz`: base64 of the account's numeric id, e.g. `MzI2NTg4OTc5Nw==`.
    pub biz: String,
    /// `mid`: digits.
    pub mid: String,
    /// `idx`: digits, 1-based.
    pub idx: String,
    /// `sn`: lowercase hex, when the page gives it.
    pub sn: Option<String>,
}

impl ArticleId {
    /// Builds an id when every part has the shape WeChat gives it; anything else is not an id.
    pub fn new(biz: &str, mid: &str, idx: &str, sn: Option<&str>) -> Option<ArticleId> {
        let biz = biz.trim();
        let biz_ok =
            !biz.is_empty() && biz.len() <= 64 && biz.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b));
        let digits = |s: &str| !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit());
        let sn = sn
            .map(str::trim)
            .filter(|sn| !sn.is_empty() && sn.len() <= 64 && sn.bytes().all(|b| b.is_ascii_hexdigit()));
        (biz_ok && digits(mid.trim()) && digits(idx.trim())).then(|| ArticleId {
            biz: biz.to_string(),
            mid: mid.trim().to_string(),
            idx: idx.trim().to_string(),
            sn: sn.map(str::to_ascii_lowercase),
        })
    }

    /// Reads `__biz`, `mid`, `idx`, `sn` from an article address (entities already decoded).
    pub fn from_url(url: &str) -> Option<ArticleId> {
        let query = url.split_once('?')?.1;
        let query = query.split('#').next().unwrap_or(query);
        let mut parts: [Option<String>; 4] = Default::default();
        for pair in query.split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = v.replace("%3D", "=").replace("%3d", "=").replace("%2B", "+").replace("%2F", "/");
            let slot = match k {
                "__biz" => 0,
                "mid" | "appmsgid" => 1,
                "idx" | "itemidx" => 2,
                "sn" | "sign" => 3,
                _ => continue,
            };
            if parts[slot].is_none() {
                parts[slot] = Some(v);
            }
        }
        let [biz, mid, idx, sn] = parts;
        ArticleId::new(&biz?, &mid?, &idx?, sn.as_deref())
    }

    /// The canonical address of FORMAT.md: the four parameters only, in this order. `None`
    /// without `sn`: an address without it does not open the article.
    pub fn canonical_url(&self) -> Option<String> {
        let sn = self.sn.as_ref()?;
        Some(format!("https://mp.weixin.qq.com/s?__biz={}&mid={}&idx={}&sn={}", self.biz, self.mid, self.idx, sn))
    }
}

/// One article as read from its page.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    /// Post kind.
    pub kind: Kind,
    /// Title: `var msg_title`, `cgiDataNew.title`, `og:title`, `#activity-name`; for text posts the
    /// first line of the text. Entities decoded, white space folded.
    pub title: String,
    /// Account display name: `var nickname`, `cgiDataNew.nick_name`, `#js_name`.
    pub source: String,
    /// Account id `gh_…`: `var user_name`, `cgiDataNew.user_name`.
    pub account_id: Option<String>,
    /// Author line: `var author`, `cgiDataNew.author`.
    pub author: Option<String>,
    /// Digest shown on share cards: `var msg_desc`, `cgiDataNew.desc`, `og:description`.
    pub digest: Option<String>,
    /// Cover image: `var msg_cdn_url`, `cgiDataNew.cdn_url`, `og:image`.
    pub cover: Option<String>,
    /// Publish time, Unix seconds: `var ct`, `create_time`, `ori_create_time`.
    pub publish_time: Option<i64>,
    /// `__biz/mid/idx/sn` from the page's variables, `msg_link` or `og:url`.
    pub id: Option<ArticleId>,
    /// The short address `https://mp.weixin.qq.com/s/…` when that is all the page (or the user) gave.
    pub short_url: Option<String>,
    /// The `阅读原文` link: `var msg_source_url`, `cgiDataNew.source_url`.
    pub source_url: Option<String>,
    /// For a share post, the address of the article it shares.
    pub original_url: Option<String>,
    /// The address of a record that is not a WeChat article (other sites, in cleaned archives).
    pub page_url: Option<String>,
    /// The article body in Markdown (no title, no cover: `record` adds those).
    pub body: String,
    /// Every image address of the body, in order, once each.
    pub images: Vec<String>,
}

impl Article {
    /// An article known only by its title and account, every other fact unknown (records read
    /// back from an archive rather than from a page).
    pub fn plain(title: String, source: String, body: String) -> Article {
        Article {
            kind: Kind::Article,
            title,
            source,
            account_id: None,
            author: None,
            digest: None,
            cover: None,
            publish_time: None,
            id: None,
            short_url: None,
            source_url: None,
            original_url: None,
            page_url: None,
            body,
            images: Vec::new(),
        }
    }

    /// The address a record carries: canonical when the id is known, else the short link.
    pub fn url(&self) -> String {
        self.id
            .as_ref()
            .and_then(ArticleId::canonical_url)
            .or_else(|| self.short_url.clone())
            .or_else(|| self.page_url.clone())
            .unwrap_or_default()
    }
}

/// Normalises an article address for requesting: `https`, the WeChat host, and for the two
/// article forms only what identifies the article (tracking parameters dropped).
pub fn article_address(s: &str) -> Option<Url> {
    let s = s.trim();
    let with_scheme =
        if s.to_ascii_lowercase().starts_with("mp.weixin.qq.com/") { format!("https://{s}") } else { s.to_string() };
    let url = Url::parse(&crate::text::decode_entities(&with_scheme)).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str()? != WECHAT_HOST {
        return None;
    }
    if let Some(short) = short_link(url.as_str()) {
        return Url::parse(&short).ok();
    }
    if let Some(canonical) = ArticleId::from_url(url.as_str()).and_then(|id| id.canonical_url()) {
        return Url::parse(&canonical).ok();
    }
    // Any other page of the host (a temporary `/s?src=…&signature=…` link, an album): requested as
    // given.
    let mut url = url;
    url.set_scheme("https").ok()?;
    url.set_fragment(None);
    Some(url)
}

/// Whether an address from [`article_address`] can be an article's: a short link, one naming the
/// article (`__biz`, `mid`, `idx`), or a temporary `/s?src=…` link (the old `/mp/appmsg/show?…`).
/// The site's root, a bare `/s`, profiles and albums are pages of the host but no article.
pub fn is_article_address(url: &Url) -> bool {
    let path = url.path().trim_end_matches('/');
    short_link(url.as_str()).is_some()
        || ArticleId::from_url(url.as_str()).is_some()
        || (matches!(path, "/s" | "/mp/appmsg/show") && url.query().is_some_and(|q| !q.is_empty()))
}

/// `https://mp.weixin.qq.com/s/ID` when `url` is a short article link.
pub fn short_link(url: &str) -> Option<String> {
    let rest = url.trim();
    let rest = rest.strip_prefix("https://").or_else(|| rest.strip_prefix("http://"))?;
    let rest = rest.strip_prefix("mp.weixin.qq.com/s/")?;
    let id = rest.split(['?', '#']).next()?;
    let ok = !id.is_empty()
        && id.len() <= 64
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'~'));
    ok.then(|| format!("https://{WECHAT_HOST}/s/{id}"))
}

#[cfg(test)]
mod tests {
    use super::{ArticleId, article_address, is_article_address};

    #[test]
    fn pages_that_are_no_article_are_no_address() {
        for not in [
            "http://mp.weixin.qq.com/",
            "https://mp.weixin.qq.com",
            "https://mp.weixin.qq.com/s",
            "https://mp.weixin.qq.com/s?",
            "https://mp.weixin.qq.com/mp/profile_ext?action=home&__biz=MzA=",
            "https://mp.weixin.qq.com/cgi-bin/home",
        ] {
            assert!(!article_address(not).is_some_and(|u| is_article_address(&u)), "{not}");
        }
        for yes in [
            "https://mp.weixin.qq.com/s?src=11&timestamp=1&signature=x",
            "http://mp.weixin.qq.com/mp/appmsg/show?__biz=MzA=&appmsgid=1&itemidx=1",
            "mp.weixin.qq.com/s/AbC",
            "https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=ab",
        ] {
            assert!(article_address(yes).is_some_and(|u| is_article_address(&u)), "{yes}");
        }
    }

    #[test]
    fn ids_from_addresses() {
        let id = ArticleId::from_url(
            "http://mp.weixin.qq.com/s?__biz=MzI2NzI2OTExNA==&mid=2247516897&idx=1&sn=F1e1&chksm=ea&scene=58#rd",
        )
        .unwrap();
        assert_eq!(
            id.canonical_url().unwrap(),
            "https://mp.weixin.qq.com/s?__biz=MzI2NzI2OTExNA==&mid=2247516897&idx=1&sn=f1e1"
        );
        assert_eq!(ArticleId::from_url("https://mp.weixin.qq.com/s?__biz=MzI%3D&mid=1&idx=1").unwrap().sn, None);
        assert!(ArticleId::from_url("https://mp.weixin.qq.com/s?__biz=../x&mid=1&idx=1&sn=ab").is_none());
        assert!(ArticleId::from_url("https://mp.weixin.qq.com/s/abc").is_none());
    }
}
