//! Atom feeds of the archive (`wxsec feed`): one per account and one for everything, newest
//! entries first, each entry the whole record rendered to HTML. Entry ids come from the article's
//! canonical id, so a reader never shows an article twice, however often the feeds are rewritten;
//! a feed whose records did not change is rewritten byte for byte the same.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag};
use serde::Serialize;

use crate::archive::State;
use crate::archive::index::{self, Listed, strip_title_line};
use crate::error::Result;

/// Settings of `wxsec feed`.
#[derive(Debug, Clone)]
pub struct FeedOptions {
    /// The archive folder (record paths in the index are relative to it).
    pub root: PathBuf,
    /// Where the feeds go (`ROOT/feeds` by default).
    pub dest: PathBuf,
    /// Entries per feed.
    pub entries: usize,
    /// Where the feeds folder is served (`https://example.org/feeds`): the feeds' self links and
    /// the OPML's `xmlUrl`s are then absolute, as readers importing the OPML need. Without it
    /// they are the files' names, relative to the feeds folder.
    pub base_url: Option<String>,
}

impl FeedOptions {
    /// The address a feed file is linked by.
    fn link(&self, name: &str) -> String {
        match &self.base_url {
            Some(base) => format!("{}/{name}", base.trim_end_matches('/')),
            None => name.to_string(),
        }
    }
}

/// What `wxsec feed` wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FeedSummary {
    /// Feed files written (the accounts' and `all.atom`).
    pub feeds: usize,
    /// Entries in `all.atom`.
    pub entries: usize,
    /// Records in the index whose file could not be read (left out of the feeds rewritten).
    pub missing: usize,
    /// Feeds rendered and written (their entries changed, or the file was missing).
    pub rewritten: usize,
    /// Feeds whose entries did not change since they were written: not rendered again.
    pub unchanged: usize,
}

/// Writes `all.atom`, one `{account}.atom` per account and `feeds.opml` listing them. A feed
/// whose entries are the ones it was last written with (the index says so, by their paths and
/// file hashes) is not rendered again.
pub fn write_feeds(state: &State, opts: &FeedOptions) -> Result<FeedSummary> {
    let mut summary = FeedSummary::default();
    let mut opml = Vec::new();
    // What a feed's bytes depend on besides its entries.
    let salt = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        env!("CARGO_PKG_VERSION"),
        opts.root.display(),
        opts.dest.display(),
        opts.entries,
        opts.base_url.as_deref().unwrap_or_default()
    );
    for plan in index::feed_plans(state, opts.entries)? {
        let (name, id, title) = match &plan.account {
            None => ("all.atom".to_string(), "urn:wxsec:feed:all".to_string(), "wxsec: every account".to_string()),
            Some(account) => {
                (format!("{}.atom", file_safe(account)), format!("urn:wxsec:feed:{account}"), plan.source.clone())
            }
        };
        if plan.entries == 0 && plan.account.is_some() {
            continue;
        }
        let signature = format!("{:016x}", crate::store::fnv1a(format!("{salt}{}", plan.signature).as_bytes()));
        let current = index::feed_signature(state, &name)?.as_deref() == Some(signature.as_str())
            && opts.dest.join(&name).is_file();
        if current {
            summary.unchanged += 1;
        } else {
            let rows = index::newest(state, plan.account.as_deref(), opts.entries)?;
            let (xml, _) = render(&id, &title, &name, &rows, opts, &mut summary);
            write(opts, &name, &xml)?;
            index::set_feed_signature(state, &name, &signature)?;
            summary.rewritten += 1;
        }
        summary.feeds += 1;
        match plan.account {
            None => summary.entries = plan.entries,
            Some(_) => opml.push((title, name)),
        }
    }
    let mut o = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n<head><title>wxsec feeds</title></head>\n<body>\n",
    );
    let _ = writeln!(
        o,
        "<outline type=\"rss\" text=\"wxsec: every account\" xmlUrl=\"{}\"/>",
        xml_escape(&opts.link("all.atom"))
    );
    for (title, name) in &opml {
        let _ = writeln!(
            o,
            "<outline type=\"rss\" text=\"{}\" xmlUrl=\"{}\"/>",
            xml_escape(title),
            xml_escape(&opts.link(name))
        );
    }
    o.push_str("</body>\n</opml>\n");
    write(opts, "feeds.opml", &o)?;
    Ok(summary)
}

fn write(opts: &FeedOptions, name: &str, xml: &str) -> Result<()> {
    // Rewriting an unchanged feed would only change its mtime, and readers polling with
    // If-Modified-Since would download it again.
    let path = opts.dest.join(name);
    if std::fs::read(&path).is_ok_and(|old| old == xml.as_bytes()) {
        return Ok(());
    }
    crate::store::write_atomic(&opts.dest, Path::new(name), xml.as_bytes()).map(|_| ())
}

/// An account number or name as a file name.
fn file_safe(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect()
}

/// An RFC 3339 time for Atom from a record's dates: the download time, else the publish day.
/// Both come from record files, which anyone may have edited, so they are parsed, never sliced.
pub fn atom_time(date: &str, fetch_date: &str) -> String {
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(fetch_date.trim(), "%Y-%m-%dT%H:%M:%S%.f") {
        return t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    day_start(date.trim()).unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string())
}

/// The start of a publish day (`YYYY-MM-DD`, China Standard Time) in RFC 3339.
fn day_start(date: &str) -> Option<String> {
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
    Some(day.format("%Y-%m-%dT00:00:00+08:00").to_string())
}

fn render(
    id: &str,
    title: &str,
    self_name: &str,
    rows: &[Listed],
    opts: &FeedOptions,
    summary: &mut FeedSummary,
) -> (String, usize) {
    let updated =
        rows.iter().map(|r| atom_time(&r.date, &r.fetch_date)).max().unwrap_or_else(|| "1970-01-01T00:00:00Z".into());
    let mut x = String::with_capacity(64 * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let _ = writeln!(x, "  <id>{}</id>", xml_escape(id));
    let _ = writeln!(x, "  <title>{}</title>", xml_escape(title));
    let _ = writeln!(x, "  <updated>{updated}</updated>");
    let _ = writeln!(x, "  <link rel=\"self\" href=\"{}\"/>", xml_escape(&opts.link(self_name)));
    let _ = writeln!(x, "  <generator version=\"{}\">wxsec</generator>", env!("CARGO_PKG_VERSION"));
    let mut n = 0;
    for r in rows {
        let file = if Path::new(&r.path).is_absolute() { PathBuf::from(&r.path) } else { opts.root.join(&r.path) };
        let Some(markdown) = record_body(&file, &r.title) else {
            summary.missing += 1;
            continue;
        };
        let html = to_html(&markdown, &file, opts);
        let entry_id = match &r.key {
            Some(k) => format!("urn:wxsec:article:{k}"),
            None if !r.url.is_empty() => r.url.clone(),
            None => format!("urn:wxsec:record:{:016x}", crate::store::fnv1a(r.path.as_bytes())),
        };
        x.push_str("  <entry>\n");
        let _ = writeln!(x, "    <id>{}</id>", xml_escape(&entry_id));
        let _ = writeln!(x, "    <title>{}</title>", xml_escape(&r.title));
        if !r.url.is_empty() {
            let _ = writeln!(x, "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>", xml_escape(&r.url));
        }
        if let Some(published) = day_start(&r.date) {
            let _ = writeln!(x, "    <published>{published}</published>");
        }
        let _ = writeln!(x, "    <updated>{}</updated>", atom_time(&r.date, &r.fetch_date));
        let _ = writeln!(x, "    <author><name>{}</name></author>", xml_escape(&r.source));
        let _ = writeln!(x, "    <category term=\"{}\" label=\"{}\"/>", xml_escape(&r.account), xml_escape(&r.source));
        for id in &r.ids {
            let _ = writeln!(x, "    <category term=\"{}\"/>", xml_escape(id));
        }
        let _ = writeln!(x, "    <content type=\"html\">{}</content>", xml_escape(&html));
        x.push_str("  </entry>\n");
        n += 1;
    }
    x.push_str("</feed>\n");
    (x, n)
}

/// The Markdown of a record file without its front matter and `# title` line.
fn record_body(file: &Path, title: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    if file.extension().is_some_and(|e| e == "json") {
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let md = v.get("markdown")?.as_str()?;
        return Some(strip_title_line(md, title).to_string());
    }
    let p = crate::record::formats::parse(&text)?;
    Some(strip_title_line(&p.body, title).to_string())
}

/// Markdown to HTML for a feed reader: raw HTML in a record is shown as text (a record is data,
/// not markup to run), unsafe link schemes are dropped, and relative links (local images) are
/// made relative to the feed's folder.
pub fn to_html(markdown: &str, record_file: &Path, opts: &FeedOptions) -> String {
    let record_dir = record_file.parent().unwrap_or(Path::new(""));
    let fix = |dest: CowStr<'_>| -> CowStr<'static> {
        let d = dest.to_string();
        if !crate::markdown::is_safe_url(&d) {
            return CowStr::from("");
        }
        if d.contains("://") || d.starts_with("mailto:") || d.starts_with('/') {
            return CowStr::from(d);
        }
        CowStr::from(crate::assets::relative_to(&record_dir.join(&d), &opts.dest))
    };
    let events = Parser::new_ext(markdown, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH).map(|ev| match ev {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Link { link_type, dest_url: fix(dest_url), title, id })
        }
        Event::Start(Tag::Image { link_type, dest_url, title, id }) => {
            Event::Start(Tag::Image { link_type, dest_url: fix(dest_url), title, id })
        }
        other => other,
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    html
}

/// Text for XML character data and attribute values; characters XML 1.0 forbids are dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{fffe}' | '\u{ffff}') => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_safe_and_links_follow_the_feed() {
        let opts = FeedOptions { root: "/a".into(), dest: "/a/feeds".into(), entries: 5, base_url: None };
        let html = to_html(
            "x <script>alert(1)</script>\n\n![p](../assets/ab/c.png) [j](javascript:alert(1)) [w](https://x.example/)",
            Path::new("/a/3093190038/1_1.md"),
            &opts,
        );
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains("src=\"../assets/ab/c.png\""), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains("href=\"https://x.example/\""), "{html}");
        assert_eq!(xml_escape("a<b>&\u{1}\"c"), "a&lt;b&gt;&amp;&quot;c");
    }
}
