//! Several crawl hosts sharing one PostgreSQL state: three `wxsec crawl` processes, one server,
//! a local fake WeChat, one shared records folder. Each process is a host (`WXSEC_HOST`), and
//! each may reach WeChat through an address of its own (`WXSEC_ORIGIN`): the host whose address
//! WeChat sends to verification is the one that cools down.
//!
//! Needs a server: `WXSEC_TEST_POSTGRES` (scripts/test starts one); without it each test says
//! so and does nothing, unless `WXSEC_REQUIRE_POSTGRES=1`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::crawl::{html, page};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer};

const BIZ: &str = "MzI2NTg4OTc5Nw==";

/// The address of test article `n`.
fn address(n: usize) -> String {
    format!("https://mp.weixin.qq.com/s?__biz={BIZ}&mid={}&idx=1&sn={:032x}", mid(n), n)
}

fn mid(n: usize) -> String {
    (2_247_600_000 + n).to_string()
}

/// Article `n`'s page: the fixture page with its own id and title.
fn article_page(n: usize) -> Vec<u8> {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages/modern-2025.html")).unwrap();
    page.replace("2247521893", &mid(n))
        .replace("867f98595849107577a98fcaf043a177", &format!("{n:032x}"))
        .replace("TomcatRce2025xyz", &format!("Shared{n:03}"))
        .replace("Apache Tomcat 漏洞 &amp; 补丁分析", &format!("共享抓取测试文章 {n:03}"))
        .into_bytes()
}

/// WeChat as one egress address sees it: every article, each answer after `delay`.
async fn wechat(articles: usize, delay: Duration) -> MockServer {
    let server = MockServer::start().await;
    for n in 0..articles {
        Mock::given(method("GET"))
            .and(path("/s"))
            .and(query_param("mid", mid(n).as_str()))
            .respond_with(html(article_page(n)).set_delay(delay))
            .mount(&server)
            .await;
    }
    server
}

/// WeChat as a blocked address sees it: the verification page for everything.
async fn verifying() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET")).respond_with(html(page("verify-01.html"))).mount(&server).await;
    server
}

/// How often each article was asked for, by article number.
async fn asked(servers: &[&MockServer]) -> BTreeMap<usize, usize> {
    let mut out = BTreeMap::new();
    for s in servers {
        for r in s.received_requests().await.unwrap_or_default() {
            if let Some((_, m)) = r.url.query_pairs().find(|(k, _)| k == "mid")
                && let Ok(m) = m.parse::<usize>()
            {
                *out.entry(m - 2_247_600_000).or_default() += 1;
            }
        }
    }
    out
}

/// The shared folder, its configuration (state on the server) and the list of addresses.
struct Fleet {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    state: String,
}

impl Fleet {
    fn new(state: String, articles: usize, extra: &str) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let urls: Vec<String> = (0..articles).map(address).collect();
        std::fs::write(dir.path().join("urls.txt"), urls.join("\n") + "\n").unwrap();
        let config = dir.path().join("wxsec.toml");
        std::fs::write(
            &config,
            format!(
                "out = \"archive\"\nstate = \"{state}\"\ndelay = 0\nfeed_delay = 0\njitter = 0\nretry_base = 0.2\n\
                 timeout = 10\n{extra}\n[[source]]\nname = \"list\"\nurls = \"urls.txt\"\n"
            ),
        )
        .unwrap();
        Fleet { dir, config, state }
    }

    /// `wxsec ARGS… --config CONFIG`, with no proxy or log settings of the caller's.
    fn wxsec(&self, args: &[&str]) -> Command {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("wxsec"));
        for v in ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "NO_PROXY", "RUST_LOG"] {
            c.env_remove(v);
        }
        c.args(args).arg("--config").arg(&self.config);
        c
    }

    /// Starts `wxsec crawl` as host `name`, reaching WeChat at `origin`.
    fn start(&self, name: &str, origin: &MockServer) -> Child {
        let mut c = self.wxsec(&["crawl", "--json"]);
        c.env("WXSEC_HOST", name).env("WXSEC_ORIGIN", origin.uri());
        c.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    fn state(&self) -> wxsec::archive::State {
        wxsec::archive::State::open(Path::new(&self.state)).unwrap()
    }

    fn records(&self) -> Vec<std::path::PathBuf> {
        common::record_files(&self.dir.path().join("archive"))
    }

    /// `wxsec status --json`, as any host reads it.
    fn status(&self) -> serde_json::Value {
        let out = self.wxsec(&["status", "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

/// Waits for a process, with its exit code and what it printed.
fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code(), text)
}

/// Every article done, each by one host; returns how many each host wrote.
fn all_done_once(fleet: &Fleet, articles: usize) -> BTreeMap<String, usize> {
    let rows = fleet.state().finished_by().unwrap();
    assert_eq!(rows.len(), articles, "{rows:?}");
    let mut by_host = BTreeMap::new();
    for (key, status, host) in &rows {
        assert_eq!(status, "done", "{key}: {rows:?}");
        *by_host.entry(host.clone().expect("the host that wrote it")).or_insert(0) += 1;
    }
    assert_eq!(fleet.records().len(), articles);
    for r in fleet.records() {
        let text = std::fs::read_to_string(&r).unwrap();
        assert!(text.contains("共享抓取测试文章"), "{}: a whole record", r.display());
        assert!(common::check_record(&text).is_empty(), "{}: {:?}", r.display(), common::check_record(&text));
    }
    by_host
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hosts_fetch_and_write_each_article_once() {
    let Some(state) = common::postgres_database("once") else { return };
    const N: usize = 24;
    let wechat = wechat(N, Duration::from_millis(100)).await;
    let fleet = Fleet::new(state, N, "max_wait = 20\nlease = 30\n");
    let hosts: Vec<Child> = ["h1", "h2", "h3"].iter().map(|h| fleet.start(h, &wechat)).collect();
    for h in hosts {
        let (code, text) = finish(h);
        assert_eq!(code, Some(0), "{text}");
    }
    let asked = asked(&[&wechat]).await;
    assert_eq!(asked.len(), N, "{asked:?}");
    assert!(asked.values().all(|n| *n == 1), "every article fetched once: {asked:?}");
    let by_host = all_done_once(&fleet, N);
    assert!(by_host.len() >= 2, "the work was shared: {by_host:?}");
    // Any host reads the whole archive's state and index.
    let status = fleet.status();
    assert_eq!(status["articles"]["done"], N, "{status}");
    assert_eq!(status["indexed"], N, "{status}");
    let hosts = status["hosts"].as_array().unwrap();
    assert_eq!(hosts.len(), 3, "{status}");
    let written: i64 = hosts.iter().map(|h| h["written"].as_i64().unwrap()).sum();
    assert_eq!(written, N as i64, "{status}");
    assert!(hosts.iter().all(|h| h["running"] == false && h["leased"] == 0), "{status}");
    let search = fleet.wxsec(&["search", "--json", "共享抓取测试文章 007"]).output().unwrap();
    let hits = String::from_utf8_lossy(&search.stdout);
    assert_eq!(hits.lines().count(), 1, "{hits}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_host_lets_go_when_its_lease_runs_out() {
    let Some(state) = common::postgres_database("killed") else { return };
    const N: usize = 12;
    let wechat = wechat(N, Duration::from_millis(400)).await;
    let fleet = Fleet::new(state, N, "max_wait = 30\nlease = 2\n");
    let mut h1 = fleet.start("h1", &wechat);
    // Killed mid-run: it has written a record and holds a lease on the next article.
    let state = fleet.state();
    let started = Instant::now();
    loop {
        let me = state.hosts(chrono::Utc::now().timestamp_millis()).unwrap().into_iter().find(|h| h.name == "h1");
        if me.is_some_and(|h| h.written >= 1 && h.leased == 1) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "h1 never got going");
        std::thread::sleep(Duration::from_millis(5));
    }
    let others: Vec<Child> = ["h2", "h3"].iter().map(|h| fleet.start(h, &wechat)).collect();
    h1.kill().unwrap(); // SIGKILL
    h1.wait().unwrap();
    let killed_at = Instant::now();
    let held: Vec<String> =
        state.finished_by().unwrap().into_iter().filter(|(_, status, _)| status != "done").map(|(k, _, _)| k).collect();
    let h1_now = state.hosts(chrono::Utc::now().timestamp_millis()).unwrap();
    let h1_leases = h1_now.iter().find(|h| h.name == "h1").map_or(0, |h| h.leased);
    assert_eq!(h1_leases, 1, "killed while holding a lease: {h1_now:?}");
    for h in others {
        let (code, text) = finish(h);
        assert_eq!(code, Some(0), "{text}");
    }
    assert!(killed_at.elapsed() >= Duration::from_secs(1), "the others waited for the lease");
    let by_host = all_done_once(&fleet, N);
    assert!(by_host.contains_key("h2") || by_host.contains_key("h3"), "{by_host:?}");
    // The article h1 held was finished by another host; nothing else was asked for twice.
    let asked = asked(&[&wechat]).await;
    assert_eq!(asked.len(), N, "{asked:?}");
    let twice: Vec<_> = asked.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.len() <= 1, "only the article in flight at the kill: {twice:?}");
    assert!(asked.values().all(|n| *n <= 2), "{asked:?}");
    let rows = state.finished_by().unwrap();
    let h1_written = rows.iter().filter(|(_, _, h)| h.as_deref() == Some("h1")).count();
    assert!((1..N).contains(&h1_written), "{rows:?}");
    assert!(!held.is_empty() && held.len() < N, "{held:?}");
    let status = fleet.status();
    let hosts = status["hosts"].as_array().unwrap();
    assert!(hosts.iter().all(|h| h["leased"] == 0), "no lease left behind: {status}");
    // A kill leaves "running" until the host's next run: status says what it was last told.
    assert!(hosts.iter().any(|h| h["name"] == "h1" && h["running"] == true), "{status}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_sent_to_verification_cools_down_alone() {
    let Some(state) = common::postgres_database("verify") else { return };
    const N: usize = 12;
    let wechat = wechat(N, Duration::from_millis(100)).await;
    let blocked = verifying().await;
    let fleet = Fleet::new(state, N, "max_wait = 20\nlease = 30\ncooldown = 600\n");
    // h3's address gets the verification page; it starts first, so it meets it.
    let h3 = fleet.start("h3", &blocked);
    let (code, text) = finish(h3);
    assert_eq!(code, Some(4), "blocked: {text}");
    let others: Vec<Child> = ["h1", "h2"].iter().map(|h| fleet.start(h, &wechat)).collect();
    for h in others {
        let (code, text) = finish(h);
        assert_eq!(code, Some(0), "{text}");
    }
    let by_host = all_done_once(&fleet, N);
    assert!(!by_host.contains_key("h3"), "{by_host:?}");
    assert_eq!(asked(&[&blocked]).await.values().sum::<usize>(), 1, "one request, then h3 left WeChat alone");
    assert!(asked(&[&wechat]).await.values().all(|n| *n == 1));
    // h3 is still cooling down: a run of it asks WeChat for nothing, and says it is blocked.
    let (code, _) = finish(fleet.start("h3", &blocked));
    assert_eq!(code, Some(4));
    assert_eq!(asked(&[&blocked]).await.values().sum::<usize>(), 1);
    let status = fleet.status();
    for h in status["hosts"].as_array().unwrap() {
        let cooling = h["blocked_until"].is_string();
        assert_eq!(cooling, h["name"] == "h3", "{status}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_on_a_new_server_lists_the_work_and_creates_nothing() {
    let Some(state) = common::postgres_database("dry") else { return };
    let wechat = wechat(3, Duration::ZERO).await;
    let fleet = Fleet::new(state.clone(), 3, "");
    let out = fleet.wxsec(&["crawl", "--dry-run", "--json"]).env("WXSEC_ORIGIN", wechat.uri()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["would_fetch"].as_array().map(Vec::len), Some(3), "{v}");
    assert!(asked(&[&wechat]).await.is_empty(), "no article asked for");
    let tables = std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&state, postgres::NoTls).unwrap();
        c.query_one("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", &[])
            .unwrap()
            .get::<_, i64>(0)
    })
    .join()
    .unwrap();
    assert_eq!(tables, 0, "a dry run creates nothing");
}
