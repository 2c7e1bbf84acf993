//! Code written as a box of lines instead of a `<pre>`: a one-cell table, or a section styled
//! as code (a monospace font, a `code` class), holding one block (`section`, `p`, `div`) per
//! line. Written as prose each line would be a paragraph with Markdown escapes (`n\["x"\]`), and
//! a proof of concept copied from the record would be wrong; as a fenced block its lines are
//! verbatim. Told from a boxed notice by its lines: mostly code-shaped, hardly any prose.

use ego_tree::NodeRef;
use scraper::node::Node;

/// Whether an element says it holds code: a monospace font or a class naming code.
pub(super) fn says_code(el: &scraper::node::Element) -> bool {
    let style = el.attr("style").unwrap_or_default().to_ascii_lowercase();
    let mono = style.contains("font")
        && ["monospace", "consolas", "courier", "menlo", "monaco", "source code", "fira code", "jetbrains mono"]
            .iter()
            .any(|f| style.contains(f));
    mono || el.classes().any(|c| {
        let c = c.to_ascii_lowercase();
        c.contains("code") && !c.contains("qrcode")
    })
}

/// The fenced block of a box of code lines, or `None` when the box is no code.
pub(super) fn code_box(node: NodeRef<Node>, says_code: bool, lang: &str) -> Option<String> {
    let lines = box_lines(node)?;
    let written: Vec<&String> = lines.iter().filter(|l| !l.trim().is_empty()).collect();
    let (least, share) = if says_code { (2, 0.4) } else { (3, 0.7) };
    if written.len() < least {
        return None;
    }
    let code = written.iter().filter(|l| code_like(l)).count() as f64;
    let prose = written.iter().filter(|l| prose_like(l)).count() as f64;
    let n = written.len() as f64;
    if code / n < share || prose / n > 0.15 {
        return None;
    }
    let start = lines.iter().position(|l| !l.trim().is_empty())?;
    let end = lines.iter().rposition(|l| !l.trim().is_empty())? + 1;
    let body = lines[start..end].join("\n");
    let fence = super::escape::fence_for(&body);
    Some(format!("{fence}{lang}\n{body}\n{fence}"))
}

/// The box's lines: past wrappers of one child, each block child a line (a `<br>` inside one
/// makes two); `None` when the box holds anything but lines of text (a picture, a list, a table).
fn box_lines(node: NodeRef<Node>) -> Option<Vec<String>> {
    let mut at = node;
    loop {
        let kids: Vec<NodeRef<Node>> = at.children().filter(|c| !is_blank_text(c)).collect();
        match kids.as_slice() {
            [only] if matches!(only.value(), Node::Element(e) if is_line_block(e.name())) => at = *only,
            _ => break,
        }
    }
    let mut lines = Vec::new();
    for child in at.children() {
        match child.value() {
            Node::Text(t) if !t.trim().is_empty() => lines.extend(t.split('\n').map(clean)),
            Node::Element(e) if e.name() == "br" => {}
            Node::Element(e) if is_line_block(e.name()) => {
                for n in child.descendants() {
                    if let Node::Element(d) = n.value()
                        && matches!(
                            d.name(),
                            "img" | "table" | "ul" | "ol" | "pre" | "h1" | "h2" | "h3" | "h4" | "iframe"
                        )
                    {
                        return None;
                    }
                }
                let mut text = String::new();
                super::blocks::raw_text(child, &mut text);
                let text = text.strip_suffix('\n').unwrap_or(&text);
                lines.extend(text.split('\n').map(clean));
            }
            Node::Element(_) => return None,
            _ => {}
        }
    }
    Some(lines)
}

fn is_blank_text(n: &NodeRef<Node>) -> bool {
    matches!(n.value(), Node::Text(t) if t.trim().is_empty()) || matches!(n.value(), Node::Comment(_))
}

fn is_line_block(name: &str) -> bool {
    matches!(name, "section" | "p" | "div" | "td" | "tbody" | "tr")
}

/// A line as written: no-break spaces as spaces, invisible characters gone, no trailing space.
fn clean(line: &str) -> String {
    let l: String = line.replace('\u{a0}', " ").chars().filter(|c| !crate::text::is_invisible(*c)).collect();
    l.trim_end().to_string()
}

const KEYWORDS: &[&str] = &[
    "return",
    "if",
    "else",
    "elif",
    "end",
    "fi",
    "do",
    "done",
    "then",
    "local",
    "def",
    "function",
    "import",
    "from",
    "package",
    "public",
    "private",
    "protected",
    "class",
    "var",
    "let",
    "const",
    "echo",
    "curl",
    "wget",
    "python",
    "python3",
    "java",
    "nc",
    "sudo",
    "cd",
    "ls",
    "cat",
    "chmod",
    "export",
    "GET",
    "POST",
    "PUT",
    "DELETE",
    "HEAD",
    "select",
    "SELECT",
    "break",
    "continue",
    "try",
    "except",
    "catch",
    "finally",
    "while",
    "for",
    "switch",
    "case",
    "static",
    "void",
    "int",
    "string",
    "String",
    "new",
    "throw",
    "raise",
    "print",
    "printf",
    "System.out.println",
];

/// A line shaped like code: code punctuation, indentation, a comment marker, a keyword or a
/// header line of an HTTP message.
fn code_like(line: &str) -> bool {
    let t = line.trim();
    if t.is_empty() {
        return false;
    }
    let indented = line.starts_with("  ") || line.starts_with('\t');
    let comment = ["//", "#", "/*", "*/", "--", "<!--", ";"].iter().any(|m| t.starts_with(m));
    let punct = t.chars().any(|c| "{}()[];=<>$|&\\`\"'".contains(c));
    let first = t.split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or_default();
    let keyword = KEYWORDS.contains(&first);
    let header = t.split_once(": ").is_some_and(|(k, _)| {
        !k.is_empty() && k.len() < 40 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    (indented || comment || punct || keyword || header) && !prose_like(line)
}

/// A line of prose: mostly Chinese (or other paired script), ending as a sentence does, not a
/// comment.
fn prose_like(line: &str) -> bool {
    let t = line.trim();
    if ["//", "#", "/*", "--"].iter().any(|m| t.starts_with(m)) {
        return false;
    }
    let chars: Vec<char> = t.chars().filter(|c| !c.is_whitespace()).collect();
    let cjk =
        chars.iter().filter(|c| matches!(**c as u32, 0x3400..=0x9FFF | 0xFF00..=0xFFEF | 0x3000..=0x303F)).count();
    !chars.is_empty() && cjk * 2 > chars.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_code_and_of_prose() {
        assert!(code_like("if n.method ~= \"do\" then"));
        assert!(code_like("    return false"));
        assert!(code_like("end"));
        assert!(code_like("Host: example.com"));
        assert!(code_like("//对应代码"));
        assert!(!code_like("请尽快升级到最新版本。"));
        assert!(prose_like("漏洞影响范围：所有版本"));
        assert!(!prose_like("r[e.NAME] = e.EINVARG"));
    }
}
