//! Code fences an exporter glued to the line before them (`Payload:```` over the code, or the
//! code's last line and its closing fence on one line): read as written, the fence opens
//! nothing, and the code after it is prose with Markdown escapes. The fence goes on a line of
//! its own — where a closing fence follows, so that a fence written in prose stays prose.

use std::borrow::Cow;

/// The lines, each glued fence moved onto a line of its own.
pub(super) fn unglue_fences<'a>(lines: &[&'a str]) -> Vec<Cow<'a, str>> {
    // The last line that can close a block: a bare fence, or one glued after code.
    let last_bare =
        lines.iter().rposition(|l| is_bare_fence(l) || glued(l).is_some_and(|(_, fence)| is_bare_fence(fence)));
    let mut out: Vec<Cow<'a, str>> = Vec::with_capacity(lines.len());
    let mut open: Option<char> = None;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start().trim_start_matches('*');
        if let Some(f) = fence_marker(trimmed) {
            let mark = f.chars().next().unwrap_or('`');
            open = match open {
                None => Some(mark),
                Some(m) if m == mark && is_bare_fence(trimmed) => None,
                keep => keep,
            };
            out.push(Cow::Borrowed(line));
            continue;
        }
        match glued(line) {
            // An opening fence after text, with a closing fence somewhere below.
            Some((text, fence)) if open.is_none() && last_bare.is_some_and(|b| b > i) => {
                out.push(Cow::Borrowed(text));
                out.push(Cow::Borrowed(fence));
                open = fence.chars().next();
            }
            // The last line of code with its closing fence.
            Some((text, fence)) if open.is_some() && is_bare_fence(fence) => {
                out.push(Cow::Borrowed(text));
                out.push(Cow::Borrowed(fence));
                open = None;
            }
            _ => out.push(Cow::Borrowed(line)),
        }
    }
    out
}

/// A line of text ending with a fence of backticks (and maybe a language): the text and the
/// fence. A line with other backticks (inline code) is left alone.
fn glued(line: &str) -> Option<(&str, &str)> {
    let t = line.trim_end();
    let at = t.find("```")?;
    let (text, fence) = t.split_at(at);
    let lang = fence.trim_start_matches('`');
    let ok = !text.trim().is_empty()
        && !text.contains('`')
        && !text.trim_start().starts_with(['>', '|'])
        && lang.chars().all(|c| c.is_ascii_alphanumeric() || "+-#._".contains(c))
        && lang.len() <= 24;
    ok.then_some((text.trim_end(), fence))
}

/// A fence line with no language: only backticks or tildes.
pub(super) fn is_bare_fence(line: &str) -> bool {
    let t = line.trim();
    t.len() >= 3 && (t.chars().all(|c| c == '`') || t.chars().all(|c| c == '~'))
}

/// The fence a line opens or closes (three or more backticks or tildes), if any.
pub(super) fn fence_marker(trimmed: &str) -> Option<String> {
    let first = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run: String = trimmed.chars().take_while(|c| *c == first).collect();
    (run.len() >= 3).then_some(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glued_fences_go_on_their_own_lines() {
        let lines = ["Payload:```xml", "<a>", "x = 1;```", "text", "prose with ``` in it", "no close below"];
        let got: Vec<String> = unglue_fences(&lines).into_iter().map(|c| c.into_owned()).collect();
        assert_eq!(
            got,
            ["Payload:", "```xml", "<a>", "x = 1;", "```", "text", "prose with ``` in it", "no close below"]
        );
        let lines = ["**0x06 GroovyShell**```", "<?xml?>", "```", "after"];
        let got: Vec<String> = unglue_fences(&lines).into_iter().map(|c| c.into_owned()).collect();
        assert_eq!(got, ["**0x06 GroovyShell**", "```", "<?xml?>", "```", "after"]);
        // Through the cleaner, as a header-line archive writes it: the code is verbatim.
        let body = "#  T  \n 某安全团队   2024-12-20 09:30  \n  \nfofa语法```\nbody=\"x/\"\n```\n漏洞复现```\nPOST /a HTTP/1.1\n<% w(\"1\")%>\n```\n";
        let cleaned = super::super::clean::clean(body, "T", "某安全团队").body;
        assert!(
            cleaned.contains("fofa语法\n```\nbody=\"x/\"\n```\n漏洞复现\n```\nPOST /a HTTP/1.1\n<% w(\"1\")%>\n```"),
            "{cleaned}"
        );
        let fenced = ["```", "a```", "```"];
        assert_eq!(unglue_fences(&fenced).len(), 4, "inside a block, a glued closing fence closes it");
    }
}
