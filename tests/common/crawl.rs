//! What the crawl tests share: corpus pages served as WeChat serves them, two article addresses,
//! an RSS feed, and a temporary archive with its configuration.

use std::path::PathBuf;

use assert_cmd::Command;
use wiremock::{MockServer, ResponseTemplate};

/// A corpus page's bytes.
pub fn page(name: &str) -> Vec<u8> {
    std::fs::read(super::corpus_dir().join("html").join(name)).unwrap()
}

/// A page as WeChat answers it.
pub fn html(body: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("content-type", "text/html; charset=utf-8").set_body_bytes(body)
}

/// Long address of article-07 (its page names this id), and of article-09.
pub const A07: &str =
    "https://mp.weixin.qq.com/s?__biz=MjM5ODYxMDA5OQ==&mid=2651960800&idx=1&sn=595842fb2dc75aa505f544b956f2d65c";
pub const A09: &str =
    "https://mp.weixin.qq.com/s?__biz=MjM5ODYxMDA5OQ==&mid=2651960726&idx=1&sn=0fdaf0e7040318aabfeba553f815d691";

/// An RSS feed whose items link to `items`.
pub fn rss(items: &[&str]) -> String {
    let items: String = items
        .iter()
        .map(|u| {
            format!(
                "<item><title>t</title><link>{}</link><pubDate>Mon, 06 Jan 2025 08:00:00 GMT</pubDate></item>",
                u.replace('&', "&amp;")
            )
        })
        .collect();
    format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>bridge</title>{items}</channel></rss>")
}

/// Settings that keep a test fast: no spacing, short waits.
const FAST: &str = "delay = 0\nfeed_delay = 0\njitter = 0\nretry_base = 0.2\ncooldown = 2\nmax_wait = 5\ntimeout = 5\n";

/// A temporary archive and its crawl configuration.
pub struct Setup {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
}

impl Setup {
    /// The fast settings, each overridden by a key `extra` sets, then `sources`.
    pub fn new(extra: &str, sources: &str) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("wxsec.toml");
        fn set(line: &str) -> &str {
            line.split_once(" = ").map_or(line, |(k, _)| k)
        }
        let overridden: Vec<&str> = extra.lines().map(set).collect();
        let fast: String = FAST.lines().filter(|l| !overridden.contains(&set(l))).map(|l| format!("{l}\n")).collect();
        std::fs::write(&config, format!("out = \"archive\"\n{fast}{extra}\n{sources}")).unwrap();
        Setup { dir, config }
    }

    /// Writes `urls.txt` and returns the source table naming it.
    pub fn urls(&self, lines: &[&str]) -> String {
        let p = self.dir.path().join("urls.txt");
        std::fs::write(&p, format!("# test list\n{}\n", lines.join("\n"))).unwrap();
        "[[source]]\nname = \"list\"\nurls = \"urls.txt\"\n".to_string()
    }

    /// Appends source tables to the configuration.
    pub fn add_sources(&self, sources: &str) {
        let config = std::fs::read_to_string(&self.config).unwrap();
        std::fs::write(&self.config, format!("{config}\n{sources}")).unwrap();
    }

    /// `wxsec crawl --config …` against `server` as WeChat, with no proxy in the way.
    pub fn cmd(&self, server: &MockServer) -> Command {
        let mut c = Command::cargo_bin("wxsec").unwrap();
        c.env("WXSEC_ORIGIN", server.uri());
        for v in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "NO_PROXY"] {
            c.env_remove(v);
        }
        c.arg("crawl").arg("--config").arg(&self.config);
        c
    }

    pub fn archive(&self) -> PathBuf {
        self.dir.path().join("archive")
    }

    pub fn records(&self) -> Vec<PathBuf> {
        super::record_files(&self.archive())
    }

    pub fn state(&self) -> wxsec::archive::State {
        wxsec::archive::State::open(&self.archive().join(".wxsec/state.sqlite")).unwrap()
    }
}
