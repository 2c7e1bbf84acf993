//! Telling an article page from the pages WeChat serves in its place.
//!
//! An article page carries its content element (`id="js_content"`) or, for picture and text
//! posts, the `cgiDataNew` object. Anything else is a message page (`.weui-msg`, `.mesg-block`) whose
//! words say what it is; those words are matched only when no article is present, so an article
//! *about* a deleted post is still an article.

use std::fmt;

use serde::Serialize;

/// What a fetched page turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PageKind {
    /// An article of some kind: extraction goes on.
    Article,
    /// The anti-crawl verification page (`环境异常`, `去验证`).
    Verify,
    /// Deleted by its publisher (`该内容已被发布者删除`).
    Deleted,
    /// Removed by WeChat (`此内容因违规无法查看`, `此内容被投诉…`), or the account was blocked.
    Removed,
    /// The link expired (`链接已过期`).
    Expired,
    /// `该内容暂时无法查看`: not viewable for now.
    Unavailable,
    /// The account moved or closed itself (`该公众号已迁移`, `此账号已自主注销`).
    Gone,
    /// WeChat's error page (`参数错误`, `系统出错`).
    Error,
    /// An account profile or history page, not an article.
    Profile,
    /// Nothing at all (a zero-length or blank file or response).
    Empty,
    /// Not text: binary data (a PDF, an image, a compressed file) where a page was expected.
    Binary,
    /// Something else: not a WeChat page at all, or one not recognised.
    Unknown,
}

impl fmt::Display for PageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PageKind::Article => "article",
            PageKind::Verify => "verification",
            PageKind::Deleted => "deleted",
            PageKind::Removed => "removed",
            PageKind::Expired => "expired-link",
            PageKind::Unavailable => "unavailable",
            PageKind::Gone => "account-gone",
            PageKind::Error => "error",
            PageKind::Profile => "profile",
            PageKind::Empty => "empty",
            PageKind::Binary => "binary (not HTML)",
            PageKind::Unknown => "unknown",
        })
    }
}

impl PageKind {
    /// What a user can do about a page of this kind.
    pub fn hint(self) -> &'static str {
        match self {
            PageKind::Verify => {
                "WeChat wants a captcha solved for this IP: wait (hours), slow down, or use another network"
            }
            PageKind::Deleted | PageKind::Removed | PageKind::Gone => {
                "the article is gone from WeChat; nothing to fetch"
            }
            PageKind::Expired => {
                "temporary links expire: use the article's permanent address (__biz/mid/idx/sn or /s/…)"
            }
            PageKind::Unavailable | PageKind::Error => "try again later, or check the address in a browser",
            PageKind::Profile => "this is an account page; give the address of one article",
            PageKind::Empty => "there is nothing in it: save the page again, or give the article's address",
            PageKind::Binary => "give a page saved as HTML (.html) or the article's address",
            PageKind::Unknown | PageKind::Article => "check that the address or file is a WeChat article page",
        }
    }
}

/// The phrases of WeChat's message pages, most specific first.
const MESSAGES: &[(&str, PageKind)] = &[
    ("环境异常", PageKind::Verify),
    ("完成验证后即可继续访问", PageKind::Verify),
    ("去验证", PageKind::Verify),
    ("该内容已被发布者删除", PageKind::Deleted),
    ("此内容因违规无法查看", PageKind::Removed),
    ("此内容被投诉且经审核涉嫌侵权", PageKind::Removed),
    ("此内容被投诉", PageKind::Removed),
    ("此账号已被屏蔽", PageKind::Removed),
    ("此帐号已被屏蔽", PageKind::Removed),
    ("该公众号已迁移", PageKind::Gone),
    ("此账号已自主注销", PageKind::Gone),
    ("此帐号已自主注销", PageKind::Gone),
    ("链接已过期", PageKind::Expired),
    ("该内容暂时无法查看", PageKind::Unavailable),
    ("参数错误", PageKind::Error),
    ("系统出错", PageKind::Error),
    ("请求失败", PageKind::Error),
];

/// Classifies a page; the second value is the page's own words that decided it, if any.
pub fn classify(html: &str) -> (PageKind, Option<String>) {
    if is_article(html) {
        return (PageKind::Article, None);
    }
    if html.trim().is_empty() {
        return (PageKind::Empty, None);
    }
    if is_binary(html) {
        return (PageKind::Binary, None);
    }
    if let Some((phrase, kind)) = MESSAGES.iter().find(|(p, _)| html.contains(p)) {
        return (*kind, Some(phrase.to_string()));
    }
    if html.contains("profile_nickname") || html.contains("msgList") || html.contains("<title>关于公众号") {
        return (PageKind::Profile, None);
    }
    (PageKind::Unknown, None)
}

/// Text never holds NUL, and a page decoded from binary data is mostly replacement characters:
/// the first 4 KB tell.
fn is_binary(html: &str) -> bool {
    let head = html.get(..html.floor_char_boundary(4096)).unwrap_or(html);
    let (chars, bad) = head.chars().fold((0usize, 0usize), |(n, b), c| (n + 1, b + usize::from(c == '\u{fffd}')));
    head.contains('\0') || bad * 10 > chars
}

fn is_article(html: &str) -> bool {
    html.contains("id=\"js_content\"")
        || html.contains("id='js_content'")
        || html.contains("id=js_content")
        || (html.contains("cgiDataNew")
            && (html.contains("content_noencode") || html.contains("picture_page_info_list")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_words_inside_an_article_do_not_make_it_a_notice() {
        let page = r#"<div id="js_content"><p>该内容已被发布者删除，怎么办？</p></div>"#;
        assert_eq!(classify(page).0, PageKind::Article);
    }

    #[test]
    fn notices_are_named() {
        let page = r#"<div class="weui-msg"><h2 class="weui-msg__title">环境异常</h2><a>去验证</a></div>"#;
        assert_eq!(classify(page), (PageKind::Verify, Some("环境异常".into())));
        assert_eq!(classify("<p>链接已过期</p>").0, PageKind::Expired);
        assert_eq!(classify("<html>hello</html>").0, PageKind::Unknown);
        assert_eq!(classify(" \n\t").0, PageKind::Empty);
        assert_eq!(classify("%PDF-1.7\n\0\u{fffd}\u{fffd}").0, PageKind::Binary);
        assert_eq!(classify(&"\u{fffd}".repeat(50)).0, PageKind::Binary);
        assert_eq!(classify("<p>一个\u{fffd}坏字</p>").0, PageKind::Unknown, "one bad byte is still text");
    }
}
