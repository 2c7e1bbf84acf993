//! Small text helpers shared by the stages: entity decoding, JavaScript string unescaping,
//! white-space folding, a start tag's attributes.

use memchr::memmem;

/// Entities decoded until none is left (a few rounds): some feeds escape a title twice
/// (`&#x26;#xa;`), and a value decoded once would change again on the next pass.
pub fn decode_entities_fully(s: &str) -> String {
    let mut s = s.to_string();
    for _ in 0..4 {
        if !s.contains('&') {
            break;
        }
        let next = decode_entities(&s);
        if next == s {
            break;
        }
        s = next;
    }
    s
}

/// Decodes HTML character references: numeric ones, and the named ones WeChat's pages and editors
/// actually produce. An unknown name is left as written, as a browser would.
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        rest = rest.get(amp..).unwrap_or_default();
        match decode_one(rest) {
            Some((ch, used)) => {
                out.push_str(&ch.as_str());
                rest = rest.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = rest.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out
}

enum Decoded {
    Char(char),
    Str(&'static str),
}

impl Decoded {
    fn as_str(&self) -> String {
        match self {
            Decoded::Char(c) => c.to_string(),
            Decoded::Str(s) => s.to_string(),
        }
    }
}

/// Decodes the reference at the start of `s` (which starts with `&`); returns it and its length.
fn decode_one(s: &str) -> Option<(Decoded, usize)> {
    let body = s.get(1..).unwrap_or_default();
    let end = body.find(';').filter(|&e| e > 0 && e <= 32)?;
    let name = body.get(..end).unwrap_or_default();
    let used = end + 2;
    if let Some(num) = name.strip_prefix('#') {
        let code = if let Some(hex) = num.strip_prefix(['x', 'X']) {
            u32::from_str_radix(hex, 16).ok()?
        } else {
            num.parse::<u32>().ok()?
        };
        let ch = char::from_u32(code).filter(|&c| c != '\0').unwrap_or('\u{FFFD}');
        return Some((Decoded::Char(ch), used));
    }
    let named = match name {
        "amp" => "&",
        "lt" => "<",
        "gt" => ">",
        "quot" => "\"",
        "apos" => "'",
        "nbsp" => "\u{a0}",
        "ensp" => "\u{2002}",
        "emsp" => "\u{2003}",
        "thinsp" => "\u{2009}",
        "yen" => "¥",
        "copy" => "©",
        "reg" => "®",
        "trade" => "™",
        "middot" => "·",
        "hellip" => "…",
        "mdash" => "—",
        "ndash" => "–",
        "lsquo" => "‘",
        "rsquo" => "’",
        "ldquo" => "“",
        "rdquo" => "”",
        "laquo" => "«",
        "raquo" => "»",
        "times" => "×",
        "divide" => "÷",
        "deg" => "°",
        "bull" => "•",
        "zwj" => "\u{200d}",
        "zwnj" => "\u{200c}",
        _ => return None,
    };
    Some((Decoded::Str(named), used))
}

/// Reads a JavaScript string literal at the start of `s` (quote included); returns the value and
/// the number of bytes the literal took. `None` when `s` does not start with a whole literal.
pub fn js_string_literal(s: &str) -> Option<(String, usize)> {
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut chars = s.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            c if c == quote => return Some((out, i + 1)),
            '\n' => return None,
            '\\' => {
                let (_, e) = chars.next()?;
                match e {
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'b' | 'f' | 'v' => {}
                    '0' => out.push('\0'),
                    'x' => {
                        let h: String = (0..2).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                        let code = u32::from_str_radix(&h, 16).ok()?;
                        out.push(char::from_u32(code)?);
                    }
                    'u' => {
                        let h: String = (0..4).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                        let code = u32::from_str_radix(&h, 16).ok()?;
                        // A surrogate pair arrives as two escapes.
                        if (0xD800..0xDC00).contains(&code) {
                            let rest =
                                s.get(chars.clone().next().map(|(j, _)| j).unwrap_or(s.len())..).unwrap_or_default();
                            if let Some(low) = rest.strip_prefix("\\u").and_then(|r| r.get(..4)) {
                                let low = u32::from_str_radix(low, 16).ok()?;
                                for _ in 0..6 {
                                    chars.next();
                                }
                                let full = 0x10000 + ((code - 0xD800) << 10) + (low.wrapping_sub(0xDC00) & 0x3FF);
                                out.push(char::from_u32(full).unwrap_or('\u{FFFD}'));
                                continue;
                            }
                            out.push('\u{FFFD}');
                        } else {
                            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                        }
                    }
                    '\n' => {}
                    other => out.push(other),
                }
            }
            c => out.push(c),
        }
    }
    None
}

/// Folds every run of white space (NBSP and the zero-width characters included) to one space and
/// trims the ends: the rule for titles and account names.
pub fn fold_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
    out
}

/// Zero-width and formatting characters that never carry text in an article.
pub fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{00ad}')
}

/// Whether a text holds any of [`is_invisible`]'s characters, found by their UTF-8 lead bytes
/// rather than by decoding every character.
pub fn has_invisible(s: &str) -> bool {
    let b = s.as_bytes();
    memchr::memchr3_iter(0xE2, 0xEF, 0xC2, b).any(|i| match b[i] {
        0xE2 => matches!((b.get(i + 1), b.get(i + 2)), (Some(0x80), Some(0x8B..=0x8D)) | (Some(0x81), Some(0xA0))),
        0xEF => matches!((b.get(i + 1), b.get(i + 2)), (Some(0xBB), Some(0xBF))),
        _ => b.get(i + 1) == Some(&0xAD),
    })
}

/// The first position of `needle` in `hay`, ASCII case ignored (closing tags like `</SCRIPT`).
pub fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// A value read from a page: entities decoded, white space folded; `None` when nothing is left.
pub fn clean_value(s: &str) -> Option<String> {
    let v = fold_ws(&decode_entities(s));
    (!v.is_empty()).then_some(v)
}

/// WeChat's image host serves the same file over HTTPS; old pages still say `http://`.
pub fn https_image(url: &str) -> String {
    let url = url.trim();
    match url.strip_prefix("http://") {
        Some(rest) if rest.starts_with("mmbiz.qpic.cn/") || rest.starts_with("mmbiz.qlogo.cn/") => {
            format!("https://{rest}")
        }
        _ if url.starts_with("//") => format!("https:{url}"),
        _ => url.to_string(),
    }
}

/// The value of attribute `name` in a start tag (raw: entities not decoded).
pub fn attr<'a>(start_tag: &'a str, name: &str) -> Option<&'a str> {
    let bytes = start_tag.as_bytes();
    let mut from = 0;
    while let Some(p) = memmem::find(&bytes[from..], name.as_bytes()) {
        let at = from + p;
        from = at + name.len();
        if at == 0 || !bytes[at - 1].is_ascii_whitespace() {
            continue;
        }
        let rest = start_tag.get(at + name.len()..).unwrap_or_default().trim_start();
        let Some(rest) = rest.strip_prefix('=') else { continue };
        let rest = rest.trim_start();
        return Some(match rest.as_bytes().first() {
            Some(q @ (b'"' | b'\'')) => {
                let body = rest.get(1..).unwrap_or_default();
                body.get(..body.find(*q as char).unwrap_or(body.len())).unwrap_or_default()
            }
            _ => {
                rest.get(..rest.find(|c: char| c.is_whitespace() || c == '>').unwrap_or(rest.len())).unwrap_or_default()
            }
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities() {
        assert_eq!(decode_entities("a&amp;b &lt;c&gt; &#39;d&#x27; &nbsp;"), "a&b <c> 'd' \u{a0}");
        assert_eq!(decode_entities("AT&T &unknown; & x"), "AT&T &unknown; & x");
        assert_eq!(decode_entities("&#0;"), "\u{FFFD}");
    }

    #[test]
    fn js_literals() {
        assert_eq!(js_string_literal(r#""a\x26amp;b" rest"#), Some(("a&amp;b".to_string(), 12)));
        assert_eq!(js_string_literal(r"'it\'s'").unwrap().0, "it's");
        assert_eq!(js_string_literal(r#""\u4e2d\ud83d\ude00""#).unwrap().0, "中😀");
        assert_eq!(js_string_literal(r#""open"#), None);
    }

    #[test]
    fn invisible_scan() {
        assert!(!has_invisible("“中文，标点”¥"));
        for c in ['\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}', '\u{feff}', '\u{ad}'] {
            assert!(has_invisible(&format!("a{c}b")), "{c:?}");
        }
    }

    #[test]
    fn folding() {
        assert_eq!(fold_ws("  a\n\t b\u{a0}\u{200b}c  "), "a b c");
    }
}
