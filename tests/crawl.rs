//! `wxsec crawl` end to end: the real binary, a real SQLite state file, real HTTP to a local
//! server on 127.0.0.1 serving corpus pages (through `WXSEC_ORIGIN`), feeds and URL lists.

mod common;

use common::crawl::{A07, A09, Setup, html, page, rss};

use std::time::Duration;

use assert_cmd::Command;
use wiremock::matchers::{header, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn summary(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|_| panic!("no JSON summary in {stdout}"))
}

async fn article_requests(server: &MockServer) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r: &&Request| r.url.path().starts_with("/s"))
        .count()
}

async fn serve_articles(server: &MockServer) {
    Mock::given(path("/s"))
        .and(query_param("mid", "2651960800"))
        .respond_with(html(page("article-07.html")))
        .mount(server)
        .await;
    Mock::given(path("/s"))
        .and(query_param("mid", "2651960726"))
        .respond_with(html(page("article-09.html")))
        .mount(server)
        .await;
    Mock::given(path("/s/KDWh_qGpFN5Vu1TR9t30Mw")).respond_with(html(page("article-02.html"))).mount(server).await;
    Mock::given(path("/s/OneMore16")).respond_with(html(page("article-16.html"))).mount(server).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feed_and_list_are_archived_once_and_only_new_items_are_fetched() {
    let server = MockServer::start().await;
    serve_articles(&server).await;
    // A conditional feed: the second poll sends the ETag and gets 304.
    Mock::given(path("/feed.xml"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/rss+xml")
                .insert_header("etag", "\"v1\"")
                .set_body_string(rss(&[
                    A07,
                    "https://mp.weixin.qq.com/s/KDWh_qGpFN5Vu1TR9t30Mw?scene=1",
                    "https://example.com/x",
                ])),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let s = Setup::new("", "");
    // The list names article-07 again (another form) and article-09.
    let sources = format!(
        "{}[[source]]\nname = \"bridge\"\nfeed = \"{}/feed.xml\"\n",
        s.urls(&[&A07.replace("https://", "http://").replace("&sn", "&chksm=1&sn"), A09]),
        server.uri()
    );
    s.add_sources(&sources);

    let first = s.cmd(&server).arg("--json").assert().success();
    let sum = summary(first.get_output());
    assert_eq!(sum["new"], 3, "{sum}");
    assert_eq!(s.records().len(), 3);
    for r in s.records() {
        let text = std::fs::read_to_string(&r).unwrap();
        assert!(common::check_record(&text).is_empty(), "{}: {:?}", r.display(), common::check_record(&text));
    }
    let fetched = article_requests(&server).await;
    assert_eq!(fetched, 3, "each article fetched once");

    // Second run: nothing new, nothing fetched.
    let second = s.cmd(&server).arg("--json").assert().success();
    assert_eq!(summary(second.get_output())["new"], 0);
    assert_eq!(article_requests(&server).await, fetched);

    // A new feed item: exactly one more record.
    server.reset().await;
    serve_articles(&server).await;
    Mock::given(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_string(rss(&[A07, "https://mp.weixin.qq.com/s/OneMore16"])))
        .mount(&server)
        .await;
    let third = s.cmd(&server).arg("--json").assert().success();
    assert_eq!(summary(third.get_output())["new"], 1);
    assert_eq!(article_requests(&server).await, 1);
    assert_eq!(s.records().len(), 4);
    let counts = s.state().counts().unwrap();
    assert_eq!(counts, vec![("done".to_string(), 4)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_faults_are_retried_and_final_ones_recorded() {
    let server = MockServer::start().await;
    // 429 with Retry-After, then the page.
    Mock::given(path("/s/RateLimited"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/s/RateLimited"))
        .respond_with(html(page("article-07.html")))
        .with_priority(2)
        .mount(&server)
        .await;
    // Two 500s, then the page.
    Mock::given(path("/s/Flaky500"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/s/Flaky500")).respond_with(html(page("article-09.html"))).with_priority(2).mount(&server).await;
    // A response slower than the timeout, then the page.
    Mock::given(path("/s/Slow"))
        .respond_with(html(page("article-16.html")).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/s/Slow")).respond_with(html(page("article-16.html"))).with_priority(2).mount(&server).await;
    // A blank answer (a failed response, not a page), then the page.
    Mock::given(path("/s/Blank")).respond_with(html(Vec::new())).up_to_n_times(1).with_priority(1).mount(&server).await;
    Mock::given(path("/s/Blank")).respond_with(html(page("article-10.html"))).with_priority(2).mount(&server).await;
    // Deleted: recorded as such, never asked again.
    Mock::given(path("/s/Gone")).respond_with(html(page("deleted-01.html"))).mount(&server).await;
    // Always 503: given up after max_attempts.
    Mock::given(path("/s/Down")).respond_with(ResponseTemplate::new(503)).mount(&server).await;
    // A short link that redirects to a long address.
    Mock::given(path("/s/Short07"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", A07))
        .mount(&server)
        .await;
    Mock::given(path("/s"))
        .and(query_param("mid", "2651960800"))
        .respond_with(html(page("article-07.html")))
        .mount(&server)
        .await;

    let s = Setup::new("max_attempts = 3\ntimeout = 1", "");
    let list = s.urls(&[
        "https://mp.weixin.qq.com/s/RateLimited",
        "https://mp.weixin.qq.com/s/Flaky500",
        "https://mp.weixin.qq.com/s/Slow",
        "https://mp.weixin.qq.com/s/Blank",
        "https://mp.weixin.qq.com/s/Gone",
        "https://mp.weixin.qq.com/s/Down",
    ]);
    s.add_sources(&list);
    let run = s.cmd(&server).arg("--json").assert().code(8);
    let sum = summary(run.get_output());
    assert_eq!(sum["new"], 4, "{sum}");
    assert_eq!(sum["gone"], 1, "{sum}");
    assert_eq!(sum["gave_up"], 1, "{sum}");
    assert_eq!(sum["failed"], 1, "only the dead host is still failing: {sum}");
    let statuses: Vec<(String, String)> = s.state().all().unwrap().into_iter().map(|(k, st, _)| (k, st)).collect();
    assert!(statuses.iter().any(|(k, st)| k == "s:Gone" && st == "deleted"), "{statuses:?}");
    assert!(statuses.iter().any(|(k, st)| k == "s:Down" && st == "gave-up"), "{statuses:?}");
    let down_requests = server.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/s/Down").count();
    assert_eq!(down_requests, 3, "max_attempts = 3");

    // The short link resolves to the long address already archived: no second record.
    // The configuration names urls.txt already: only the list changes.
    s.urls(&["https://mp.weixin.qq.com/s/Short07", "https://mp.weixin.qq.com/s/Gone"]);
    let before = s.records().len();
    let again = s.cmd(&server).arg("--json").assert().success();
    let sum = summary(again.get_output());
    assert_eq!(s.records().len(), before, "{sum}");
    assert!(
        server.received_requests().await.unwrap().iter().filter(|r| r.url.path() == "/s/Gone").count() == 1,
        "deleted is never retried"
    );
    // Known now under both names.
    assert!(s.state().knows("https://mp.weixin.qq.com/s/Short07").unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verification_page_trips_the_breaker_until_the_cool_down_ends() {
    let server = MockServer::start().await;
    Mock::given(path("/s/First")).respond_with(html(page("article-07.html"))).mount(&server).await;
    Mock::given(path("/s/Second"))
        .respond_with(html(page("verify-01.html")))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(path("/s/Second")).respond_with(html(page("article-09.html"))).with_priority(2).mount(&server).await;
    Mock::given(path("/s/Third")).respond_with(html(page("article-16.html"))).mount(&server).await;
    let s = Setup::new("", "");
    let list = s.urls(&[
        "https://mp.weixin.qq.com/s/First",
        "https://mp.weixin.qq.com/s/Second",
        "https://mp.weixin.qq.com/s/Third",
    ]);
    s.add_sources(&list);

    let first = s.cmd(&server).arg("--json").assert().code(4);
    let sum = summary(first.get_output());
    assert_eq!(sum["new"], 1, "{sum}");
    assert_eq!(sum["blocked"], 2, "{sum}");
    assert!(sum["blocked_until"].is_string());
    let asked = article_requests(&server).await;
    assert_eq!(asked, 2, "no request after the verification page");

    // During the cool-down: no request to WeChat at all.
    s.cmd(&server).assert().code(4);
    assert_eq!(article_requests(&server).await, asked);
    let status = Command::cargo_bin("wxsec").unwrap().args(["status", "--config"]).arg(&s.config).assert().success();
    let text = String::from_utf8_lossy(&status.get_output().stdout).to_string();
    assert!(text.contains("blocked until") && text.contains("pending"), "{text}");

    // After it: the rest is fetched.
    std::thread::sleep(Duration::from_millis(2200));
    let after = s.cmd(&server).arg("--json").assert().success();
    assert_eq!(summary(after.get_output())["new"], 2);
    assert_eq!(s.records().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_a_retried_failure_not_a_record() {
    // A raw server that promises more bytes than it sends, then hangs up, once.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let body = page("article-07.html");
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for (i, stream) in listener.incoming().take(2).enumerate() {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let send = if i == 0 { &body[..body.len() / 2] } else { &body[..] };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(send);
        }
    });
    let s = Setup::new("", "");
    let list = s.urls(&["https://mp.weixin.qq.com/s/Cut"]);
    s.add_sources(&list);
    let out = Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", format!("http://{addr}"))
        .args(["crawl", "--json", "--config"])
        .arg(&s.config)
        .assert()
        .success();
    let sum = summary(out.get_output());
    assert_eq!(sum["new"], 1, "the retry within the run got the whole page: {sum}");
    let records = s.records();
    assert_eq!(records.len(), 1);
    assert!(common::check_record(&std::fs::read_to_string(&records[0]).unwrap()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_runs_leave_whole_records_and_a_consistent_state() {
    let server = MockServer::start().await;
    let names: Vec<String> = std::fs::read_dir(common::corpus_dir().join("html"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| {
            (n.starts_with("article-") || n.starts_with("text-") || n.starts_with("picture-")) && n.ends_with(".html")
        })
        .collect();
    let mut urls = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let id = format!("K{i:02}");
        Mock::given(path(format!("/s/{id}")))
            .respond_with(html(page(n)).set_delay(Duration::from_millis(60)))
            .mount(&server)
            .await;
        urls.push(format!("https://mp.weixin.qq.com/s/{id}"));
    }
    let s = Setup::new("", "");
    let list = s.urls(&urls.iter().map(String::as_str).collect::<Vec<_>>());
    s.add_sources(&list);
    let bin = assert_cmd::cargo::cargo_bin("wxsec");
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for _ in 0..10 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let mut child = std::process::Command::new(&bin)
            .env("WXSEC_ORIGIN", server.uri())
            .args(["crawl", "--config"])
            .arg(&s.config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(50 + seed % 500));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    s.cmd(&server).assert().success();
    let state = s.state();
    let rows = state.all().unwrap();
    assert!(rows.iter().all(|(_, st, _)| st == "done"), "{rows:?}");
    let mut paths: Vec<String> = rows.iter().filter_map(|(_, _, p)| p.clone()).collect();
    paths.sort();
    paths.dedup();
    let records = s.records();
    assert_eq!(records.len(), paths.len(), "one file per archived article, no partial or stray file");
    for r in &records {
        let text = std::fs::read_to_string(r).unwrap();
        assert!(common::check_record(&text).is_empty(), "{}: {:?}", r.display(), common::check_record(&text));
        let rel = r.strip_prefix(s.archive()).unwrap().to_string_lossy().to_string();
        assert!(paths.contains(&rel), "{rel} is not in the state");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_is_locked_out_and_a_bad_state_is_named() {
    let server = MockServer::start().await;
    Mock::given(path("/s/Slow1"))
        .respond_with(html(page("article-07.html")).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let s = Setup::new("", "");
    let list = s.urls(&["https://mp.weixin.qq.com/s/Slow1"]);
    s.add_sources(&list);
    let bin = assert_cmd::cargo::cargo_bin("wxsec");
    let mut first = std::process::Command::new(&bin)
        .env("WXSEC_ORIGIN", server.uri())
        .args(["crawl", "--config"])
        .arg(&s.config)
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let locked = s.cmd(&server).assert().code(9);
    assert!(String::from_utf8_lossy(&locked.get_output().stderr).contains("another wxsec crawl is running"));
    assert!(first.wait().unwrap().success());

    // A state file that is not one.
    let state = s.archive().join(".wxsec/state.sqlite");
    std::fs::remove_file(state.with_extension("sqlite-wal")).ok();
    std::fs::remove_file(state.with_extension("sqlite-shm")).ok();
    std::fs::write(&state, vec![b'x'; 8192]).unwrap();
    let bad = s.cmd(&server).assert().code(10);
    let stderr = String::from_utf8_lossy(&bad.get_output().stderr).to_string();
    assert!(stderr.contains("not a wxsec state file"), "{stderr}");
    assert_eq!(std::fs::read(&state).unwrap(), vec![b'x'; 8192], "the bad file is left as it was");
}

#[test]
fn configuration_mistakes_exit_2_and_dry_runs_change_nothing() {
    let s = Setup::new("", "");
    let mut c = Command::cargo_bin("wxsec").unwrap();
    c.args(["crawl", "--config"]).arg(&s.config).assert().code(2);
    std::fs::write(&s.config, "delay = \"fast\"\n").unwrap();
    Command::cargo_bin("wxsec").unwrap().args(["crawl", "--config"]).arg(&s.config).assert().code(2);

    let s = Setup::new("", "");
    let list = s.urls(&[A07, A09, "not an address"]);
    s.add_sources(&list);
    let out = Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", "http://127.0.0.1:9")
        .args(["crawl", "--dry-run", "--config"])
        .arg(&s.config)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
    assert_eq!(stdout.lines().collect::<Vec<_>>(), vec![A07, A09]);
    assert!(s.records().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn links_to_the_same_account_are_followed_within_the_budget() {
    let server = MockServer::start().await;
    Mock::given(path("/s/Start02")).respond_with(html(page("article-02.html"))).mount(&server).await;
    // Every other article of that account answers with another page of it.
    Mock::given(path("/s"))
        .and(query_param("__biz", "MzIyNjMxOTY0NA=="))
        .respond_with(html(page("article-01.html")))
        .mount(&server)
        .await;
    let s = Setup::new("follow_depth = 1\nfollow_max = 2", "");
    let list = s.urls(&["https://mp.weixin.qq.com/s/Start02"]);
    s.add_sources(&list);
    let run = s.cmd(&server).arg("--json").assert().success();
    let sum = summary(run.get_output());
    assert_eq!(sum["discovered"], 3, "the start and two followed links: {sum}");
    let followed: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/s")
        .map(|r| r.url.query().unwrap_or("").to_string())
        .collect();
    assert_eq!(followed.len(), 2, "follow_max = 2: {followed:?}");
    assert!(
        followed.iter().all(|q| q.starts_with("__biz=MzIyNjMxOTY0NA==&mid=") && !q.contains("scene")),
        "{followed:?}"
    );
    let rows = s.state().all().unwrap();
    assert!(rows.iter().all(|(_, st, _)| st == "done"), "{rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_album_page_yields_the_articles_of_its_account() {
    // No real album response is in the corpus: this page only carries article links the way any
    // WeChat page does (attributes, scripts), which is all the album reader relies on.
    let album = format!(
        r#"<html><body><ul>
        <li class="album__list-item" data-link="{}" data-title="一分钟了解互联网动静分离架构"></li>
        <li class="album__list-item" data-link="{}"></li>
        <li><a href="https://mp.weixin.qq.com/s?__biz=MzOTHER==&amp;mid=1&amp;idx=1&amp;sn=ab">another account</a></li>
        </ul><script>var next = "http:\/\/mp.weixin.qq.com\/s?__biz=MjM5ODYxMDA5OQ==\x26amp;mid=2651960800\x26amp;idx=1\x26amp;sn=595842fb2dc75aa505f544b956f2d65c";</script></body></html>"#,
        A07.replace('&', "&amp;"),
        A09.replace('&', "&amp;")
    );
    let server = MockServer::start().await;
    Mock::given(path("/mp/appmsgalbum"))
        .and(query_param("album_id", "1234"))
        .respond_with(html(album.into_bytes()))
        .mount(&server)
        .await;
    serve_articles(&server).await;
    let s = Setup::new(
        "",
        "[[source]]\nname = \"album\"\nalbum = \"https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MjM5ODYxMDA5OQ==&action=getalbum&album_id=1234#wechat_redirect\"\n",
    );
    let run = s.cmd(&server).arg("--json").assert().success();
    assert_eq!(summary(run.get_output())["new"], 2);
    assert_eq!(s.records().len(), 2);
}

/// The front matter's facts, as strings.
struct Front {
    title: String,
    url: String,
    source: String,
    date: String,
}

/// A bridge's feed from `fixtures/feeds/`, served as the bridge serves it.
fn bridge_feed(name: &str, content_type: &str) -> ResponseTemplate {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/feeds").join(name);
    let body = std::fs::read_to_string(path).unwrap().replace("A09_PLACEHOLDER", &A09.replace('&', "&amp;"));
    ResponseTemplate::new(200).insert_header("content-type", content_type).set_body_string(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_text_feeds_are_written_without_asking_wechat() {
    let wechat = MockServer::start().await;
    serve_articles(&wechat).await;
    let bridges = MockServer::start().await;
    for (route, file, kind) in [
        ("/feeds/MP_WXS_3941633310.atom", "wewe-rss.atom", "application/atom+xml"),
        ("/feed/3941633311.xml", "we-mp-rss.xml", "application/xml"),
        ("/wechat/mp/homepage/MzA4NTQwMjU3Mw==/0", "rsshub.xml", "application/rss+xml; charset=utf-8"),
    ] {
        Mock::given(path(route)).respond_with(bridge_feed(file, kind)).mount(&bridges).await;
    }
    let b = bridges.uri();
    let s = Setup::new(
        "",
        &format!(
            "[[source]]\nname = \"wewe\"\nfeed = \"{b}/feeds/MP_WXS_3941633310.atom\"\ncontent = \"feed\"\n\
             [[source]]\nname = \"we-mp-rss\"\nfeed = \"{b}/feed/3941633311.xml\"\ncontent = \"feed\"\n\
             [[source]]\nname = \"rsshub\"\nfeed = \"{b}/wechat/mp/homepage/MzA4NTQwMjU3Mw==/0\"\ncontent = \"feed\"\naccount = \"威胁猎人\"\n"
        ),
    );
    // A dry run says what would be written from the feeds and what would be fetched, asking
    // WeChat nothing and writing nothing.
    let dry = s.cmd(&wechat).args(["--dry-run", "--json"]).assert().success();
    let sum = summary(dry.get_output());
    assert_eq!(sum["would_write"].as_array().map(Vec::len), Some(3), "{sum}");
    assert_eq!(sum["would_fetch"].as_array().map(Vec::len), Some(1), "{sum}");
    assert!(wechat.received_requests().await.unwrap().is_empty());
    assert!(s.records().is_empty());

    let first = s.cmd(&wechat).arg("--json").assert().success();
    let sum = summary(first.get_output());
    // Three items carry their article; the fourth carries a summary and is fetched.
    assert_eq!(sum["new"], 4, "{sum}");
    let asked: Vec<String> = wechat.received_requests().await.unwrap().iter().map(|r| r.url.to_string()).collect();
    assert_eq!(asked.len(), 1, "only the summary item goes to WeChat: {asked:?}");
    assert!(asked[0].contains("mid=2651960726"), "{asked:?}");

    let records: Vec<(String, Front)> = s
        .records()
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            assert!(common::check_record(&text).is_empty(), "{}: {:?}", p.display(), common::check_record(&text));
            let (_, map) = common::front_matter(&text).unwrap();
            let get = |k: &str| {
                map.get(k).map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string)).unwrap_or_default()
            };
            let front = Front { title: get("title"), url: get("url"), source: get("source"), date: get("date") };
            (text, front)
        })
        .collect();
    let find = |title: &str| {
        records.iter().find(|(_, f)| f.title == title).unwrap_or_else(|| panic!("no record titled {title}"))
    };
    let (wewe, f) = find("某OA系统远程代码执行漏洞分析（CVE-2026-21001）");
    assert_eq!((f.source.as_str(), f.date.as_str()), ("安全研究小站", "2026-03-11"));
    assert_eq!(f.url, "https://mp.weixin.qq.com/s/WeweOaRce2026");
    for line in [
        "## 一、漏洞概述",
        "**影响版本**：v9.0 至 v9.5",
        "1. 升级到 v9.6",
        "![](https://mmbiz.qpic.cn/mmbiz_png/abcDEF123/640?wx_fmt=png&from=appmsg)",
    ] {
        assert!(wewe.contains(line), "wewe-rss record lacks {line}:\n{wewe}");
    }
    assert!(!wewe.contains("overflow: hidden"), "the bridge's style is not text:\n{wewe}");
    let (wemp, f) = find("每周威胁情报速递（第11期）");
    assert_eq!((f.source.as_str(), f.date.as_str()), ("威胁情报观察", "2026-03-08"));
    assert!(wemp.contains("![](https://mmbiz.qpic.cn/mmbiz_png/Weekly11Chart/640?wx_fmt=png)"), "{wemp}");
    assert!(wemp.contains("LockBit 5.0"), "{wemp}");
    let (rsshub, f) = find("Fastjson 1.2.83 autoType 绕过分析");
    assert_eq!((f.source.as_str(), f.date.as_str()), ("威胁猎人", "2026-03-11"));
    assert_eq!(
        f.url,
        "https://mp.weixin.qq.com/s?__biz=MzA4NTQwMjU3Mw==&mid=2650001234&idx=1&sn=abcdef0123456789abcdef0123456789"
    );
    assert!(rsshub.contains("{\"@type\":\"java.lang.AutoCloseable\"}"), "{rsshub}");
    // The link inside the full text (the previous issue) is not fetched.
    assert!(!asked.iter().any(|u| u.contains("WempOlderIssue")));

    // Again: nothing new, and still nothing asked of WeChat for the feeds' articles.
    let second = s.cmd(&wechat).arg("--json").assert().success();
    let sum = summary(second.get_output());
    assert_eq!(sum["new"], 0, "{sum}");
    assert_eq!(wechat.received_requests().await.unwrap().len(), 1);
    assert_eq!(s.state().counts().unwrap(), vec![("done".to_string(), 4)]);
}
