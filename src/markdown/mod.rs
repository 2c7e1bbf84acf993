//! HTML content → clean Markdown (CommonMark plus GFM pipe tables).
//!
//! wxsec has its own emitter rather than a general converter because WeChat's markup needs
//! decisions that look at a whole block before writing it: a table is data or layout, a
//! `code-snippet` is one `<code>` per line beside a line-number list, emphasis must not cross a
//! line break, CJK punctuation must sit outside `**` for the emphasis to render, hidden elements
//! and embeds need their own rules. The emitter walks an html5ever tree of the content fragment
//! only, never of the whole page.

mod blocks;
mod codebox;
mod escape;
mod inline;
mod slim;
mod style;
mod tables;
mod tidy;

use scraper::Html;

pub use escape::{escape_line_start, escape_text, escape_url, is_safe_url, settle_stars};
pub use style::style_hides;
pub use tidy::tidy;

use blocks::{Blocks, Emitter, block_holders};

/// The result of converting a content fragment.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Converted {
    /// The Markdown, tidied, ending in one newline (empty when there was nothing to say).
    pub markdown: String,
    /// Every image address, in order, once each.
    pub images: Vec<String>,
}

/// Converts an HTML fragment (the inner HTML of the content element) to Markdown.
pub fn convert(fragment: &str) -> Converted {
    let doc = Html::parse_fragment(&slim::slim_styles(fragment));
    let mut em = Emitter { with_blocks: block_holders(doc.tree.root()), ..Emitter::default() };
    let mut cx = Blocks::default();
    em.children(doc.tree.root(), &mut cx, 0);
    cx.flush();
    Converted { markdown: settle_rows(&tidy(&cx.blocks.join("\n\n"))), images: em.images }
}

/// Emphasis left empty or split in two by the editor's markup (`**a****b**`, `**06******`) is
/// settled on every line outside code blocks.
fn settle_rows(md: &str) -> String {
    if !md.contains("****") {
        return md.to_string();
    }
    let mut out = String::with_capacity(md.len());
    let mut fence: Option<String> = None;
    for line in md.split_inclusive('\n') {
        let t = line.trim_start();
        let ticks: String = t.chars().take_while(|c| *c == '`').collect();
        if ticks.len() >= 3 {
            match &fence {
                Some(f) if ticks.len() >= f.len() && t.trim_end().len() == ticks.len() => fence = None,
                None => fence = Some(ticks),
                _ => {}
            }
            out.push_str(line);
        } else if fence.is_none() && line.contains("****") {
            out.push_str(&settle_stars(line));
        } else {
            out.push_str(line);
        }
    }
    // A line that was only stars is empty now.
    tidy(&out)
}

/// Plain text (a text post, a picture post's description, a share comment, a text post kept in a
/// title) as Markdown paragraphs: each line its own paragraph, escaped so it renders as written.
pub fn plain_text(text: &str) -> String {
    paragraphs(text, escape_text)
}

/// The text of a text or picture post (`content_noencode`), which is plain text except for the
/// links WeChat's editor puts in it (`<a class="normal_text_link" href=…>`, a picture reference
/// `wx_img_refer_link`, a mini-program `weapp_text_link`): those are links (or their words, where
/// they lead nowhere a record can), everything else is text as written.
pub fn post_text(text: &str) -> String {
    static ANCHOR: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r#"(?is)<a(\s[^<>]*)?>(.*?)</a\s*>"#).unwrap());
    paragraphs(text, |line, md| {
        let mut last = 0;
        for c in ANCHOR.captures_iter(line) {
            let (Some(whole), Some(inner)) = (c.get(0), c.get(2)) else { continue };
            escape_text(line.get(last..whole.start()).unwrap_or_default(), md);
            last = whole.end();
            let words = crate::text::fold_ws(&crate::text::decode_entities(inner.as_str()));
            let href = c
                .get(1)
                .and_then(|a| {
                    crate::text::attr(&format!("<a {}>", a.as_str()), "href").map(crate::text::decode_entities)
                })
                .map(|h| h.trim().to_string())
                .filter(|h| is_safe_url(h) && h.starts_with("http"));
            match href {
                Some(h) if !words.is_empty() => {
                    let target = crate::article::article_address(&h).map(String::from).unwrap_or(h);
                    md.push('[');
                    escape_text(&words, md);
                    md.push_str(&format!("]({})", escape_url(&target)));
                }
                _ => escape_text(&words, md),
            }
        }
        escape_text(line.get(last..).unwrap_or_default(), md);
    })
}

/// Each non-blank line of a text, white space folded, as a paragraph of its own: `line_md` writes
/// its Markdown, and what would start a block there is escaped.
fn paragraphs(text: &str, mut line_md: impl FnMut(&str, &mut String)) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = crate::text::fold_ws(line);
        if line.is_empty() {
            continue;
        }
        let mut md = String::new();
        line_md(&line, &mut md);
        out.push_str(&escape_line_start(md.trim()));
        out.push_str("\n\n");
    }
    tidy(&out)
}

#[cfg(test)]
mod tests;
