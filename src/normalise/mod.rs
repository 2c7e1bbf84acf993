//! `normalise`: bringing records written by other tools to the FORMAT.md format, and telling
//! apart the files that are not articles (stubs) or not whole (truncated) so they can be fetched
//! again.

mod card;
pub mod clean;
mod fences;
mod html;
mod images;
mod saved;
mod seen;
mod summary;

mod walk;

use serde::Serialize;

use crate::article::{Article, ArticleId, WECHAT_HOST, article_address, short_link};
use crate::record::{Record, formats};
use crate::text::{decode_entities_fully, fold_ws};
pub use crate::tree::{Found, Skip, walk};
pub use walk::{Destination, NormaliseOptions, Summary, run};

/// What became of one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// A WeChat article, cleaned.
    Clean,
    /// A record of another site: front matter and white space repaired, body kept.
    OtherSite,
    /// Not an article: chrome only, or a notice page (deleted, removed, verification…).
    Stub,
    /// The article, cut short by the tool that wrote it.
    Truncated,
    /// A record without a title or account name: another tool's failed extraction.
    Incomplete,
    /// Not a record in a format `normalise` reads.
    Unrecognised,
}

/// The result of normalising one record's text.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalised {
    /// What the file is.
    pub outcome: Outcome,
    /// The record to write (clean and other-site records only).
    pub record: Option<String>,
    /// The article's address (canonical where the file gave one), for the report.
    pub url: String,
    /// The kind of stub or problem, for the report: `deleted`, `removed`, `verify`, `blocked`,
    /// `migrated`, `cancelled`, `unavailable`, `expired`, `chrome-only`, `truncated`, …
    pub kind: &'static str,
    /// Why, in words.
    pub reason: String,
    /// The format the file was read in (`front-matter`, `quote-header`, `web-clipper`, …), when
    /// it was in one.
    pub format: Option<&'static str>,
    /// The file named no account: the one the user gave (`--source`, or the folder's name) was
    /// written.
    pub source_given: bool,
}

impl Normalised {
    /// A file that is not written: a stub, a truncated or incomplete record, not a record at all.
    fn reported(outcome: Outcome, url: &str, kind: &'static str, reason: String) -> Self {
        Normalised { outcome, record: None, url: url.to_string(), kind, reason, format: None, source_given: false }
    }
}

/// What the user says about files that do not say it themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Given {
    /// `--source NAME`: the account of every file that names none.
    pub source: Option<String>,
    /// `--source-from-folder`: a file that names no account is of the account its folder is named
    /// after (the layout `account/title.md` exporters write).
    pub source_from_folder: bool,
}

/// A file's name and folder, for the formats that keep facts there.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place<'a> {
    /// The file's name without its extension (wechat-article-exporter names files by title).
    pub stem: Option<&'a str>,
    /// The name of the folder it is in.
    pub folder: Option<&'a str>,
    /// The `meta.json` beside a file that has no header of its own.
    pub sidecar: Option<&'a formats::Sidecar>,
}

impl<'a> Place<'a> {
    /// The place of a file at `path`.
    pub fn of(path: &'a std::path::Path) -> Place<'a> {
        Place {
            stem: path.file_stem().and_then(|s| s.to_str()),
            folder: path.parent().and_then(|p| p.file_name()).and_then(|s| s.to_str()),
            sidecar: None,
        }
    }
}

/// The notices that replace an article, as the seed archive captured them.
const STUB_MARKERS: &[(&str, &str)] = &[
    ("环境异常", "verify"),
    ("完成验证后即可继续访问", "verify"),
    ("该内容已被发布者删除", "deleted"),
    ("此内容因违规无法查看", "removed"),
    ("此内容被投诉且经审核涉嫌侵权", "removed"),
    ("此内容被投诉", "removed"),
    ("此账号已被屏蔽", "blocked"),
    ("此帐号已被屏蔽", "blocked"),
    ("该公众号已迁移", "migrated"),
    ("此账号已自主注销", "cancelled"),
    ("此帐号已自主注销", "cancelled"),
    ("该内容暂时无法查看", "unavailable"),
    ("链接已过期", "expired"),
];

static LINK_TARGET: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"\]\([^)]*\)").unwrap());

/// The seed archive cuts titles at 255 characters.
const TITLE_CUT_AT: usize = 255;

/// The seed archive cuts bodies near 8,000 characters and appends `...`.
const TRUNCATED_AT: std::ops::RangeInclusive<usize> = 7_900..=8_300;

/// Normalises the text of one record.
pub fn normalise_text(text: &str) -> Normalised {
    normalise_record(text, false)
}

/// Normalises the text of one record; with `extra_fields`, the security entities it names are
/// written after the five standard keys.
pub fn normalise_record(text: &str, extra_fields: bool) -> Normalised {
    normalise_file(text, extra_fields, &Given::default(), Place::default())
}

/// Normalises one file's text; `given` and `place` fill in what the file does not say (the
/// account, a title kept only in the file name). The outcome says which format was read.
pub fn normalise_file(text: &str, extra_fields: bool, given: &Given, place: Place) -> Normalised {
    let Some(parsed) = formats::parse(text).or_else(|| place.sidecar.map(|s| s.parsed(text))) else {
        return Normalised::reported(
            Outcome::Unrecognised,
            "",
            "unrecognised",
            "not a record in a format wxsec reads (docs/formats.md): no front matter, no `# title` with an account line or a labelled header under it, no exporter title and account line".to_string(),
        );
    };
    // Set here, once, for every outcome of a file in a known format.
    let format = parsed.format.name();
    let mut n = normalise_parsed(parsed, extra_fields, given, place);
    n.format = Some(format);
    n
}

fn normalise_parsed(mut parsed: formats::Parsed, extra_fields: bool, given: &Given, place: Place) -> Normalised {
    if parsed.title.trim().is_empty()
        && parsed.format == formats::Format::Turndown
        && let Some(stem) = place.stem
    {
        parsed.title = stem.to_string();
    }
    let title_text = title_text(&parsed.title);
    let title = fold_ws(&title_text);
    let source = fold_ws(&decode_entities_fully(&parsed.source));
    let raw_url = parsed.url.trim().to_string();
    let truncated = TRUNCATED_AT.contains(&parsed.body.chars().count()) && parsed.body.trim_end().ends_with("...");

    let is_wechat = raw_url.is_empty() || url::Url::parse(&raw_url).is_ok_and(|u| u.host_str() == Some(WECHAT_HOST));
    if !is_wechat {
        return other_site(&parsed, &raw_url, truncated, extra_fields);
    }
    let url = article_address(&raw_url).map(String::from).unwrap_or_default();
    let stop = |outcome, kind, reason| Normalised::reported(outcome, &url, kind, reason);
    let cleaned = if truncated {
        // A cut that fell inside the chrome trailer took nothing of the article. It usually falls
        // in the trailer's last image (`![](http://mmbiz.qpic...`): that half line goes.
        let mut whole = parsed.body.trim_end().trim_end_matches("...");
        if let Some((before, last)) = whole.rsplit_once('\n')
            && last.trim_start().starts_with("![")
            && !last.trim_end().ends_with(')')
        {
            whole = before;
        }
        let cleaned = clean::clean(whole, &title, &source);
        if !cleaned.trailer_cut {
            let n = parsed.body.chars().count();
            return stop(Outcome::Truncated, "truncated", format!("body cut at {n} characters, ending in \"...\""));
        }
        cleaned
    } else {
        clean::clean(&parsed.body, &title, &source)
    };
    if let Some((kind, phrase)) = stub_notice(&cleaned.body, &title_text) {
        return stop(Outcome::Stub, kind, format!("the page was WeChat's notice “{phrase}”"));
    }
    let source = match &cleaned.account {
        Some(account) if !account.is_empty() => account.clone(),
        _ => source,
    };
    let mut body = cleaned.body;
    if body.trim().is_empty() {
        // A text post keeps its words in the title; the body is only chrome. The seed archive cuts
        // titles at 255 characters: then the words are cut too.
        let title_chars = parsed.title.chars().count();
        if title_text.contains('\n') && title_chars >= TITLE_CUT_AT {
            return stop(
                Outcome::Truncated,
                "truncated",
                format!("a text post whose words survive only in a title cut at {title_chars} characters"),
            );
        }
        if title_text.contains('\n') {
            body = crate::markdown::plain_text(&title_text);
        } else {
            return stop(Outcome::Stub, "chrome-only", "the body holds only WeChat's page chrome".to_string());
        }
    }
    if card::card_only(&parsed.body, &body, cleaned.cover.as_deref(), &title, &[&source, &parsed.source]) {
        return stop(
            Outcome::Stub,
            "chrome-only",
            "the body holds only the post's card (cover or avatar, account name, title): the picture, video or shared article itself was not captured".to_string(),
        );
    }
    let given_source = given
        .source
        .clone()
        .or_else(|| place.folder.filter(|_| given.source_from_folder).map(str::to_string))
        .map(|s| fold_ws(&s))
        .filter(|s| !s.is_empty());
    let (source, source_given) = match given_source {
        Some(g) if source.is_empty() => (g, true),
        _ => (source, false),
    };
    if title.is_empty() || source.is_empty() {
        if title.is_empty() {
            return stop(Outcome::Incomplete, "incomplete", "no title".to_string());
        }
        return stop(
            Outcome::Incomplete,
            "incomplete",
            "no account name: give it with --source NAME, or --source-from-folder when the folder is named after the account".to_string(),
        );
    }
    let article = Article {
        cover: cleaned.cover,
        id: ArticleId::from_url(&url),
        short_url: short_link(&url),
        ..Article::plain(title, source, body)
    };
    let record = Record::from_parts(article, parsed.date, parsed.fetch_date);
    let url = record.article.url();
    // A body cut by the seed tool can leave the window only by the header and trailer it still
    // carried; what is written must not fall into it, or a second pass would call it truncated.
    let written = record.to_markdown_with(extra_fields);
    if written.ends_with("...\n")
        && let Some(again) = formats::parse(&written)
        && TRUNCATED_AT.contains(&again.body.chars().count())
    {
        let n = again.body.chars().count();
        return stop(Outcome::Truncated, "truncated", format!("body cut at {n} characters, ending in \"...\""));
    }
    let (kind, reason) = if source_given {
        ("source-given", "the file names no account: the one given was written".to_string())
    } else {
        ("clean", String::new())
    };
    Normalised { outcome: Outcome::Clean, record: Some(written), url, kind, reason, format: None, source_given }
}

/// A title as meant: literal `\n` escapes are the line breaks of a text post, entities decoded.
fn title_text(raw: &str) -> String {
    decode_entities_fully(&raw.replace("\\\\n", "\n").replace("\\n", "\n"))
}

/// The notice a stub shows, when the body is one: a notice line, nothing of the article's own
/// before it (a text post may repeat its title), and little after it.
fn stub_notice(body: &str, title_text: &str) -> Option<(&'static str, &'static str)> {
    // One pass over the body for all the phrases; most bodies have none.
    static ANY_MARKER: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(&STUB_MARKERS.iter().map(|(p, _)| regex::escape(p)).collect::<Vec<_>>().join("|")).unwrap()
    });
    if !ANY_MARKER.is_match(body) {
        return None;
    }
    let title_folded = fold_ws(title_text);
    let lines: Vec<&str> = body.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let l = line.trim_start_matches('#').trim();
        let Some(&(phrase, kind)) = STUB_MARKERS.iter().find(|(p, _)| l.starts_with(p)) else { continue };
        let before_is_title = lines[..i].iter().all(|b| {
            let f = fold_ws(b);
            f.is_empty() || title_folded.contains(&f)
        });
        // Visible words only: the notice's links carry long addresses.
        let after: usize = lines[i + 1..].iter().map(|l| LINK_TARGET.replace_all(l, "]").chars().count()).sum();
        if before_is_title && after < 200 {
            return Some((kind, phrase));
        }
        return None;
    }
    None
}

/// Error pages other sites served the archiving tool instead of the article, each phrase as the
/// page words it (`x.com` asks for JavaScript; a CDN asks for a browser check).
const SITE_ERRORS: &[&str] = &[
    "JavaScript is disabled in this browser",
    "JavaScript 不可用",
    "Something went wrong, but don’t fret",
    "Please enable JavaScript and cookies to continue",
    "Enable JavaScript and cookies to continue",
    "Checking your browser before accessing",
    "Attention Required! | Cloudflare",
    "Access to this page has been denied",
    "403 Forbidden",
    "404 Not Found",
    "Page Not Found",
];

/// A record of another site: its body stays, its front matter and white space are repaired.
fn other_site(parsed: &formats::Parsed, url: &str, truncated: bool, extra_fields: bool) -> Normalised {
    let title = fold_ws(&decode_entities_fully(&strip_tags(&parsed.title)));
    let source = fold_ws(&decode_entities_fully(&strip_tags(&parsed.source)));
    let stop = |outcome, kind, reason| Normalised::reported(outcome, url, kind, reason);
    if title.is_empty() || source.is_empty() {
        let missing = if title.is_empty() { "title" } else { "source" };
        return stop(Outcome::Incomplete, "incomplete", format!("another site's record with no {missing}"));
    }
    let mut body = parsed.body.as_str().trim_start_matches('\n');
    // The other tool's own `# title` line: the record writer puts the title back.
    if let Some(first) = body.lines().next()
        && let Some(h) = first.strip_prefix("# ")
        && (fold_ws(h) == title || fold_ws(h) == fold_ws(&parsed.title))
    {
        body = body.get(first.len()..).unwrap_or_default();
    }
    // Judged without the title line, which the record writer adds: a second pass sees the same.
    if let Some(phrase) = site_error(body) {
        return stop(Outcome::Stub, "site-error", format!("the page was the site's error page “{phrase}”"));
    }
    let article = Article { page_url: Some(url.to_string()), ..Article::plain(title, source, other_body(body)) };
    let record = Record::from_parts(article, parsed.date.clone(), parsed.fetch_date.clone());
    let reason = if truncated {
        format!("another site's record; its body was cut at {} characters", parsed.body.chars().count())
    } else {
        String::new()
    };
    Normalised {
        outcome: Outcome::OtherSite,
        record: Some(record.to_markdown_with(extra_fields)),
        url: url.to_string(),
        kind: "other-site",
        reason,
        format: None,
        source_given: false,
    }
}

/// The phrase of a site's error page, when the body is one: the phrase, and little else (an
/// article about a 404 page says much more).
fn site_error(body: &str) -> Option<&'static str> {
    let phrase = SITE_ERRORS.iter().find(|p| body.contains(*p))?;
    let visible: usize = body.lines().map(|l| LINK_TARGET.replace_all(l, "]").chars().count()).sum();
    (visible < 1500).then_some(*phrase)
}

/// Another site's body as it was, without what says nothing: empty images, list items, headings.
fn other_body(body: &str) -> String {
    let body = crate::markdown::tidy(body);
    let kept: Vec<String> = body
        .split('\n')
        .map(|l| if l.contains("![]()") { l.replace("![]()", "") } else { l.to_string() })
        .filter(|l| !matches!(l.trim(), "-" | "*" | "+") && !clean::is_empty_heading(l))
        .collect();
    crate::markdown::tidy(&kept.join("\n"))
}

/// Text with HTML tags removed (titles that feeds delivered as HTML).
fn strip_tags(s: &str) -> String {
    if !s.contains('<') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(lt) = rest.find('<') {
        out.push_str(rest.get(..lt).unwrap_or_default());
        let after = rest.get(lt + 1..).unwrap_or_default();
        let is_tag = after.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/');
        match (is_tag, after.find('>')) {
            (true, Some(gt)) => {
                let name =
                    after.trim_start_matches('/').split(|c: char| !c.is_ascii_alphanumeric()).next().unwrap_or("");
                if matches!(name.to_ascii_lowercase().as_str(), "br" | "p" | "div") {
                    out.push(' ');
                }
                rest = after.get(gt + 1..).unwrap_or_default();
            }
            _ => {
                out.push('<');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stubs_are_named() {
        let n = normalise_text(
            "---\ntitle: T\nurl: https://mp.weixin.qq.com/s/abc\nsource: S\ndate: 2024-01-01\nfetch_date: 2025-01-01T00:00:00.000000\n---\n\n# T\n\n## 环境异常\n\n当前环境异常，完成验证后即可继续访问。\n\n去验证\n\n视频\n小程序\n赞\n，轻点两下取消赞\n",
        );
        assert_eq!((n.outcome, n.kind), (Outcome::Stub, "verify"));
        assert!(n.record.is_none());
    }

    #[test]
    fn text_posts_keep_their_words() {
        let n = normalise_text(
            "---\ntitle: 第一行\n第二行\nurl: https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=ab&chksm=1\nsource: S\ndate: 2024-01-01\nfetch_date: 2025-01-01T00:00:00.123\n---\n\n# 第一行\n第二行\n\n：\n，\n视频\n小程序\n赞\n，轻点两下取消赞\n",
        );
        assert_eq!(n.outcome, Outcome::Clean);
        let rec = n.record.unwrap();
        assert!(
            rec.starts_with(
                "---\ntitle: 第一行 第二行\nurl: https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=1&sn=ab\n"
            ),
            "{rec}"
        );
        assert!(rec.ends_with("# 第一行 第二行\n\n第一行\n\n第二行\n"), "{rec}");
        assert_eq!(normalise_text(&rec).record.unwrap(), rec);
    }

    #[test]
    fn other_sites_keep_their_body() {
        let n = normalise_text(
            "---\r\ntitle: <b>A</b> &amp; B\r\nurl: https://example.com/a\r\nsource: Feed\r\ndate: 2023-04-03\r\nfetch_date: 2025-10-04T11:29:11.543847\r\n---\r\n\r\n# <b>A</b> &amp; B\r\n\r\nbody <span>x</span>  \r\n",
        );
        assert_eq!(n.outcome, Outcome::OtherSite);
        assert_eq!(
            n.record.unwrap(),
            "---\ntitle: A & B\nurl: https://example.com/a\nsource: Feed\ndate: 2023-04-03\nfetch_date: 2025-10-04T11:29:11.543847\n---\n\n# A & B\n\nbody <span>x</span>\n"
        );
    }

    /// What a second pass reads is what the first wrote: an error phrase only in the title, and a
    /// cut body that the trailer kept out of the window, are judged the same both times.
    #[test]
    fn a_second_pass_judges_as_the_first() {
        let titled = "---\ntitle: 关于 403 Forbidden 的排查\nurl: https://example.com/a\nsource: Feed\ndate: 2023-04-03\nfetch_date: \"\"\n---\n\n正文。\n";
        let first = normalise_text(titled).record.expect("an article about an error page is written");
        assert_eq!(normalise_text(&first).record.as_deref(), Some(first.as_str()));
        // A seed record cut at 8,000 characters whose chrome trailer pushed it past the window.
        let body = format!("{}...", "漏洞分析正文。\n\n".repeat(900).chars().take(8_000).collect::<String>());
        let cut = format!(
            "---\ntitle: T\nurl: https://mp.weixin.qq.com/s/abc\nsource: S\ndate: 2024-01-01\nfetch_date: \"\"\n---\n\n{}{body}\n",
            "预览时标签不可点\n".repeat(40)
        );
        let n = normalise_text(&cut);
        match n.record {
            Some(r) => assert_eq!(normalise_text(&r).record.as_deref(), Some(r.as_str())),
            None => assert_eq!(n.outcome, Outcome::Truncated),
        }
    }
}
