//! Cleaning the Markdown body of a record written by another tool: the repeated header block,
//! the trailer of WeChat chrome, layout HTML left in the Markdown (told apart from the author's
//! literal tags by `html`), hidden text, empty emphasis, empty and script links, NBSP runs and
//! hard breaks. Code blocks pass through untouched.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::fences::{fence_marker, is_bare_fence, unglue_fences};
use super::html::{
    escape_foreign_tags, escape_tags, html_block_start, html_chunk, is_page_source, strip_inline_html,
    undo_exporter_escapes,
};
use crate::markdown;
use crate::text::fold_ws;

/// A cleaned body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cleaned {
    /// The `![cover_image](…)` address, when the record had one.
    pub cover: Option<String>,
    /// The article, without title heading and cover, tidied (empty when nothing is left).
    pub body: String,
    /// Whether a trailer of page chrome was found and cut.
    pub trailer_cut: bool,
    /// The account as the record's own header block names it (another tool's `source` may be
    /// its feed label: `互联网安全内参` for `安全内参`).
    pub account: Option<String>,
}

/// Lines of WeChat's page chrome, as other tools copied them below (or instead of) the article.
const CHROME_LINES: &[&str] = &[
    "预览时标签不可点",
    "微信扫一扫",
    "关注该公众号",
    "继续滑动看下一个",
    "轻触阅读原文",
    "轻触查看原文",
    "向上滑动看下一个",
    "知道了",
    "使用小程序",
    "取消",
    "允许",
    "×",
    "分析",
    "视频",
    "小程序",
    "赞",
    "在看",
    "分享",
    "留言",
    "收藏",
    "听过",
    "写留言",
    "阅读原文",
    "微信扫一扫可打开此内容，",
    "使用完整服务",
    "，轻点两下取消赞",
    "，轻点两下取消在看",
    "轻点两下取消赞",
    "轻点两下取消在看",
    "![]()",
];

/// Lines that only the chrome has: where one stands and nothing after it is the article's, the
/// trailer has begun. After one of these, short lines (account and author names) are chrome too.
const TRAILER_MARKERS: &[&str] = &[
    "预览时标签不可点",
    "继续滑动看下一个",
    "轻触阅读原文",
    "轻触查看原文",
    "向上滑动看下一个",
    "微信扫一扫可打开此内容，",
    "，轻点两下取消赞",
    "轻点两下取消赞",
    "，轻点两下取消在看",
];

/// A chrome line an author might also write: it starts the trailer only when everything after
/// it is chrome proper.
const WEAK_TRAILER_MARKERS: &[&str] = &["微信扫一扫"];

static COVER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^!\[cover_image\]\((\S+?)\)\s*$").unwrap());
static IMAGE_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^!\[[^\]]*\]\(([^)\s]*)(?:\s+[^)]*)?\)$").unwrap());
static DATE_LINE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[0-9]{4}[-年/.][0-9]{1,2}[-月/.][0-9]{1,2}日?(\s+[0-9]{1,2}:[0-9]{2})?$").unwrap());
static EMPTY_LINK_TITLE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"(\[[^\]]*\]\([^)\s]+) ""\)"#).unwrap());
static BAD_LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^!\\])\[([^\]]*)\]\(\s*(?:(?i:javascript|vbscript|data):(?:[^()]|\([^()]*\))*)?\s*\)").unwrap()
});
// Only a target CommonMark takes for one (no white space): `[](Args* a) -> HRESULT` is a C++ lambda.
static EMPTY_TEXT_LINK: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|[^!\\\]])\[\]\([^)\s]*\)").unwrap());
/// Cleans a body. `title` is the folded title, `source` the account name.
pub fn clean(body: &str, title: &str, source: &str) -> Cleaned {
    let lines: Vec<&str> = body.split('\n').collect();
    let mut at = skip_blank(&lines, 0);
    at = skip_blank(&lines, skip_title(&lines, at, title));
    let mut cover = None;
    if let Some(c) = lines.get(at).and_then(|l| COVER.captures(l.trim())) {
        cover = Some(c[1].to_string());
        at = skip_blank(&lines, at + 1);
    }
    let (at, account) = skip_header_block(&lines, at, title, source);
    // The article's own heading may repeat the title once more under the header block; left, it
    // would be taken for the header block's on the next pass.
    let at = skip_title(&lines, skip_blank(&lines, at), title);
    // The trailer names the account as its header does.
    let source = account.as_deref().unwrap_or(source);
    let end = trailer_start(&lines, at, source);
    let kept = &lines[at..end.max(at)];
    let unglued = unglue_fences(kept);
    let kept: Vec<&str> = unglued.iter().map(|l| l.as_ref()).collect();
    let mut body = markdown::tidy(&clean_lines(&kept));
    // What is left may be chrome alone (punctuation lines, the like bar) with no trailer marker.
    if body.lines().all(|l| is_chrome(l, source)) {
        body.clear();
    }
    Cleaned { cover, body, trailer_cut: end < lines.len(), account }
}

/// Past the `# title` heading at `at` and the lines a multi-line title spilled onto; `at` itself
/// when the heading is the author's own (`# 漏洞简介` right under the header block is article text).
fn skip_title(lines: &[&str], at: usize, title: &str) -> usize {
    let Some(heading) = lines.get(at).and_then(|l| l.trim_start().strip_prefix("# ")) else { return at };
    // A title without letters or digits (`【】`) repeats only as itself.
    if words(title).is_empty() {
        return if !title.is_empty() && fold_ws(heading) == title { at + 1 } else { at };
    }
    let title = words(title);
    let mut seen = words(heading);
    let mut next = at + 1;
    // A title over several lines goes on below its heading; only the lines that continue it go.
    while let Some(l) = lines.get(next).filter(|l| !l.trim().is_empty()) {
        let more = format!("{seen}{}", words(l));
        if seen.len() >= title.len() || !title.starts_with(&more) {
            break;
        }
        seen = more;
        next += 1;
    }
    if repeats_title(&seen, &title) { next } else { at }
}

/// The letters and digits of a text, lower case: a heading and a title compared for their words,
/// whatever the markup, escapes and entities around them.
pub(crate) fn words(s: &str) -> String {
    // The seed archive writes a text post's line breaks as a literal `\n` in its heading too.
    let s = if s.contains('\\') { s.replace("\\\\n", " ").replace("\\n", " ") } else { s.to_string() };
    let decoded = if s.contains('&') { crate::text::decode_entities(&s) } else { s };
    decoded.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Whether a heading's words are the title's: the same, or one cut short of the other (titles cut at
/// 255 characters, the first line of a text post's title) by no more than a short heading could be.
fn repeats_title(heading: &str, title: &str) -> bool {
    if heading.is_empty() || title.is_empty() {
        return false;
    }
    let (short, long) = if heading.len() <= title.len() { (heading, title) } else { (title, heading) };
    short == long || (long.starts_with(short) && short.chars().count() >= 12)
}

fn skip_blank(lines: &[&str], mut at: usize) -> usize {
    while lines.get(at).is_some_and(|l| l.trim().is_empty()) {
        at += 1;
    }
    at
}

/// The block some tools repeat under the cover: `# title`, then `原创`, the author, the account
/// and the date, each on a line of its own. Returns where the article starts and the account
/// line, when the block has one.
fn skip_header_block(lines: &[&str], at: usize, title: &str, source: &str) -> (usize, Option<String>) {
    let Some(heading) = lines.get(at).and_then(|l| l.strip_prefix("# ")) else { return (at, None) };
    if !repeats_title(&words(heading), &words(title)) {
        return (at, None);
    }
    let mut next = skip_blank(lines, at + 1);
    let mut account = None;
    // Up to four short lines before the account line: 原创, the author, a second name.
    let window: Vec<usize> = {
        let mut v = Vec::new();
        let mut i = next;
        while v.len() < 5 && i < lines.len() {
            if !lines[i].trim().is_empty() {
                v.push(i);
            }
            i += 1;
        }
        v
    };
    let is_short_name =
        |l: &str| l.chars().count() <= 24 && !l.contains(['。', '，', '！', '？', '；', '!', '[', '(', '#', '*']);
    // The header is a run of short lines (原创, the author, the account); the account is the line
    // with the label's words, or else the last that is the label's spelling of them (the author's
    // name may be part of the account's: `px1624` over `不忘初心px1624`).
    let run = window.iter().take_while(|&&i| is_short_name(lines[i].trim())).count();
    let marked = window.first().is_some_and(|&i| matches!(lines[i].trim(), "原创" | "转载" | "翻译"));
    let found = if marked && (2..=3).contains(&run) && run < window.len() {
        // `原创`, maybe the author, the account, then the article: the account is the run's last.
        Some(run - 1)
    } else {
        let same = window[..run].iter().position(|&i| !source.is_empty() && words(lines[i]) == words(source));
        same.or_else(|| window[..run].iter().rposition(|&i| names_account(lines[i], source)))
    };
    match found {
        Some(k) => {
            next = window[k] + 1;
            // The label stays where it spells the same words; the header's name replaces another.
            if words(lines[window[k]]) != words(source) {
                account = Some(fold_ws(lines[window[k]]));
            }
        }
        _ => {
            while let Some(l) = lines.get(next).map(|l| l.trim()) {
                if matches!(l, "原创" | "转载" | "翻译") || l.is_empty() {
                    next += 1;
                } else {
                    break;
                }
            }
        }
    }
    next = skip_blank(lines, next);
    if lines.get(next).is_some_and(|l| DATE_LINE.is_match(l.trim())) {
        next += 1;
    }
    (next, account)
}

/// Whether a header line names the account another tool labelled `source`: the same words, or
/// the label's own spelling of them (`互联网安全内参` for `安全内参`, `看雪学院` for `看雪学苑`,
/// `M01NTeam` for `M01N Team`).
fn names_account(line: &str, source: &str) -> bool {
    let (a, b) = (words(line), words(source));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    if a == b {
        return true;
    }
    let (ca, cb) = (a.chars().count(), b.chars().count());
    let (short, long, cs, cl) = if ca <= cb { (&a, &b, ca, cb) } else { (&b, &a, cb, ca) };
    if cs >= 2 && 2 * cs >= cl && long.contains(short.as_str()) {
        return true;
    }
    // One character apart, in a name of three or more.
    cs == cl && cs >= 3 && a.chars().zip(b.chars()).filter(|(x, y)| x != y).count() == 1
}

/// Whether a line is chrome that may stand in the trailer.
fn is_chrome(line: &str, source: &str) -> bool {
    let l = line.trim();
    l.is_empty()
        || CHROME_LINES.contains(&l)
        || l.chars().all(|c| ",，:：。.、 \u{a0}".contains(c))
        || (!source.is_empty() && l.len() <= source.len() * 2 + 8 && fold_ws(l) == source)
        || l.starts_with("修改于")
        || l.starts_with("![跳转二维码]")
        || l.starts_with("![作者头像]")
}

/// An image's identity on WeChat's image host: its path without the size segment.
fn image_key(line: &str) -> Option<String> {
    if !line.trim_start().starts_with("![") {
        return None;
    }
    let url = IMAGE_LINE.captures(line.trim())?.get(1)?.as_str().to_string();
    let path = url.split('?').next()?;
    let path = path.trim_start_matches("https://").trim_start_matches("http://");
    let mut segs: Vec<&str> = path.split('/').collect();
    if segs.len() > 2 && segs.last().is_some_and(|s| s.chars().all(|c| c.is_ascii_digit())) {
        segs.pop();
    }
    Some(segs.join("/"))
}

/// Where the chrome trailer starts: the first trailer marker after which nothing is the
/// article's, moved back over the chrome just before it (avatar, account name, punctuation).
fn trailer_start(lines: &[&str], from: usize, source: &str) -> usize {
    let n = lines.len();
    let any_marker = lines[from.min(n)..].iter().any(|l| {
        let l = l.trim();
        TRAILER_MARKERS.contains(&l) || WEAK_TRAILER_MARKERS.contains(&l)
    });
    if !any_marker {
        return n;
    }
    let is_name = |l: &str| {
        let l = l.trim();
        l.chars().count() <= 40 && !l.contains(['。', '！', '？', '；', '[', '(', '#', '|'])
    };
    // strict[i]: every line from i on is chrome or an image; loose[i]: or a short name line.
    let mut strict = vec![true; n + 1];
    let mut loose = vec![true; n + 1];
    let is_image = |l: &str| {
        let t = l.trim();
        t.starts_with("![") && t.ends_with(')')
    };
    // A line is judged as the repairs will leave it (an empty link gone, `****` gone): otherwise a
    // second pass finds a trailer the first missed. Only lines that are not chrome as written are
    // repaired, and only back to the last line that is neither chrome nor a name: before it, both
    // flags are false whatever the lines say.
    let repaired = |l: &str| -> String {
        let mut s = String::new();
        clean_markdown_line(l, "", &mut s);
        s
    };
    for i in (from..n).rev() {
        if !loose[i + 1] {
            strict[from..=i].fill(false);
            loose[from..=i].fill(false);
            break;
        }
        let (chrome, name) = if is_chrome(lines[i], source) || is_image(lines[i]) {
            (true, true)
        } else {
            let r = repaired(lines[i]);
            let chrome = r.trim().is_empty() || r.lines().all(|p| is_chrome(p, source) || is_image(p));
            (chrome, chrome || r.lines().all(is_name))
        };
        strict[i] = strict[i + 1] && chrome;
        loose[i] = name;
    }
    let Some(mut start) = (from..n).find(|&i| {
        let l = lines[i].trim();
        (TRAILER_MARKERS.contains(&l) && loose[i]) || (WEAK_TRAILER_MARKERS.contains(&l) && strict[i])
    }) else {
        return n;
    };
    let trailer_images: Vec<String> = lines[start..].iter().filter_map(|l| image_key(l)).collect();
    // A picture post's chrome names its account above the marker and again below it (`/300` avatar,
    // name, `轻触阅读原文`, `/0` avatar, name): a short line the trailer repeats is chrome too.
    let trailer_names: Vec<String> =
        lines[start..].iter().map(|l| fold_ws(l)).filter(|l| !l.is_empty() && is_name(l)).collect();
    while start > from {
        let prev = lines[start - 1];
        let chrome = is_chrome(prev, source) && !prev.trim().is_empty()
            || prev.trim().is_empty()
            || image_key(prev).is_some_and(|k| trailer_images.contains(&k))
            || trailer_names.contains(&fold_ws(prev));
        if !chrome {
            break;
        }
        start -= 1;
    }
    start
}

/// Cleans the kept lines: fenced code verbatim, HTML blocks converted, Markdown lines repaired.
fn clean_lines(lines: &[&str]) -> String {
    let mut out = String::new();
    // The last line that closes each element: a start tag after it cannot open a block, and is
    // known so without scanning to the end (a page of unclosed `<p>` lines would be quadratic).
    let mut last_close: std::collections::HashMap<String, Option<usize>> = std::collections::HashMap::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        // Empty emphasis glued to a fence (`****```java`) says nothing; the fence it hides opens a
        // code block all the same, or the rest of the file would be read inside out.
        let line = match line.trim_start().trim_start_matches('*') {
            unstarred if unstarred.len() < line.trim_start().len() && fence_marker(unstarred).is_some() => unstarred,
            _ => line,
        };
        let trimmed = line.trim_start();
        if let Some(fence) = fence_marker(trimmed)
            && let Some(mark) = fence.chars().next()
        {
            // Some exporters fence code twice (a bare fence, then the fence naming the language;
            // at the end a second bare fence): read literally, every other block is inside out.
            let doubled = i > 0 && lines.get(i - 1).is_some_and(|l| is_bare_fence(l)) && !is_bare_fence(line);
            if is_bare_fence(line)
                && lines.get(i + 1).is_some_and(|l| fence_marker(l.trim_start()).is_some() && !is_bare_fence(l))
            {
                i += 1;
                continue;
            }
            // A fenced block runs to its closing fence (or the end): copied as it is, NBSP made
            // plain spaces so indentation survives. A fence indented four or more (inside a list
            // item) moves to the margin with its lines: every reader then takes it for code.
            let spaced = line.replace('\u{a0}', " ");
            let indent = spaced.len() - spaced.trim_start_matches(' ').len();
            let unindent = |l: &str| -> String {
                let l = l.replace('\u{a0}', " ");
                if indent <= 3 {
                    return l;
                }
                let lead = l.len() - l.trim_start_matches(' ').len();
                l.get(lead.min(indent)..).unwrap_or_default().to_string()
            };
            out.push_str(&unindent(line));
            out.push('\n');
            i += 1;
            while i < lines.len() {
                let l = lines[i];
                out.push_str(&unindent(l));
                out.push('\n');
                i += 1;
                if fence_marker(l.trim_start()).is_some_and(|f| f.starts_with(mark) && f.len() >= fence.len())
                    && l.trim_start().trim_start_matches(mark).trim().is_empty()
                {
                    if doubled && lines.get(i).is_some_and(|l| is_bare_fence(l)) {
                        i += 1;
                    }
                    break;
                }
            }
            continue;
        }
        if let Some(root) = html_block_start(trimmed)
            && last_close
                .entry(root.clone())
                .or_insert_with(|| {
                    let close = format!("</{root}");
                    lines.iter().rposition(|l| l.len() > close.len() && l.to_ascii_lowercase().contains(&close))
                })
                .is_some_and(|last| last >= i)
            && let Some((end, chunk)) = html_chunk(lines, i, &root)
        {
            if is_page_source(&chunk) {
                // A page's source the author pasted as text (`<nav>`, `<button>`, `<meta>`): shown
                // as written, every tag escaped.
                for l in &lines[i..end] {
                    clean_markdown_line(&escape_tags(l), "", &mut out);
                }
            } else {
                out.push('\n');
                out.push_str(&markdown::convert(&escape_foreign_tags(&undo_exporter_escapes(&chunk))).markdown);
                out.push('\n');
            }
            i = end;
            continue;
        }
        let ahead = if line.contains('<') { paragraph_after(lines, i) } else { String::new() };
        clean_markdown_line(line, &ahead, &mut out);
        i += 1;
    }
    out
}

/// The lines after `at` up to the paragraph's end, lower-cased: where an inline element opened on
/// line `at` may close.
fn paragraph_after(lines: &[&str], at: usize) -> String {
    let mut s = String::new();
    for l in lines.iter().skip(at + 1).take(40).take_while(|l| !l.trim().is_empty()) {
        s.push_str(&l.to_ascii_lowercase());
        s.push('\n');
    }
    s
}

/// Repairs one Markdown line; a `<br>` inside it splits it in two. Each repair runs only where
/// its trigger appears: most lines need none. `ahead` is the rest of the paragraph, lower case.
fn clean_markdown_line(line: &str, ahead: &str, out: &mut String) {
    // Invisible characters go first: `*\u{200d}*` is empty emphasis once they are gone.
    let line: Cow<str> = if crate::text::has_invisible(line) {
        Cow::Owned(line.chars().filter(|c| !crate::text::is_invisible(*c)).collect())
    } else {
        Cow::Borrowed(line)
    };
    let line: Cow<str> = if line.contains("&nbsp;") { Cow::Owned(line.replace("&nbsp;", "\u{a0}")) } else { line };
    let line: Cow<str> = if line.contains('<') { Cow::Owned(strip_inline_html(&line, ahead)) } else { line };
    for piece in line.split('\n') {
        let plain = !piece.contains(['\u{a0}', '*', '[', '#']) && !piece.contains("](") && piece.trim() != "**";
        if plain {
            out.push_str(piece);
            out.push('\n');
            continue;
        }
        let mut s = fold_nbsp(piece);
        if s.contains("****") {
            s = markdown::settle_stars(&s);
            // `<****Drinks****>` is a tag once the stars are gone: it is read again as one.
            if s.contains('<') {
                s = strip_inline_html(&s, ahead);
            }
        }
        if s.contains("](") {
            if s.contains(" \"\")") {
                s = EMPTY_LINK_TITLE.replace_all(&s, "$1)").into_owned();
            }
            let lower = s.to_ascii_lowercase();
            if lower.contains("](javascript:")
                || lower.contains("](vbscript:")
                || lower.contains("](data:")
                || s.contains("]()")
                || s.contains("]( ")
            {
                s = BAD_LINK.replace_all(&s, "$1$2").into_owned();
            }
            if s.contains("[](") {
                s = EMPTY_TEXT_LINK.replace_all(&s, "$1").into_owned();
            }
            if s.contains("![]()") {
                s = s.replace("![]()", "");
            }
        }
        if s.trim().chars().all(|c| c == '*') || is_empty_heading(&s) {
            s.clear();
        }
        out.push_str(&s);
        out.push('\n');
    }
}

/// A heading with nothing to say: `##`, `### **` (its emphasis emptied).
pub(crate) fn is_empty_heading(line: &str) -> bool {
    let t = line.trim_start_matches(' ');
    let hashes = t.len() - t.trim_start_matches('#').len();
    (1..=6).contains(&hashes) && line.len() - t.len() <= 3 && is_blank_md(t.get(hashes..).unwrap_or_default())
}

/// Only white space and emphasis markers.
fn is_blank_md(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || c == '*' || c == '_')
}

/// Runs of NBSP (mixed with spaces) become one space; leading ones are kept as plain spaces
/// so that list and code indentation keep their meaning.
fn fold_nbsp(s: &str) -> String {
    if !s.contains('\u{a0}') {
        return s.to_string();
    }
    let lead = s.len() - s.trim_start_matches([' ', '\u{a0}']).len();
    let lead_spaces = s.get(..lead).unwrap_or_default().chars().count();
    let mut out = " ".repeat(lead_spaces.min(3));
    let mut in_run = false;
    for c in s.get(lead..).unwrap_or_default().chars() {
        if c == '\u{a0}' || c == ' ' {
            if !in_run {
                out.push(' ');
            }
            in_run = true;
        } else {
            in_run = false;
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_block_and_trailer_go() {
        let body = "\n# T\n\n![cover_image](https://c/0)\n\n# T\n\n原创\n\n作者\n\n账号\n\n正文第一段。\n\n![](https://i/1/640)\n\n预览时标签不可点\n\n![]()\n\n微信扫一扫\n关注该公众号\n\n![](http://a/avatar/0?wx_fmt=png)\n\n账号\n\n：\n，\n。\n\n视频\n小程序\n赞\n";
        let c = clean(body, "T", "账号");
        assert_eq!(c.cover.as_deref(), Some("https://c/0"));
        assert_eq!(c.body, "正文第一段。\n\n![](https://i/1/640)\n");
    }

    #[test]
    fn chrome_words_inside_prose_stay() {
        let body = "\n# T\n\n可以微信扫一扫登入\n\n赞\n";
        assert_eq!(clean(body, "T", "S").body, "可以微信扫一扫登入\n\n赞\n");
    }

    fn clean_line(line: &str) -> Vec<String> {
        let mut out = String::new();
        clean_markdown_line(line, "", &mut out);
        out.strip_suffix('\n').unwrap_or(&out).split('\n').map(str::to_string).collect()
    }

    #[test]
    fn inline_html_and_hidden_words() {
        assert_eq!(
            clean_line(r#"补<span style="font:0px Vrs">&lt;河桥&gt;</span>贴 <br/>下一行<o:p></o:p>"#),
            vec!["补贴 ".to_string(), "下一行".to_string()]
        );
        assert_eq!(
            clean_line("List<String> and `a<b>` <https://x.y>"),
            vec!["List\\<String> and `a<b>` <https://x.y>"]
        );
        assert_eq!(clean_line("**** [x](javascript:void(0)) ![](u \"\") [](https://e)"), vec![" x ![](u) "]);
    }

    #[test]
    fn emphasis_split_by_invisible_joiners_is_one() {
        assert_eq!(clean_line("**漏洞**\u{200d}**预警**"), vec!["**漏洞预警**"]);
        assert_eq!(clean_line("**\u{200d}**正文"), vec!["正文"]);
        assert_eq!(clean_line("**06******"), vec!["**06**"]);
    }

    #[test]
    fn html_blocks_become_markdown() {
        let body =
            "\n# T\n\n<table><tbody><tr><td>a</td><td>b</td></tr><tr><td>1</td><td>2</td></tr></tbody></table>\n正文";
        assert_eq!(clean(body, "T", "S").body, "| a | b |\n| --- | --- |\n| 1 | 2 |\n\n正文\n");
    }
}
