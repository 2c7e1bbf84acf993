//! Reading the values that WeChat's page scripts assign: `var msg_title = '…'.html(false);`,
//! `var biz = "" || "MzI…";`, `window.cgiDataNew = { title: JsDecode('…'), … }`.
//!
//! Only literal values are read; an assignment whose right side is code (`var biz = opt.biz`) is
//! passed over, so the same name assigned in a library script never shadows the page's value.

use memchr::memmem;

use crate::text::js_string_literal;

/// The first non-empty literal assigned to `var NAME` or `window.NAME` anywhere in the page.
pub fn var(html: &str, name: &str) -> Option<String> {
    Vars::new(html).get(name)
}

/// Where a page's `var ` and `window.` assignments may start, found in one pass each: a page asks
/// for twenty variables, several absent, and each search of its own would read all 2–4 MB of it
/// again.
pub struct Vars<'a> {
    html: &'a str,
    at: [Vec<usize>; 2],
}

const VAR_PREFIXES: [&str; 2] = ["var ", "window."];

impl<'a> Vars<'a> {
    /// Finds the candidate positions of `html`.
    pub fn new(html: &'a str) -> Vars<'a> {
        let at = VAR_PREFIXES.map(|p| memmem::find_iter(html.as_bytes(), p.as_bytes()).collect());
        Vars { html, at }
    }

    /// The value of `var NAME = …` or `window.NAME = …` (see [`var`]).
    pub fn get(&self, name: &str) -> Option<String> {
        let html = self.html;
        for (prefix, positions) in VAR_PREFIXES.iter().zip(&self.at) {
            for &at in positions {
                let Some(rest) = html.get(at + prefix.len()..).and_then(|r| r.strip_prefix(name)) else { continue };
                let before = html.as_bytes().get(at.wrapping_sub(1)).copied();
                // `window.` must not be the tail of `xwindow.`; `var ` cannot be.
                if *prefix == "window." && before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
                    continue;
                }
                let rest = rest.trim_start_matches([' ', '\t']);
                let Some(rest) = rest.strip_prefix('=') else { continue };
                if rest.starts_with('=') {
                    continue;
                }
                if let Some(v) = literal_expr(rest) {
                    return Some(v);
                }
            }
        }
        None
    }
}

/// Reads `a || b || c` where each term is a literal, possibly wrapped in `htmlDecode(…)` /
/// `JsDecode(…)`, followed by `.html(…)` or `* 1`, or concatenated with `+`. Returns the first
/// non-empty value, as JavaScript would.
pub fn literal_expr(s: &str) -> Option<String> {
    let mut rest = s;
    loop {
        let (value, used) = concat_term(rest)?;
        if !value.is_empty() {
            return Some(value);
        }
        rest = rest.get(used..).unwrap_or_default().trim_start();
        rest = rest.strip_prefix("||")?;
    }
}

/// One `||` alternative: literal terms joined by `+`.
fn concat_term(s: &str) -> Option<(String, usize)> {
    let (mut value, mut used) = term(s)?;
    loop {
        let after = s.get(used..).unwrap_or_default();
        let trimmed = after.trim_start();
        let Some(next) = trimmed.strip_prefix('+') else { break };
        let skip = after.len() - next.len();
        match term(next) {
            Some((v, n)) => {
                value.push_str(&v);
                used += skip + n;
            }
            None => break,
        }
    }
    Some((value, used))
}

/// One literal term with its wrappers; returns its value and the bytes it took.
fn term(s: &str) -> Option<(String, usize)> {
    let trimmed = s.trim_start();
    let lead = s.len() - trimmed.len();
    for wrapper in ["htmlDecode(", "JsDecode("] {
        if let Some(inner) = trimmed.strip_prefix(wrapper) {
            let inner_trim = inner.trim_start();
            let (v, n) = js_string_literal(inner_trim)?;
            let after = inner_trim.get(n..).unwrap_or_default();
            let close = after.trim_start().strip_prefix(')')?;
            let used = lead + wrapper.len() + (inner.len() - inner_trim.len()) + n + (after.len() - close.len());
            return Some((v, used));
        }
    }
    let (v, n) = js_string_literal(trimmed)?;
    let mut used = lead + n;
    let after = s.get(used..).unwrap_or_default();
    for suffix in [".html(false)", ".html(true)", ".html()"] {
        if after.starts_with(suffix) {
            used += suffix.len();
            break;
        }
    }
    let after = s.get(used..).unwrap_or_default();
    let t = after.trim_start();
    if let Some(one) = t.strip_prefix('*').map(str::trim_start).and_then(|r| r.strip_prefix('1')) {
        used += after.len() - one.len();
    }
    Some((v, used))
}

/// A value of the object literals WeChat writes into its pages (`window.cgiDataNew = {…}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A string (`JsDecode('…')`, `'…'`) or a number written as `'123' * 1`.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// `[ … ]`.
    List(Vec<Value>),
    /// `{ key: value, … }`, keys in page order.
    Obj(Vec<(String, Value)>),
    /// Code the reader does not evaluate.
    Other,
}

impl Value {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string of a member, when it is a non-empty string.
    pub fn str(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some(Value::Str(s)) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// The items of a list member.
    pub fn list(&self, key: &str) -> &[Value] {
        match self.get(key) {
            Some(Value::List(items)) => items,
            _ => &[],
        }
    }
}

/// Parses the object literal assigned right after `marker` (e.g. `window.cgiDataNew =`).
pub fn object(html: &str, marker: &str) -> Option<Value> {
    let at = memmem::find(html.as_bytes(), marker.as_bytes())?;
    let rest = html.get(at + marker.len()..).unwrap_or_default().trim_start();
    let rest = rest.strip_prefix('=').map(str::trim_start).unwrap_or(rest);
    if !rest.starts_with('{') {
        return None;
    }
    let mut p = Parser { s: rest, pos: 0, depth: 0 };
    let v = p.value();
    matches!(v, Value::Obj(_)).then_some(v)
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    depth: usize,
}

/// Deeper nesting than this is not WeChat's data; refusing it keeps hostile pages from
/// exhausting the stack.
const MAX_DEPTH: usize = 64;

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.s.get(self.pos..).unwrap_or_default()
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn value(&mut self) -> Value {
        self.skip_ws();
        let src = self.s;
        let r = src.get(self.pos..).unwrap_or_default();
        if r.starts_with('{') && self.depth < MAX_DEPTH {
            self.pos += 1;
            self.depth += 1;
            let v = self.object_body();
            self.depth -= 1;
            return v;
        }
        if r.starts_with('[') && self.depth < MAX_DEPTH {
            self.pos += 1;
            self.depth += 1;
            let v = self.list_body();
            self.depth -= 1;
            return v;
        }
        if let Some((v, n)) = term(r) {
            self.pos += n;
            // Anything after the literal that is not a separator makes it code, not data.
            self.skip_ws();
            if self.at_separator() {
                return Value::Str(v);
            }
            self.skip_code();
            return Value::Other;
        }
        for (word, b) in [("true", true), ("false", false), ("!0", true), ("!1", false)] {
            if r.starts_with(word) {
                self.pos += word.len();
                self.skip_ws();
                if self.at_separator() {
                    return Value::Bool(b);
                }
            }
        }
        self.skip_code();
        Value::Other
    }

    fn at_separator(&self) -> bool {
        matches!(self.rest().as_bytes().first(), Some(b',' | b'}' | b']') | None)
    }

    /// Skips code up to the next separator at this depth, minding strings and brackets.
    fn skip_code(&mut self) {
        let bytes = self.s.as_bytes();
        let mut depth = 0usize;
        while self.pos < bytes.len() {
            match bytes[self.pos] {
                b'"' | b'\'' | b'`' => match js_string_literal(self.rest()) {
                    Some((_, n)) => {
                        self.pos += n;
                        continue;
                    }
                    None => self.pos += 1,
                },
                b'(' | b'[' | b'{' => {
                    depth += 1;
                    self.pos += 1
                }
                b')' | b']' | b'}' if depth > 0 => {
                    depth -= 1;
                    self.pos += 1
                }
                b',' | b'}' | b']' if depth == 0 => return,
                _ => self.pos += 1,
            }
        }
    }

    fn object_body(&mut self) -> Value {
        let mut members = Vec::new();
        loop {
            self.skip_ws();
            let src = self.s;
            let r = src.get(self.pos..).unwrap_or_default();
            if r.is_empty() {
                return Value::Obj(members);
            }
            if let Some(stripped) = r.strip_prefix('}') {
                self.pos = self.s.len() - stripped.len();
                return Value::Obj(members);
            }
            if r.starts_with(',') {
                self.pos += 1;
                continue;
            }
            let key = match js_string_literal(r) {
                Some((k, n)) => {
                    self.pos += n;
                    k
                }
                None => {
                    let n = r.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(r.len());
                    if n == 0 {
                        // Not a key: skip the stray code.
                        self.skip_code();
                        if self.pos < self.s.len() && self.rest().starts_with(']') {
                            self.pos += 1;
                        }
                        continue;
                    }
                    self.pos += n;
                    r.get(..n).unwrap_or_default().to_string()
                }
            };
            self.skip_ws();
            if let Some(stripped) = self.rest().strip_prefix(':') {
                self.pos = self.s.len() - stripped.len();
                let v = self.value();
                members.push((key, v));
            } else {
                // Shorthand member (`{ idx }`) or code: no value to read.
                self.skip_code();
                members.push((key, Value::Other));
            }
        }
    }

    fn list_body(&mut self) -> Value {
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            let src = self.s;
            let r = src.get(self.pos..).unwrap_or_default();
            if r.is_empty() {
                return Value::List(items);
            }
            if let Some(stripped) = r.strip_prefix(']') {
                self.pos = self.s.len() - stripped.len();
                return Value::List(items);
            }
            if r.starts_with(',') {
                self.pos += 1;
                continue;
            }
            if r.starts_with('}') {
                // A stray closer: step over it rather than loop.
                self.pos += 1;
                continue;
            }
            let before = self.pos;
            items.push(self.value());
            if self.pos == before {
                self.pos += r.chars().next().map_or(1, char::len_utf8);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vars_take_the_first_literal() {
        let page = r#"var biz = null; var biz = opt.biz || window.biz; var biz = "" || "MzA4" + "OA==";
            var msg_title = 'A &amp; B'.html(false); var ct = "1521515999" * 1;
            var nickname = htmlDecode("X"); window.sn = "abc" || "";"#;
        assert_eq!(var(page, "biz").as_deref(), Some("MzA4OA=="));
        assert_eq!(var(page, "msg_title").as_deref(), Some("A &amp; B"));
        assert_eq!(var(page, "ct").as_deref(), Some("1521515999"));
        assert_eq!(var(page, "nickname").as_deref(), Some("X"));
        assert_eq!(var(page, "sn").as_deref(), Some("abc"));
        assert_eq!(var(page, "mid"), None);
    }

    #[test]
    fn objects_read_literals_and_skip_code() {
        let page = r#"window.cgiDataNew = {
            base_resp: { ret: '0' * 1, },
            nick_name: JsDecode('36氪'),
            title: window.msg_title || '',
            list: [ { cdn_url: JsDecode('a\x26amp;b'), w: '1' * 1, }, { cdn_url: JsDecode('c') }, ],
            flag: true,
            f: function(a, b) { return {x: 1}; },
            after: 'ok',
        };"#;
        let v = object(page, "window.cgiDataNew").unwrap();
        assert_eq!(v.str("nick_name"), Some("36氪"));
        assert_eq!(v.get("title"), Some(&Value::Other));
        assert_eq!(v.list("list").len(), 2);
        assert_eq!(v.list("list")[0].str("cdn_url"), Some("a&amp;b"));
        assert_eq!(v.get("flag"), Some(&Value::Bool(true)));
        assert_eq!(v.str("after"), Some("ok"));
    }

    #[test]
    fn hostile_nesting_ends() {
        let page = format!("window.x = {}", "{a:[".repeat(10_000));
        assert!(object(&page, "window.x").is_some());
    }
}
