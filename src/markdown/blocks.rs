//! The block walk: the emitter's state, which elements start a block, and the elements that
//! become whole blocks (paragraphs, headings, lists, quotes, code); a container's blocks are
//! gathered before they are joined, so a block is judged whole.

use std::collections::HashSet;

use ego_tree::NodeRef;
use scraper::Node;
use scraper::node::Element;

use super::inline::{background_image, embed_line, image_src, push_text};
use super::style::{Hidden, has_class, is_hidden, style_emphasis};
use super::{codebox, escape, escape_line_start};

/// Deeper than this, the tree is read as plain text: no real article nests so deep, and a
/// hostile one must not exhaust the stack.
pub(super) const MAX_DEPTH: usize = 120;

#[derive(Default)]
pub(super) struct Emitter {
    /// Elements with a block element somewhere below them, found in one pass over the tree.
    pub(super) with_blocks: HashSet<ego_tree::NodeId>,
    pub(super) images: Vec<String>,
    pub(super) bold: usize,
    pub(super) italic: usize,
    pub(super) in_link: usize,
    /// Inside a card being written as one line: the tables within it are not cards themselves.
    pub(super) in_card: usize,
}

/// The blocks of one container (the document, a list item, a quote, a layout cell) and the
/// paragraph being filled.
#[derive(Default)]
pub(super) struct Blocks {
    pub(super) blocks: Vec<String>,
    pub(super) para: String,
}

impl Blocks {
    /// Ends the current paragraph: every line break inside it starts a new paragraph.
    pub(super) fn flush(&mut self) {
        let para = std::mem::take(&mut self.para);
        for line in para.split('\n') {
            let line = line.trim_matches(|c: char| c.is_whitespace());
            if is_blank_markdown(line) {
                continue;
            }
            self.blocks.push(escape_line_start(line));
        }
    }

    pub(super) fn push_block(&mut self, block: String) {
        self.flush();
        if !block.trim().is_empty() {
            self.blocks.push(block);
        }
    }

    pub(super) fn push_blocks(&mut self, blocks: Vec<String>) {
        self.flush();
        self.blocks.extend(blocks.into_iter().filter(|b| !b.trim().is_empty()));
    }
}

/// Whether a block the emitter wrote is a list (prose that looks like one is escaped).
pub(super) fn is_list_block(block: &str) -> bool {
    let digits = block.bytes().take_while(u8::is_ascii_digit).count();
    block.starts_with("- ") || (digits > 0 && block.get(digits..).unwrap_or_default().starts_with(". "))
}

/// A line with nothing but emphasis markers and white space says nothing.
pub(super) fn is_blank_markdown(line: &str) -> bool {
    line.chars().all(|c| c.is_whitespace() || c == '*')
}

pub(super) fn is_block(name: &str) -> bool {
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

pub(super) fn is_skipped(name: &str) -> bool {
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

/// The elements that hold a block element below them: one post-order pass, so that asking it
/// of every inline element costs nothing (asking each by walking its subtree is quadratic in the
/// nesting depth WeChat's editors produce).
pub(super) fn block_holders(root: NodeRef<Node>) -> HashSet<ego_tree::NodeId> {
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
pub(super) fn raw_text(node: NodeRef<Node>, out: &mut String) {
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
    pub(super) fn children(&mut self, node: NodeRef<Node>, cx: &mut Blocks, depth: usize) {
        for child in node.children() {
            self.node(child, cx, depth + 1);
        }
    }

    pub(super) fn node(&mut self, node: NodeRef<Node>, cx: &mut Blocks, depth: usize) {
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

    pub(super) fn element(&mut self, node: NodeRef<Node>, el: &Element, cx: &mut Blocks, depth: usize) {
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

    /// The blocks of a container element, rendered on their own.
    pub(super) fn container(&mut self, node: NodeRef<Node>, depth: usize) -> Vec<String> {
        let mut sub = Blocks::default();
        self.children(node, &mut sub, depth);
        sub.flush();
        sub.blocks
    }

    pub(super) fn code_block(&mut self, node: NodeRef<Node>, el: &Element) -> String {
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

    pub(super) fn list(&mut self, node: NodeRef<Node>, el: &Element, depth: usize) -> String {
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
}

/// The language of a code block: `data-lang`, or a `language-…`/`lang-…` class on the block or
/// its `<code>`.
pub(super) fn code_language(node: NodeRef<Node>, el: &Element) -> String {
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
