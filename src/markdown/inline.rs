//! Inline Markdown: text, emphasis that never crosses a line break and keeps CJK punctuation
//! outside its markers, links, images and the embeds WeChat writes as elements of its own.

use ego_tree::NodeRef;
use scraper::Node;
use scraper::node::Element;

use super::blocks::{Blocks, Emitter, is_blank_markdown, is_block};
use super::style::has_class;
use super::{escape_text, escape_url, is_safe_url};

impl Emitter {
    /// The inline Markdown of a subtree, line breaks kept as `\n`.
    pub(super) fn inline(&mut self, node: NodeRef<Node>, depth: usize) -> String {
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

    pub(super) fn styled(
        &mut self,
        node: NodeRef<Node>,
        cx: &mut Blocks,
        depth: usize,
        bold: bool,
        italic: bool,
        strike: bool,
    ) {
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

    pub(super) fn link(&mut self, node: NodeRef<Node>, el: &Element, cx: &mut Blocks, depth: usize) {
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

    pub(super) fn image_md(&mut self, src: &str, alt: &str) -> String {
        let src = escape_url(&crate::text::https_image(src));
        if !self.images.contains(&src) {
            self.images.push(src.clone());
        }
        let alt = crate::text::fold_ws(alt);
        let mut alt_md = String::new();
        escape_text(&alt, &mut alt_md);
        format!("![{alt_md}]({src})")
    }

    pub(super) fn image_block(&mut self, src: &str, alt: &str, cx: &mut Blocks) {
        let md = self.image_md(src, alt);
        cx.push_block(md);
    }
}

/// Appends text with HTML's white-space folding, escaped for Markdown.
pub(super) fn push_text(para: &mut String, text: &str) {
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
pub(super) fn wrap_emphasis(out: &mut String, line: &str, delim: &str) {
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

pub(super) fn is_punct(c: char) -> bool {
    matches!(c,
        '\u{3000}'..='\u{303f}' | '\u{ff00}'..='\u{ff0f}' | '\u{ff1a}'..='\u{ff20}' | '\u{ff3b}'..='\u{ff40}'
        | '\u{ff5b}'..='\u{ff65}' | '\u{2010}'..='\u{2027}' | '\u{2030}'..='\u{205e}' | '·')
}

/// The real address of an image: WeChat keeps it in `data-src`, `src` holds a placeholder.
pub(super) fn image_src(el: &Element) -> Option<String> {
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

pub(super) fn is_tracking_pixel(el: &Element) -> bool {
    let tiny = |a: &str| {
        el.attr(a).and_then(|v| v.trim().trim_end_matches("px").parse::<f32>().ok()).is_some_and(|v| v <= 1.0)
    };
    tiny("width") && tiny("height") || tiny("data-w") && tiny("data-h")
}

/// `background-image: url(…)` on an element, when it is a real picture.
pub(super) fn background_image(el: &Element) -> Option<String> {
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

/// One line naming an embedded player or card, with its link where it has one.
pub(super) fn embed_line(name: &str, el: &Element) -> Option<String> {
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
pub(super) fn decode_fully(v: &str) -> String {
    crate::text::decode_entities_fully(v).replace('\u{a0}', " ")
}

/// Tencent Video's player address → the watch page of the same video.
pub(super) fn video_page(src: &str) -> Option<String> {
    if !src.contains("v.qq.com") {
        return None;
    }
    let query = src.split_once('?')?.1;
    let vid = query.split('&').find_map(|kv| kv.strip_prefix("vid="))?;
    let vid = vid.split('#').next()?;
    (!vid.is_empty() && vid.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| format!("https://v.qq.com/x/page/{vid}.html"))
}
