//! The crawl's and import's exactness against a local fake WeChat that logs the time of every
//! request: one record per article whatever its address, `Retry-After` kept to the millisecond
//! across all articles, redirect hops spaced, import spaced and stopped by the verification
//! page, dry runs that touch nothing, and the configuration and status messages.

mod common;

use common::crawl::{A07, A09, Setup, html, page, rss};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wiremock::matchers::{path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Every request with the time it arrived.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<(Instant, String)>>>);

impl Log {
    fn take(&self) -> Vec<(Instant, String)> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self, needle: &str) -> usize {
        self.take().iter().filter(|(_, u)| u.contains(needle)).count()
    }
}

/// A responder that logs, then answers with the first of `answers` not used up (the last
/// answer repeats).
struct Logged {
    log: Log,
    answers: Mutex<Vec<ResponseTemplate>>,
}

impl Respond for Logged {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let what = format!("{}?{}", req.url.path(), req.url.query().unwrap_or_default());
        self.log.0.lock().unwrap().push((Instant::now(), what));
        let mut a = self.answers.lock().unwrap();
        if a.len() > 1 { a.remove(0) } else { a[0].clone() }
    }
}

fn logged(log: &Log, answers: Vec<ResponseTemplate>) -> Logged {
    Logged { log: log.clone(), answers: Mutex::new(answers) }
}

fn mid(u: &str) -> String {
    u.split("mid=").nth(1).unwrap().split('&').next().unwrap().to_string()
}

async fn article(server: &MockServer, log: &Log, url: &str, answers: Vec<ResponseTemplate>) {
    Mock::given(path("/s")).and(query_param("mid", mid(url))).respond_with(logged(log, answers)).mount(server).await;
}

/// Runs the crawl; a panic (exit 101) fails the test wherever it happens.
fn crawl(s: &Setup, server: &MockServer, extra: &[&str]) -> std::process::Output {
    let out = s.cmd(server).args(extra).output().unwrap();
    assert_ne!(out.status.code(), Some(101), "{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn json(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("stdout is not one JSON value ({e}): {stdout}"))
}

/// Every file below `dir` (the state included) with its bytes and modification time.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>, std::time::SystemTime)> {
    common::files_below(dir, |_| true)
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).unwrap().modified().unwrap();
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes, m)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_article_under_every_address_is_fetched_and_written_once() {
    let server = MockServer::start().await;
    let log = Log::default();
    article(&server, &log, A07, vec![html(page("article-07.html"))]).await;
    article(&server, &log, A09, vec![html(page("article-09.html"))]).await;
    let to_long =
        |u: &str| ResponseTemplate::new(302).insert_header("location", format!("{u}&chksm=ab&scene=27#rd").as_str());
    Mock::given(path("/s/Redirects07")).respond_with(logged(&log, vec![to_long(A07)])).mount(&server).await;
    Mock::given(path("/s/Answers07"))
        .respond_with(logged(&log, vec![html(page("article-07.html"))]))
        .mount(&server)
        .await;
    Mock::given(path("/s/Later07")).respond_with(logged(&log, vec![to_long(A07)])).mount(&server).await;
    Mock::given(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(rss(&[&format!("{A07}&chksm=1#wechat_redirect"), A09])),
        )
        .mount(&server)
        .await;
    let feed = format!("[[source]]\nname = \"feed\"\nfeed = \"{}/feed.xml\"\n", server.uri());
    let s = Setup::new("", "");
    let urls = s.urls(&[
        "https://mp.weixin.qq.com/s/Redirects07",
        "https://mp.weixin.qq.com/s/Answers07?scene=1",
        &format!("{A07}&scene=126&sessionid=1#rd"),
    ]);
    s.add_sources(&(feed + &urls));
    let out = crawl(&s, &server, &["--json"]);
    let sum = json(&out);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(sum["new"], 2, "new counts distinct articles: {sum}");
    assert_eq!(common::record_files(&s.archive()).len(), 2);
    assert_eq!(log.count("mid=2651960800"), 1, "the long address was asked once: {:?}", log.take());
    assert_eq!(log.count("/s/Redirects07"), 1);
    assert_eq!(log.count("/s/Answers07"), 1, "a short link answering 200 is read once and not written");
    let state = wxsec::archive::State::open(&s.archive().join(".wxsec/state.sqlite")).unwrap();
    let counts: std::collections::BTreeMap<String, i64> = state.counts().unwrap().into_iter().collect();
    assert_eq!(counts.get("done"), Some(&2), "{counts:?}");
    assert_eq!(counts.values().sum::<i64>(), 2, "{counts:?}");
    drop(state);
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_wxsec"))
        .args(["status", "--json", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    let v = json(&status);
    assert_eq!(v["articles"], serde_json::json!({"done": 2}), "{v}");
    assert_eq!(v["sources"][0]["name"], "feed", "{v}");
    assert!(v["sources"][0]["last_polled"].is_string(), "{v}");

    // A later run: a new short link to the same article, and the old ones again.
    let before = files(&s.archive());
    // The configuration names urls.txt already: only the list changes.
    s.urls(&["https://mp.weixin.qq.com/s/Later07", "https://mp.weixin.qq.com/s/Redirects07"]);
    let out = crawl(&s, &server, &["--json"]);
    let sum = json(&out);
    assert_eq!((sum["new"].as_u64(), sum["updated"].as_u64()), (Some(0), Some(0)), "{sum}");
    assert_eq!(log.count("/s/Later07"), 1);
    assert_eq!(log.count("mid=2651960800"), 1, "the redirect to an archived article is not followed");
    assert_eq!(log.count("/s/Redirects07"), 1, "an alias is never asked again");
    let after: Vec<_> =
        files(&s.archive()).into_iter().filter(|(p, _, _)| !p.to_string_lossy().contains(".wxsec")).collect();
    let before: Vec<_> = before.into_iter().filter(|(p, _, _)| !p.to_string_lossy().contains(".wxsec")).collect();
    assert_eq!(after, before, "no record rewritten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_to_the_host_before_retry_after_allows() {
    let server = MockServer::start().await;
    let log = Log::default();
    let limited = ResponseTemplate::new(429).insert_header("retry-after", "2");
    article(&server, &log, A07, vec![limited, html(page("article-07.html"))]).await;
    article(&server, &log, A09, vec![html(page("article-09.html"))]).await;
    Mock::given(path("/s/Third")).respond_with(logged(&log, vec![html(page("article-08.html"))])).mount(&server).await;
    let s = Setup::new("", "");
    let urls = s.urls(&[A07, A09, "https://mp.weixin.qq.com/s/Third"]);
    s.add_sources(&urls);
    let out = crawl(&s, &server, &["--json"]);
    assert_eq!(json(&out)["new"], 3, "{}", String::from_utf8_lossy(&out.stderr));
    let times = log.take();
    let limited_at = times.iter().find(|(_, u)| u.contains("mid=2651960800")).unwrap().0;
    for (t, u) in &times {
        if *t > limited_at {
            let gap = t.duration_since(limited_at);
            assert!(gap >= Duration::from_millis(2000), "{u} asked {gap:?} after a 429 with Retry-After: 2");
        }
    }
    // The host's wider spacing is kept for later runs.
    let state = wxsec::archive::State::open(&s.archive().join(".wxsec/state.sqlite")).unwrap();
    assert!(state.host_state(state.host()).unwrap().pause_until_ms > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_hops_are_spaced_like_any_request() {
    let server = MockServer::start().await;
    let log = Log::default();
    article(&server, &log, A07, vec![html(page("article-07.html"))]).await;
    let hop = ResponseTemplate::new(302).insert_header("location", A07);
    Mock::given(path("/s/Hop07")).respond_with(logged(&log, vec![hop])).mount(&server).await;
    let s = Setup::new("delay = 0.6", "");
    let urls = s.urls(&["https://mp.weixin.qq.com/s/Hop07"]);
    s.add_sources(&urls);
    let out = crawl(&s, &server, &["--json"]);
    assert_eq!(json(&out)["new"], 1, "{}", String::from_utf8_lossy(&out.stderr));
    let times = log.take();
    assert_eq!(times.len(), 2, "{times:?}");
    let gap = times[1].0.duration_since(times[0].0);
    assert!(gap >= Duration::from_millis(600), "the hop came {gap:?} after the 302: {times:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_of_several_addresses_is_spaced_and_stops_at_the_verification_page() {
    let server = MockServer::start().await;
    let log = Log::default();
    article(&server, &log, A07, vec![html(page("article-07.html"))]).await;
    article(&server, &log, A09, vec![html(page("verify-01.html"))]).await;
    Mock::given(path("/s/NeverAsked"))
        .respond_with(logged(&log, vec![html(page("article-08.html"))]))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let local = common::corpus_dir().join("html/article-08.html");
    let uri = server.uri();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_wxsec"))
            .env("WXSEC_ORIGIN", uri)
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .args(["import", "--delay", "0.5", "--jitter", "0", "--no-index", "--out"])
            .arg(dir.path())
            .args([A07, A09, "https://mp.weixin.qq.com/s/NeverAsked"])
            .arg(local)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(err.contains("NeverAsked") && err.contains("not asked"), "{err}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2, "A07 and the saved page were written");
    let times = log.take();
    assert_eq!(times.len(), 2, "nothing asked after the verification page: {times:?}");
    let gap = times[1].0.duration_since(times[0].0);
    assert!(gap >= Duration::from_millis(500), "{gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_leaves_every_file_as_it_was_and_json_is_alone_on_stdout() {
    let server = MockServer::start().await;
    let log = Log::default();
    article(&server, &log, A07, vec![html(page("article-07.html"))]).await;
    let s = Setup::new("", "");
    let urls = s.urls(&[A07, A09]);
    s.add_sources(&urls);
    // No state yet: nothing is created.
    let before = files(s.dir.path());
    let out = crawl(&s, &server, &["--dry-run", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json(&out)["would_fetch"].as_array().unwrap().len(), 2);
    assert_eq!(files(s.dir.path()), before, "a dry run wrote nothing");
    assert!(!s.archive().exists());
    // With a state: not a byte of it changes, no lock or journal appears.
    std::fs::write(s.dir.path().join("urls.txt"), A07).unwrap();
    assert_eq!(crawl(&s, &server, &[]).status.code(), Some(0));
    std::fs::write(s.dir.path().join("urls.txt"), format!("{A07}\n{A09}\n")).unwrap();
    let before = files(s.dir.path());
    let out = crawl(&s, &server, &["--dry-run"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), A09, "only the unknown address");
    assert_eq!(files(s.dir.path()), before, "a dry run wrote nothing");
    assert_eq!(log.count("/s"), 1, "a dry run fetches no article");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configuration_mistakes_and_status_say_what_they_are() {
    let server = MockServer::start().await;
    let s = Setup::new("", "[[source]]\nurls = \"missing.txt\"\n");
    // A configuration file that is not there is a configuration error.
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_wxsec"));
    let out = c.args(["crawl", "--config"]).arg(s.dir.path().join("nope.toml")).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    // A missing URL list is counted and comes with a hint.
    let out = crawl(&s, &server, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(8), "{err}");
    assert!(err.contains("missing.txt") && err.contains("hint:") && err.contains("1 source failed"), "{err}");
    // A run with no source says so.
    let bare = Setup::new("", "");
    std::fs::create_dir_all(bare.archive().join(".wxsec")).unwrap();
    drop(wxsec::archive::State::open(&bare.archive().join(".wxsec/state.sqlite")).unwrap());
    let out = crawl(&bare, &server, &[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no sources configured"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // status --json: objects, not lists of pairs.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wxsec"))
        .args(["status", "--json", "--config"])
        .arg(&s.config)
        .output()
        .unwrap();
    let v = json(&out);
    assert!(v["articles"].is_object() && v["sources"].is_array(), "{v}");
}
