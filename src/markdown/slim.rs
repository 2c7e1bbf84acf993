//! A byte-level pass over a fragment before the HTML parser sees it. It shortens `style`
//! attributes to the declarations the emitter reads (WeChat's editors put a long inline style on
//! nearly every element, often most of the bytes of a fragment, and the parser's cost grows with
//! every byte of every attribute), and it drops the tags nested deeper than [`MAX_NESTING`]
//! (keeping their text): html5ever's cost grows with the square of the nesting, and a hostile page
//! can nest a hundred thousand deep. Text, comments and script bodies are copied as they are.

/// The properties the emitter reads: hiding, emphasis, background pictures, a code font.
const KEPT: &[&str] = &[
    "display",
    "visibility",
    "font-size",
    "font",
    "font-family",
    "font-weight",
    "font-style",
    "background-image",
    "background",
];

/// Deeper than this, tags are dropped and their text kept: no article nests so deep.
pub const MAX_NESTING: usize = 512;

/// The fragment with every `style` attribute reduced to the kept declarations and the nesting
/// capped.
pub fn slim_styles(html: &str) -> std::borrow::Cow<'_, str> {
    let bytes = html.as_bytes();
    let mut out = String::new();
    let mut copied = 0; // bytes of `html` already in `out`
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'<', &bytes[i..]) {
        let lt = i + p;
        let rest = &bytes[lt + 1..];
        if rest.starts_with(b"!--") {
            i = memchr::memmem::find(&bytes[lt..], b"-->").map_or(bytes.len(), |e| lt + e + 3);
            continue;
        }
        if rest.first() == Some(&b'/') && rest.get(1).is_some_and(u8::is_ascii_alphabetic) {
            let end = memchr::memchr(b'>', rest).map_or(bytes.len(), |e| lt + 1 + e + 1);
            depth = depth.saturating_sub(1);
            if depth >= MAX_NESTING {
                out.push_str(html.get(copied..lt).unwrap_or_default());
                copied = end;
            }
            i = end;
            continue;
        }
        if !rest.first().is_some_and(u8::is_ascii_alphabetic) {
            i = lt + 1;
            continue;
        }
        // A start tag: walk its attributes to the closing `>`, minding quotes.
        let name_end = rest
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'-' || *b == b':'))
            .map_or(rest.len(), |n| n);
        let name = &rest[..name_end];
        let mut j = lt + 1 + name_end;
        let mut end = bytes.len();
        let dropped = depth >= MAX_NESTING && !is_void(name);
        while j < bytes.len() {
            match bytes[j] {
                b'>' => {
                    end = j + 1;
                    break;
                }
                b's' | b'S' if !dropped && is_style_attr(bytes, j) => {
                    let eq = j + 5 + bytes[j + 5..].iter().take_while(|b| b.is_ascii_whitespace()).count();
                    let v = eq + 1 + bytes[eq + 1..].iter().take_while(|b| b.is_ascii_whitespace()).count();
                    if let Some(&q @ (b'"' | b'\'')) = bytes.get(v) {
                        let close = memchr::memchr(q, &bytes[v + 1..]).map_or(bytes.len(), |c| v + 1 + c);
                        out.push_str(html.get(copied..v + 1).unwrap_or_default());
                        keep_declarations(
                            html.get(v + 1..close).unwrap_or_default(),
                            if q == b'"' { '\'' } else { '"' },
                            &mut out,
                        );
                        copied = close;
                        j = close + 1;
                        continue;
                    }
                    j += 1;
                }
                q @ (b'"' | b'\'') => {
                    j = memchr::memchr(q, &bytes[j + 1..]).map_or(bytes.len(), |c| j + 1 + c + 1);
                }
                _ => j += 1,
            }
        }
        i = end;
        let self_closing = end >= 2 && bytes[end - 2] == b'/';
        if !self_closing && !is_void(name) {
            depth += 1;
        }
        if dropped {
            out.push_str(html.get(copied..lt).unwrap_or_default());
            copied = end;
            continue;
        }
        // The contents of script and style elements are not markup.
        if name.eq_ignore_ascii_case(b"script") || name.eq_ignore_ascii_case(b"style") {
            let closing: &[u8] = if name.eq_ignore_ascii_case(b"script") { b"</script" } else { b"</style" };
            i = crate::text::find_ci(&bytes[i..], closing).map_or(bytes.len(), |e| i + e);
        }
    }
    if copied == 0 {
        return std::borrow::Cow::Borrowed(html);
    }
    out.push_str(html.get(copied..).unwrap_or_default());
    std::borrow::Cow::Owned(out)
}

fn is_void(name: &[u8]) -> bool {
    [
        &b"br"[..],
        b"img",
        b"hr",
        b"input",
        b"meta",
        b"link",
        b"wbr",
        b"source",
        b"area",
        b"col",
        b"embed",
        b"param",
        b"track",
    ]
    .iter()
    .any(|v| name.eq_ignore_ascii_case(v))
}

/// Whether `style=` (an attribute name of its own) starts at `j` inside a tag.
fn is_style_attr(bytes: &[u8], j: usize) -> bool {
    j > 0
        && bytes[j - 1].is_ascii_whitespace()
        && bytes.get(j..j + 5).is_some_and(|w| w.eq_ignore_ascii_case(b"style"))
        && bytes[j + 5..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'=')
}

/// Writes the kept declarations of `style`. Entity-encoded quotes (`url(&quot;…&quot;)`, as
/// WeChat writes them) become `other_quote`, so that their `;` does not split a declaration.
fn keep_declarations(style: &str, other_quote: char, out: &mut String) {
    let decoded;
    let style = if style.contains('&') {
        let q = other_quote.to_string();
        decoded = style.replace("&quot;", &q).replace("&#34;", &q).replace("&#39;", &q).replace("&apos;", &q);
        decoded.as_str()
    } else {
        style
    };
    let mut first = true;
    for decl in split_top_level(style) {
        let Some((name, _)) = decl.split_once(':') else { continue };
        let name = name.trim();
        if KEPT.iter().any(|k| name.eq_ignore_ascii_case(k)) {
            if !first {
                out.push(';');
            }
            out.push_str(decl.trim());
            first = false;
        }
    }
}

/// Splits declarations on `;` outside parentheses (a `data:` URL in `url(…)` holds `;`).
fn split_top_level(style: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0usize;
    let mut start = 0;
    let mut parts = Vec::new();
    for (i, c) in style.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ';' if depth == 0 => {
                parts.push(style.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(style.get(start..).unwrap_or_default());
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::slim_styles;

    #[test]
    fn only_styles_in_tags_change() {
        let html = r#"<p style="margin: 0px; font-weight: bold;color:red" data-x='a>b'>text style="color:red" stays</p><!-- <p style="x:y"> --><script>var s = '<p style="a:b">';</script><span STYLE = 'display:none;padding:1px'>h</span>"#;
        assert_eq!(
            slim_styles(html),
            r#"<p style="font-weight: bold" data-x='a>b'>text style="color:red" stays</p><!-- <p style="x:y"> --><script>var s = '<p style="a:b">';</script><span STYLE = 'display:none'>h</span>"#
        );
        assert_eq!(slim_styles("<p>plain</p>"), "<p>plain</p>");
        let deep = format!("{}x{}", "<div>".repeat(600), "</div>".repeat(600));
        let capped = slim_styles(&deep);
        assert_eq!(capped.matches("<div>").count(), super::MAX_NESTING);
        assert_eq!(capped.matches("</div>").count(), super::MAX_NESTING);
        assert!(capped.contains('x'));
        assert_eq!(
            slim_styles(
                r#"<section style="background-image: url(&quot;https://i/a.png?x=1&amp;y=2&quot;);background-size: 100%;">"#
            ),
            r#"<section style="background-image: url('https://i/a.png?x=1&amp;y=2')">"#
        );
    }
}
