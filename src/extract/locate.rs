//! Finding an element of the page by its `id` in the raw bytes, without building a DOM of the
//! whole page: a WeChat page is 2–4 MB, and its article is a small part of it.
//!
//! The start tag is found by its `id` attribute; the end by counting start and end tags of the same
//! name from there, stepping over comments, scripts, styles and quoted attribute values. Where the
//! count does not close (broken markup), the element runs to the end of the page, which the HTML
//! parser then closes as a browser would.

use memchr::memmem;

/// An element found in the page: its tag name, its start tag and its inner HTML.
#[derive(Debug, Clone, Copy)]
pub struct Element<'a> {
    /// Lower-case tag name.
    pub name: &'a str,
    /// The start tag, `<div … id="js_content" …>`.
    pub start_tag: &'a str,
    /// Everything between the start tag and its matching end tag.
    pub inner: &'a str,
}

/// The first element whose `id` is `id`, outside scripts and comments.
pub fn by_id<'a>(html: &'a str, id: &str) -> Option<Element<'a>> {
    let bytes = html.as_bytes();
    for quoted in [format!("id=\"{id}\""), format!("id='{id}'")] {
        for at in memmem::find_iter(bytes, quoted.as_bytes()) {
            // The attribute must stand on its own (not `data-id=`), inside a start tag.
            if at > 0 && !bytes[at - 1].is_ascii_whitespace() {
                continue;
            }
            let Some(open) = tag_open_before(bytes, at) else { continue };
            if inside_script(bytes, open) {
                continue;
            }
            let Some(close) = tag_end(bytes, open) else { continue };
            let name_end = bytes[open + 1..]
                .iter()
                .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
                .map_or(bytes.len(), |p| open + 1 + p);
            let name = html.get(open + 1..name_end).unwrap_or_default();
            if name.is_empty() {
                continue;
            }
            let start_tag = html.get(open..close).unwrap_or_default();
            if is_void(name) || start_tag.ends_with("/>") {
                return Some(Element { name, start_tag, inner: "" });
            }
            let end = matching_end(html, close, name);
            return Some(Element { name, start_tag, inner: html.get(close..end).unwrap_or_default() });
        }
    }
    None
}

/// The text of the first element with this `id`: tags removed, not yet entity-decoded.
pub fn text_by_id(html: &str, id: &str) -> Option<String> {
    let el = by_id(html, id)?;
    let mut out = String::new();
    let mut rest = el.inner;
    while let Some(lt) = rest.find('<') {
        out.push_str(rest.get(..lt).unwrap_or_default());
        rest = rest.get(lt..).unwrap_or_default();
        let Some(gt) = rest.find('>') else { break };
        // A nested block (a profile card inside the name link) ends the name.
        if rest.starts_with("<div") || rest.starts_with("<script") || rest.starts_with("<style") {
            return Some(out);
        }
        rest = rest.get(gt + 1..).unwrap_or_default();
    }
    if !rest.contains('<') {
        out.push_str(rest);
    }
    Some(out)
}

pub use crate::text::attr;

/// Whether position `at` lies inside a `<script>` element (a template string in a script is
/// not the page's element).
fn inside_script(bytes: &[u8], at: usize) -> bool {
    let before = &bytes[..at];
    let open = memmem::rfind(before, b"<script");
    let close = memmem::rfind(before, b"</script");
    match (open, close) {
        (Some(o), Some(c)) => o > c,
        (Some(_), None) => true,
        _ => false,
    }
}

fn is_void(name: &str) -> bool {
    matches!(name, "img" | "br" | "hr" | "meta" | "link" | "input" | "source" | "area" | "wbr")
}

/// The `<` that opens the tag holding position `at`, if `at` is inside a tag.
fn tag_open_before(bytes: &[u8], at: usize) -> Option<usize> {
    let window_start = at.saturating_sub(4096);
    let lt = bytes[window_start..at].iter().rposition(|&b| b == b'<')? + window_start;
    // A `>` between them that is not inside a quoted value means `at` is text, not a tag.
    let mut quote = None;
    for &b in &bytes[lt..at] {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return None,
            _ => {}
        }
    }
    bytes.get(lt + 1).filter(|b| b.is_ascii_alphabetic()).map(|_| lt)
}

/// The position just past the `>` that ends the tag opened at `open`, minding quoted values.
fn tag_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in bytes.iter().enumerate().skip(open + 1) {
        match (quote, b) {
            (None, b'"' | b'\'') if bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'=' => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i + 1),
            _ => {}
        }
    }
    None
}

/// The position of the end tag matching a `name` element whose content starts at `from`.
fn matching_end(html: &str, from: usize, name: &str) -> usize {
    let bytes = html.as_bytes();
    let mut depth = 1usize;
    let mut i = from;
    while let Some(p) = memchr::memchr(b'<', &bytes[i..]) {
        let lt = i + p;
        let rest = &bytes[lt + 1..];
        if rest.starts_with(b"!--") {
            i = memmem::find(&bytes[lt + 4..], b"-->").map_or(bytes.len(), |e| lt + 4 + e + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_at = if closing { lt + 2 } else { lt + 1 };
        let tag_name_len = bytes[name_at..]
            .iter()
            .position(|b| !b.is_ascii_alphanumeric() && *b != b'-')
            .unwrap_or(bytes.len() - name_at);
        let tag_name = &bytes[name_at..name_at + tag_name_len];
        if tag_name_len == 0 {
            i = lt + 1;
            continue;
        }
        let after = match tag_end(bytes, lt) {
            Some(e) => e,
            None => return bytes.len(),
        };
        if !closing && (tag_name.eq_ignore_ascii_case(b"script") || tag_name.eq_ignore_ascii_case(b"style")) {
            let end_tag = if tag_name.eq_ignore_ascii_case(b"script") { &b"</script"[..] } else { &b"</style"[..] };
            i = crate::text::find_ci(&bytes[after..], end_tag).map_or(bytes.len(), |e| after + e);
            continue;
        }
        if tag_name.eq_ignore_ascii_case(name.as_bytes()) {
            if closing {
                depth -= 1;
                if depth == 0 {
                    return lt;
                }
            } else if bytes[after - 2] != b'/' {
                depth += 1;
            }
        }
        i = after;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_balanced_element() {
        let html = r#"<script>var s = '<div id="js_content">';</script>
            <div class="a" id="js_content" style="x"><div>a</div><!-- </div> --><script>"</div>"</script><p title="</div>">b</p></div><div>after</div>"#;
        let el = by_id(html, "js_content").unwrap();
        assert_eq!(el.name, "div");
        assert!(el.inner.starts_with("<div>a</div>"));
        assert!(el.inner.ends_with("b</p>"));
    }

    #[test]
    fn unclosed_runs_to_the_end() {
        let el = by_id("<div id=\"x\"><div>open", "x").unwrap();
        assert_eq!(el.inner, "<div>open");
    }

    #[test]
    fn text_and_attrs() {
        let html = "<h2 class=\"t\" id=\"activity-name\">\n  Hello <b>you</b>  </h2>";
        assert_eq!(text_by_id(html, "activity-name").unwrap().trim(), "Hello you");
        assert_eq!(attr(r#"<a data-src="x" src='y'>"#, "src"), Some("y"));
        assert_eq!(attr(r#"<a data-src="x">"#, "src"), None);
    }
}
