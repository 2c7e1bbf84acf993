//! Reading an [`Article`] out of a WeChat page.
//!
//! Every fact has several sources, because WeChat's page changed over the years (and saved
//! copies lose their scripts): the script variables of the desktop template (`var msg_title`),
//! the `cgiDataNew` object of the picture/text template, the `og:` meta tags, and the visible
//! elements (`#activity-name`, `#js_name`). Each is tried in that order of trust. The page is never
//! parsed whole: the scripts are scanned as text and only the content element goes to the HTML
//! parser.

pub mod locate;
pub mod script;

use memchr::memmem;

use crate::article::{Article, ArticleId, Kind};
use crate::error::{Error, Result};
use crate::fetch::FetchedPage;
use crate::markdown::{self, escape_text};
use crate::page::{self, PageKind};
use crate::text::{clean_value, decode_entities};
use script::Value;

/// What is known of a page from outside it: a `meta.json` a backup tool kept beside a saved
/// page, the account the user gave. Each is used only where the page itself says nothing.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The article's title.
    pub title: Option<String>,
    /// The account.
    pub source: Option<String>,
    /// The article's address.
    pub url: Option<String>,
    /// Its publish time (Unix seconds).
    pub publish_time: Option<i64>,
}

impl Known {
    /// What the `meta.json` beside a saved page says, with the account the user gave.
    pub fn for_file(path: &std::path::Path, source: Option<&str>) -> Known {
        let sidecar = crate::record::formats::Sidecar::beside(path).unwrap_or_default();
        let given = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        Known {
            title: given(&sidecar.title),
            source: given(&sidecar.source).or_else(|| source.and_then(given)),
            url: given(&sidecar.url),
            publish_time: sidecar.publish_time,
        }
    }
}

/// Extracts the article of a page, or says what the page is instead.
pub fn extract(page: &FetchedPage) -> Result<Article> {
    extract_with(page, &Known::default())
}

/// Like [`extract`], with what is known of the page from outside it for the facts it lacks.
pub fn extract_with(page: &FetchedPage, known: &Known) -> Result<Article> {
    let html = page.html.as_str();
    let (kind, evidence) = page::classify(html);
    if kind != PageKind::Article {
        return Err(Error::NotArticle { target: page.target.clone(), kind, evidence });
    }
    let cgi = script::object(html, "window.cgiDataNew")
        .or_else(|| script::object(html, "var cgiDataNew"))
        .unwrap_or(Value::Obj(Vec::new()));
    let vars = script::Vars::new(html);
    let src = Sources { html, vars: &vars, cgi: &cgi };

    let show_type = src.var_or_cgi("item_show_type", &["item_show_type"]).unwrap_or_default();
    let share = locate::by_id(html, "js_share_content").is_some();
    let kind = match show_type.as_str() {
        "8" => Kind::Picture,
        "10" => Kind::Text,
        "5" => Kind::Video,
        _ if share => Kind::Share,
        _ => Kind::Article,
    };

    let raw_title = src.var_or_cgi("msg_title", &["title"]);
    let mut title = raw_title
        .as_deref()
        .map(|t| if kind == Kind::Text { first_line(t) } else { t.to_string() })
        .and_then(|t| clean_value(&t))
        .or_else(|| src.meta("og:title").and_then(|t| clean_value(&t)))
        .or_else(|| locate::text_by_id(html, "activity-name").and_then(|t| clean_value(&t)))
        .or_else(|| locate::text_by_id(html, "js_text_title").and_then(|t| clean_value(&t)))
        // A sidecar's title is the article's; a rebuilt page's `<title>` may be a file-safe copy
        // of it (`||` made `_`).
        .or_else(|| known.title.clone())
        .or_else(|| page_title(html))
        .unwrap_or_default();
    // Saved copies rebuilt by backup tools state the facts as labelled lines around the content
    // (`来源: 账号`); read only when the page's own sources are missing.
    let labels = std::cell::OnceCell::new();
    let labels = || labels.get_or_init(|| Labels::of(html));
    let source = src
        .var_or_cgi("nickname", &["nick_name"])
        .and_then(|t| clean_value(&t))
        .or_else(|| locate::text_by_id(html, "js_name").and_then(|t| clean_value(&t)))
        .or_else(|| text_by_class(html, "wx_follow_nickname"))
        .or_else(|| text_by_class(html, "profile_nickname"))
        .or_else(|| labels().source.clone())
        .or_else(|| known.source.clone())
        .unwrap_or_default();

    let account_id = src
        .var_or_cgi("user_name", &["user_name"])
        .filter(|u| u.starts_with("gh_") && u.len() < 64 && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let author = src.var_or_cgi("author", &["author"]).and_then(|t| clean_value(&t));
    let digest =
        src.var_or_cgi("msg_desc", &["desc"]).or_else(|| src.meta("og:description")).and_then(|t| clean_value(&t));
    let cover = src
        .var_or_cgi("msg_cdn_url", &["cdn_url"])
        .or_else(|| src.meta("og:image"))
        .map(|u| crate::text::https_image(&decode_entities(&u)))
        .filter(|u| markdown::is_safe_url(u) && u.starts_with("http"));
    let publish_time = ["ct", "create_time", "ori_create_time"]
        .iter()
        .filter_map(|v| vars.get(v))
        .chain(["ori_create_time", "create_time"].iter().filter_map(|k| cgi.str(k).map(str::to_string)))
        .find_map(|t| plausible_time(&t))
        // The time the page shows (`2026年03月11日 09:30`), which exporters fill in from the
        // script they then drop, or a labelled `发布时间`.
        .or_else(|| locate::text_by_id(html, "publish_time").and_then(|t| shown_time(&decode_entities(&t))))
        .or_else(|| labels().time)
        .or(known.publish_time);

    let links: Vec<String> = [vars.get("msg_link"), cgi.str("link").map(str::to_string), src.meta("og:url")]
        .into_iter()
        .flatten()
        .map(|l| decode_entities(&l))
        .chain(page.url.clone())
        .collect();
    let links = if links.iter().any(|l| ArticleId::from_url(l).is_some() || crate::article::short_link(l).is_some()) {
        links
    } else {
        links.into_iter().chain(labels().url.clone()).chain(known.url.clone()).collect()
    };
    let id = src.id().or_else(|| links.iter().find_map(|l| ArticleId::from_url(l)));
    let short_url = links.iter().find_map(|l| crate::article::short_link(l));
    let source_url = src
        .var_or_cgi("msg_source_url", &["source_url"])
        .map(|u| decode_entities(&u).trim().to_string())
        .filter(|u| markdown::is_safe_url(u) && u.starts_with("http"));

    let mut original_url = None;
    let (body, images) = match kind {
        Kind::Picture => picture_body(&cgi),
        Kind::Text => {
            let text = text_content(&cgi).unwrap_or_default();
            // A text post has no title of its own: WeChat's share card shows its first line.
            if title.is_empty() {
                // The first line without the links the editor put in it.
                static ANCHOR_TAG: std::sync::LazyLock<regex::Regex> =
                    std::sync::LazyLock::new(|| regex::Regex::new(r"(?i)</?a(\s[^<>]*)?>").unwrap());
                title = clean_value(&ANCHOR_TAG.replace_all(&first_line(&text), "")).unwrap_or_default();
            }
            (markdown::post_text(&text), Vec::new())
        }
        Kind::Share => {
            let (body, images, original) = share_body(html);
            original_url = original;
            (body, images)
        }
        Kind::Article | Kind::Video => {
            let converted = locate::by_id(html, "js_content").map(|el| markdown::convert(el.inner)).unwrap_or_default();
            (converted.markdown, converted.images)
        }
    };

    if title.is_empty() {
        return Err(Error::Extract { target: page.target.clone(), missing: "title" });
    }
    if source.is_empty() {
        return Err(Error::Extract { target: page.target.clone(), missing: "account name" });
    }
    Ok(Article {
        kind,
        title,
        source,
        account_id,
        author,
        digest,
        cover,
        publish_time,
        id,
        short_url,
        source_url,
        original_url,
        page_url: None,
        body,
        images,
    })
}

/// The article of a full-text feed item: its HTML through the same converter as a page's content
/// (the content element inside it, when the bridge kept the element), the item's title, the
/// account, the item's date, and the address of the item's link. `None` when it has no title
/// or its HTML no words or pictures.
pub fn from_feed_item(
    url: &str,
    title: &str,
    account: &str,
    published: Option<chrono::DateTime<chrono::Utc>>,
    html: &str,
) -> Option<Article> {
    let title = clean_value(&decode_entities(title))?;
    let source = clean_value(account)?;
    let inner = locate::by_id(html, "js_content").map_or(html, |el| el.inner);
    let converted = markdown::convert(inner);
    if converted.markdown.trim().is_empty() {
        return None;
    }
    Some(Article {
        id: ArticleId::from_url(url),
        short_url: crate::article::short_link(url),
        publish_time: published.and_then(|t| crate::record::plausible_publish_time(t.timestamp())),
        images: converted.images,
        ..Article::plain(title, source, converted.markdown)
    })
}

/// The places a fact can come from on one page.
struct Sources<'a> {
    html: &'a str,
    vars: &'a script::Vars<'a>,
    cgi: &'a Value,
}

impl Sources<'_> {
    /// A script variable, else the first of the `cgiDataNew` keys that has a value.
    fn var_or_cgi(&self, var: &str, keys: &[&str]) -> Option<String> {
        self.vars.get(var).or_else(|| keys.iter().find_map(|k| self.cgi.str(k).map(str::to_string)))
    }

    /// `__biz/mid/idx/sn` from the script variables or `cgiDataNew`.
    fn id(&self) -> Option<ArticleId> {
        let biz = self.vars.get("biz").or_else(|| self.cgi.str("bizuin").map(str::to_string))?;
        let mid = self.vars.get("mid").or_else(|| self.cgi.str("mid").map(str::to_string))?;
        let idx = self.vars.get("idx").or_else(|| self.cgi.str("idx").map(str::to_string))?;
        let sn = self.vars.get("sn").or_else(|| self.cgi.str("sn").map(str::to_string));
        ArticleId::new(&biz, &mid, &idx, sn.as_deref())
    }

    /// The `content` (or `value`, in some saved copies) of `<meta property|name="key">`.
    fn meta(&self, key: &str) -> Option<String> {
        let head_end = memmem::find(self.html.as_bytes(), b"<body").unwrap_or(self.html.len());
        let head = self.html.get(..head_end).unwrap_or_default();
        let mut from = 0;
        while let Some(p) = memmem::find(&head.as_bytes()[from..], b"<meta") {
            let at = from + p;
            let end = head.get(at..).unwrap_or_default().find('>').map_or(head.len(), |e| at + e + 1);
            let tag = head.get(at..end).unwrap_or_default();
            from = end;
            let name = locate::attr(tag, "property").or_else(|| locate::attr(tag, "name"));
            if name == Some(key) {
                return locate::attr(tag, "content")
                    .or_else(|| locate::attr(tag, "value"))
                    .map(decode_entities)
                    .filter(|v| !v.trim().is_empty());
            }
        }
        None
    }
}

/// The text of the page's `<title>`: the last resort for a saved page rebuilt by another tool.
fn page_title(html: &str) -> Option<String> {
    let head_end = memmem::find(html.as_bytes(), b"<body").unwrap_or(html.len());
    let head = html.get(..head_end)?;
    let at = memmem::find(head.as_bytes(), b"<title")?;
    let rest = head.get(at..)?;
    let rest = rest.get(rest.find('>')? + 1..)?;
    let end = rest.find("</title").unwrap_or(rest.len());
    clean_value(&decode_entities(rest.get(..end)?))
}

/// What a page states in labelled lines outside its content element, as the pages backup tools
/// rebuild around the article do: `<p><strong>来源:</strong> 账号</p>`, `发布时间: 2026-03-11 09:30`,
/// `原文链接: <a href="…">`. Inside the content such words are the author's and are not read.
#[derive(Debug, Default)]
struct Labels {
    source: Option<String>,
    time: Option<i64>,
    url: Option<String>,
}

impl Labels {
    fn of(html: &str) -> Labels {
        static LABEL: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r#"(来源|公众号|发布时间|原文链接)\s*(?:</[a-zA-Z]+>\s*)*[:：]\s*(?:</[a-zA-Z]+>\s*)*(?:<a\s[^>]*?href\s*=\s*["']([^"']*)["'][^>]*>)?([^<]*)"#,
            )
            .unwrap()
        });
        let outside = match locate::by_id(html, "js_content") {
            Some(el) => {
                let start = (el.inner.as_ptr() as usize).saturating_sub(html.as_ptr() as usize);
                let end = start + el.inner.len();
                [html.get(..start).unwrap_or_default(), html.get(end..).unwrap_or_default()]
            }
            None => [html, ""],
        };
        let mut labels = Labels::default();
        for part in outside {
            for c in LABEL.captures_iter(part) {
                let href = c.get(2).map(|m| decode_entities(m.as_str()));
                let value = clean_value(&decode_entities(c.get(3).map_or("", |m| m.as_str())));
                match &c[1] {
                    "来源" | "公众号" if labels.source.is_none() => {
                        labels.source = value.filter(|v| !crate::record::formats::names_no_one(v))
                    }
                    "发布时间" if labels.time.is_none() => labels.time = value.as_deref().and_then(shown_time),
                    "原文链接" if labels.url.is_none() => {
                        labels.url = href.or(value).map(|u| u.trim().to_string()).filter(|u| u.starts_with("http"))
                    }
                    _ => {}
                }
            }
        }
        labels
    }
}

/// Unix seconds of a time as a page shows it, in China Standard Time: `2026-03-11 09:30[:00]`,
/// `2026年03月11日 09:30`, `2026-03-11` (midnight).
fn shown_time(s: &str) -> Option<i64> {
    let day = crate::record::formats::labelled_date(s, false);
    if day.is_empty() {
        return None;
    }
    static CLOCK: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"\b([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?\b").unwrap());
    let (h, m, sec) = CLOCK.captures(s).map_or((0, 0, 0), |c| {
        let n = |i: usize| c.get(i).and_then(|m| m.as_str().parse::<u32>().ok()).unwrap_or(0);
        (n(1), n(2), n(3))
    });
    let date = chrono::NaiveDate::parse_from_str(&day, "%Y-%m-%d").ok()?;
    let local = date.and_hms_opt(h, m, sec)?;
    crate::record::plausible_publish_time(local.and_local_timezone(crate::record::china_time()).single()?.timestamp())
}

/// The text of the first element with this class, when it is plain text.
fn text_by_class(html: &str, class: &str) -> Option<String> {
    let needle = format!("class=\"{class}");
    let at = memmem::find(html.as_bytes(), needle.as_bytes())?;
    let rest = html.get(at..).unwrap_or_default();
    let gt = rest.find('>')?;
    let rest = rest.get(gt + 1..).unwrap_or_default();
    let end = rest.find('<')?;
    clean_value(rest.get(..end).unwrap_or_default())
}

/// Unix seconds from a script value, when it is a time WeChat could have published at.
fn plausible_time(s: &str) -> Option<i64> {
    crate::record::plausible_publish_time(s.trim().parse().ok()?)
}

/// The first non-blank line of a text.
fn first_line(text: &str) -> String {
    text.lines().find(|l| !crate::text::fold_ws(l).is_empty()).unwrap_or("").to_string()
}

/// The text of a text-only post.
fn text_content(cgi: &Value) -> Option<String> {
    cgi.str("content_noencode")
        .or_else(|| cgi.get("text_page_info").and_then(|t| t.str("content_noencode")))
        .or_else(|| cgi.get("text_page_info").and_then(|t| t.str("content")))
        .or_else(|| cgi.str("desc"))
        .map(str::to_string)
}

/// A picture post: its description, then every picture in order.
fn picture_body(cgi: &Value) -> (String, Vec<String>) {
    let text = text_content(cgi).unwrap_or_default();
    let mut out = markdown::post_text(&text);
    let mut images = Vec::new();
    for item in cgi.list("picture_page_info_list") {
        if let Some(url) = item.str("cdn_url") {
            let url = crate::text::https_image(&decode_entities(url));
            if markdown::is_safe_url(&url) && !images.contains(&url) {
                out.push_str(&format!("\n![]({})\n", markdown::escape_url(&url)));
                images.push(url);
            }
        }
    }
    (markdown::tidy(&out), images)
}

/// A share post: the sharer's comment, a line naming and linking the original, and the original's
/// content when the page carries it.
fn share_body(html: &str) -> (String, Vec<String>, Option<String>) {
    let comment = share_comment(html).unwrap_or_default();
    let mut out = markdown::plain_text(&comment);
    let original_title = locate::text_by_id(html, "original_panel_title").and_then(|t| clean_value(&t));
    let original_author = locate::text_by_id(html, "js_share_author").and_then(|t| clean_value(&t));
    let original_url = locate::by_id(html, "js_share_source")
        .and_then(|el| locate::attr(el.start_tag, "data-url"))
        .map(decode_entities)
        .map(|u| u.replace("%3D", "="))
        .and_then(|u| {
            ArticleId::from_url(&u).and_then(|id| id.canonical_url()).or_else(|| crate::article::short_link(&u))
        });
    let mut line = String::from("分享自");
    if let Some(a) = &original_author {
        line.push('：');
        escape_text(a, &mut line);
    }
    match (&original_title, &original_url) {
        (Some(t), Some(u)) => {
            let mut t_md = String::new();
            escape_text(t, &mut t_md);
            line.push_str(&format!("《[{t_md}]({u})》"));
        }
        (Some(t), None) => {
            line.push('《');
            escape_text(t, &mut line);
            line.push('》');
        }
        (None, Some(u)) => line.push_str(&format!(" [原文]({u})")),
        (None, None) => {}
    }
    out.push_str(&format!("\n> {line}\n"));
    let converted = locate::by_id(html, "js_content").map(|el| markdown::convert(el.inner)).unwrap_or_default();
    out.push('\n');
    out.push_str(&converted.markdown);
    (markdown::tidy(&out), converted.images, original_url)
}

/// The comment a sharer wrote: a script puts it into `#js_share_notice`.
fn share_comment(html: &str) -> Option<String> {
    let marker = "getElementById('js_share_notice').innerHTML";
    let at = memmem::find(html.as_bytes(), marker.as_bytes())?;
    let rest = html.get(at + marker.len()..).unwrap_or_default().trim_start().strip_prefix('=')?.trim_start();
    let (text, _) = crate::text::js_string_literal(rest)?;
    Some(decode_entities(&text.replace("<br>", "\n").replace("<br/>", "\n")))
}
