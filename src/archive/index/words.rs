//! The index's words: how a record's text and a query's terms become tokens (Chinese as
//! overlapping pairs, other scripts as words), and the rule a record file confirms a term by.

use std::sync::LazyLock;

use regex::Regex;

use super::is_paired;
use crate::archive::Dialect;

/// A term or a text cut into runs: words of letters and digits, and runs of paired script.
pub(super) fn runs(text: &str) -> impl Iterator<Item = (bool, &str)> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let start = rest.find(|c: char| c.is_alphanumeric())?;
        let tail = rest.get(start..).unwrap_or_default();
        let paired = tail.chars().next().is_some_and(is_paired);
        let end = tail.find(|c: char| !c.is_alphanumeric() || is_paired(c) != paired).unwrap_or(tail.len());
        let run = tail.get(..end).unwrap_or_default();
        rest = tail.get(end..).unwrap_or_default();
        Some((paired, run))
    })
}

/// Appends the tokens of `text`, separated by spaces, for the index: each word lower-cased, and
/// each run of paired script as its overlapping pairs and its last character alone (so that a
/// single character is found as a prefix of the tokens, wherever it stands in its run).
pub fn index_words(text: &str, out: &mut String) {
    for (paired, run) in runs(text) {
        if paired {
            let mut prev: Option<char> = None;
            for c in run.chars() {
                if let Some(p) = prev {
                    out.push(p);
                    out.push(c);
                    out.push(' ');
                }
                prev = Some(c);
            }
            if let Some(p) = prev {
                out.push(p);
                out.push(' ');
            }
        } else {
            out.extend(run.chars().flat_map(char::to_lowercase));
            out.push(' ');
        }
    }
}

/// The index tokens one search term needs, each with whether it may be a prefix of a token
/// (`None` when the index cannot narrow the term: no letters or digits; the record files
/// decide). Pairs of characters must all occur; a single character, and a word the term ends
/// with, match as a prefix; every other word is a whole word of the text, so that a punctuated
/// term narrows on all its words (`rk-7` on `rk` and `7…`, `CVE-2025` on `cve` and `2025…`). A
/// first word written against paired script may end a longer word in the text (`𝕏漏洞` in
/// `cccc𝕏漏洞`): the rest of the term narrows, the file decides ([`term_occurs`]). A term of one
/// word matches words that start with it (`tomca` finds Tomcat).
pub(super) fn term_tokens(term: &str) -> Option<Vec<(String, bool)>> {
    let runs: Vec<(bool, &str)> = runs(term).collect();
    let ends_in_word = term.trim_end().ends_with(|c: char| c.is_alphanumeric());
    let glued = first_word_glued(term);
    let mut parts = Vec::new();
    for (i, (paired, run)) in runs.iter().enumerate() {
        let chars: Vec<char> = run.chars().collect();
        let last = i + 1 == runs.len();
        if *paired && chars.len() > 1 {
            parts.extend(chars.windows(2).map(|w| (w.iter().collect::<String>(), false)));
        } else if i == 0 && glued {
            continue;
        } else if *paired || (last && ends_in_word) {
            parts.push((run.to_lowercase(), true));
        } else {
            parts.push((run.to_lowercase(), false));
        }
    }
    (!parts.is_empty()).then_some(parts)
}

pub(super) fn is_spaced_word(c: char) -> bool {
    c.is_alphanumeric() && !is_paired(c)
}

/// Whether a term starts with a word of a spaced script written straight against paired script
/// (`Tomcat漏洞`): the one case where the term's first word may end a longer word.
pub(super) fn first_word_glued(term: &str) -> bool {
    let t = term.trim_start();
    t.starts_with(is_spaced_word) && t.chars().find(|c| !is_spaced_word(*c)).is_some_and(is_paired)
}

/// Whether a folded term occurs in a folded text as the index narrows it: a term that starts
/// with a word of a spaced script starts a word there (`rk-7` is not in `fork-7`, `tomca` not in
/// `atomcat`), unless that word is written against paired script (`Tomcat漏洞` is in
/// `ApacheTomcat漏洞`); a term that starts with paired script or punctuation may start anywhere.
/// So the files confirm exactly what a scan of them by this rule finds.
pub fn term_occurs(text: &str, term: &str) -> bool {
    if !term.starts_with(is_spaced_word) || first_word_glued(term) {
        return text.contains(term);
    }
    text.match_indices(term)
        .any(|(at, _)| !text.get(..at).and_then(|b| b.chars().next_back()).is_some_and(is_spaced_word))
}

/// The query for every term's tokens, in the store's language: an FTS5 expression, or a
/// PostgreSQL `tsquery`.
pub(super) fn match_query(tokens: &[(String, bool)], dialect: Dialect) -> String {
    let each = tokens.iter().map(|(t, prefix)| match dialect {
        Dialect::Sqlite => format!("\"{}\"{}", t.replace('"', "\"\""), if *prefix { " *" } else { "" }),
        Dialect::Postgres => {
            format!("'{}'{}", t.replace('\\', "\\\\").replace('\'', "''"), if *prefix { ":*" } else { "" })
        }
    });
    each.collect::<Vec<_>>().join(match dialect {
        Dialect::Sqlite => " AND ",
        Dialect::Postgres => " & ",
    })
}

/// Text folded for matching a term: lower case, runs of white space as one space.
pub(super) fn fold(text: &str) -> String {
    crate::text::fold_ws(&text.to_lowercase())
}

/// The body without the record's own `# title` line and cover image.
pub fn strip_title_line<'a>(body: &'a str, title: &str) -> &'a str {
    let mut rest = body.trim_start_matches('\n');
    if let Some(r) = rest.strip_prefix("# ").and_then(|r| r.strip_prefix(title)) {
        rest = r.trim_start_matches('\n');
    }
    if rest.starts_with("![cover_image](")
        && let Some(end) = rest.find('\n')
    {
        rest = rest.get(end..).unwrap_or_default().trim_start_matches('\n');
    }
    rest
}

/// Markdown reduced to its words, by a CommonMark parser: images dropped, links to their text,
/// marks and escapes gone, a line per block (what search snippets are cut from). Tables are read
/// as the lines they are: a GFM table drops the cells beyond its header's count, and records
/// (other sites' above all) have rows longer than their header.
pub fn plain_words(md: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
    static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>").unwrap());
    let mut out = String::with_capacity(md.len());
    let mut in_image = 0usize;
    for event in Parser::new_ext(md, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Image { .. }) => in_image += 1,
            Event::End(TagEnd::Image) => in_image = in_image.saturating_sub(1),
            Event::Text(t) | Event::Code(t) if in_image == 0 => out.push_str(&t),
            // Raw HTML in a record (another site's) keeps its words, not its tags.
            Event::Html(h) | Event::InlineHtml(h) if in_image == 0 => out.push_str(&TAG.replace_all(&h, " ")),
            Event::SoftBreak | Event::HardBreak => out.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_)
                | TagEnd::HtmlBlock,
            ) => out.push('\n'),
            _ => {}
        }
    }
    out.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.chars().all(|c| "|-: ".contains(c)))
        .collect::<Vec<_>>()
        .join("\n")
}
