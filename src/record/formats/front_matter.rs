//! The front-matter format: `---`, then `title`, `url`, `source`, `date`, `fetch_date` as key
//! lines (wxsec's records, and the seed archive's, whose values are not always valid YAML: a title
//! over several lines, an unquoted colon), then `---` and the body.

use regex::Regex;
use std::sync::LazyLock;

use super::{Format, Parsed, Reader, front_matter_of, is_date, normal_fetch_date, scalar};

pub(super) const KEYS: [&str; 5] = ["title", "url", "source", "date", "fetch_date"];

pub(super) static EXTRA_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z_][A-Za-z0-9_-]*:(\s|$)").unwrap());

pub(super) fn front_matter(rest: &str) -> Option<Parsed> {
    let end = rest.find("\n---\n").map(|e| (e + 1, e + 5)).or_else(|| {
        // A file that ends right after its front matter.
        rest.strip_suffix("\n---")
            .map(|r| (r.len() + 1, rest.len()))
            .or_else(|| rest.strip_suffix("\n---\n").map(|r| (r.len() + 1, rest.len())))
    })?;
    let head = rest.get(..end.0).unwrap_or_default();
    let body = rest.get(end.1.min(rest.len())..).unwrap_or_default();
    // Key lines start at column 0 with a known key; a line that does not continues the value
    // before it (multi-line titles are common in the seed archive).
    let mut values: Vec<(usize, String)> = Vec::new();
    for line in head.lines() {
        // Keys after the five (wxsec's own `--extra-fields`, or another tool's) are not carried
        // over: wxsec derives its extra facts from the record again.
        if values.iter().any(|(k, _)| *k == 4) && EXTRA_KEY.is_match(line) {
            break;
        }
        let key = KEYS.iter().position(|k| line.strip_prefix(k).is_some_and(|r| r.starts_with(':')));
        let next_expected = values.len();
        match key {
            Some(k) if k == next_expected || (k > next_expected && values.iter().all(|(v, _)| *v < k)) => {
                let v = line.get(KEYS[k].len() + 1..).unwrap_or_default().trim_start();
                values.push((k, v.to_string()));
            }
            _ => match values.last_mut() {
                Some((_, v)) => {
                    v.push('\n');
                    v.push_str(line);
                }
                None => return None,
            },
        }
    }
    let get = |k: usize| values.iter().find(|(i, _)| *i == k).map(|(_, v)| scalar(v)).unwrap_or_default();
    let date = get(3);
    let fetch_date = get(4);
    Some(Parsed {
        title: get(0),
        url: get(1),
        source: get(2),
        date: if is_date(date.trim()) { date.trim().to_string() } else { String::new() },
        fetch_date: normal_fetch_date(fetch_date.trim()),
        body: body.to_string(),
        format: Format::FrontMatter,
    })
}

/// The front-matter format: wxsec's records and the seed archive's key lines.
pub struct FrontMatter;

impl Reader for FrontMatter {
    fn formats(&self) -> &'static [Format] {
        &[Format::FrontMatter]
    }

    fn read(&self, text: &str) -> Option<Parsed> {
        front_matter_of(text).and_then(front_matter)
    }
}
