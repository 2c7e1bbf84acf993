//! Escaping text so that Markdown renders it as written, and making URLs safe in link syntax.

/// Escapes inline text: the characters that would start emphasis, code, links or HTML, and
/// entity-like `&`. Line-start markers are handled by [`escape_line_start`] once lines are known.
pub fn escape_text(s: &str, out: &mut String) {
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\\' | '*' | '`' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '_' => {
                // Inside a word `_` never delimits emphasis; at a word edge it may.
                let prev = i.checked_sub(1).map(|p| chars[p]);
                let next = chars.get(i + 1).copied();
                if prev.is_some_and(char::is_alphanumeric) && next.is_some_and(char::is_alphanumeric) {
                    out.push('_');
                } else {
                    out.push_str("\\_");
                }
            }
            '<' => {
                let next = chars.get(i + 1).copied();
                if next.is_some_and(|n| n.is_ascii_alphabetic() || matches!(n, '/' | '!' | '?')) {
                    out.push_str("\\<");
                } else {
                    out.push('<');
                }
            }
            '&' => {
                if looks_like_entity(&chars[i + 1..]) {
                    out.push_str("\\&");
                } else {
                    out.push('&');
                }
            }
            '~' => {
                // GFM strikethrough: one or two tildes delimit.
                out.push_str("\\~");
            }
            '(' if i > 0 && chars[i - 1] == ']' => {
                // `](` reads as the start of a link target to simple checkers; escaped, it
                // renders the same and says it is text.
                out.push_str("\\(");
            }
            _ => out.push(c),
        }
    }
}

fn looks_like_entity(rest: &[char]) -> bool {
    for (n, &c) in rest.iter().take(33).enumerate() {
        if c == ';' {
            return n > 0;
        }
        if !(c.is_ascii_alphanumeric() || c == '#') {
            return false;
        }
    }
    false
}

/// Runs of four or more `*` settled: such a run is a row of `**` delimiters, each pair an emphasis
/// opened and closed on nothing (`****`) or closed and opened again (`**a****b**`, one run split in
/// two). Both say nothing; what is left is one `**` when the row closes or opens one, none when
/// it does both or neither. An odd `*` left over (italics) stays. Code spans and escaped stars are
/// text and are left alone.
pub fn settle_stars(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while !rest.is_empty() {
        if rest.starts_with('`') {
            let run = rest.chars().take_while(|c| *c == '`').count();
            let ticks = rest.get(..run).unwrap_or_default();
            if let Some(close) = rest.get(run..).unwrap_or_default().find(ticks) {
                out.push_str(rest.get(..run + close + run).unwrap_or_default());
                rest = rest.get(run + close + run..).unwrap_or_default();
                continue;
            }
            out.push_str(ticks);
            rest = rest.get(run..).unwrap_or_default();
            continue;
        }
        if rest.starts_with("\\*") {
            out.push_str("\\*");
            rest = rest.get(2..).unwrap_or_default();
            continue;
        }
        if rest.starts_with('*') {
            let n = rest.bytes().take_while(|b| *b == b'*').count();
            if n >= 4 {
                if (n / 2) % 2 == 1 {
                    out.push_str("**");
                }
                if n % 2 == 1 {
                    out.push('*');
                }
            } else {
                out.push_str(rest.get(..n).unwrap_or_default());
            }
            rest = rest.get(n..).unwrap_or_default();
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        out.push(c);
        rest = rest.get(c.len_utf8()..).unwrap_or_default();
    }
    out
}

/// Escapes what would make a line start a heading, quote, list, fence or thematic break.
pub fn escape_line_start(line: &str) -> String {
    let bytes = line.as_bytes();
    let Some(&first) = bytes.first() else { return String::new() };
    let needs = match first {
        b'#' | b'>' => true,
        b'-' | b'+' | b'=' => bytes.len() == 1 || bytes[1] == b' ' || bytes.iter().all(|&b| b == first || b == b' '),
        b'0'..=b'9' => {
            let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
            digits <= 9
                && matches!(bytes.get(digits), Some(b'.' | b')'))
                && matches!(bytes.get(digits + 1), None | Some(b' '))
        }
        _ => false,
    };
    if !needs {
        return line.to_string();
    }
    if first.is_ascii_digit() {
        let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
        return format!("{}\\{}", line.get(..digits).unwrap_or_default(), line.get(digits..).unwrap_or_default());
    }
    format!("\\{line}")
}

/// Makes a URL safe inside `(…)` of a link or image: no spaces, no parentheses, no angle brackets.
pub fn escape_url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.trim().chars() {
        match c {
            ' ' => out.push_str("%20"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '"' => out.push_str("%22"),
            '\\' => out.push_str("%5C"),
            c if c.is_control() || c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}

/// Whether a link target is one a record may carry: web addresses, mail, relative paths; never
/// script, data or other active schemes.
pub fn is_safe_url(url: &str) -> bool {
    let u = url.trim();
    if u.is_empty() || u.starts_with('#') {
        return false;
    }
    let scheme_end = u.find(':');
    let slash = u.find('/');
    match scheme_end {
        Some(c) if slash.is_none_or(|s| c < s) => {
            let scheme = u.get(..c).unwrap_or_default().to_ascii_lowercase();
            let scheme: String = scheme.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect();
            matches!(scheme.as_str(), "http" | "https" | "mailto" | "ftp")
        }
        _ => true,
    }
}

/// A code span for `s`, with enough backticks that none inside can close it.
pub fn code_span(s: &str) -> String {
    let longest = longest_run(s, '`');
    let ticks = "`".repeat(longest + 1);
    let pad =
        s.starts_with('`') || s.ends_with('`') || (s.starts_with(' ') && s.ends_with(' ') && !s.trim().is_empty());
    if pad { format!("{ticks} {s} {ticks}") } else { format!("{ticks}{s}{ticks}") }
}

/// A fence long enough for `code`.
pub fn fence_for(code: &str) -> String {
    "`".repeat(longest_run(code, '`').max(2) + 1)
}

fn longest_run(s: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in s.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc(s: &str) -> String {
        let mut o = String::new();
        escape_text(s, &mut o);
        o
    }

    #[test]
    fn text() {
        assert_eq!(esc("<script>alert(1)</script>"), "\\<script>alert(1)\\</script>");
        assert_eq!(esc("a*b_c d_ [x]"), "a\\*b_c d\\_ \\[x\\]");
        assert_eq!(esc("AT&T &amp; 1 < 2"), "AT&T \\&amp; 1 < 2");
    }

    #[test]
    fn line_starts() {
        assert_eq!(escape_line_start("# not a heading"), "\\# not a heading");
        assert_eq!(escape_line_start("2024. 年"), "2024\\. 年");
        assert_eq!(escape_line_start("2024.1"), "2024.1");
        assert_eq!(escape_line_start("- item"), "\\- item");
        assert_eq!(escape_line_start("-1"), "-1");
        assert_eq!(escape_line_start("---"), "\\---");
    }

    #[test]
    fn urls() {
        assert!(!is_safe_url("javascript:void(0)"));
        assert!(!is_safe_url(" JavaScript:alert(1)"));
        assert!(!is_safe_url("data:text/html,x"));
        assert!(is_safe_url("https://a.b/c"));
        assert!(is_safe_url("/relative"));
        assert_eq!(escape_url("https://a.b/x (1)"), "https://a.b/x%20%281%29");
        assert_eq!(code_span("a`b"), "``a`b``");
    }

    #[test]
    fn star_rows_settle() {
        assert_eq!(settle_stars("**a****b**"), "**ab**");
        assert_eq!(settle_stars("**06******"), "**06**");
        assert_eq!(settle_stars("******不想错过任何消息？设置星标****↓ ↓**"), "**不想错过任何消息？设置星标↓ ↓**");
        assert_eq!(settle_stars("a ******** b"), "a  b");
        assert_eq!(settle_stars("`****` \\**** *****"), "`****` \\**** *");
    }
}
