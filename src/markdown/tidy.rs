//! The last pass over any Markdown wxsec writes: line endings, trailing white space, blank-line
//! runs, invisible characters, one final newline. `import` and `normalise` both end here.

/// Tidies Markdown text; the result is empty or ends with exactly one newline.
pub fn tidy(md: &str) -> String {
    let mut out = String::with_capacity(md.len() + 1);
    let mut blank_run = 0usize;
    let strip = crate::text::has_invisible(md);
    for line in md.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // Invisible characters are all multi-byte; most lines have none and need no copy.
        let owned;
        let line = if strip && crate::text::has_invisible(line) {
            owned = line.chars().filter(|c| !crate::text::is_invisible(*c)).collect::<String>();
            owned.trim_end()
        } else {
            line.trim_end()
        };
        if line.is_empty() {
            blank_run += 1;
            continue;
        }
        if !out.is_empty() && blank_run > 0 {
            out.push('\n');
        }
        blank_run = 0;
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::tidy;

    #[test]
    fn tidies() {
        assert_eq!(tidy("\n\na  \r\n\n\n\nb\u{200b}\n\n"), "a\n\nb\n");
        assert_eq!(tidy(""), "");
        assert_eq!(tidy("a\nb"), "a\nb\n");
    }
}
