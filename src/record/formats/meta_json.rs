//! The `meta.json` backup tools keep beside an article's Markdown (a folder per article).

use super::{Format, Parsed, is_date};

/// The facts a backup tool keeps in a `meta.json` beside an article's files: `title`, `url`
/// (or `link`), `publish_time` (Unix seconds) or `date`, and the account when it names one
/// (`nickname`, `account`, `source`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sidecar {
    /// The article's title.
    pub title: String,
    /// Its address.
    pub url: String,
    /// Its publish time (Unix seconds), when given as one.
    pub publish_time: Option<i64>,
    /// Its publish day (`YYYY-MM-DD`, China), from the time or a `date`.
    pub date: String,
    /// The account, when the file names it.
    pub source: String,
}

impl Sidecar {
    /// The `meta.json` in the folder of `path`, when there is one that names a title.
    pub fn beside(path: &std::path::Path) -> Option<Sidecar> {
        let file = path.parent()?.join("meta.json");
        let text = std::fs::read(&file).ok().filter(|b| b.len() < 1 << 20)?;
        let v: serde_json::Value = serde_json::from_slice(&text).ok()?;
        let text = |keys: &[&str]| {
            keys.iter().find_map(|k| v.get(k).and_then(|x| x.as_str())).map(str::trim).unwrap_or_default().to_string()
        };
        let title = text(&["title"]);
        if title.is_empty() {
            return None;
        }
        let publish_time = ["publish_time", "create_time", "datetime"]
            .iter()
            .find_map(|k| v.get(k).and_then(|x| x.as_i64().or_else(|| x.as_str()?.trim().parse().ok())))
            .and_then(crate::record::plausible_publish_time);
        let date = publish_time
            .and_then(crate::record::china_day)
            .unwrap_or_else(|| Some(text(&["date"])).filter(|d| is_date(d)).unwrap_or_default());
        Some(Sidecar {
            title,
            url: text(&["url", "link", "content_url"]),
            publish_time,
            date,
            source: text(&["nickname", "account", "source"]),
        })
    }

    /// A Markdown body with no header of its own, read with these facts.
    pub fn parsed(&self, body: &str) -> Parsed {
        let body = body.strip_prefix('\u{feff}').unwrap_or(body).replace("\r\n", "\n");
        Parsed {
            title: self.title.clone(),
            url: self.url.clone(),
            source: self.source.clone(),
            date: self.date.clone(),
            fetch_date: String::new(),
            body,
            format: Format::MetaJson,
        }
    }
}
