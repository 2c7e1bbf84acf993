//! Bringing a page in: from `mp.weixin.qq.com` (or the origin `WXSEC_ORIGIN` names), from a saved
//! file, or from stdin. The output is a [`FetchedPage`]: decoded text, the address it really came
//! from, and when.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap, HeaderValue};
use url::Url;

use crate::article::article_address;
use crate::error::{Error, Result};

pub mod api;
pub mod guard;
pub mod kept;
pub mod limiter;
pub mod mhtml;
mod saved;
pub mod singlefile;
pub mod warc;

pub use crate::article::WECHAT_HOST;

/// A page as it arrived, decoded to text.
#[derive(Debug, Clone)]
pub struct FetchedPage {
    /// The target as the user gave it (an address, a path, `-`), for messages.
    pub target: String,
    /// The article address the page was served from, after redirects, in `mp.weixin.qq.com`
    /// terms (never the `WXSEC_ORIGIN` mirror). `None` for files and stdin.
    pub url: Option<String>,
    /// The page, decoded to UTF-8.
    pub html: String,
    /// When the page was downloaded (or read).
    pub fetched_at: DateTime<Utc>,
}

/// What the user asked to import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An article address, already normalised for requesting.
    Url(Url),
    /// A saved page.
    File(PathBuf),
    /// A page on standard input.
    Stdin,
}

impl Target {
    /// Reads a command-line target: `-`, an article address, or an existing path.
    pub fn parse(s: &str) -> Result<Target> {
        if s == "-" {
            return Ok(Target::Stdin);
        }
        let lower = s.trim().to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("mp.weixin.qq.com/") {
            return article_address(s)
                .filter(crate::article::is_article_address)
                .map(Target::Url)
                .ok_or_else(|| Error::BadTarget { target: s.to_string() });
        }
        // Anything with a scheme is an address that is not an article's; the rest is a path, and a
        // path that is not there is a file that cannot be read (exit 6, as any unreadable file).
        if s.contains("://") {
            return Err(Error::BadTarget { target: s.to_string() });
        }
        let path = Path::new(s);
        match std::fs::metadata(path) {
            Ok(_) => Ok(Target::File(path.to_path_buf())),
            Err(source) => Err(Error::Read { path: path.to_path_buf(), source }),
        }
    }
}

/// Like [`decode_html`], taking the bytes: a UTF-8 page (nearly all) becomes its string without a
/// copy.
pub fn decode_html_owned(bytes: Vec<u8>, header_charset: Option<&str>) -> String {
    if encoding_rs::Encoding::for_bom(&bytes).is_some() {
        return decode_html(&bytes, header_charset);
    }
    match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => decode_html(e.as_bytes(), header_charset),
    }
}

/// Decodes a page: a BOM; else UTF-8 when the bytes are UTF-8 (a declaration that says otherwise
/// is wrong more often than the bytes); else the charset the page declares, then the header's;
/// else GB18030, the superset of what Chinese pages use.
pub fn decode_html(bytes: &[u8], header_charset: Option<&str>) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        return enc.decode_without_bom_handling(&bytes[bom_len..]).0.into_owned();
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return s.to_string();
    }
    let declared = meta_charset(&bytes[..bytes.len().min(4096)])
        .or(header_charset.map(str::to_string))
        .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()));
    let enc = match declared {
        // GB2312 and GBK labels are decoded as GB18030, their superset.
        Some(enc) if enc == encoding_rs::GBK => encoding_rs::GB18030,
        Some(enc) if enc != encoding_rs::UTF_8 => enc,
        // Declared UTF-8 (or nothing) but not valid: a slightly broken UTF-8 page stays UTF-8
        // unless the bytes read cleanly as another encoding; otherwise chardetng guesses from
        // the bytes (no domain hint: a `.cn` hint makes it read Big5 pages as GBK), GBK read as
        // GB18030.
        _ => {
            let (good, bad) = utf8_counts(bytes);
            let gb_clean = !encoding_rs::GB18030.decode_without_bom_handling(bytes).1;
            if good > 0 && good >= 4 * bad || (good >= 2 * bad && !gb_clean) {
                encoding_rs::UTF_8
            } else {
                let mut detector = chardetng::EncodingDetector::new();
                detector.feed(bytes, true);
                match detector.guess(None, false) {
                    enc if enc == encoding_rs::GBK => encoding_rs::GB18030,
                    enc => enc,
                }
            }
        }
    };
    enc.decode_without_bom_handling(bytes).0.into_owned()
}

/// Valid non-ASCII characters and broken sequences when the bytes are read as UTF-8. Text in
/// another encoding read as UTF-8 is mostly broken, since its byte pairs rarely form valid
/// sequences; a UTF-8 page with a stray byte is mostly valid.
fn utf8_counts(bytes: &[u8]) -> (usize, usize) {
    let lossy = String::from_utf8_lossy(bytes);
    let bad = lossy.matches('\u{FFFD}').count();
    let good = lossy.chars().filter(|c| !c.is_ascii() && *c != '\u{FFFD}').count();
    (good, bad)
}

/// The charset a page declares in its first bytes (`<meta charset>` or `http-equiv`).
fn meta_charset(head: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let at = text.find("charset=")? + "charset=".len();
    let rest = text.get(at..).unwrap_or_default().trim_start_matches(['"', '\'', ' ']);
    let label: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (!label.is_empty()).then_some(label)
}

impl FetchedPage {
    /// Reads a saved page from a file.
    pub fn from_file(path: &Path, max_bytes: usize) -> Result<FetchedPage> {
        let file = std::fs::File::open(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        // The size, so the page is read into one buffer of the right length, not grown and copied.
        let size = file.metadata().map_or(0, |m| m.len()).min(max_bytes as u64 + 1) as usize;
        let bytes =
            read_capped(file, max_bytes, size).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
        Ok(FetchedPage::of_saved(path.display().to_string(), bytes))
    }

    /// Reads a page from standard input.
    pub fn from_stdin(max_bytes: usize) -> Result<FetchedPage> {
        let bytes = read_capped(std::io::stdin().lock(), max_bytes, 0)
            .map_err(|source| Error::Read { path: PathBuf::from("-"), source })?;
        Ok(FetchedPage::of_saved("-".to_string(), bytes))
    }
}

fn read_capped(reader: impl Read, max_bytes: usize, size_hint: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(size_hint + 1);
    reader.take(max_bytes as u64 + 1).read_to_end(&mut bytes)?;
    if bytes.len() > max_bytes {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max_bytes} bytes, not a WeChat page"),
        ));
    }
    Ok(bytes)
}

/// Settings of the HTTP side.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Where requests meant for `https://mp.weixin.qq.com` go instead (`WXSEC_ORIGIN`).
    pub origin: Option<Url>,
    /// Where requests meant for `https://weread.qq.com` go instead (`WXSEC_WEREAD_ORIGIN`).
    pub weread_origin: Option<Url>,
    /// Whole-request time limit.
    pub timeout: Duration,
    /// Connection time limit.
    pub connect_timeout: Duration,
    /// Largest body accepted, counted after decompression.
    pub max_body: usize,
    /// Hosts an image download may reach although they are not public (`--allow-image-host`).
    pub image_allow: guard::Allowed,
    /// Spacing between the starts of two requests to `mp.weixin.qq.com` (every redirect hop
    /// counts), and to a host with no spacing of its own.
    pub delay: Duration,
    /// Random extra spacing, as a fraction of the delay.
    pub jitter: f64,
}

/// The default cap: real pages are 2–4 MB.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

impl FetchConfig {
    /// Defaults, with `WXSEC_ORIGIN` read from the environment.
    pub fn from_env() -> std::result::Result<FetchConfig, String> {
        let origin_of = |name: &str| match std::env::var(name) {
            Ok(s) if !s.trim().is_empty() => {
                let url = Url::parse(s.trim()).map_err(|e| format!("{name}={s}: not a URL: {e}"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(format!("{name}={s}: must be an http(s) origin like http://127.0.0.1:8080"));
                }
                Ok(Some(url))
            }
            _ => Ok(None),
        };
        Ok(FetchConfig {
            origin: origin_of("WXSEC_ORIGIN")?,
            weread_origin: origin_of("WXSEC_WEREAD_ORIGIN")?,
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            max_body: DEFAULT_MAX_BODY,
            image_allow: guard::Allowed::default(),
            delay: Duration::from_secs(3),
            jitter: 0.5,
        })
    }
}

/// `real` sent to `origin` instead when it is an address of `host` and a mirror is set.
fn mirrored(real: &Url, host: &str, origin: Option<&Url>) -> Url {
    match origin {
        Some(origin) if real.host_str() == Some(host) => {
            let mut wire = origin.clone();
            wire.set_path(real.path());
            wire.set_query(real.query());
            wire
        }
        _ => real.clone(),
    }
}

/// A desktop browser's User-Agent: WeChat serves its full page to browsers.
const USER_AGENT: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36";

/// The HTTP client of wxsec.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    // WeChat's image host answers another site's Referer with a placeholder picture, so images
    // go through a client that sends none.
    image_client: reqwest::Client,
    config: FetchConfig,
    limiter: limiter::Shared,
}

/// What [`Fetcher::fetch_until`] brought.
#[derive(Debug)]
pub enum Fetched {
    /// The page.
    Page(FetchedPage),
    /// A redirect led to an address the caller already has; it was not requested.
    Known(Url),
}

/// The largest image accepted.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

impl Fetcher {
    /// Builds the client. Redirects are followed by hand, so that each hop is checked and mapped.
    pub fn new(config: FetchConfig) -> Result<Fetcher> {
        // TLS by ring: the default provider (aws-lc) is a C build of a minute; ring builds in
        // seconds and serves HTTPS to WeChat and feeds alike. Installed once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut headers = HeaderMap::new();
        headers.insert(header::REFERER, HeaderValue::from_static("https://mp.weixin.qq.com/"));
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
        );
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.8"));
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::Network { url: String::new(), message: chain(&e), timeout: false })?;
        let image_client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .referer(false)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(guard::PublicResolver { allowed: config.image_allow.clone() })
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .build()
            .map_err(|e| Error::Network { url: String::new(), message: chain(&e), timeout: false })?;
        let limiter = limiter::Shared::new(limiter::HostLimiter::new(config.delay, config.jitter));
        Ok(Fetcher { client, image_client, config, limiter })
    }

    /// The address actually requested for a real WeChat address (the mirror, when one is set).
    fn wire(&self, real: &Url) -> Url {
        mirrored(real, WECHAT_HOST, self.config.origin.as_ref())
    }

    /// The real address for an address seen on the wire.
    fn real(&self, wire: &Url) -> Url {
        match &self.config.origin {
            Some(origin) if wire.origin() == origin.origin() => {
                let mut real = Url::parse(&format!("https://{WECHAT_HOST}/")).expect("constant URL");
                real.set_path(wire.path());
                real.set_query(wire.query());
                real
            }
            _ => wire.clone(),
        }
    }

    /// The spacing of requests per host, shared by every clone of this fetcher.
    pub fn limiter(&self) -> &limiter::Shared {
        &self.limiter
    }

    /// Sends a request to `host` in its turn (every request and redirect hop goes through here).
    /// A host that answers `429` or `503` is asked nothing for the time it asked, and is spaced
    /// wider for the rest of the run.
    async fn send_spaced(&self, host: &str, req: reqwest::RequestBuilder, shown: &str) -> Result<reqwest::Response> {
        self.limiter.acquire(host).await;
        let started = std::time::Instant::now();
        let sent = req.send().await;
        self.limiter.with(|l| l.finished(host));
        let ms = started.elapsed().as_millis() as u64;
        let resp = sent.map_err(|e| {
            tracing::debug!(url = shown, ms, error = %e, "request failed");
            network(shown, &e)
        })?;
        tracing::debug!(url = shown, status = resp.status().as_u16(), ms, "response");
        if matches!(resp.status().as_u16(), 429 | 503) {
            let asked = retry_after(&resp);
            self.limiter.with(|l| {
                if let Some(secs) = asked {
                    l.pause_until(host, std::time::Instant::now() + Duration::from_secs(secs.min(86_400)));
                }
                l.widen(host);
            });
        }
        Ok(resp)
    }

    /// Downloads one article page, following redirects within WeChat.
    pub async fn fetch(&self, target: &str, url: &Url) -> Result<FetchedPage> {
        match self.fetch_until(target, url, &|_| false).await? {
            Fetched::Page(page) => Ok(page),
            Fetched::Known(at) => Err(Error::Redirect { url: url.to_string(), message: format!("stopped at {at}") }),
        }
    }

    /// Like [`Fetcher::fetch`], but a redirect to an address for which `known` is true is not
    /// followed: the caller has that article already (a short link leading to a long address).
    pub async fn fetch_until(&self, target: &str, url: &Url, known: &dyn Fn(&Url) -> bool) -> Result<Fetched> {
        let mut real = url.clone();
        for _ in 0..10 {
            let wire = self.wire(&real);
            let shown = real.to_string();
            let resp = self.send_spaced(WECHAT_HOST, self.client.get(wire.clone()), &shown).await?;
            let status = resp.status();
            if status.is_redirection() {
                let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).ok_or_else(|| {
                    Error::Redirect { url: shown.clone(), message: format!("HTTP {status} without a Location") }
                })?;
                let next_wire = wire.join(location).map_err(|_| Error::Redirect {
                    url: shown.clone(),
                    message: format!("bad Location {location:?}"),
                })?;
                let next = self.real(&next_wire);
                if next.host_str() != Some(WECHAT_HOST) || !matches!(next.scheme(), "http" | "https") {
                    return Err(Error::Redirect {
                        url: shown,
                        message: format!("redirected to {next}, which is not {WECHAT_HOST}; refused"),
                    });
                }
                if known(&next) {
                    return Ok(Fetched::Known(next));
                }
                real = next;
                continue;
            }
            if !status.is_success() {
                return Err(Error::Status { url: shown, status: status.as_u16(), retry_after: retry_after(&resp) });
            }
            let charset = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).and_then(|ct| {
                ct.to_ascii_lowercase().split("charset=").nth(1).map(|c| c.trim_matches(['"', ' ']).to_string())
            });
            let bytes = Fetcher::body(&shown, resp, self.config.max_body).await?;
            let html = decode_html(&bytes, charset.as_deref());
            return Ok(Fetched::Page(FetchedPage {
                target: target.to_string(),
                url: Some(real.to_string()),
                html,
                fetched_at: Utc::now(),
            }));
        }
        Err(Error::Redirect { url: url.to_string(), message: "more than 10 redirects".to_string() })
    }

    async fn body(shown: &str, mut resp: reqwest::Response, limit: usize) -> Result<Vec<u8>> {
        if resp.content_length().is_some_and(|n| n as usize > limit) {
            return Err(Error::TooLarge { url: shown.to_string(), limit });
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| network(shown, &e))? {
            if bytes.len() + chunk.len() > limit {
                return Err(Error::TooLarge { url: shown.to_string(), limit });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }
}

/// What a conditional request for a feed brought.
#[derive(Debug, Clone)]
pub enum FeedResponse {
    /// `304 Not Modified`: nothing new since the validators were taken.
    NotModified,
    /// The feed, with the validators to send next time.
    Body {
        /// The raw document.
        bytes: Vec<u8>,
        /// `ETag`.
        etag: Option<String>,
        /// `Last-Modified`.
        last_modified: Option<String>,
    },
}

impl Fetcher {
    /// Downloads a feed (any host), conditionally on the validators of the last poll.
    pub async fn fetch_feed(&self, url: &str, etag: Option<&str>, last_modified: Option<&str>) -> Result<FeedResponse> {
        let mut current = Url::parse(url).map_err(|e| Error::Network {
            url: url.to_string(),
            message: e.to_string(),
            timeout: false,
        })?;
        for _ in 0..5 {
            let wire = self.wire(&current);
            let mut req = self.client.get(wire.clone()).header(
                header::ACCEPT,
                "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.8",
            );
            if let Some(e) = etag {
                req = req.header(header::IF_NONE_MATCH, e);
            }
            if let Some(m) = last_modified {
                req = req.header(header::IF_MODIFIED_SINCE, m);
            }
            let shown = current.to_string();
            let resp = self.send_spaced(current.host_str().unwrap_or_default(), req, &shown).await?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_MODIFIED {
                return Ok(FeedResponse::NotModified);
            }
            if status.is_redirection() {
                let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
                current = self.real(&wire.join(location).map_err(|_| Error::Redirect {
                    url: shown.clone(),
                    message: format!("bad Location {location:?}"),
                })?);
                continue;
            }
            if !status.is_success() {
                return Err(Error::Status { url: shown, status: status.as_u16(), retry_after: retry_after(&resp) });
            }
            let header_value =
                |name| resp.headers().get(name).and_then(|v: &HeaderValue| v.to_str().ok()).map(str::to_string);
            let etag = header_value(header::ETAG);
            let last_modified = header_value(header::LAST_MODIFIED);
            let bytes = Fetcher::body(&shown, resp, self.config.max_body).await?;
            return Ok(FeedResponse::Body { bytes, etag, last_modified });
        }
        Err(Error::Redirect { url: url.to_string(), message: "more than 5 redirects".to_string() })
    }
}

impl Fetcher {
    /// Downloads an image (a public http(s) host or one the user allowed, no Referer); returns its bytes and content type.
    pub async fn fetch_image(&self, url: &str) -> Result<(Vec<u8>, Option<String>)> {
        let bad = |message: String| Error::Network { url: url.to_string(), message, timeout: false };
        let mut current = Url::parse(url).map_err(|e| bad(e.to_string()))?;
        for _ in 0..5 {
            if let Some(why) = guard::refusal(&current, &self.config.image_allow) {
                return Err(Error::Network { url: current.to_string(), message: why, timeout: false });
            }
            let shown = current.to_string();
            let resp = self
                .image_client
                .get(current.clone())
                .header(header::ACCEPT, "image/avif,image/webp,image/png,image/*;q=0.8,*/*;q=0.5")
                .send()
                .await
                .map_err(|e| network(&shown, &e))?;
            tracing::debug!(url = shown, status = resp.status().as_u16(), "image response");
            let status = resp.status();
            if status.is_redirection() {
                let location = resp.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or("");
                current = current.join(location).map_err(|_| Error::Redirect {
                    url: shown.clone(),
                    message: format!("bad Location {location:?}"),
                })?;
                continue;
            }
            if !status.is_success() {
                return Err(Error::Status { url: shown, status: status.as_u16(), retry_after: retry_after(&resp) });
            }
            let ctype = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_string);
            let bytes = Fetcher::body(&shown, resp, MAX_IMAGE_BYTES.min(self.config.max_body)).await?;
            return Ok((bytes, ctype));
        }
        Err(Error::Redirect { url: url.to_string(), message: "more than 5 redirects".to_string() })
    }
}

/// The seconds of a `Retry-After` header (the HTTP-date form is not used by WeChat or feeds).
fn retry_after(resp: &reqwest::Response) -> Option<u64> {
    resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

fn network(url: &str, e: &reqwest::Error) -> Error {
    // The message starts with the address already; reqwest's own "for url (…)" would say it twice.
    let mut message = chain(e);
    if let Some(u) = e.url() {
        message = message.replace(&format!(" for url ({u})"), "");
    }
    Error::Network { url: url.to_string(), message, timeout: e.is_timeout() }
}

/// An error with its causes, which reqwest keeps apart.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let msg = c.to_string();
        if !s.contains(&msg) {
            s.push_str(": ");
            s.push_str(&msg);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_normalised() {
        let u =
            article_address("http://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=ab&chksm=x#wechat_redirect").unwrap();
        assert_eq!(u.as_str(), "https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=ab");
        let u = article_address("https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA?scene=1").unwrap();
        assert_eq!(u.as_str(), "https://mp.weixin.qq.com/s/JJyPUpHLM2bGvfk5FNvTUA");
        assert!(article_address("https://evil.example/s/abc").is_none());
        assert!(matches!(Target::parse("ftp://mp.weixin.qq.com/s/x"), Err(Error::BadTarget { .. })));
        assert!(matches!(Target::parse("no/such/page.html"), Err(Error::Read { .. })), "a missing file: exit 6");
        assert_eq!(Target::parse("-").unwrap(), Target::Stdin);
    }

    #[test]
    fn charsets() {
        let (gbk, _, _) = encoding_rs::GBK.encode("<meta charset=\"gbk\"><p>漏洞</p>");
        assert!(decode_html(&gbk, None).contains("漏洞"));
        let (gb, _, _) = encoding_rs::GBK.encode("<p>没有声明的漏洞</p>");
        assert!(decode_html(&gb, None).contains("漏洞"));
        assert_eq!(decode_html("漏洞".as_bytes(), Some("gbk")), "漏洞");
        let text = "繁體中文的漏洞公告，請儘快更新系統。攻擊者可以利用此漏洞執行任意程式碼。";
        let (big5, _, _) = encoding_rs::BIG5.encode(text);
        assert_eq!(decode_html(&big5, None), text);
        let page = format!("<meta charset=big5>{text}");
        let (declared, _, _) = encoding_rs::BIG5.encode(&page);
        assert!(decode_html(&declared, None).ends_with(text));
        let simplified = "简体中文的漏洞公告，请尽快更新系统。攻击者可以利用此漏洞执行任意代码。";
        let (gb, _, _) = encoding_rs::GB18030.encode(simplified);
        assert_eq!(decode_html(&gb, None), simplified);
    }
}
