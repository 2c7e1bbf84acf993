//! What a reader of the page sees: elements hidden by attribute or style (the hidden-`div`
//! tricks), zero-size text, and emphasis given by a style instead of an element.

use ego_tree::NodeRef;
use scraper::Node;
use scraper::node::Element;

/// What of an element a reader sees.
pub(super) enum Hidden {
    No,
    /// `display:none`, `visibility:hidden`, `hidden`: nothing.
    All,
    /// A zero font size: no words, but its pictures.
    Text,
}

/// `display:none` and friends: text a reader never sees is not the article's.
pub(super) fn is_hidden(node: NodeRef<Node>, el: &Element) -> Hidden {
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
pub(super) fn declarations(style: &str) -> impl Iterator<Item = (&str, &str)> {
    style.split(';').filter_map(|d| d.split_once(':').map(|(n, v)| (n.trim(), v.trim())))
}

pub(super) fn hides_box(style: &str) -> bool {
    declarations(style).any(|(n, v)| {
        let v = v.trim_end_matches("!important").trim();
        (n.eq_ignore_ascii_case("display") && v.eq_ignore_ascii_case("none"))
            || (n.eq_ignore_ascii_case("visibility") && v.eq_ignore_ascii_case("hidden"))
    })
}

/// The font sizes a style sets (`font-size:…` or the `font:` shorthand), as numbers.
pub(super) fn font_sizes(style: &str) -> impl Iterator<Item = f64> + '_ {
    declarations(style).filter_map(|(n, v)| {
        if !(n.eq_ignore_ascii_case("font-size") || n.eq_ignore_ascii_case("font")) {
            return None;
        }
        let end = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
        v.get(..end).unwrap_or_default().parse::<f64>().ok()
    })
}

/// Bold, italic from an inline style.
pub(super) fn style_emphasis(style: &str) -> (bool, bool) {
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

pub(super) fn has_class(el: &Element, prefix: &str) -> bool {
    el.classes().any(|c| c.starts_with(prefix))
}
