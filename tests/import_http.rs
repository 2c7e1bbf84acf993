//! `wxsec import` of addresses, end to end: the real binary, real HTTP to a local server on
//! 127.0.0.1 (reached through `WXSEC_ORIGIN`), real corpus and fixture pages.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wiremock::matchers::{header_regex, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LONG: &str =
    "https://mp.weixin.qq.com/s?__biz=MjM5ODYxMDA5OQ==&mid=2651960800&idx=1&sn=595842fb2dc75aa505f544b956f2d65c";

fn corpus_page(name: &str) -> Vec<u8> {
    std::fs::read(common::corpus_dir().join("html").join(name)).expect("corpus page")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages").join(name)).expect("fixture page")
}

fn html(body: Vec<u8>) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("content-type", "text/html; charset=utf-8").set_body_bytes(body)
}

/// Serves article-07 at its long address, only to requests that look like a browser from WeChat.
async fn serve_long(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/s"))
        .and(query_param("__biz", "MjM5ODYxMDA5OQ=="))
        .and(query_param("mid", "2651960800"))
        .and(header_regex("user-agent", "Mozilla/5.0"))
        .and(header_regex("referer", "^https://mp.weixin.qq.com/"))
        .respond_with(html(corpus_page("article-07.html")))
        .mount(server)
        .await;
}

fn wxsec(server: &MockServer, out: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wxsec").unwrap();
    cmd.env("WXSEC_ORIGIN", server.uri()).env_remove("HTTPS_PROXY").env_remove("HTTP_PROXY").env_remove("ALL_PROXY");
    cmd.args(["import", "--delay", "0"]).arg("--out").arg(out);
    cmd
}

/// Every file under `dir` but the state folder (`.wxsec/`, the search index): records and any
/// scrap a write left.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && p.file_name().is_some_and(|n| n == ".wxsec") {
                assert!(p.join("state.sqlite").is_file(), "the index is in the state file");
                continue;
            }
            if p.is_dir() { stack.push(p) } else { out.push(p) }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_address_with_tracking_parameters_is_written_under_its_id() {
    let server = MockServer::start().await;
    serve_long(&server).await;
    let out = tempfile::tempdir().unwrap();
    let target = format!("{}&chksm=bd4d39c38a3ab0d5&scene=21#wechat_redirect", LONG.replace("https://", "http://"));
    let assert = wxsec(&server, out.path()).arg(&target).assert().success();
    let printed = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let written = out.path().join("2398610099/2651960800_1.md");
    assert_eq!(printed.trim(), written.display().to_string());
    let record = std::fs::read_to_string(&written).unwrap();
    assert!(common::check_record(&record).is_empty(), "{:?}", common::check_record(&record));
    let (_, meta) = common::front_matter(&record).unwrap();
    assert_eq!(meta["title"], "一分钟了解互联网动静分离架构");
    assert_eq!(meta["source"], "架构师之路");
    assert_eq!(meta["url"], LONG);
    assert_eq!(files_under(out.path()).len(), 1, "no temporary file is left behind");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_links_follow_redirects_to_the_long_address() {
    let server = MockServer::start().await;
    serve_long(&server).await;
    // WeChat answers a short link with an absolute Location on its own host: the client must
    // map it back to the mirror. A relative Location must work too.
    Mock::given(method("GET"))
        .and(path("/s/ShortAbsolute01"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", LONG))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/s/ShortRelative01"))
        .respond_with(ResponseTemplate::new(301).insert_header("location", "/s/ShortAbsolute01"))
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    wxsec(&server, out.path()).arg("https://mp.weixin.qq.com/s/ShortRelative01?scene=1").assert().success();
    let files = files_under(out.path());
    assert_eq!(files, vec![out.path().join("2398610099/2651960800_1.md")]);
    let record = std::fs::read_to_string(&files[0]).unwrap();
    assert!(record.contains(&format!("url: {LONG}\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn short_link_pages_without_an_id_keep_the_short_address() {
    let server = MockServer::start().await;
    let mut page = String::from_utf8(fixture("modern-2025.html")).unwrap();
    // The same page with its id variables removed: only the short link identifies it.
    for var in ["biz", "sn", "mid", "idx"] {
        page = page.replace(&format!("var {var} = "), &format!("var {var}_gone = "));
    }
    Mock::given(method("GET"))
        .and(path("/s/TomcatRce2025xyz"))
        .respond_with(html(page.into_bytes()))
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    wxsec(&server, out.path()).arg("https://mp.weixin.qq.com/s/TomcatRce2025xyz").assert().success();
    let record = std::fs::read_to_string(out.path().join("s/TomcatRce2025xyz.md")).unwrap();
    assert!(record.contains("url: https://mp.weixin.qq.com/s/TomcatRce2025xyz\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_write_nothing_and_exit_with_their_code() {
    let server = MockServer::start().await;
    Mock::given(path("/s/Missing404")).respond_with(ResponseTemplate::new(404)).mount(&server).await;
    Mock::given(path("/s/Verify01")).respond_with(html(corpus_page("verify-01.html"))).mount(&server).await;
    Mock::given(path("/s/Deleted01")).respond_with(html(corpus_page("deleted-01.html"))).mount(&server).await;
    Mock::given(path("/s/Removed01")).respond_with(html(corpus_page("removed-01.html"))).mount(&server).await;
    Mock::given(path("/s/Expired01")).respond_with(html(corpus_page("expired-01.html"))).mount(&server).await;
    Mock::given(path("/s/Error01")).respond_with(html(fixture("error.html"))).mount(&server).await;
    Mock::given(path("/s/Away01"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "https://evil.example.com/phish"))
        .mount(&server)
        .await;
    Mock::given(path("/s/Loop01"))
        .respond_with(ResponseTemplate::new(302).insert_header("location", "/s/Loop01"))
        .mount(&server)
        .await;
    let cases = [
        ("Missing404", 5, "HTTP status 404"),
        ("Verify01", 4, "verification page"),
        ("Deleted01", 3, "deleted page"),
        ("Removed01", 3, "removed page"),
        ("Expired01", 3, "expired-link page"),
        ("Error01", 3, "error page"),
        ("Away01", 5, "not mp.weixin.qq.com; refused"),
        ("Loop01", 5, "more than 10 redirects"),
    ];
    for (id, code, message) in cases {
        let out = tempfile::tempdir().unwrap();
        let assert = wxsec(&server, out.path()).arg(format!("https://mp.weixin.qq.com/s/{id}")).assert().code(code);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(message), "{id}: stderr was {stderr}");
        assert!(stderr.contains("hint:"), "{id}: no hint in {stderr}");
        assert!(files_under(out.path()).is_empty(), "{id} wrote something");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_targets_go_on_after_a_failure() {
    let server = MockServer::start().await;
    serve_long(&server).await;
    Mock::given(path("/s/Deleted01")).respond_with(html(corpus_page("deleted-01.html"))).mount(&server).await;
    let out = tempfile::tempdir().unwrap();
    let fixture_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages/modern-2025.html");
    let assert = wxsec(&server, out.path())
        .arg("https://mp.weixin.qq.com/s/Deleted01")
        .arg(LONG)
        .arg(&fixture_path)
        .arg("not-a-target")
        .assert()
        .code(3);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 2, "two records written: {stdout}");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("not-a-target: cannot read"), "a missing file: {stderr}");
    assert_eq!(files_under(out.path()).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compressed_pages_are_decoded() {
    let server = MockServer::start().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&corpus_page("article-07.html")).unwrap();
    Mock::given(path("/s/Gzip01"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html; charset=utf-8")
                .insert_header("content-encoding", "gzip")
                .set_body_bytes(gz.finish().unwrap()),
        )
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    wxsec(&server, out.path()).arg("https://mp.weixin.qq.com/s/Gzip01").assert().success();
    assert!(out.path().join("2398610099/2651960800_1.md").is_file());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_carries_every_fact() {
    let server = MockServer::start().await;
    Mock::given(path("/s/Picture01")).respond_with(html(corpus_page("picture-01.html"))).mount(&server).await;
    let out = tempfile::tempdir().unwrap();
    wxsec(&server, out.path()).args(["--format", "json", "https://mp.weixin.qq.com/s/Picture01"]).assert().success();
    let files = files_under(out.path());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].extension().unwrap(), "json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&files[0]).unwrap()).unwrap();
    assert_eq!(v["kind"], "picture");
    assert_eq!(v["source"], "36氪");
    assert_eq!(v["account_id"], "gh_240fbf8b33e4");
    assert_eq!(v["date"], "2025-11-05");
    assert_eq!(v["published"], "2025-11-05T18:30:00+08:00");
    assert_eq!(v["biz"], "MzI2NDk5NzA0Mw==");
    assert_eq!(v["sn"], "875c3bbeea8cafa2728a9f53c19b49a3");
    assert!(v["images"].as_array().unwrap().len() >= 3, "{}", v["images"]);
    assert!(v["markdown"].as_str().unwrap().starts_with("# 新能源车均价创6年新低"));
}

#[test]
fn stdin_pages_are_imported() {
    let out = tempfile::tempdir().unwrap();
    let assert = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--delay", "0", "--out"])
        .arg(out.path())
        .arg("-")
        .write_stdin(fixture("desktop-2018.html"))
        .assert()
        .success();
    let printed = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let record = std::fs::read_to_string(printed.trim()).unwrap();
    assert!(record.starts_with("---\ntitle: CVE-2018-1000 漏洞预警：某 CMS 远程代码执行\n"));
}

#[test]
fn a_bad_origin_is_a_usage_error() {
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", "not a url")
        .args(["import", "--delay", "0", "--out"])
        .arg(out.path())
        .arg("https://mp.weixin.qq.com/s/x")
        .assert()
        .code(2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_are_honoured() {
    // The local server plays an HTTP proxy: the mirror's host name does not exist, so the page
    // can only arrive through the proxy named in the environment.
    let proxy = MockServer::start().await;
    serve_long(&proxy).await;
    let out = tempfile::tempdir().unwrap();
    Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", "http://mirror.wxsec.invalid")
        .env("HTTP_PROXY", proxy.uri())
        .env("http_proxy", proxy.uri())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(["import", "--delay", "0", "--out"])
        .arg(out.path())
        .arg(LONG)
        .assert()
        .success();
    assert!(out.path().join("2398610099/2651960800_1.md").is_file());
    let seen = proxy.received_requests().await.unwrap();
    assert!(seen.iter().any(|r| r.url.host_str() == Some("mirror.wxsec.invalid")
        || r.headers.get("host").is_some_and(|h| h == "mirror.wxsec.invalid")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_oversized_pages_are_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/s/Slow01"))
        .respond_with(html(corpus_page("article-07.html")).set_delay(std::time::Duration::from_secs(5)))
        .mount(&server)
        .await;
    Mock::given(path("/s/Big01")).respond_with(html(corpus_page("article-07.html"))).mount(&server).await;
    // 8 MB of zeros compress to a few KB: the cap counts what comes out of the decompressor.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&vec![b' '; 8 << 20]).unwrap();
    Mock::given(path("/s/Bomb01"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .insert_header("content-encoding", "gzip")
                .set_body_bytes(gz.finish().unwrap()),
        )
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let assert =
        wxsec(&server, out.path()).args(["--timeout", "1", "https://mp.weixin.qq.com/s/Slow01"]).assert().code(5);
    assert!(started.elapsed() < std::time::Duration::from_secs(4), "the timeout did not cut the request");
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("timed out") || stderr.contains("timeout"), "{stderr}");
    for id in ["Big01", "Bomb01"] {
        let assert = wxsec(&server, out.path())
            .args(["--max-page-bytes", "65536", &format!("https://mp.weixin.qq.com/s/{id}")])
            .assert()
            .code(5);
        let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains("larger than 65536 bytes"), "{id}: {stderr}");
    }
    assert!(files_under(out.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_brotli_bomb_is_cut_at_the_cap() {
    let server = MockServer::start().await;
    // 64 MB of spaces compress to a few KB; the cap counts what the decompressor gives.
    let mut compressed = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut compressed, 4096, 9, 22);
        let chunk = vec![b' '; 1 << 20];
        for _ in 0..64 {
            w.write_all(&chunk).unwrap();
        }
    }
    assert!(compressed.len() < 1 << 20);
    Mock::given(path("/s/Brotli01"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/html")
                .insert_header("content-encoding", "br")
                .set_body_bytes(compressed),
        )
        .mount(&server)
        .await;
    let out = tempfile::tempdir().unwrap();
    let assert = wxsec(&server, out.path())
        .args(["--max-page-bytes", "1000000", "https://mp.weixin.qq.com/s/Brotli01"])
        .assert()
        .code(5);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("larger than 1000000 bytes"), "{stderr}");
    assert!(files_under(out.path()).is_empty());
}

/// A network failure names the address once, then what failed.
#[test]
fn a_network_error_names_the_address_once() {
    let out = tempfile::tempdir().unwrap();
    let run = Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", "http://127.0.0.1:9")
        .args(["import", "--delay", "0", "--timeout", "5", "--out"])
        .arg(out.path())
        .arg("https://mp.weixin.qq.com/s/AbC")
        .assert()
        .code(5);
    let err = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(err.starts_with("wxsec: https://mp.weixin.qq.com/s/AbC: error sending request"), "{err}");
    assert!(!err.contains("for url ("), "{err}");
    assert!(err.contains("Connection refused") || err.contains("connect"), "{err}");
}
