//! The crawl finds articles itself: a whole album through its JSON pages, an account's history
//! through WeRead with the user's login, and the feeds of an OPML list. Against local fakes of
//! the public shapes (tests/common/fakes.rs), with the real binary and a real state.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::crawl::Setup;
use common::fakes::{BIZ, FakeWechat, Seen, long_url};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

fn summary(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("no JSON summary in {stdout}"))
}

/// `wxsec status --json` of a configuration.
fn status_json(config: &std::path::Path) -> serde_json::Value {
    let out = assert_cmd::Command::cargo_bin("wxsec")
        .unwrap()
        .args(["status", "--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// 95 articles in six pages: two boundaries repeated, one not, the last page one item.
fn album_pages(n: usize) -> Vec<(usize, usize)> {
    let mut pages = vec![(0, 20), (19, 39), (39, 59), (58, 78), (78, n - 1), (n - 1, n)];
    pages.retain(|(s, e)| s < e);
    pages
}

const ALBUM: &str = "[[source]]\nname = \"album\"\nalbum = \"https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzI0ODE5NDU5Mw==&action=getalbum&album_id=3370000000000000001#wechat_redirect\"\n";

async fn wechat(fake: &FakeWechat) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(fake.clone()).mount(&server).await;
    server
}

/// The mids of the article pages asked, with how often each was.
fn articles_asked(log: &[Seen]) -> BTreeMap<u32, usize> {
    let mut out = BTreeMap::new();
    for s in log.iter().filter(|s| s.path == "/s") {
        let mid =
            url::form_urlencoded::parse(s.query.as_bytes()).find(|(k, _)| k == "mid").map(|(_, v)| v.parse().unwrap());
        *out.entry(mid.unwrap()).or_default() += 1;
    }
    out
}

/// The `begin_msgid` of each album page asked (`None` for the first page).
fn pages_asked(log: &[Seen]) -> Vec<Option<String>> {
    log.iter()
        .filter(|s| s.path == "/mp/appmsgalbum")
        .map(|s| {
            url::form_urlencoded::parse(s.query.as_bytes())
                .find(|(k, _)| k == "begin_msgid")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_album_is_archived_once_and_later_runs_ask_only_its_top() {
    let mids: Vec<u32> = (2906..=3000).rev().collect();
    let fake = FakeWechat::new(mids.clone(), album_pages(95));
    let server = wechat(&fake).await;
    let setup = Setup::new("", ALBUM);

    // A dry run lists the album's articles and keeps nothing.
    let dry = setup.cmd(&server).arg("--dry-run").output().unwrap();
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    assert_eq!(String::from_utf8_lossy(&dry.stdout).lines().count(), 95);
    assert!(String::from_utf8_lossy(&dry.stderr).contains("source album: 95 new articles"));
    assert!(!setup.archive().join(".wxsec/state.sqlite").exists());
    fake.log.clear();

    let out = setup.cmd(&server).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = fake.log.all();
    let pages = pages_asked(&log);
    assert_eq!(pages.len(), 6, "every page once: {pages:?}");
    let distinct: std::collections::BTreeSet<_> = pages.iter().collect();
    assert_eq!(distinct.len(), 6, "no page twice: {pages:?}");
    let asked = articles_asked(&log);
    assert_eq!(asked.len(), 95);
    assert!(asked.values().all(|n| *n == 1), "every article once: {asked:?}");
    assert_eq!(setup.records().len(), 95);
    assert_eq!(summary(&out)["new"], 95);

    let v = status_json(&setup.config);
    let src = &v["sources"][0];
    assert_eq!(
        (src["name"].as_str(), src["kind"].as_str(), src["found"].as_i64()),
        (Some("album"), Some("album"), Some(95)),
        "{v}"
    );
    assert!(src["last_ok"].is_string() && src["last_polled"].is_string() && src["last_error"].is_null(), "{v}");

    // Nothing new: the first page only.
    fake.log.clear();
    let out = setup.cmd(&server).arg("--json").output().unwrap();
    assert!(out.status.success());
    assert_eq!(pages_asked(&fake.log.all()), vec![None]);
    assert!(articles_asked(&fake.log.all()).is_empty());

    // Three new articles at the top: those, and the page that shows nothing more is new.
    let mut more: Vec<u32> = vec![3003, 3002, 3001];
    more.extend(&mids);
    *fake.mids.lock().unwrap() = more;
    *fake.pages.lock().unwrap() = album_pages(98);
    fake.log.clear();
    let out = setup.cmd(&server).arg("--json").output().unwrap();
    assert!(out.status.success());
    assert_eq!(pages_asked(&fake.log.all()).len(), 2);
    assert_eq!(articles_asked(&fake.log.all()).into_keys().collect::<Vec<_>>(), vec![3001, 3002, 3003]);
    assert_eq!(setup.records().len(), 98);

    // --backfill walks every page again, and asks no article it has.
    fake.log.clear();
    let out = setup.cmd(&server).args(["--json", "--backfill"]).output().unwrap();
    assert!(out.status.success());
    assert_eq!(pages_asked(&fake.log.all()).len(), 6);
    assert!(articles_asked(&fake.log.all()).is_empty());
}

/// Starts a crawl as `host`, SIGKILLs it while the album's third page is in flight, and returns
/// the pages it asked; the album then answers at once again.
async fn killed_at_the_third_page(
    fake: &FakeWechat,
    server: &MockServer,
    setup: &Setup,
    host: &str,
) -> Vec<Option<String>> {
    *fake.slow_after.lock().unwrap() = Some((2, 30));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wxsec"))
        .env("WXSEC_ORIGIN", server.uri())
        .env("WXSEC_HOST", host)
        .args(["crawl", "--config"])
        .arg(&setup.config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while pages_asked(&fake.log.all()).len() < 3 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let before = pages_asked(&fake.log.all());
    *fake.slow_after.lock().unwrap() = None;
    fake.log.clear();
    before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_mid_album_loses_nothing_and_asks_again_only_the_page_in_flight() {
    let mids: Vec<u32> = (2906..=3000).rev().collect();
    let fake = FakeWechat::new(mids, album_pages(95));
    let server = wechat(&fake).await;
    let setup = Setup::new("", ALBUM);
    let before = killed_at_the_third_page(&fake, &server, &setup, "h1").await;
    assert_eq!(before.len(), 3, "{before:?}");

    let out = setup.cmd(&server).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = pages_asked(&fake.log.all());
    assert_eq!(after.first(), before.last(), "the walk goes on at the page in flight");
    assert_eq!(before.len() + after.len(), 7, "only the page in flight asked twice: {before:?} then {after:?}");
    let asked = articles_asked(&fake.log.all());
    assert_eq!(asked.len(), 95);
    assert!(asked.values().all(|n| *n == 1));
    assert_eq!(setup.records().len(), 95);
    assert!(common::index_disagreements(&setup.archive(), true).is_empty());
    assert!(long_url(2906).contains(BIZ));
}

/// 126 articles in groups of one to three, newest first.
fn weread_groups() -> Vec<Vec<u32>> {
    let mut groups = Vec::new();
    let mut mid = 5000;
    for i in 0..63 {
        let n = [1, 2, 3][i % 3];
        groups.push((0..n).map(|k| mid - k).collect::<Vec<u32>>());
        mid -= n;
    }
    groups
}

const COOKIE: &str = "wr_vid=42; wr_skey=good-skey-1; wr_rt=long-lived-rt-9; wr_fp=77";

struct Weread {
    setup: Setup,
    wechat: MockServer,
    weread: MockServer,
    fake_wechat: FakeWechat,
    fake: common::fakes::FakeWeread,
}

impl Weread {
    async fn new(extra: &str, sources: &str) -> Weread {
        let fake_wechat = FakeWechat::new((6000..6005).rev().collect(), vec![(0, 5)]);
        let wechat = wechat(&fake_wechat).await;
        let fake = common::fakes::FakeWeread::new(weread_groups(), 10, "good-skey-1");
        let weread = MockServer::start().await;
        Mock::given(any()).respond_with(fake.clone()).mount(&weread).await;
        let delay = if extra.contains("weread_delay") { "" } else { "weread_delay = 0\n" };
        let setup = Setup::new(&format!("weread_cookie_file = \"cookie.txt\"\n{delay}{extra}"), sources);
        let cookie = setup.dir.path().join("cookie.txt");
        std::fs::write(&cookie, format!("{COOKIE}\n")).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&cookie, std::fs::Permissions::from_mode(0o600)).unwrap();
        Weread { setup, wechat, weread, fake_wechat, fake }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        self.setup.cmd(&self.wechat).env("WXSEC_WEREAD_ORIGIN", self.weread.uri()).args(args).output().unwrap()
    }

    fn offsets(&self) -> Vec<usize> {
        self.fake
            .log
            .on("/web/mp/articles")
            .iter()
            .map(|s| {
                url::form_urlencoded::parse(s.query.as_bytes()).find(|(k, _)| k == "offset").unwrap().1.parse().unwrap()
            })
            .collect()
    }

    /// The short ids of the articles asked, with how often each was.
    fn short_asked(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for s in self.fake_wechat.log.all().iter().filter(|s| s.path.starts_with("/s/")) {
            *out.entry(s.path.clone()).or_default() += 1;
        }
        out
    }

    /// Every byte wxsec wrote or printed that could hold the cookie.
    fn assert_no_secret(&self, outputs: &[&std::process::Output]) {
        let mut files = common::files_below(&self.setup.archive(), |_| true);
        files.retain(|f| f.is_file());
        for secret in ["good-skey-1", "long-lived-rt-9", "fresh-skey-2"] {
            for o in outputs {
                assert!(
                    !String::from_utf8_lossy(&o.stdout).contains(secret)
                        && !String::from_utf8_lossy(&o.stderr).contains(secret)
                );
            }
            for f in &files {
                let bytes = std::fs::read(f).unwrap();
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{} holds the cookie",
                    f.display()
                );
            }
        }
    }
}

const WEREAD: &str = "[[source]]\nname = \"wr\"\nweread = \"MzI0ODE5NDU5Mw==\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_s_weread_history_is_archived_once_spaced_and_then_asked_at_its_top() {
    let w = Weread::new("weread_delay = 0.3", WEREAD).await;
    *w.fake.tilde.lock().unwrap() = vec![4990];
    let out = w.run(&["--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.offsets(), vec![0, 10, 20, 30, 40, 50, 60, 63], "each page once, then the empty page ends it");
    let asked = w.short_asked();
    assert_eq!(asked.len(), 127, "126 articles, one of them under two spellings");
    assert!(asked.values().all(|n| *n == 1), "every address once");
    assert_eq!(w.setup.records().len(), 126);
    // Every list request carried the login, and waited its turn to the millisecond.
    let seen = w.fake.log.on("/web/mp/articles");
    assert!(seen.iter().all(|s| s.cookie.as_deref() == Some(COOKIE)));
    for pair in seen.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(299), "requests to weread.qq.com {gap:?} apart");
    }
    // A record's title is its page's, not the list's cut one.
    let record = std::fs::read_to_string(&w.setup.records()[0]).unwrap();
    assert!(record.contains("title: 漏洞通告 ") && !record.contains("被截断"), "{record}");

    // An id WeRead spells with `~`: asked with `_` first, and as given when that is gone.
    assert_eq!(asked.get("/s/A4990_t"), Some(&1), "{asked:?}");
    assert_eq!(asked.get("/s/A4990~t"), Some(&1));
    assert!(!asked.contains_key("/s/A4990"));

    w.fake.log.clear();
    w.fake_wechat.log.clear();
    let again = w.run(&["--json"]);
    assert!(again.status.success());
    assert_eq!(w.offsets(), vec![0]);
    assert!(w.short_asked().is_empty());
    w.assert_no_secret(&[&out, &again]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_expiring_mid_list_ends_with_exit_11_after_the_rest_is_archived() {
    let album = "[[source]]\nname = \"album\"\nalbum = \"https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzI0ODE5NDU5Mw==&action=getalbum&album_id=9\"\n";
    let w = Weread::new("", &format!("{WEREAD}{album}")).await;
    *w.fake.expires_at.lock().unwrap() = Some(30);
    let out = w.run(&["--json"]);
    assert_eq!(out.status.code(), Some(11), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cookie.txt") && err.contains("WeRead login is no longer accepted") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(w.fake.log.on("/web/login/renewal").len(), 1, "renewed once");
    // What the list gave before it expired (30 groups, 60 articles), and the album's five.
    assert_eq!(w.setup.records().len(), 60 + 5);
    assert_eq!(summary(&out)["login_expired"].as_str().map(|p| p.ends_with("cookie.txt")), Some(true));

    // A renewal that works: the new wr_skey written back, the rest of the list archived.
    *w.fake.renews_to.lock().unwrap() = Some("fresh-skey-2".to_string());
    let renewed = w.run(&["--json"]);
    assert!(renewed.status.success(), "{}", String::from_utf8_lossy(&renewed.stderr));
    assert_eq!(w.setup.records().len(), 126 + 5);
    let cookie = w.setup.dir.path().join("cookie.txt");
    let kept = std::fs::read_to_string(&cookie).unwrap();
    assert_eq!(kept, "wr_vid=42; wr_skey=fresh-skey-2; wr_rt=long-lived-rt-9; wr_fp=77; wr_ql=1\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&cookie).unwrap().permissions().mode() & 0o777, 0o600, "its mode kept");
    w.assert_no_secret(&[&out, &renewed]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_not_on_the_shelf_fails_its_source_with_a_hint_and_the_others_go_on() {
    let album = "[[source]]\nname = \"album\"\nalbum = \"https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzI0ODE5NDU5Mw==&action=getalbum&album_id=9\"\n";
    let w = Weread::new("", &format!("{WEREAD}{album}")).await;
    *w.fake.refuse.lock().unwrap() = Some(-2041);
    use std::os::unix::fs::PermissionsExt;
    let cookie = w.setup.dir.path().join("cookie.txt");
    std::fs::set_permissions(&cookie, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = w.run(&["--json"]);
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("-2041") && err.contains("书架"), "{err}");
    assert!(err.contains("cookie.txt") && err.contains("other users"), "a readable cookie file is named: {err}");
    assert_eq!(w.setup.records().len(), 5, "the album is archived");
    let v = status_json(&w.setup.config);
    let wr = v["sources"].as_array().unwrap().iter().find(|s| s["name"] == "wr").unwrap().clone();
    assert_eq!(wr["kind"], "weread");
    assert!(wr["last_error"].as_str().unwrap().contains("-2041"), "{wr}");
    // Asked again next run: the refusal may pass.
    *w.fake.refuse.lock().unwrap() = None;
    let out = w.run(&["--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.setup.records().len(), 126 + 5);
    w.assert_no_secret(&[&out]);
}

/// Feeds `/feed/N.xml`, each with one item (article 7000 + N) and an ETag: a request that sends
/// the ETag back hears 304. The OPML list is served at `/sec.opml`.
#[derive(Clone)]
struct Feeds {
    log: common::fakes::Log,
    conditional: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    opml: std::sync::Arc<std::sync::Mutex<String>>,
}

impl wiremock::Respond for Feeds {
    fn respond(&self, r: &wiremock::Request) -> wiremock::ResponseTemplate {
        if r.url.path() == "/sec.opml" {
            return wiremock::ResponseTemplate::new(200)
                .insert_header("content-type", "text/x-opml")
                .set_body_string(self.opml.lock().unwrap().clone());
        }
        let n: u32 = r.url.path().trim_start_matches("/feed/").trim_end_matches(".xml").parse().unwrap_or(0);
        let etag = format!("\"v{n}\"");
        let sent = r.headers.get("if-none-match").and_then(|v| v.to_str().ok()).map(str::to_string);
        self.log.0.lock().unwrap().push(Seen {
            path: r.url.path().to_string(),
            query: String::new(),
            cookie: None,
            at: std::time::Instant::now(),
        });
        if sent.as_deref() == Some(etag.as_str()) {
            self.conditional.lock().unwrap().push(r.url.path().to_string());
            return wiremock::ResponseTemplate::new(304);
        }
        let body = common::crawl::rss(&[&long_url(7000 + n)]);
        wiremock::ResponseTemplate::new(200)
            .insert_header("content-type", "application/rss+xml")
            .insert_header("etag", etag)
            .set_body_string(body)
    }
}

/// An OPML list as Wechat2RSS publishes its security list: nested outlines, `type="rss"`.
fn opml(server: &str, feeds: impl Iterator<Item = u32>) -> String {
    let outlines: String = feeds
        .map(|n| format!("<outline text=\"号{n}\" title=\"号{n}\" type=\"rss\" xmlUrl=\"{server}/feed/{n}.xml\" htmlUrl=\"{server}/feed/{n}.xml\" />\n"))
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"1.0\"><head><title>安全技术公众号</title></head><body>\n<outline text=\"安全技术公众号\" title=\"安全技术公众号\">\n<outline text=\"一组\" title=\"一组\">\n{outlines}</outline></outline></body></opml>\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_opml_list_s_feeds_are_each_polled_once_then_conditionally_and_a_removed_one_no_more() {
    let fake_wechat = FakeWechat::new(vec![], vec![]);
    let wechat = wechat(&fake_wechat).await;
    let feeds = Feeds { log: Default::default(), conditional: Default::default(), opml: Default::default() };
    let server = MockServer::start().await;
    Mock::given(any()).respond_with(feeds.clone()).mount(&server).await;
    let setup = Setup::new("", "[[source]]\nname = \"sec\"\nopml = \"sec.opml\"\n");
    std::fs::write(setup.dir.path().join("sec.opml"), opml(&server.uri(), 0..320)).unwrap();

    let out = setup.cmd(&wechat).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let polled: Vec<String> = feeds.log.all().into_iter().map(|s| s.path).collect();
    let distinct: std::collections::BTreeSet<_> = polled.iter().collect();
    assert_eq!((polled.len(), distinct.len()), (320, 320), "each feed once");
    assert_eq!(setup.records().len(), 320);

    feeds.log.clear();
    let out = setup.cmd(&wechat).arg("--json").output().unwrap();
    assert!(out.status.success());
    assert_eq!(feeds.log.all().len(), 320);
    assert_eq!(feeds.conditional.lock().unwrap().len(), 320, "every poll conditional");

    // The list read from its address now, with one outline gone: that feed is asked no more.
    setup.add_sources("");
    let config = std::fs::read_to_string(&setup.config)
        .unwrap()
        .replace("opml = \"sec.opml\"", &format!("opml = \"{}/sec.opml\"", server.uri()));
    std::fs::write(&setup.config, config).unwrap();
    *feeds.opml.lock().unwrap() = opml(&server.uri(), (0..320).filter(|n| *n != 17));
    feeds.log.clear();
    let out = setup.cmd(&wechat).arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let polled: Vec<String> = feeds.log.all().into_iter().map(|s| s.path).collect();
    assert_eq!(polled.len(), 319);
    assert!(!polled.contains(&"/feed/17.xml".to_string()));
    let v = status_json(&setup.config);
    let kinds: BTreeMap<String, usize> = v["sources"].as_array().unwrap().iter().fold(BTreeMap::new(), |mut m, s| {
        *m.entry(s["kind"].as_str().unwrap_or("?").to_string()).or_default() += 1;
        m
    });
    assert_eq!(kinds.get("opml"), Some(&1), "{kinds:?}");
    assert_eq!(kinds.get("feed"), Some(&320), "{kinds:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_names_an_article_s_account_and_the_source_to_paste() {
    let fake = FakeWechat::new(vec![], vec![]);
    let server = wechat(&fake).await;
    let out = assert_cmd::Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", server.uri())
        .args(["account", "https://mp.weixin.qq.com/s/A8123"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("account: 安全账号"), "{text}");
    assert!(text.contains("__biz: MzI0ODE5NDU5Mw== (3248194593)"), "{text}");
    assert!(text.contains("weread: MP_WXS_3248194593"), "{text}");
    assert!(text.contains("[[source]]\nname = \"安全账号\"\nweread = \"MzI0ODE5NDU5Mw==\""), "{text}");
    assert_eq!(fake.log.all().len(), 1, "one request");
    // The table pasted into a configuration is read as a weread source.
    let table = &text[text.find("[[source]]").unwrap()..];
    let settings = wxsec::crawl::config::CrawlSettings::from_toml(
        &format!("weread_cookie_file = \"c\"\n{table}"),
        std::path::Path::new("x.toml"),
    )
    .unwrap();
    let config = settings.resolve(std::path::Path::new("x.toml")).unwrap();
    assert_eq!(config.sources[0].kind(), "weread");
    let json = assert_cmd::Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", server.uri())
        .args(["account", "--json", &long_url(8124)])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!((v["weread"].as_str(), v["name"].as_str()), (Some("MP_WXS_3248194593"), Some("安全账号")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_shared_state_another_host_goes_on_where_a_killed_one_stopped_paging() {
    let Some(url) = common::postgres_database("discovery") else { return };
    let mids: Vec<u32> = (2906..=3000).rev().collect();
    let fake = FakeWechat::new(mids, album_pages(95));
    let server = wechat(&fake).await;
    let setup = Setup::new(&format!("state = \"{url}\"\nlease = 2"), ALBUM);
    let before = killed_at_the_third_page(&fake, &server, &setup, "h1").await;
    assert_eq!(before.len(), 3, "{before:?}");
    // The killed host's lease on the album runs out; another host takes the walk over.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let out = setup.cmd(&server).env("WXSEC_HOST", "h2").arg("--json").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after = pages_asked(&fake.log.all());
    assert_eq!(after.first(), before.last(), "h2 goes on at the page in flight: {after:?}");
    assert_eq!(before.len() + after.len(), 7);
    let asked = articles_asked(&fake.log.all());
    assert_eq!(asked.len(), 95);
    assert!(asked.values().all(|n| *n == 1));
    assert_eq!(setup.records().len(), 95);
    fake.log.clear();
    let again = setup.cmd(&server).env("WXSEC_HOST", "h1").arg("--json").output().unwrap();
    assert!(again.status.success());
    assert_eq!(pages_asked(&fake.log.all()), vec![None], "any host then asks only the top");

    // WeRead on the same server: the whole list, then only its first page.
    let Some(url) = common::postgres_database("discovery_weread") else { return };
    let w = Weread::new(&format!("state = \"{url}\""), WEREAD).await;
    let out = w.run(&["--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.setup.records().len(), 126);
    w.fake.log.clear();
    assert!(w.run(&["--json"]).status.success());
    assert_eq!(w.offsets(), vec![0]);
    let state = wxsec::archive::State::open(std::path::Path::new(&url)).unwrap();
    let rows = state.source_rows().unwrap();
    assert_eq!((rows[0].kind.as_deref(), rows[0].found), (Some("weread"), 126));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weread_asking_for_less_fails_the_source_this_run_and_the_next_goes_on_from_there() {
    let w = Weread::new("", WEREAD).await;
    *w.fake.status_at.lock().unwrap() = Some((30, 429));
    let out = w.run(&["--json", "-v"]);
    assert_eq!(out.status.code(), Some(8), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP status 429"));
    assert_eq!(w.offsets(), vec![0, 10, 20, 30]);
    assert_eq!(w.setup.records().len(), 60, "what the list gave before it is archived");
    w.fake.log.clear();
    let out = w.run(&["--json", "-vv"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(w.offsets(), vec![30, 40, 50, 60, 63], "it goes on at the page that was refused");
    assert_eq!(w.setup.records().len(), 126);
    // Not in the logs either, at -vv.
    w.assert_no_secret(&[&out]);
}
