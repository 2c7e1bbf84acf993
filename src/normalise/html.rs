//! HTML an exporter left in a record's Markdown: which of it is layout to convert (the elements
//! WeChat's editor writes, closed where they open) and which is the author's own text (a payload in
//! an XSS write-up, a pasted page, `<script>` in prose), escaped so that it renders as written.

use std::sync::LazyLock;

use regex::Regex;

use crate::markdown;

/// What CommonMark reads as an autolink: a scheme of two or more letters, or a mail address.
static AUTOLINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^<(?:[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*|[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>").unwrap()
});

/// A start or end tag at the start of the text: its slash, name, attributes and closing slash.
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"^<(/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:\s+[^<>"']*(?:"[^"]*"|'[^']*')?)*)\s*(/?)>"#).unwrap()
});

/// An HTML block as the page had it, without the Markdown escapes an exporter put into its text
/// (`ASP.NET\_SessionId`, `\_SERVER[REMOTE\_ADDR]`): in HTML a backslash is literal, so the
/// page never showed one there. `\_` is the mark: no author writes a backslash before an
/// underscore, while a backslash before `*` or `[` is common in paths and patterns
/// (`.\bin\*.dll`, `\\s*`), so only a block the exporter marked so loses its `\*` too.
pub(super) fn undo_exporter_escapes(chunk: &str) -> std::borrow::Cow<'_, str> {
    let marked = |c: char, next: Option<char>| c == '\\' && next == Some('_');
    let mut chars = chunk.chars().peekable();
    let mut prev = None;
    let mut found = false;
    while let Some(c) = chars.next() {
        found |= marked(c, chars.peek().copied()) && prev != Some('\\');
        prev = Some(c);
    }
    if !found {
        return chunk.into();
    }
    let mut out = String::with_capacity(chunk.len());
    let mut chars = chunk.chars().peekable();
    let mut prev = None;
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        // `\\_` is a backslash the page showed, before an underscore it showed.
        if c == '\\' && matches!(next, Some('_' | '*')) && prev != Some('\\') {
            prev = None;
            continue;
        }
        out.push(c);
        prev = if prev == Some('\\') && c == '\\' { None } else { Some(c) };
    }
    out.into()
}

/// Whether an HTML block is a web page's source the author pasted as text (`<?php`, a doctype,
/// `<head>`, `<button>`, `<nav>`…): elements no article's content ever holds.
pub(super) fn is_page_source(chunk: &str) -> bool {
    if chunk.contains("<?") || chunk.contains("<!DOCTYPE") || chunk.contains("<!doctype") {
        return true;
    }
    START.captures_iter(chunk).any(|c| {
        matches!(
            c[1].to_ascii_lowercase().as_str(),
            "html"
                | "head"
                | "body"
                | "meta"
                | "link"
                | "title"
                | "script"
                | "style"
                | "nav"
                | "button"
                | "input"
                | "form"
                | "select"
                | "option"
                | "textarea"
                | "noscript"
        )
    })
}

/// A block of layout with every tag that is not layout written as text (`&lt;model&gt;` in a
/// table of code, a `<ignore>` in prose): converted, the block keeps its structure and the
/// author's literal tags both. Residue of editors and extensions (`o:p`, `ms-cmark-node`,
/// `grammarly-*`, `mp-*`) is markup: its text stays, its tags go.
pub(super) fn escape_foreign_tags(chunk: &str) -> String {
    static ANY_TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"</?([a-zA-Z][a-zA-Z0-9:-]*)([^<>]*)>?").unwrap());
    ANY_TAG
        .replace_all(chunk, |c: &regex::Captures| {
            let name = c[1].to_ascii_lowercase();
            // A video's frame has its player's address; a bare `<iframe>` is a word.
            let frame = name == "iframe" && c[2].contains("src=");
            let known = frame
                || is_html_tag(&name)
                || is_svg_part(&name)
                || matches!(name.as_str(), "mp-style-type" | "leaf")
                || is_residue(&name);
            if known { c[0].to_string() } else { c[0].replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;") }
        })
        .into_owned()
}

/// Elements editors and browser extensions leave in copied HTML: Office namespaces, Grammarly,
/// Microsoft's and WeChat's own custom elements.
fn is_residue(name: &str) -> bool {
    ["o:", "w:", "v:", "st1:", "ms-", "grammarly-", "mp-"].iter().any(|p| name.starts_with(p))
}

static START: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<([a-zA-Z][a-zA-Z0-9:-]*)([^<>]*)").unwrap());

/// The parts of an SVG drawing or animation, which WeChat's interactive layouts use.
fn is_svg_part(name: &str) -> bool {
    matches!(
        name,
        "svg"
            | "g"
            | "rect"
            | "path"
            | "circle"
            | "ellipse"
            | "line"
            | "polyline"
            | "polygon"
            | "text"
            | "tspan"
            | "animate"
            | "animatetransform"
            | "animatemotion"
            | "set"
            | "foreignobject"
            | "defs"
            | "use"
            | "image"
            | "lineargradient"
            | "radialgradient"
            | "stop"
            | "clippath"
            | "mask"
            | "pattern"
            | "filter"
            | "mpath"
            | "desc"
    ) || name.starts_with("fe")
}

/// A line with every tag-like `<` escaped: it is text.
pub(super) fn escape_tags(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut chars = line.chars().peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        if c == '<'
            && prev != '\\'
            && chars.peek().is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?'))
        {
            out.push('\\');
        }
        out.push(c);
        prev = c;
    }
    out
}

/// Tags that start a block of HTML when a line begins with them: the layout elements WeChat
/// serves inside an article. WeChat never serves `script`, `style`, `iframe`, `object`,
/// `textarea` or unknown elements there, so in a WeChat record those are the author's words.
fn is_block_tag(name: &str) -> bool {
    matches!(
        name,
        "table"
            | "section"
            | "div"
            | "p"
            | "ul"
            | "ol"
            | "blockquote"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "figure"
            | "center"
            | "pre"
            | "svg"
            | "tbody"
            | "thead"
            | "tr"
            | "td"
            | "mpvoice"
            | "qqmusic"
            | "mpvideo"
    ) || name.starts_with("grammarly-")
        || name.starts_with("mp-")
}

/// Tags the inline cleaner knows; any other `<name>` in prose is text and gets escaped.
fn is_html_tag(name: &str) -> bool {
    is_block_tag(name)
        || matches!(
            name,
            "span"
                | "font"
                | "strong"
                | "b"
                | "em"
                | "i"
                | "u"
                | "a"
                | "img"
                | "br"
                | "o:p"
                | "sup"
                | "sub"
                | "li"
                | "code"
                | "small"
                | "big"
                | "s"
                | "strike"
                | "del"
                | "ins"
                | "label"
                | "th"
                | "col"
                | "colgroup"
                | "hr"
                | "wbr"
                | "nobr"
                | "mark"
                | "cite"
                | "q"
                | "abbr"
        )
}

pub(super) fn html_block_start(trimmed: &str) -> Option<String> {
    let c = TAG.captures(trimmed)?;
    let name = c[2].to_ascii_lowercase();
    let attrs = c.get(3).map_or("", |m| m.as_str());
    (c[1].is_empty() && is_block_tag(&name) && !is_payload(attrs)).then_some(name)
}

/// Attributes no editor writes: event handlers, script addresses. A tag carrying them is a
/// payload the author quoted (`<svg onload=alert(1)>`), never layout.
fn is_payload(attrs: &str) -> bool {
    static PAYLOAD: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)(^|[\s"'/])on[a-z]+\s*=|javascript:|vbscript:"#).unwrap());
    PAYLOAD.is_match(attrs)
}

/// The lines of an HTML block that starts at `at`: until its root element closes. `None` when it
/// never closes: a start tag with no end is the author's text (`<svg onload=alert(1)>：…` in an
/// XSS write-up), and taking it for a block would swallow the article after it.
pub(super) fn html_chunk(lines: &[&str], at: usize, root: &str) -> Option<(usize, String)> {
    let open = format!("<{root}");
    let close = format!("</{root}");
    let mut depth: isize = 0;
    let mut chunk = String::new();
    let mut i = at;
    while i < lines.len() && i < at + 5000 {
        let lower = lines[i].to_ascii_lowercase();
        depth += count_tags(&lower, &open) as isize;
        depth -= lower.matches(&close).count() as isize;
        chunk.push_str(lines[i]);
        chunk.push('\n');
        i += 1;
        if depth <= 0 {
            return Some((i, chunk));
        }
    }
    None
}

fn count_tags(lower: &str, open: &str) -> usize {
    lower
        .match_indices(open)
        .filter(|(p, _)| {
            lower
                .get(p + open.len()..)
                .unwrap_or_default()
                .chars()
                .next()
                .is_none_or(|c| c == '>' || c == '/' || c.is_whitespace())
        })
        .count()
}

/// Removes HTML tags from a Markdown line: hidden elements with their text, `<br>` as a line
/// break, `<img>` as an image, `<a>` as a link; other known tags go, their text stays. A `<name>`
/// that is not layout (XML in prose, generics, a quoted payload, an element that never closes) is
/// escaped so that renderers show it as written. Code spans and autolinks are left alone.
pub(super) fn strip_inline_html(line: &str, ahead: &str) -> String {
    if !line.contains('<') {
        return line.to_string();
    }
    let lower = line.to_ascii_lowercase();
    let mut last_close: std::collections::HashMap<String, Option<usize>> = std::collections::HashMap::new();
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    let mut hidden: Vec<String> = Vec::new();
    let mut link: Option<(String, usize)> = None;
    while !rest.is_empty() {
        if rest.starts_with('`') {
            let run = rest.chars().take_while(|c| *c == '`').count();
            let ticks = rest.get(..run).unwrap_or_default();
            if let Some(close) = rest.get(run..).unwrap_or_default().find(ticks) {
                let span = rest.get(..run + close + run).unwrap_or_default();
                if hidden.is_empty() {
                    out.push_str(span);
                }
                rest = rest.get(span.len()..).unwrap_or_default();
                continue;
            }
        }
        if rest.starts_with("\\<") {
            if hidden.is_empty() {
                out.push_str("\\<");
            }
            rest = rest.get(2..).unwrap_or_default();
            continue;
        }
        // `<?php … ?>` and `<!-- … -->` are raw HTML to CommonMark: written as text, they would vanish.
        if rest.starts_with("<?") || rest.starts_with("<!") {
            if hidden.is_empty() {
                out.push_str("\\<");
            }
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        if rest.starts_with('<')
            && let Some(c) = TAG.captures(rest)
        {
            let whole = c.get(0).map_or("", |m| m.as_str());
            let closing = !c[1].is_empty();
            let name = c[2].to_ascii_lowercase();
            let attrs = c.get(3).map_or("", |m| m.as_str());
            let at = line.len() - rest.len();
            let closes_later = |name: &str| {
                // Where each element's last end tag is, found once per name: a long line of HTML
                // asks this for every tag.
                let last = *last_close.entry(name.to_string()).or_insert_with(|| lower.rfind(&format!("</{name}")));
                last.is_some_and(|p| p > at) || ahead.contains(&format!("</{name}"))
            };
            if is_html_tag(&name) && is_markup(&name, closing, !c[4].is_empty(), attrs, closes_later) {
                rest = rest.get(whole.len()..).unwrap_or_default();
                if !hidden.is_empty() {
                    if closing && hidden.last() == Some(&name) {
                        hidden.pop();
                    } else if !closing && c[4].is_empty() && hidden.last() == Some(&name) {
                        hidden.push(name);
                    }
                    continue;
                }
                if !closing && c[4].is_empty() && attrs_hide(attrs) && !matches!(name.as_str(), "br" | "img" | "hr") {
                    hidden.push(name);
                    continue;
                }
                match (name.as_str(), closing) {
                    ("br", _) => out.push('\n'),
                    ("img", false) => {
                        if let Some(src) = attr_value(attrs, "data-src").or_else(|| attr_value(attrs, "src"))
                            && markdown::is_safe_url(&src)
                            && !src.starts_with("data:")
                        {
                            out.push_str(&format!("![]({})", markdown::escape_url(&src)));
                        }
                    }
                    ("a", false) => {
                        link = attr_value(attrs, "href")
                            .filter(|h| markdown::is_safe_url(h) && !h.starts_with('#'))
                            .map(|h| (h, out.len()));
                    }
                    ("a", true) => {
                        if let Some((href, start)) = link.take() {
                            let text = out.get(start..).unwrap_or_default().trim().to_string();
                            if !text.is_empty() {
                                out.truncate(start);
                                out.push_str(&format!("[{text}]({})", markdown::escape_url(&href)));
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            let is_autolink = AUTOLINK.is_match(rest);
            if hidden.is_empty() {
                if is_autolink {
                    out.push('<');
                } else {
                    out.push_str("\\<");
                }
            }
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
        let Some(ch) = rest.chars().next() else { break };
        if hidden.is_empty() {
            out.push(ch);
        }
        rest = rest.get(ch.len_utf8()..).unwrap_or_default();
    }
    out
}

/// Whether a tag of a layout element's name is markup: not a quoted payload, an image with a
/// real address, an element that closes on its line or in its paragraph. A start tag that never
/// closes (`<a href=…>` quoted in prose) is text.
fn is_markup(name: &str, closing: bool, self_closed: bool, attrs: &str, mut closes: impl FnMut(&str) -> bool) -> bool {
    if closing {
        return true;
    }
    if is_payload(attrs) {
        return false;
    }
    match name {
        "img" => ["data-src", "src"].iter().filter_map(|a| attr_value(attrs, a)).any(|src| {
            let src = src.trim();
            src.starts_with("http://") || src.starts_with("https://") || src.starts_with("//")
        }),
        "br" | "hr" | "wbr" | "col" => true,
        _ if self_closed => true,
        _ => closes(name),
    }
}

/// Whether a start tag's attributes hide its content: `display:none`, `visibility:hidden`, a
/// zero font size (the anti-copy trick of inserting invisible words).
fn attrs_hide(attrs: &str) -> bool {
    let Some(style) = attr_value(attrs, "style") else { return false };
    markdown::style_hides(&style)
}

fn attr_value(attrs: &str, name: &str) -> Option<String> {
    let start_tag = format!("<x {attrs}>");
    crate::text::attr(&start_tag, name).map(crate::text::decode_entities)
}

#[cfg(test)]
mod tests {
    use super::undo_exporter_escapes;

    #[test]
    fn an_exporters_escapes_in_html_are_undone_where_it_marked_them() {
        let chunk = r"<span>Cookie: ASP.NET\_SessionId=1</span><span>Accept: \*/\*</span><span>a\_\_b</span>";
        assert_eq!(
            undo_exporter_escapes(chunk),
            "<span>Cookie: ASP.NET_SessionId=1</span><span>Accept: */*</span><span>a__b</span>"
        );
        // A block with no `\_` is the author's: Windows paths and patterns keep their backslashes.
        let paths = r"<span>.\bin\*.dll \\s*</span>";
        assert_eq!(undo_exporter_escapes(paths), paths);
        // A backslash the page showed stays before the underscore it showed.
        assert_eq!(undo_exporter_escapes(r"<p>x\_y C:\\_data</p>"), r"<p>x_y C:\\_data</p>");
    }
}
