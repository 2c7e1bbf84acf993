//! HTML content → clean Markdown (CommonMark plus GFM pipe tables).
//!
//! wxsec has its own emitter rather than a general converter because WeChat's markup needs
//! decisions that look at a whole block before writing it: a table is data or layout, a
//! `code-snippet` is one `<code>` per line beside a line-number list, emphasis must not cross a
//! line break, CJK punctuation must sit outside `**` for the emphasis to render, hidden elements
//! and embeds need their own rules. The emitter walks an html5ever tree of the content fragment
//! only, never of the whole page.

mod codebox;
mod escape;
mod slim;
mod tidy;

use std::collections::HashSet;

use ego_tree::NodeRef;
use scraper::{Html, Node, node::Element};

pub use escape::{escape_line_start, escape_text, escape_url, is_safe_url, settle_stars};
pub use tidy::tidy;

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
                    crate::extract::locate::attr(&format!("<a {}>", a.as_str()), "href")
                        .map(crate::text::decode_entities)
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

/// Deeper than this, the tree is read as plain text: no real article nests so deep, and a
/// hostile one must not exhaust the stack.
const MAX_DEPTH: usize = 120;

#[derive(Default)]
struct Emitter {
    /// Elements with a block element somewhere below them, found in one pass over the tree.
    with_blocks: HashSet<ego_tree::NodeId>,
    images: Vec<String>,
    bold: usize,
    italic: usize,
    in_link: usize,
    /// Inside a card being written as one line: the tables within it are not cards themselves.
    in_card: usize,
}

/// The blocks of one container (the document, a list item, a quote, a layout cell) and the
/// paragraph being filled.
#[derive(Default)]
struct Blocks {
    blocks: Vec<String>,
    para: String,
}

impl Blocks {
    /// Ends the current paragraph: every line break inside it starts a new paragraph.
    fn flush(&mut self) {
        let para = std::mem::take(&mut self.para);
        for line in para.split('\n') {
            let line = line.trim_matches(|c: char| c.is_whitespace());
            if is_blank_markdown(line) {
                continue;
            }
            self.blocks.push(escape_line_start(line));
        }
    }

    fn push_block(&mut self, block: String) {
        self.flush();
        if !block.trim().is_empty() {
            self.blocks.push(block);
        }
    }

    fn push_blocks(&mut self, blocks: Vec<String>) {
        self.flush();
        self.blocks.extend(blocks.into_iter().filter(|b| !b.trim().is_empty()));
    }
}

/// Whether a block the emitter wrote is a list (prose that looks like one is escaped).
fn is_list_block(block: &str) -> bool {
    let digits = block.bytes().take_while(u8::is_ascii_digit).count();
    block.starts_with("- ") || (digits > 0 && block.get(digits..).unwrap_or_default().starts_with(". "))
}

/// A line with nothing but emphasis markers and white space says nothing.
fn is_blank_markdown(line: &str) -> bool {
    line.chars().all(|c| c.is_whitespace() || c == '*')
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "aside"
            | "nav"
            | "main"
            | "figure"
            | "figcaption"
            | "center"
            | "blockquote"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "pre"
            | "table"
            | "tr"
            | "td"
            | "th"
            | "tbody"
            | "thead"
            | "tfoot"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "address"
            | "details"
            | "summary"
    )
}

fn is_skipped(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "svg"
            | "canvas"
            | "button"
            | "input"
            | "select"
            | "textarea"
            | "object"
            | "embed"
            | "mp-style-type"
    )
}

/// What of an element a reader sees.
enum Hidden {
    No,
    /// `display:none`, `visibility:hidden`, `hidden`: nothing.
    All,
    /// A zero font size: no words, but its pictures.
    Text,
}

/// `display:none` and friends: text a reader never sees is not the article's.
fn is_hidden(node: NodeRef<Node>, el: &Element) -> Hidden {
    if el.attr("hidden").is_some() {
        return Hidden::All;
    }
    let Some(style) = el.attr("style") else { return Hidden::No };
    if hides_box(style) {
        return Hidden::All;
    }
    // A zero font size hides text, unless a descendant sets its own size: editors zero the
    // container's font to remove the gaps between inline blocks.
    let zero = font_sizes(style).any(|n| n == 0.0)
        && !node.descendants().skip(1).any(|n| match n.value() {
            Node::Element(e) => e.attr("style").is_some_and(|s| font_sizes(s).any(|n| n > 0.0)),
            _ => false,
        });
    if zero { Hidden::Text } else { Hidden::No }
}

/// Whether an inline style hides its element's text (for markup without a tree around it).
pub fn style_hides(style: &str) -> bool {
    hides_box(style) || font_sizes(style).any(|n| n == 0.0)
}

/// The declarations of an inline style, as (name, value), without allocating.
fn declarations(style: &str) -> impl Iterator<Item = (&str, &str)> {
    style.split(';').filter_map(|d| d.split_once(':').map(|(n, v)| (n.trim(), v.trim())))
}

fn hides_box(style: &str) -> bool {
    declarations(style).any(|(n, v)| {
        let v = v.trim_end_matches("!important").trim();
        (n.eq_ignore_ascii_case("display") && v.eq_ignore_ascii_case("none"))
            || (n.eq_ignore_ascii_case("visibility") && v.eq_ignore_ascii_case("hidden"))
    })
}

/// The font sizes a style sets (`font-size:…` or the `font:` shorthand), as numbers.
fn font_sizes(style: &str) -> impl Iterator<Item = f64> + '_ {
    declarations(style).filter_map(|(n, v)| {
        if !(n.eq_ignore_ascii_case("font-size") || n.eq_ignore_ascii_case("font")) {
            return None;
        }
        let end = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
        v.get(..end).unwrap_or_default().parse::<f64>().ok()
    })
}

/// Bold, italic from an inline style.
fn style_emphasis(style: &str) -> (bool, bool) {
    let (mut bold, mut italic) = (false, false);
    for (n, v) in declarations(style) {
        if n.eq_ignore_ascii_case("font-weight") {
            let v = v.trim_end_matches("!important").trim();
            bold = v.eq_ignore_ascii_case("bold")
                || v.eq_ignore_ascii_case("bolder")
                || v.parse::<u32>().is_ok_and(|w| w >= 600);
        } else if n.eq_ignore_ascii_case("font-style") {
            italic = v.trim_end_matches("!important").trim().eq_ignore_ascii_case("italic");
        }
    }
    (bold, italic)
}

fn has_class(el: &Element, prefix: &str) -> bool {
    el.classes().any(|c| c.starts_with(prefix))
}

/// The elements that hold a block element below them: one post-order pass, so that asking it
/// of every inline element costs nothing (asking each by walking its subtree is quadratic in the
/// nesting depth WeChat's editors produce).
fn block_holders(root: NodeRef<Node>) -> HashSet<ego_tree::NodeId> {
    let mut holders = HashSet::new();
    for edge in root.traverse() {
        if let ego_tree::iter::Edge::Close(n) = edge {
            let holds = n.children().any(|c| match c.value() {
                Node::Element(e) => is_block(e.name()) || holders.contains(&c.id()),
                _ => false,
            });
            if holds {
                holders.insert(n.id());
            }
        }
    }
    holders
}

/// The text of a subtree as it stands, white space kept; `<br>` and block ends become newlines.
fn raw_text(node: NodeRef<Node>, out: &mut String) {
    // Iterative: code blocks can be deep.
    for edge in node.traverse() {
        match edge {
            ego_tree::iter::Edge::Open(n) => match n.value() {
                Node::Text(t) => out.push_str(t),
                Node::Element(e) if e.name() == "br" => out.push('\n'),
                _ => {}
            },
            ego_tree::iter::Edge::Close(n) => {
                if let Node::Element(e) = n.value()
                    && matches!(e.name(), "p" | "div" | "li" | "tr")
                    && !out.ends_with('\n')
                {
                    out.push('\n');
                }
            }
        }
    }
}

impl Emitter {
    fn children(&mut self, node: NodeRef<Node>, cx: &mut Blocks, depth: usize) {
        for child in node.children() {
            self.node(child, cx, depth + 1);
        }
    }

    fn node(&mut self, node: NodeRef<Node>, cx: &mut Blocks, depth: usize) {
        match node.value() {
            Node::Text(t) => push_text(&mut cx.para, t),
            Node::Element(el) => {
                if depth > MAX_DEPTH {
                    let mut s = String::new();
                    raw_text(node, &mut s);
                    push_text(&mut cx.para, &s);
                    return;
                }
                self.element(node, el, cx, depth)
            }
            _ => {}
        }
    }

    fn element(&mut self, node: NodeRef<Node>, el: &Element, cx: &mut Blocks, depth: usize) {
        let name = el.name();
        if is_skipped(name) {
            return;
        }
        match is_hidden(node, el) {
            Hidden::No => {}
            Hidden::All => return,
            Hidden::Text => {
                // A zero font size hides words, not pictures: editors zero the font around images
                // to close the gaps between them.
                for d in node.descendants() {
                    if let Node::Element(e) = d.value()
                        && e.name() == "img"
                        && let Some(src) = image_src(e)
                    {
                        let md = self.image_md(&src, "");
                        cx.para.push_str(&md);
                    }
                }
                return;
            }
        }
        // WeChat's code-snippet line numbers: a list of empty items beside the code.
        if name == "ul" && has_class(el, "code-snippet__line-index") {
            return;
        }
        if let Some(bg) = background_image(el) {
            self.image_block(&bg, "", cx);
        }
        match name {
            "br" => cx.para.push('\n'),
            "img" => {
                if let Some(src) = image_src(el) {
                    // `图片` is the alt text WeChat's editor gives every picture: it says nothing.
                    let alt = el
                        .attr("alt")
                        .filter(|a| !matches!(a.trim(), "图片" | "Image" | "image" | "img"))
                        .unwrap_or("");
                    let md = self.image_md(&src, alt);
                    cx.para.push_str(&md);
                }
            }
            "hr" => cx.push_block("---".to_string()),
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                cx.flush();
                let level = (name.as_bytes()[1] - b'0').max(2) as usize;
                let text = self.inline(node, depth);
                let mut lines = text.split('\n').map(str::trim).filter(|l| !is_blank_markdown(l));
                if let Some(first) = lines.next() {
                    // A heading is one line; lines after a break inside it stay as paragraphs.
                    let first = first.trim_start_matches("**").trim_end_matches("**");
                    cx.blocks.push(format!("{} {}", "#".repeat(level), first.trim()));
                    for l in lines {
                        cx.blocks.push(escape_line_start(l));
                    }
                }
            }
            "pre" => {
                let block = self.code_block(node, el);
                cx.push_block(block);
            }
            "blockquote" => {
                let inner = self.container(node, depth);
                if !inner.is_empty() {
                    let quoted = inner
                        .join("\n\n")
                        .lines()
                        .map(|l| if l.is_empty() { ">".to_string() } else { format!("> {l}") })
                        .collect::<Vec<_>>()
                        .join("\n");
                    cx.push_block(quoted);
                }
            }
            "ul" | "ol" => {
                let list = self.list(node, el, depth);
                cx.push_block(list);
            }
            "table" => {
                let blocks = self.table(node, depth);
                cx.push_blocks(blocks);
            }
            "mp-common-sticker" => {
                if let Some(src) = el.attr("data-emoji_url").map(str::trim).filter(|s| s.starts_with("http")) {
                    let md = self.image_md(src, "");
                    cx.para.push_str(&md);
                }
            }
            "iframe"
            | "mpvoice"
            | "qqmusic"
            | "mpvideo"
            | "mp-common-mpaudio"
            | "mp-common-videosnap"
            | "mp-common-profile"
            | "mp-miniprogram"
            | "mp-common-miniprogram" => {
                if let Some(line) = embed_line(name, el) {
                    cx.push_block(line);
                } else {
                    self.children(node, cx, depth);
                }
            }
            "a" => self.link(node, el, cx, depth),
            "code" if !self.with_blocks.contains(&node.id()) => {
                let mut s = String::new();
                raw_text(node, &mut s);
                let s = s.replace(['\n', '\u{a0}'], " ");
                if !s.trim().is_empty() {
                    cx.para.push_str(&escape::code_span(&s));
                }
            }
            "strong" | "b" | "em" | "i" | "del" | "s" | "strike" | "span" | "font" | "u" | "sup" | "sub" | "small"
            | "big" | "mark" | "label" | "cite" | "q" | "abbr" | "tt" | "ins" | "var"
                if !self.with_blocks.contains(&node.id()) =>
            {
                let (style_bold, style_italic) = el.attr("style").map(style_emphasis).unwrap_or_default();
                let bold = matches!(name, "strong" | "b") || style_bold;
                let italic = matches!(name, "em" | "i") || style_italic;
                let strike = matches!(name, "del" | "s" | "strike");
                self.styled(node, cx, depth, bold, italic, strike);
            }
            // A section styled as code holding a line per block.
            "section" | "div" | "p"
                if codebox::says_code(el)
                    && let Some(block) = codebox::code_box(node, true, &code_language(node, el)) =>
            {
                cx.push_block(block);
            }
            _ if is_block(name) => {
                cx.flush();
                self.children(node, cx, depth);
                cx.flush();
            }
            _ => self.children(node, cx, depth),
        }
    }

    /// The inline Markdown of a subtree, line breaks kept as `\n`.
    fn inline(&mut self, node: NodeRef<Node>, depth: usize) -> String {
        let mut sub = Blocks::default();
        self.children(node, &mut sub, depth);
        let mut s = sub.blocks.join("\n");
        if !sub.para.is_empty() {
            if !s.is_empty() {
                s.push('\n');
            }
            s.push_str(&sub.para);
        }
        s
    }

    /// The blocks of a container element, rendered on their own.
    fn container(&mut self, node: NodeRef<Node>, depth: usize) -> Vec<String> {
        let mut sub = Blocks::default();
        self.children(node, &mut sub, depth);
        sub.flush();
        sub.blocks
    }

    fn styled(&mut self, node: NodeRef<Node>, cx: &mut Blocks, depth: usize, bold: bool, italic: bool, strike: bool) {
        let bold = bold && self.bold == 0;
        let italic = italic && self.italic == 0;
        self.bold += usize::from(bold);
        self.italic += usize::from(italic);
        let inner = self.inline(node, depth);
        self.bold -= usize::from(bold);
        self.italic -= usize::from(italic);
        let mut delim = String::new();
        if bold {
            delim.push_str("**");
        }
        if italic {
            delim.push('*');
        }
        if strike {
            delim.push_str("~~");
        }
        if delim.is_empty() {
            cx.para.push_str(&inner);
            return;
        }
        let close: String = delim.chars().rev().collect();
        let mut first = true;
        for line in inner.split('\n') {
            if !first {
                cx.para.push('\n');
            }
            // Two emphasised runs side by side are one run: `**a****b**` would render literally.
            let merge =
                first && cx.para.ends_with(&close) && !line.trim().is_empty() && !line.starts_with(char::is_whitespace);
            first = false;
            if merge {
                let mut wrapped = String::new();
                wrap_emphasis(&mut wrapped, line, &delim);
                if let Some(rest) = wrapped.strip_prefix(delim.as_str()) {
                    cx.para.truncate(cx.para.len() - close.len());
                    cx.para.push_str(rest);
                    continue;
                }
                cx.para.push_str(&wrapped);
                continue;
            }
            wrap_emphasis(&mut cx.para, line, &delim);
        }
    }

    fn link(&mut self, node: NodeRef<Node>, el: &Element, cx: &mut Blocks, depth: usize) {
        let href = el.attr("href").map(str::trim).unwrap_or("");
        let usable = self.in_link == 0 && is_safe_url(href) && !href.starts_with('#');
        if !usable || self.with_blocks.contains(&node.id()) {
            // Text stays, the link does not (javascript: handlers, anchors, nested links).
            if is_block(el.name()) || self.with_blocks.contains(&node.id()) {
                cx.flush();
                self.children(node, cx, depth);
                cx.flush();
            } else {
                let s = self.inline(node, depth);
                cx.para.push_str(&s);
            }
            return;
        }
        self.in_link += 1;
        let text = self.inline(node, depth);
        self.in_link -= 1;
        let text = text.split('\n').map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
        if is_blank_markdown(&text) {
            return;
        }
        // Links to other WeChat articles lose their tracking parameters, as the record's own does.
        let target = crate::article::article_address(href).map(String::from).unwrap_or_else(|| href.to_string());
        cx.para.push_str(&format!("[{}]({})", text.trim(), escape_url(&target)));
    }

    fn image_md(&mut self, src: &str, alt: &str) -> String {
        let src = escape_url(&crate::text::https_image(src));
        if !self.images.contains(&src) {
            self.images.push(src.clone());
        }
        let alt = crate::text::fold_ws(alt);
        let mut alt_md = String::new();
        escape_text(&alt, &mut alt_md);
        format!("![{alt_md}]({src})")
    }

    fn image_block(&mut self, src: &str, alt: &str, cx: &mut Blocks) {
        let md = self.image_md(src, alt);
        cx.push_block(md);
    }

    fn code_block(&mut self, node: NodeRef<Node>, el: &Element) -> String {
        let lang = code_language(node, el);
        let codes: Vec<NodeRef<Node>> =
            node.children().filter(|c| matches!(c.value(), Node::Element(e) if e.name() == "code")).collect();
        let mut text = String::new();
        if codes.len() > 1 {
            // WeChat's code-snippet: every line is a `<code>` of its own.
            for (i, c) in codes.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                let mut line = String::new();
                raw_text(*c, &mut line);
                text.push_str(line.trim_end_matches('\n'));
            }
        } else {
            raw_text(node, &mut text);
        }
        let text = text.replace('\u{a0}', " ").replace("\r\n", "\n").replace('\r', "\n");
        let text: String = text.chars().filter(|c| !crate::text::is_invisible(*c)).collect();
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        let start = lines.iter().position(|l| !l.is_empty()).unwrap_or(lines.len());
        let end = lines.iter().rposition(|l| !l.is_empty()).map_or(start, |e| e + 1);
        let body = lines[start..end].join("\n");
        if body.is_empty() {
            return String::new();
        }
        let fence = escape::fence_for(&body);
        format!("{fence}{lang}\n{body}\n{fence}")
    }

    fn list(&mut self, node: NodeRef<Node>, el: &Element, depth: usize) -> String {
        let ordered = el.name() == "ol";
        let mut n: usize = el.attr("start").and_then(|s| s.trim().parse().ok()).unwrap_or(1);
        let mut items = Vec::new();
        for child in node.children() {
            let blocks = match child.value() {
                Node::Element(c) if is_skipped(c.name()) || !matches!(is_hidden(child, c), Hidden::No) => continue,
                Node::Element(c) if c.name() == "li" => self.container(child, depth + 1),
                Node::Element(_) => {
                    let mut sub = Blocks::default();
                    self.node(child, &mut sub, depth + 1);
                    sub.flush();
                    sub.blocks
                }
                Node::Text(t) if !t.trim().is_empty() => {
                    let mut sub = Blocks::default();
                    push_text(&mut sub.para, t);
                    sub.flush();
                    sub.blocks
                }
                _ => continue,
            };
            if blocks.is_empty() {
                continue;
            }
            let marker = if ordered { format!("{n}. ") } else { "- ".to_string() };
            n += 1;
            let indent = " ".repeat(marker.len());
            // A nested list hangs directly under its item's text; other blocks are paragraphs.
            let mut body = String::new();
            let mut paragraphs = 0;
            for (i, b) in blocks.iter().enumerate() {
                let nested = is_list_block(b);
                if i > 0 {
                    body.push_str(if nested { "\n" } else { "\n\n" });
                }
                paragraphs += usize::from(!nested);
                body.push_str(b);
            }
            let mut item = String::new();
            for (i, line) in body.lines().enumerate() {
                if i == 0 {
                    item.push_str(&marker);
                    item.push_str(line);
                } else if line.is_empty() {
                    item.push('\n');
                } else {
                    item.push('\n');
                    item.push_str(&indent);
                    item.push_str(line);
                }
            }
            items.push((item, paragraphs > 1));
        }
        let loose = items.iter().any(|(_, multi)| *multi);
        let sep = if loose { "\n\n" } else { "\n" };
        items.into_iter().map(|(i, _)| i).collect::<Vec<_>>().join(sep)
    }

    fn table(&mut self, node: NodeRef<Node>, depth: usize) -> Vec<String> {
        let rows = table_rows(node);
        // A one-cell table of code lines is a box of code.
        if let [row] = rows.as_slice()
            && let [cell] = row.as_slice()
            && let Node::Element(el) = cell.value()
            && let Some(block) = codebox::code_box(*cell, codebox::says_code(el), &code_language(*cell, el))
        {
            return vec![block];
        }
        // A table inside another table's cell is part of a layout.
        let nested = node.ancestors().any(|a| matches!(a.value(), Node::Element(e) if e.name() == "table"));
        if !nested && is_data_table(node, &rows) {
            let mut grid: Vec<Vec<String>> = Vec::new();
            for row in &rows {
                let mut cells = Vec::new();
                for cell in row {
                    let text = self.inline(*cell, depth + 2);
                    let text = text
                        .split('\n')
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                        .replace('|', "\\|");
                    let span = match cell.value() {
                        Node::Element(e) => e.attr("colspan").and_then(|s| s.trim().parse::<usize>().ok()).unwrap_or(1),
                        _ => 1,
                    };
                    cells.push(text);
                    for _ in 1..span.min(64) {
                        cells.push(String::new());
                    }
                }
                grid.push(cells);
            }
            let width = grid.iter().map(Vec::len).max().unwrap_or(0);
            let mut out = Vec::new();
            for (i, row) in grid.iter().enumerate() {
                let mut cells = row.clone();
                cells.resize(width, String::new());
                out.push(format!("| {} |", cells.join(" | ")));
                if i == 0 {
                    out.push(format!("|{}|", vec![" --- "; width].join("|")));
                }
            }
            return vec![out.join("\n")];
        }
        // A layout table: its cells are read in order; a cell that is a card (one link, its title
        // and maybe a picture) becomes one list item.
        let mut blocks = Vec::new();
        let mut cards = Vec::new();
        for row in &rows {
            for cell in row {
                if let Some(card) = self.card(*cell, depth) {
                    cards.push(card);
                    continue;
                }
                if !cards.is_empty() {
                    blocks.push(std::mem::take(&mut cards).join("\n"));
                }
                blocks.extend(self.container(*cell, depth + 2));
            }
        }
        if !cards.is_empty() {
            blocks.push(cards.join("\n"));
        }
        blocks
    }

    /// One list item for a layout cell that is a card: one link target, and either all its text
    /// under the link (`- [title](link)`) or a title beside a short link such as `► 点击阅读`,
    /// kept whole on one line (`- 01 ● title ► [点击阅读](link)`): numbers, bullets and the link's
    /// words are the author's too.
    fn card(&mut self, cell: NodeRef<Node>, depth: usize) -> Option<String> {
        if self.in_card > 0 {
            return None;
        }
        let mut hrefs = Vec::new();
        let mut linked = String::new();
        for n in cell.descendants() {
            if let Node::Element(e) = n.value()
                && e.name() == "a"
                && let Some(h) = e.attr("href").filter(|h| is_safe_url(h) && !h.starts_with('#'))
            {
                if !hrefs.contains(&h) {
                    hrefs.push(h);
                }
                raw_text(n, &mut linked);
            }
        }
        if hrefs.len() != 1 {
            return None;
        }
        let mut text = String::new();
        raw_text(cell, &mut text);
        let full = crate::text::fold_ws(&text);
        let linked = crate::text::fold_ws(&linked);
        if full.is_empty() {
            return None;
        }
        if full == linked {
            let mut md = String::new();
            escape_text(&full, &mut md);
            let target =
                crate::article::article_address(hrefs[0]).map(String::from).unwrap_or_else(|| hrefs[0].to_string());
            return Some(format!("- [{md}]({})", escape_url(&target)));
        }
        if linked.chars().count() > 8 || !full.contains(&linked) {
            return None;
        }
        self.in_card += 1;
        let line = self.inline(cell, depth + 2);
        self.in_card -= 1;
        let line = line.split('\n').map(str::trim).filter(|l| !is_blank_markdown(l)).collect::<Vec<_>>().join(" ");
        (!line.is_empty()).then(|| format!("- {line}"))
    }
}

/// Appends text with HTML's white-space folding, escaped for Markdown.
fn push_text(para: &mut String, text: &str) {
    let mut folded = String::with_capacity(text.len());
    let mut space = para.ends_with(' ') || para.ends_with('\n') || para.is_empty();
    for c in text.chars() {
        if crate::text::is_invisible(c) {
            continue;
        }
        if c == '\u{a0}' || c.is_ascii_whitespace() || c == '\u{2002}' || c == '\u{2003}' || c == '\u{2009}' {
            if !space {
                folded.push(' ');
                space = true;
            }
        } else if c.is_control() {
            continue;
        } else {
            folded.push(c);
            space = false;
        }
    }
    escape_text(&folded, para);
}

/// Writes `delim text delim`, with CJK punctuation and spaces moved outside the delimiters so
/// that CommonMark's flanking rules let the emphasis render.
fn wrap_emphasis(out: &mut String, line: &str, delim: &str) {
    let trimmed = line.trim();
    if is_blank_markdown(trimmed) {
        out.push_str(line);
        return;
    }
    if trimmed.starts_with("![") && trimmed.ends_with(')') && !trimmed.get(2..).unwrap_or_default().contains("![") {
        out.push_str(line);
        return;
    }
    let lead_ws = line.get(..line.len() - line.trim_start().len()).unwrap_or_default();
    let trail_ws = line.get(line.trim_end().len()..).unwrap_or_default();
    let is_outer = |c: char| !c.is_ascii() && is_punct(c);
    let inner_start = trimmed.len() - trimmed.trim_start_matches(is_outer).len();
    let inner_end = trimmed.trim_end_matches(is_outer).len();
    if inner_start >= inner_end {
        out.push_str(line);
        return;
    }
    let (head, inner, tail) = (
        trimmed.get(..inner_start).unwrap_or_default(),
        trimmed.get(inner_start..inner_end).unwrap_or_default(),
        trimmed.get(inner_end..).unwrap_or_default(),
    );
    let inner_t = inner.trim();
    let close_delim: String = delim.chars().rev().collect();
    out.push_str(lead_ws);
    out.push_str(head);
    out.push_str(delim);
    out.push_str(inner_t);
    out.push_str(&close_delim);
    out.push_str(tail);
    out.push_str(trail_ws);
}

fn is_punct(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ff0f}' | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}'
        | '\u{ff5b}'..='\u{ff65}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205e}' | '·')
}

/// The real address of an image: WeChat keeps it in `data-src`, `src` holds a placeholder.
fn image_src(el: &Element) -> Option<String> {
    let src = ["data-src", "data-original", "src"]
        .iter()
        .filter_map(|a| el.attr(a))
        .map(str::trim)
        .find(|s| !s.is_empty() && !s.starts_with("data:"))?;
    let src = if src.starts_with("//") { format!("https:{src}") } else { src.to_string() };
    if !is_safe_url(&src) || is_tracking_pixel(el) {
        return None;
    }
    Some(src)
}

fn is_tracking_pixel(el: &Element) -> bool {
    let tiny = |a: &str| {
        el.attr(a).and_then(|v| v.trim().trim_end_matches("px").parse::<f32>().ok()).is_some_and(|v| v <= 1.0)
    };
    tiny("width") && tiny("height") || tiny("data-w") && tiny("data-h")
}

/// `background-image: url(…)` on an element, when it is a real picture.
fn background_image(el: &Element) -> Option<String> {
    let style = el.attr("style")?;
    let lower = style.to_ascii_lowercase();
    let at = lower.find("background-image")?;
    let rest = style.get(at..).unwrap_or_default();
    let open = rest.find("url(")? + 4;
    let close = rest.get(open..).unwrap_or_default().find(')')? + open;
    let url = rest.get(open..close).unwrap_or_default().trim().trim_matches(['"', '\'']).trim();
    let url = crate::text::decode_entities(url);
    let url = url.trim_matches(['"', '\'']).trim();
    let url = if url.starts_with("//") { format!("https:{url}") } else { url.to_string() };
    (url.starts_with("http://") || url.starts_with("https://")).then_some(url)
}

/// The language of a code block: `data-lang`, or a `language-…`/`lang-…` class on the block or
/// its `<code>`.
fn code_language(node: NodeRef<Node>, el: &Element) -> String {
    let mut found = el.attr("data-lang").map(str::to_string);
    if found.is_none() {
        for n in std::iter::once(node).chain(node.children()) {
            if let Node::Element(e) = n.value() {
                if let Some(l) = e.attr("data-lang") {
                    found = Some(l.to_string());
                    break;
                }
                if let Some(c) =
                    e.classes().find_map(|c| c.strip_prefix("language-").or_else(|| c.strip_prefix("lang-")))
                {
                    found = Some(c.to_string());
                    break;
                }
            }
        }
    }
    found
        .map(|l| l.trim().to_ascii_lowercase())
        .filter(|l| {
            !l.is_empty() && l.len() <= 24 && l.chars().all(|c| c.is_ascii_alphanumeric() || "+-#._".contains(c))
        })
        .unwrap_or_default()
}

/// One line naming an embedded player or card, with its link where it has one.
fn embed_line(name: &str, el: &Element) -> Option<String> {
    // Some editors escape a name twice (`Ep&amp;nbsp;1`): decoded until it stays the same.
    let attr = |a: &str| el.attr(a).map(|v| crate::text::fold_ws(&decode_fully(v))).filter(|v| !v.is_empty());
    let label = |kind: &str, title: Option<String>| {
        let mut s = String::from(kind);
        if let Some(t) = title {
            s.push('：');
            escape_text(&t, &mut s);
        }
        s
    };
    let line = match name {
        "iframe" => {
            let src =
                el.attr("data-src").or(el.attr("src")).map(str::trim).filter(|s| is_safe_url(s) && !s.is_empty())?;
            let src = if src.starts_with("//") { format!("https:{src}") } else { src.to_string() };
            let is_video = has_class(el, "video_iframe")
                || src.contains("v.qq.com")
                || src.contains("/mp/readtemplate?t=pages/video_player");
            let target = video_page(&src).unwrap_or(src);
            let text = if is_video { "视频" } else { "嵌入内容" };
            format!("[{text}]({})", escape_url(&target))
        }
        "mpvoice" | "mp-common-mpaudio" => {
            let title = attr("name").or_else(|| attr("data-name")).or_else(|| attr("title"));
            let id = attr("voice_encode_fileid").or_else(|| attr("data-voice_encode_fileid"));
            match id {
                Some(id) if id.chars().all(|c| c.is_ascii_alphanumeric() || "=_-".contains(c)) => {
                    format!("[{}](https://res.wx.qq.com/voice/getvoice?mediaid={id})", label("语音", title))
                }
                _ => label("语音", title),
            }
        }
        "qqmusic" => {
            let name = attr("music_name").or_else(|| attr("musicname"));
            let title = match (name, attr("singer")) {
                (Some(m), Some(s)) => Some(crate::text::fold_ws(&crate::text::decode_entities(&format!("{m} - {s}")))),
                (m, _) => m,
            };
            let song = attr("mid").filter(|m| m.chars().all(|c| c.is_ascii_alphanumeric()));
            match song {
                Some(mid) => format!("[{}](https://y.qq.com/n/ryqq/songDetail/{mid})", label("音乐", title)),
                None => label("音乐", title),
            }
        }
        "mpvideo" | "mp-common-videosnap" => {
            let who = attr("data-nickname");
            let desc = attr("data-desc");
            let title = match (who, desc) {
                (Some(w), Some(d)) => Some(format!("{w}：{d}")),
                (w, d) => w.or(d),
            };
            label("视频号", title)
        }
        "mp-common-profile" => label("公众号", attr("data-nickname")),
        _ => label("小程序", attr("data-miniprogram-title").or_else(|| attr("data-title"))),
    };
    Some(line)
}

/// Entities decoded until none is left, NBSP made a space.
fn decode_fully(v: &str) -> String {
    crate::text::decode_entities_fully(v).replace('\u{a0}', " ")
}

/// Tencent Video's player address → the watch page of the same video.
fn video_page(src: &str) -> Option<String> {
    if !src.contains("v.qq.com") {
        return None;
    }
    let query = src.split_once('?')?.1;
    let vid = query.split('&').find_map(|kv| kv.strip_prefix("vid="))?;
    let vid = vid.split('#').next()?;
    (!vid.is_empty() && vid.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| format!("https://v.qq.com/x/page/{vid}.html"))
}

/// Rows of a table, each a list of its cells (`td`/`th`), nested tables excluded.
fn table_rows(table: NodeRef<Node>) -> Vec<Vec<NodeRef<Node>>> {
    let mut rows = Vec::new();
    let mut stack: Vec<NodeRef<Node>> = table.children().collect();
    stack.reverse();
    while let Some(n) = stack.pop() {
        if let Node::Element(e) = n.value() {
            match e.name() {
                "tr" => {
                    let cells: Vec<_> = n
                        .children()
                        .filter(|c| matches!(c.value(), Node::Element(ce) if matches!(ce.name(), "td" | "th")))
                        .collect();
                    if !cells.is_empty() {
                        rows.push(cells);
                    }
                }
                "thead" | "tbody" | "tfoot" => {
                    let mut kids: Vec<_> = n.children().collect();
                    kids.reverse();
                    stack.extend(kids);
                }
                _ => {}
            }
        }
    }
    rows
}

/// A data table has rows and columns of short text; anything with pictures, nested tables,
/// several paragraphs in a cell, or a single row or column only lays things out.
fn is_data_table(table: NodeRef<Node>, rows: &[Vec<NodeRef<Node>>]) -> bool {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    if rows.len() < 2 || width < 2 {
        return false;
    }
    for n in table.descendants().skip(1) {
        if let Node::Element(e) = n.value()
            && matches!(e.name(), "table" | "img" | "iframe" | "pre" | "ul" | "ol" | "blockquote" | "h1" | "h2" | "h3")
        {
            return false;
        }
    }
    rows.iter().flatten().all(|cell| {
        let paragraphs = cell
            .descendants()
            .filter(|n| matches!(n.value(), Node::Element(e) if matches!(e.name(), "p" | "section" | "div")))
            .count();
        paragraphs <= 3
    })
}

#[cfg(test)]
mod tests;
