//! The crawl's settings: one struct read from the TOML config and from the command line, the
//! command line winning.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::assets::Images;
use crate::error::{Error, Result};
use crate::store::Format;

/// Settings as written (every field optional); examples/wxsec.toml is the commented example.
#[derive(Debug, Clone, Default, Deserialize, clap::Args)]
#[serde(deny_unknown_fields)]
pub struct CrawlSettings {
    /// The archive folder [default: ./archive].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The state file [default: OUT/.wxsec/state.sqlite], or a `postgres://` address that
    /// several crawl hosts share.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Record format: md or json [default: md].
    #[arg(long, value_parser = ["md", "json"])]
    pub format: Option<String>,
    /// Seconds between requests to mp.weixin.qq.com [default: 3].
    #[arg(long)]
    pub delay: Option<f64>,
    /// Seconds between requests to a feed's host [default: 1].
    #[arg(long)]
    pub feed_delay: Option<f64>,
    /// Random extra spacing, as a fraction of the delay [default: 0.5].
    #[arg(long)]
    pub jitter: Option<f64>,
    /// Attempts before an article is given up [default: 5].
    #[arg(long)]
    pub max_attempts: Option<u32>,
    /// Seconds before the first retry; doubled at each further one [default: 60].
    #[arg(long)]
    pub retry_base: Option<f64>,
    /// Seconds to leave WeChat alone after its verification page [default: 21600].
    #[arg(long)]
    pub cooldown: Option<f64>,
    /// Seconds a run waits for retries that fall due while it runs [default: 30].
    #[arg(long)]
    pub max_wait: Option<f64>,
    /// Seconds a host holds an article or source it claimed in a shared state; a host killed
    /// mid-run lets go when this runs out [default: 600].
    #[arg(long)]
    pub lease: Option<f64>,
    /// Seconds one request may take [default: 60].
    #[arg(long)]
    pub timeout: Option<u64>,
    /// How many links deep to follow other articles of the same account [default: 0, off].
    #[arg(long)]
    pub follow_depth: Option<u32>,
    /// Most articles added by following, per run [default: 20].
    #[arg(long)]
    pub follow_max: Option<u32>,
    /// Write the security entities into the Markdown front matter too (`cves: [...]`).
    #[arg(long)]
    #[serde(default)]
    pub extra_fields: bool,
    /// Images: keep WeChat's links (remote) or download them into OUT/assets (local) [default: remote].
    #[arg(long, value_enum)]
    pub images: Option<Images>,
    /// Seconds between requests to an image host [default: 1].
    #[arg(long)]
    pub image_delay: Option<f64>,
    /// A host images may be downloaded from although it is not a public address (loopback,
    /// private, link-local); repeatable. Without it such hosts are refused.
    #[arg(long = "allow-image-host", value_name = "HOST")]
    #[serde(default)]
    pub allow_image_hosts: Vec<String>,
    /// Rewrite the Atom feeds of the archive (OUT/feeds) after a run that wrote records.
    #[arg(long)]
    #[serde(default)]
    pub write_feeds: bool,
    /// Entries per feed [default: 50].
    #[arg(long)]
    pub feed_entries: Option<usize>,
    /// A file of article addresses, one per line (repeatable; adds to the config's sources).
    #[arg(long = "urls")]
    #[serde(skip)]
    pub urls_files: Vec<PathBuf>,
    /// An RSS, Atom or JSON Feed address (repeatable; adds to the config's sources).
    #[arg(long = "feed")]
    #[serde(skip)]
    pub feeds: Vec<String>,
    /// The file holding the `Cookie` header of a logged-in weread.qq.com browser, one line, for
    /// `weread` sources (renewed in place, its mode kept).
    #[arg(long)]
    pub weread_cookie_file: Option<PathBuf>,
    /// Seconds between requests to weread.qq.com [default: 5].
    #[arg(long)]
    pub weread_delay: Option<f64>,
    /// Sources of the config file (`[[source]]` tables).
    #[arg(skip)]
    #[serde(default, rename = "source")]
    pub sources: Vec<SourceConfig>,
}

/// One `[[source]]` table: exactly one of `urls`, `feed`, `album`, `weread`, `opml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A name for `wxsec status` [default: the file or address].
    pub name: Option<String>,
    /// A file of article addresses.
    pub urls: Option<PathBuf>,
    /// An RSS, Atom or JSON Feed address.
    pub feed: Option<String>,
    /// A WeChat album (合集) address.
    pub album: Option<String>,
    /// An account's history through WeRead: its `__biz`, an article address of it, or its
    /// WeRead id (`MP_WXS_3248194593`).
    pub weread: Option<String>,
    /// A list of feeds (OPML), a path or an http(s) address: every outline with an `xmlUrl` is a
    /// feed source, with this table's `content` and `account`.
    pub opml: Option<String>,
    /// For a feed: `"feed"` writes each item that carries the whole article from the item itself,
    /// asking mp.weixin.qq.com nothing (full-text bridges: wewe-rss, we-mp-rss, RSSHub); items
    /// with only a summary are fetched as with `"page"`, the default.
    pub content: Option<String>,
    /// For a feed written from its items: the account's name, when the feed's title is not it.
    pub account: Option<String>,
}

/// Where articles are found.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A file of addresses.
    Urls {
        /// Name in the state.
        name: String,
        /// The file.
        path: PathBuf,
    },
    /// A feed.
    Feed {
        /// Name in the state.
        name: String,
        /// The feed's address.
        url: String,
        /// Items carrying the whole article are written from the feed (`content = "feed"`).
        full_text: bool,
        /// The account of its items, when the config names it.
        account: Option<String>,
    },
    /// An album page.
    Album {
        /// Name in the state.
        name: String,
        /// The album's address.
        url: String,
    },
    /// An account's list in WeRead.
    Weread {
        /// Name in the state.
        name: String,
        /// The account's WeRead id (`MP_WXS_<decimal __biz>`).
        book_id: String,
    },
    /// A list of feeds.
    Opml {
        /// Name in the state.
        name: String,
        /// A path or an http(s) address.
        location: String,
        /// `content = "feed"` for each of its feeds.
        full_text: bool,
        /// `account` for each of its feeds.
        account: Option<String>,
    },
}

impl Source {
    /// The name the state keeps it under.
    pub fn name(&self) -> &str {
        match self {
            Source::Urls { name, .. }
            | Source::Feed { name, .. }
            | Source::Album { name, .. }
            | Source::Weread { name, .. }
            | Source::Opml { name, .. } => name,
        }
    }

    /// Its kind, as `wxsec status` names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Urls { .. } => "urls",
            Source::Feed { .. } => "feed",
            Source::Album { .. } => "album",
            Source::Weread { .. } => "weread",
            Source::Opml { .. } => "opml",
        }
    }
}

/// Settings with every default applied and every path resolved.
#[derive(Debug, Clone)]
pub struct CrawlConfig {
    /// Archive folder.
    pub out: PathBuf,
    /// State file.
    pub state: PathBuf,
    /// Record format.
    pub format: Format,
    /// Spacing of requests to WeChat.
    pub delay: Duration,
    /// Spacing of requests to a feed host.
    pub feed_delay: Duration,
    /// Jitter fraction.
    pub jitter: f64,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// First retry wait.
    pub retry_base: Duration,
    /// Cool-down after a verification page.
    pub cooldown: Duration,
    /// Longest wait within a run for retries.
    pub max_wait: Duration,
    /// How long a claim in a shared state holds.
    pub lease: Duration,
    /// Request timeout.
    pub timeout: Duration,
    /// Follow depth (0: off).
    pub follow_depth: u32,
    /// Follow budget per run.
    pub follow_max: u32,
    /// Entities in the front matter.
    pub extra_fields: bool,
    /// What to do with images.
    pub images: Images,
    /// Spacing of requests to an image host.
    pub image_delay: Duration,
    /// Non-public hosts images may come from.
    pub image_allow: crate::fetch::guard::Allowed,
    /// Rewrite the feeds after a run that wrote records.
    pub write_feeds: bool,
    /// Entries per feed.
    pub feed_entries: usize,
    /// The sources.
    pub sources: Vec<Source>,
    /// The WeRead login's cookie file, for `weread` sources.
    pub weread_cookie_file: Option<PathBuf>,
    /// Spacing of requests to weread.qq.com.
    pub weread_delay: Duration,
}

impl CrawlSettings {
    /// Reads a TOML config file. Relative paths in it are taken from the file's folder.
    pub fn from_file(path: &Path) -> Result<CrawlSettings> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("cannot read the configuration: {e}"),
        })?;
        CrawlSettings::from_toml(&text, path)
    }

    /// Reads the TOML of a config file at `path` (which names it in errors and anchors relative
    /// paths).
    pub fn from_toml(text: &str, path: &Path) -> Result<CrawlSettings> {
        let mut s: CrawlSettings =
            toml::from_str(text).map_err(|e| Error::Config { path: path.to_path_buf(), message: e.to_string() })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        if let Some(p) = s.out.as_mut() {
            resolve(p);
        }
        if let Some(p) = s.state.as_mut().filter(|p| !crate::archive::is_server(p)) {
            resolve(p);
        }
        if let Some(p) = s.weread_cookie_file.as_mut() {
            resolve(p);
        }
        for src in &mut s.sources {
            if let Some(p) = src.urls.as_mut() {
                resolve(p);
            }
            // An OPML list given as a path is read from beside the configuration too.
            if let Some(o) = src.opml.as_mut()
                && !o.starts_with("http://")
                && !o.starts_with("https://")
                && Path::new(o.as_str()).is_relative()
            {
                *o = base.join(o.as_str()).to_string_lossy().into_owned();
            }
        }
        Ok(s)
    }

    /// This struct over `base`: every field set here wins.
    pub fn over(self, base: CrawlSettings) -> CrawlSettings {
        let mut sources = base.sources;
        sources.extend(self.sources);
        let mut urls_files = base.urls_files;
        urls_files.extend(self.urls_files);
        let mut feeds = base.feeds;
        feeds.extend(self.feeds);
        CrawlSettings {
            out: self.out.or(base.out),
            state: self.state.or(base.state),
            format: self.format.or(base.format),
            delay: self.delay.or(base.delay),
            feed_delay: self.feed_delay.or(base.feed_delay),
            jitter: self.jitter.or(base.jitter),
            max_attempts: self.max_attempts.or(base.max_attempts),
            retry_base: self.retry_base.or(base.retry_base),
            cooldown: self.cooldown.or(base.cooldown),
            max_wait: self.max_wait.or(base.max_wait),
            lease: self.lease.or(base.lease),
            timeout: self.timeout.or(base.timeout),
            follow_depth: self.follow_depth.or(base.follow_depth),
            follow_max: self.follow_max.or(base.follow_max),
            extra_fields: self.extra_fields || base.extra_fields,
            images: self.images.or(base.images),
            image_delay: self.image_delay.or(base.image_delay),
            allow_image_hosts: [base.allow_image_hosts, self.allow_image_hosts].concat(),
            write_feeds: self.write_feeds || base.write_feeds,
            feed_entries: self.feed_entries.or(base.feed_entries),
            weread_cookie_file: self.weread_cookie_file.or(base.weread_cookie_file),
            weread_delay: self.weread_delay.or(base.weread_delay),
            urls_files,
            feeds,
            sources,
        }
    }

    /// Applies the defaults and checks every value; `origin` names where the settings came from.
    pub fn resolve(self, origin: &Path) -> Result<CrawlConfig> {
        let bad = |message: String| Error::Config { path: origin.to_path_buf(), message };
        let secs = |name: &str, v: Option<f64>, default: f64| -> Result<Duration> {
            let v = v.unwrap_or(default);
            if !(0.0..=31_536_000.0).contains(&v) {
                return Err(bad(format!("{name} = {v}: seconds from 0 to a year")));
            }
            Ok(Duration::from_secs_f64(v))
        };
        let out = self.out.unwrap_or_else(|| PathBuf::from("archive"));
        let state = self.state.unwrap_or_else(|| out.join(".wxsec/state.sqlite"));
        let format = match self.format.as_deref().unwrap_or("md") {
            "md" => Format::Markdown,
            "json" => Format::Json,
            other => return Err(bad(format!("format = {other:?}: md or json"))),
        };
        let mut sources = Vec::new();
        for (i, s) in self.sources.into_iter().enumerate() {
            let given = [s.urls.is_some(), s.feed.is_some(), s.album.is_some(), s.weread.is_some(), s.opml.is_some()]
                .iter()
                .filter(|b| **b)
                .count();
            if given != 1 {
                return Err(bad(format!("source {}: give exactly one of urls, feed, album, weread, opml", i + 1)));
            }
            if s.feed.is_none() && s.opml.is_none() && (s.content.is_some() || s.account.is_some()) {
                return Err(bad(format!("source {}: content and account apply to feed and opml sources only", i + 1)));
            }
            let full_text = match s.content.as_deref() {
                None | Some("page") => false,
                Some("feed") => true,
                Some(other) => return Err(bad(format!("source {}: content = {other:?}: \"feed\" or \"page\"", i + 1))),
            };
            let account = s.account.filter(|a| !a.trim().is_empty());
            let source = if let Some(path) = s.urls {
                Source::Urls { name: s.name.unwrap_or_else(|| format!("urls:{}", path.display())), path }
            } else if let Some(url) = s.feed {
                check_http(&url).map_err(|m| bad(format!("source {}: {m}", i + 1)))?;
                Source::Feed { name: s.name.unwrap_or_else(|| format!("feed:{url}")), url, full_text, account }
            } else if let Some(given) = s.weread {
                let book_id = crate::crawl::weread::book_id(&given).ok_or_else(|| {
                    bad(format!(
                        "source {}: weread {given:?} is no account: give its __biz (MzI0ODE5NDU5Mw==), a long article address of it, or MP_WXS_… (`wxsec account ADDRESS` finds them for a short link)",
                        i + 1
                    ))
                })?;
                Source::Weread { name: s.name.unwrap_or_else(|| format!("weread:{book_id}")), book_id }
            } else if let Some(location) = s.opml {
                if location.starts_with("http://") || location.starts_with("https://") {
                    check_http(&location).map_err(|m| bad(format!("source {}: {m}", i + 1)))?;
                }
                Source::Opml {
                    name: s.name.unwrap_or_else(|| format!("opml:{location}")),
                    location,
                    full_text,
                    account,
                }
            } else {
                let url = s.album.unwrap_or_default();
                let ok = crate::article::article_address(&url).is_some_and(|u| u.path() == "/mp/appmsgalbum")
                    && crate::crawl::album::album_of(&url).is_some();
                if !ok {
                    return Err(bad(format!(
                        "source {}: album {url:?} is not an mp.weixin.qq.com/mp/appmsgalbum address with __biz and album_id",
                        i + 1
                    )));
                }
                Source::Album { name: s.name.unwrap_or_else(|| format!("album:{url}")), url }
            };
            sources.push(source);
        }
        for path in self.urls_files {
            sources.push(Source::Urls { name: format!("urls:{}", path.display()), path });
        }
        for url in self.feeds {
            check_http(&url).map_err(bad)?;
            sources.push(Source::Feed { name: format!("feed:{url}"), url, full_text: false, account: None });
        }
        // A count or a timeout of 0 would do nothing useful: said, never silently raised.
        let at_least_one = |name: &str, v: Option<u64>, default: u64, most: u64| match v {
            None => Ok(default),
            Some(n) if (1..=most).contains(&n) => Ok(n),
            Some(n) => Err(bad(format!("{name} = {n}: from 1 to {most}"))),
        };
        let max_attempts = at_least_one("max_attempts", self.max_attempts.map(u64::from), 5, 1000)? as u32;
        let timeout = at_least_one("timeout", self.timeout, 60, 3600)?;
        let feed_entries = at_least_one("feed_entries", self.feed_entries.map(|n| n as u64), 50, 100_000)? as usize;
        let jitter = self.jitter.unwrap_or(0.5);
        if !(0.0..=4.0).contains(&jitter) {
            return Err(bad(format!("jitter = {jitter}: a fraction from 0 to 4")));
        }
        let weread_cookie_file = self.weread_cookie_file;
        if weread_cookie_file.is_none() && sources.iter().any(|s| matches!(s, Source::Weread { .. })) {
            return Err(bad(
                "a weread source needs weread_cookie_file = \"PATH\": the Cookie header of your logged-in weread.qq.com browser (docs/finding-articles.md)".to_string(),
            ));
        }
        Ok(CrawlConfig {
            weread_cookie_file,
            weread_delay: secs("weread_delay", self.weread_delay, 5.0)?,
            out,
            state,
            format,
            delay: secs("delay", self.delay, 3.0)?,
            feed_delay: secs("feed_delay", self.feed_delay, 1.0)?,
            jitter,
            max_attempts,
            retry_base: secs("retry_base", self.retry_base, 60.0)?,
            cooldown: secs("cooldown", self.cooldown, 21_600.0)?,
            max_wait: secs("max_wait", self.max_wait, 30.0)?,
            lease: secs("lease", self.lease, 600.0)?,
            timeout: Duration::from_secs(timeout),
            follow_depth: self.follow_depth.unwrap_or(0),
            follow_max: self.follow_max.unwrap_or(20),
            extra_fields: self.extra_fields,
            images: self.images.unwrap_or_default(),
            image_delay: secs("image_delay", self.image_delay, 1.0)?,
            image_allow: crate::fetch::guard::Allowed::new(&self.allow_image_hosts),
            write_feeds: self.write_feeds,
            feed_entries,
            sources,
        })
    }
}

/// `Ok` when `url` is an http(s) address with a host (a feed, a base for feed links).
pub fn check_http(url: &str) -> std::result::Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => Ok(()),
        _ => Err(format!("{url:?} is not an http(s) address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_flags_merge() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("wxsec.toml");
        std::fs::write(
            &cfg,
            "out = \"arch\"\ndelay = 5\n[[source]]\nurls = \"list.txt\"\n[[source]]\nname = \"bridge\"\nfeed = \"https://rss.example/a.xml\"\n",
        )
        .unwrap();
        let file = CrawlSettings::from_file(&cfg).unwrap();
        let flags = CrawlSettings { delay: Some(1.0), ..Default::default() };
        let c = flags.over(file).resolve(&cfg).unwrap();
        assert_eq!(c.out, dir.path().join("arch"));
        assert_eq!(c.state, dir.path().join("arch/.wxsec/state.sqlite"));
        assert_eq!(c.delay, Duration::from_secs(1));
        assert_eq!(c.sources.len(), 2);
        assert_eq!(c.sources[1].name(), "bridge");
    }

    #[test]
    fn a_server_address_is_kept_as_it_is() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("wxsec.toml");
        std::fs::write(&cfg, "state = \"postgres://wxsec@db/wxsec\"\nlease = 30\n[[source]]\nurls = \"l.txt\"\n")
            .unwrap();
        let c = CrawlSettings::from_file(&cfg).unwrap().resolve(&cfg).unwrap();
        assert_eq!(c.state, PathBuf::from("postgres://wxsec@db/wxsec"), "not a file beside the config");
        assert_eq!(c.lease, Duration::from_secs(30));
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "state = \"s.sqlite\"\n[[source]]\nurls = \"l.txt\"\n").unwrap();
        let c = CrawlSettings::from_file(&file).unwrap().resolve(&file).unwrap();
        assert_eq!(c.state, dir.path().join("s.sqlite"));
        assert_eq!(c.lease, Duration::from_secs(600));
    }

    #[test]
    fn mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("wxsec.toml");
        std::fs::write(&cfg, "delayy = 5\n").unwrap();
        assert!(CrawlSettings::from_file(&cfg).err().unwrap().to_string().contains("unknown field"));
        std::fs::write(&cfg, "[[source]]\nfeed = \"x\"\nurls = \"y\"\n").unwrap();
        let e = CrawlSettings::from_file(&cfg).unwrap().resolve(&cfg).err().unwrap().to_string();
        assert!(e.contains("exactly one"), "{e}");
        // Zero counts and timeouts are refused, as a negative delay is, never raised to 1.
        for (line, says) in [
            ("feed_entries = 0", "feed_entries = 0: from 1 to 100000"),
            ("max_attempts = 0", "max_attempts = 0: from 1 to 1000"),
            ("timeout = 0", "timeout = 0: from 1 to 3600"),
            ("timeout = 7200", "timeout = 7200: from 1 to 3600"),
            ("delay = -1", "delay"),
        ] {
            std::fs::write(&cfg, format!("{line}\n[[source]]\nfeed = \"https://x.example/f\"\n")).unwrap();
            let e = CrawlSettings::from_file(&cfg).unwrap().resolve(&cfg).err().unwrap().to_string();
            assert!(e.contains(says), "{line}: {e}");
        }
        std::fs::write(
            &cfg,
            "feed_entries = 1\nmax_attempts = 1\ntimeout = 1\n[[source]]\nfeed = \"https://x.example/f\"\n",
        )
        .unwrap();
        let c = CrawlSettings::from_file(&cfg).unwrap().resolve(&cfg).unwrap();
        assert_eq!((c.feed_entries, c.max_attempts, c.timeout.as_secs()), (1, 1, 1));
    }
}
