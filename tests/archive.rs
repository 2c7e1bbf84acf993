//! Beyond the records, end to end with the real binary: the search index (`search`, `reindex`),
//! Atom feeds read back by a real feed parser, entities in the front matter, local images over
//! HTTP on 127.0.0.1, and the repair of stub records through `normalise --queue` and `crawl`.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

fn wxsec() -> Command {
    let mut c = Command::cargo_bin("wxsec").unwrap();
    c.env_remove("HTTP_PROXY").env_remove("HTTPS_PROXY").env_remove("http_proxy").env_remove("https_proxy");
    c
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages").join(name)
}

/// The fixture articles (pages with an expected record beside them) and the corpus articles.
fn article_pages() -> Vec<PathBuf> {
    let mut pages: Vec<PathBuf> = std::fs::read_dir(fixture(""))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "html") && p.with_extension("md").exists())
        .collect();
    let html = common::corpus_dir().join("html");
    for row in common::manifest(&html.join("MANIFEST.tsv")) {
        if row["expect_kind"] == "article" {
            pages.push(html.join(&row["file"]));
        }
    }
    pages.sort();
    pages
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn search(archive: &Path, args: &[&str]) -> Vec<serde_json::Value> {
    let out = wxsec().arg("search").arg("--out").arg(archive).arg("--json").args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    stdout(&out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn search_reindex_and_feeds_over_an_imported_archive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let pages = article_pages();
    let out = wxsec().arg("import").arg("--out").arg(&archive).args(&pages).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut written: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(written.len(), pages.len());
    // The corpus holds some articles twice (in two templates): one record each.
    written.sort();
    written.dedup();
    let records = written.len();
    let tomcat = archive.join("3265889797/2247521893_1.md");
    assert!(tomcat.is_file());

    // A Chinese substring of three characters or more goes through the trigram index.
    let hits = search(&archive, &["代码执行"]);
    assert!(!hits.is_empty());
    for h in &hits {
        let text = std::fs::read_to_string(h["path"].as_str().unwrap()).unwrap();
        assert!(text.contains("代码执行"), "{h}");
        // A match in the title alone leaves the snippet at the body's start.
        let in_title = h["title"].as_str().unwrap().contains("代码执行");
        assert!(in_title || h["snippet"].as_str().unwrap().contains("**代码执行**"), "{h}");
    }
    // Two characters fall back to LIKE; the same records a plain scan of the files finds.
    let two = search(&archive, &["漏洞", "--limit", "1000"]);
    let by_scan = written
        .iter()
        .filter(|p| {
            let t = std::fs::read_to_string(p).unwrap();
            let body = t.splitn(3, "---\n").nth(2).unwrap();
            body.contains("漏洞")
        })
        .count();
    assert_eq!(two.len(), by_scan);
    // Several words: all of them; Latin letters in any case.
    let both = search(&archive, &["TOMCAT", "补丁"]);
    assert!(both.iter().any(|h| h["path"].as_str().unwrap().ends_with("2247521893_1.md")), "{both:?}");
    // Filters.
    let by_cve = search(&archive, &["--cve", "cve-2024-56337"]);
    assert_eq!(by_cve.len(), 1);
    assert_eq!(by_cve[0]["cves"][0], "CVE-2024-56337");
    assert_eq!(by_cve[0]["path"].as_str().unwrap(), tomcat.display().to_string());
    let by_source = search(&archive, &["--source", "代码卫士"]);
    assert!(!by_source.is_empty() && by_source.iter().all(|h| h["source"] == "代码卫士"));
    let recent = search(&archive, &["--since", "2025-01-01", "--limit", "1000"]);
    assert!(!recent.is_empty() && recent.iter().all(|h| h["date"].as_str().unwrap() >= "2025-01-01"));
    let dates: Vec<&str> = recent.iter().map(|h| h["date"].as_str().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first: {dates:?}");
    assert!(search(&archive, &["没有这样的文字"]).is_empty());
    // The human form names title, account, date, path and the snippet.
    let human = wxsec().arg("search").arg("--out").arg(&archive).arg("--cve").arg("CVE-2024-56337").output().unwrap();
    let text = stdout(&human);
    assert!(text.contains("代码卫士") && text.contains(&tomcat.display().to_string()), "{text}");

    // reindex rebuilds the same index from the files alone.
    let everything = |a: &Path| search(a, &["--since", "1970-01-01", "--limit", "10000"]);
    let before = everything(&archive);
    let dated = written
        .iter()
        .filter(|p| {
            let (_, meta) = common::front_matter(&std::fs::read_to_string(p).unwrap()).unwrap();
            meta["date"] != ""
        })
        .count();
    assert_eq!(before.len(), dated, "every dated record, undated ones have no day to compare");
    std::fs::remove_dir_all(archive.join(".wxsec")).unwrap();
    let gone = wxsec().arg("search").arg("--out").arg(&archive).arg("漏洞").output().unwrap();
    assert_eq!(gone.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("wxsec reindex"));
    let re = wxsec().arg("reindex").arg("--out").arg(&archive).output().unwrap();
    assert!(re.status.success());
    assert!(String::from_utf8_lossy(&re.stderr).contains(&format!("{records} records indexed")));
    assert_eq!(everything(&archive), before);
    assert_eq!(search(&archive, &["代码执行"]), hits);

    // Feeds: valid Atom, every record once, stable ids, full content.
    let feed = wxsec().arg("feed").arg("--out").arg(&archive).arg("--entries").arg("100").output().unwrap();
    assert!(feed.status.success(), "{}", String::from_utf8_lossy(&feed.stderr));
    let feeds = archive.join("feeds");
    let all_bytes = std::fs::read(feeds.join("all.atom")).unwrap();
    let all = feed_rs::parser::parse(&all_bytes[..]).unwrap();
    assert_eq!(all.entries.len(), records);
    let ids: std::collections::HashSet<&str> = all.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), records, "entry ids are unique");
    let tomcat_entry =
        all.entries.iter().find(|e| e.id == "urn:wxsec:article:MzI2NTg4OTc5Nw==:2247521893:1").expect("canonical id");
    let content = tomcat_entry.content.as_ref().and_then(|c| c.body.as_deref()).unwrap();
    assert!(content.contains("<h2>") && content.contains("CVE-2024-56337") && content.contains("<table>"), "{content}");
    assert!(!content.contains("<script"), "raw HTML is not passed on");
    assert_eq!(tomcat_entry.title.as_ref().unwrap().content, "Apache Tomcat 漏洞 & 补丁分析");
    assert!(all.updated.is_some() && all.title.is_some());
    for e in &all.entries {
        assert!(e.updated.is_some() && e.title.is_some() && !e.authors.is_empty(), "{}", e.id);
        assert!(e.content.as_ref().and_then(|c| c.body.as_deref()).is_some_and(|b| !b.is_empty()), "{}", e.id);
    }
    assert_eq!(
        tomcat_entry.links[0].href,
        "https://mp.weixin.qq.com/s?__biz=MzI2NTg4OTc5Nw==&mid=2247521893&idx=1&sn=867f98595849107577a98fcaf043a177"
    );
    assert_eq!(tomcat_entry.published.unwrap().to_rfc3339(), "2024-12-25T16:00:00+00:00");
    assert!(tomcat_entry.categories.iter().any(|c| c.term == "CVE-2024-56337"));
    let accounts: std::collections::HashSet<String> =
        before.iter().map(|h| h["source"].as_str().unwrap().to_string()).collect();
    let per_account: Vec<PathBuf> = std::fs::read_dir(&feeds)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "atom") && !p.ends_with("all.atom"))
        .collect();
    assert!(per_account.len() >= accounts.len() - 1 && per_account.len() <= records, "{per_account:?}");
    let mut in_accounts = 0;
    for f in &per_account {
        let parsed = feed_rs::parser::parse(&std::fs::read(f).unwrap()[..]).unwrap();
        assert!(parsed.entries.iter().all(|e| ids.contains(e.id.as_str())));
        in_accounts += parsed.entries.len();
    }
    assert_eq!(in_accounts, records, "each record in exactly one account's feed");
    let opml = std::fs::read_to_string(feeds.join("feeds.opml")).unwrap();
    assert_eq!(opml.matches("xmlUrl=").count(), per_account.len() + 1);
    // Written again with nothing new: nothing rendered (the index says no entry changed), the
    // same bytes.
    let again = wxsec().arg("feed").arg("--out").arg(&archive).arg("--entries").arg("100").output().unwrap();
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains(&format!("({} rewritten, {} unchanged)", 0, per_account.len() + 1)), "{said}");
    assert_eq!(std::fs::read(feeds.join("all.atom")).unwrap(), all_bytes);
    // One record changed (and indexed again): its account's feed and all.atom are rendered again.
    let text = std::fs::read_to_string(&tomcat).unwrap();
    std::fs::write(&tomcat, text.replacen("CVE-2024-56337", "CVE-2024-56337（已更新）", 1)).unwrap();
    wxsec().arg("reindex").arg("--out").arg(&archive).assert().success();
    let changed = wxsec().arg("feed").arg("--out").arg(&archive).arg("--entries").arg("100").output().unwrap();
    let said = String::from_utf8_lossy(&changed.stderr);
    assert!(said.contains(&format!("(2 rewritten, {} unchanged)", per_account.len() - 1)), "{said}");
    assert!(String::from_utf8_lossy(&std::fs::read(feeds.join("all.atom")).unwrap()).contains("已更新"));
    // The newest N only.
    wxsec().arg("feed").arg("--out").arg(&archive).arg("--entries").arg("3").assert().success();
    let three = feed_rs::parser::parse(&std::fs::read(feeds.join("all.atom")).unwrap()[..]).unwrap();
    assert_eq!(three.entries.len(), 3);
}

#[test]
fn extra_fields_come_after_the_five_keys_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let page = fixture("modern-2025.html");
    let plain = wxsec().arg("import").arg("--out").arg(dir.path().join("a")).arg(&page).output().unwrap();
    let extra =
        wxsec().arg("import").arg("--extra-fields").arg("--out").arg(dir.path().join("b")).arg(&page).output().unwrap();
    let plain = std::fs::read_to_string(stdout(&plain).trim()).unwrap();
    let extra_path = PathBuf::from(stdout(&extra).trim());
    let extra = std::fs::read_to_string(&extra_path).unwrap();
    let (_, meta) = common::front_matter(&plain).unwrap();
    assert_eq!(meta.keys().count(), 5);
    let head: Vec<&str> =
        extra.split("\n---\n").next().unwrap().lines().skip(1).map(|l| l.split(':').next().unwrap()).collect();
    assert_eq!(head[..5], common::KEYS);
    assert!(head[5..].contains(&"cves"), "{head:?}");
    let yaml: serde_json::Value =
        serde_saphyr::from_str(extra.split("\n---\n").next().unwrap().trim_start_matches("---\n")).unwrap();
    assert_eq!(yaml["cves"], serde_json::json!(["CVE-2024-56337"]));
    assert!(yaml["cvss"].as_array().is_some_and(|a| !a.is_empty()));
    // The body is the same; only the front matter grew.
    assert_eq!(plain.split("\n---\n").nth(1), extra.split("\n---\n").nth(1));
    // normalise keeps or adds them as asked, and a second pass changes nothing.
    let again = dir.path().join("again");
    wxsec().arg("normalise").arg("--extra-fields").arg("--out").arg(&again).arg(&extra_path).assert().success();
    let name = extra_path.file_name().unwrap();
    assert_eq!(std::fs::read_to_string(again.join(name)).unwrap(), extra);
    let dropped = dir.path().join("dropped");
    wxsec().arg("normalise").arg("--out").arg(&dropped).arg(&extra_path).assert().success();
    let without: String = extra
        .lines()
        .filter(|l| !["cves:", "cnvds:", "cnnvds:", "ghsas:", "attack:", "cvss:"].iter().any(|k| l.starts_with(k)))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(std::fs::read_to_string(dropped.join(name)).unwrap(), without);
    // The JSON form always has them.
    let json = wxsec()
        .arg("import")
        .arg("--format")
        .arg("json")
        .arg("--out")
        .arg(dir.path().join("c"))
        .arg(&page)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(stdout(&json).trim()).unwrap()).unwrap();
    assert_eq!(v["cves"], serde_json::json!(["CVE-2024-56337"]));
    assert!(v["cnvds"].as_array().is_some_and(Vec::is_empty));
}

/// A WeChat article page in the shape of the 2025 template, with the facts given.
fn article_page(biz: &str, mid: &str, idx: &str, sn: &str, title: &str, account: &str, body: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    format!(
        r#"<!DOCTYPE html><html><head><meta charset="utf-8"><meta property="og:title" content="{t}" /></head><body>
<script>
    var biz = "{biz}" || "";
    var sn = "{sn}" || "" || "";
    var mid = "{mid}" || "" || "";
    var idx = "{idx}" || "" || "";
    var nickname = htmlDecode("{a}");
    var ct = "1735144230";
</script>
<div id="js_article" class="rich_media"><div id="img-content" class="rich_media_wrp">
<h1 class="rich_media_title " id="activity-name">{t}</h1>
<a href="javascript:void(0);" id="js_name">{a}</a>
<div class="rich_media_content js_underline_content" id="js_content" style="visibility: hidden; opacity: 0; ">
{body}
</div></div></div></body></html>"#,
        t = esc(title),
        a = esc(account),
    )
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";

/// An image host like WeChat's: it refuses any Referer, and has one image twice.
async fn image_host() -> MockServer {
    let server = MockServer::start().await;
    let image = |bytes: &'static [u8], ctype: &str| {
        ResponseTemplate::new(200).insert_header("content-type", ctype).set_body_bytes(bytes.to_vec())
    };
    Mock::given(wiremock::matchers::header_exists("referer"))
        .respond_with(ResponseTemplate::new(403))
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET")).and(path("/mmbiz_png/a/640")).respond_with(image(PNG, "image/png")).mount(&server).await;
    Mock::given(method("GET"))
        .and(path("/mmbiz_png/same-as-a/640"))
        .respond_with(image(PNG, "image/png"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mmbiz_jpg/b/640"))
        .respond_with(image(JPEG, "application/octet-stream"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/mmbiz_png/gone/640"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    server
}

fn images_body(host: &str) -> String {
    format!(
        r#"<p>正文第一段，介绍漏洞。</p>
<p><img data-src="{host}/mmbiz_png/a/640?wx_fmt=png&amp;from=appmsg" alt="图一"></p>
<p><img data-src="{host}/mmbiz_png/same-as-a/640?wx_fmt=png"></p>
<p><img data-src="{host}/mmbiz_jpg/b/640?wx_fmt=jpeg"></p>
<p><img data-src="{host}/mmbiz_png/gone/640?wx_fmt=png"></p>
<p><img data-src="{host}/mmbiz_png/a/640?wx_fmt=png&amp;from=appmsg"></p>"#
    )
}

fn assets(archive: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(dirs) = std::fs::read_dir(archive.join("assets")) else { return out };
    for d in dirs.flatten() {
        out.extend(std::fs::read_dir(d.path()).unwrap().flatten().map(|e| e.path()));
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_are_stored_once_by_content_and_failures_keep_their_link() {
    let host = image_host().await;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let html =
        article_page("MzA5MzE5MDAzOA==", "2650000001", "1", "abc", "图片测试", "测试号", &images_body(&host.uri()));
    std::fs::write(&page, &html).unwrap();

    // import: two distinct images stored, the copy shares the first, the 404 stays remote.
    let archive = dir.path().join("archive");
    let out = wxsec()
        .args(["import", "--images", "local", "--image-delay", "0", "--allow-image-host", "127.0.0.1", "--out"])
        .arg(&archive)
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/mmbiz_png/gone/640") && stderr.contains("404") && stderr.contains("remote link"),
        "{stderr}"
    );
    let stored = assets(&archive);
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert!(
        stored.iter().any(|p| p.extension().unwrap() == "png")
            && stored.iter().any(|p| p.extension().unwrap() == "jpg")
    );
    for p in &stored {
        let bytes = std::fs::read(p).unwrap();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        assert_eq!(name.len(), 64, "named by SHA-256");
        assert!(bytes == PNG || bytes == JPEG);
    }
    let record_path = PathBuf::from(stdout(&out).trim());
    let record = std::fs::read_to_string(&record_path).unwrap();
    assert_eq!(record.matches("](../assets/").count(), 4, "{record}");
    assert!(record.contains(&format!("]({}/mmbiz_png/gone/640?wx_fmt=png)", host.uri())), "{record}");
    for link in record.split("](../").skip(1) {
        let rel = link.split(')').next().unwrap();
        assert!(record_path.parent().unwrap().join("..").join(rel).is_file(), "{rel}");
    }
    assert!(common::check_record(&record).is_empty(), "{:?}", common::check_record(&record));
    let requests = host.received_requests().await.unwrap();
    assert!(requests.iter().all(|r| !r.headers.contains_key("referer")), "no Referer is sent");
    assert_eq!(requests.iter().filter(|r| r.url.path() == "/mmbiz_png/a/640").count(), 1, "one download per address");

    // normalise: a record with remote images gets them local too, and only the failed one is
    // asked for again on a second run.
    let remote = dir.path().join("remote");
    let out = wxsec().arg("import").arg("--out").arg(&remote).arg(&page).output().unwrap();
    let remote_record = PathBuf::from(stdout(&out).trim());
    let clean = dir.path().join("clean");
    let before = host.received_requests().await.unwrap().len();
    let out = wxsec()
        .args(["normalise", "--images", "local", "--image-delay", "0", "--allow-image-host", "127.0.0.1", "--out"])
        .arg(&clean)
        .arg(&remote_record)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("2 images stored, 1 kept remote"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = remote_record.file_name().unwrap();
    let cleaned = std::fs::read_to_string(clean.join(name)).unwrap();
    assert_eq!(cleaned.matches("](assets/").count(), 4, "{cleaned}");
    assert_eq!(assets(&clean).len(), 2);
    assert_eq!(host.received_requests().await.unwrap().len() - before, 4);
    let before = host.received_requests().await.unwrap().len();
    wxsec()
        .args(["normalise", "--images", "local", "--image-delay", "0", "--allow-image-host", "127.0.0.1", "--in-place"])
        .arg(clean.join(name))
        .assert()
        .success();
    assert_eq!(host.received_requests().await.unwrap().len() - before, 1, "only the failed image is tried again");
    assert_eq!(std::fs::read_to_string(clean.join(name)).unwrap(), cleaned);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_crawl_makes_images_local_and_refreshes_the_feeds() {
    let host = image_host().await;
    let wechat = MockServer::start().await;
    let html =
        article_page("MzA5MzE5MDAzOA==", "2650000002", "1", "def", "爬取图片", "测试号", &images_body(&host.uri()));
    Mock::given(method("GET"))
        .and(path("/s"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "text/html").set_body_string(html))
        .mount(&wechat)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let urls = dir.path().join("urls.txt");
    std::fs::write(&urls, "https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=2650000002&idx=1&sn=def\n").unwrap();
    let archive = dir.path().join("archive");
    let out = wxsec()
        .env("WXSEC_ORIGIN", wechat.uri())
        .args([
            "crawl",
            "--delay",
            "0",
            "--jitter",
            "0",
            "--image-delay",
            "0",
            "--allow-image-host",
            "127.0.0.1",
            "--images",
            "local",
            "--write-feeds",
            "--json",
            "--urls",
        ])
        .arg(&urls)
        .arg("--out")
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!((summary["new"].as_u64(), summary["images_failed"].as_u64()), (Some(1), Some(1)), "{summary}");
    assert!(summary["feeds"].as_u64().unwrap() >= 2);
    let record = std::fs::read_to_string(archive.join("3093190038/2650000002_1.md")).unwrap();
    assert_eq!(record.matches("](../assets/").count(), 4, "{record}");
    assert_eq!(assets(&archive).len(), 2);
    let feed = feed_rs::parser::parse(&std::fs::read(archive.join("feeds/all.atom")).unwrap()[..]).unwrap();
    assert_eq!(feed.entries.len(), 1);
    let content = feed.entries[0].content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert!(content.contains("src=\"../assets/"), "feed links resolve from the feeds folder: {content}");
    let hits = search(&archive, &["介绍漏洞"]);
    assert_eq!(hits.len(), 1, "the crawl keeps the index current");
}

/// Serves, for any article address, the article that address names: its title and account are
/// looked up by `mid`, its body is long and whole.
struct Articles(Vec<(String, String, String)>);

impl Respond for Articles {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let q: std::collections::HashMap<String, String> = req.url.query_pairs().into_owned().collect();
        let get = |k: &str| q.get(k).cloned().unwrap_or_default();
        let Some((_, title, account)) = self.0.iter().find(|(mid, _, _)| *mid == get("mid")) else {
            return ResponseTemplate::new(404);
        };
        let body = format!(
            "<p>修复后的全文：{title}。</p>{}",
            "<p>这一段是文章的其余部分，原来的存档把它截断了。</p>".repeat(40)
        );
        let html = article_page(&get("__biz"), &get("mid"), &get("idx"), &get("sn"), title, account, &body);
        ResponseTemplate::new(200).insert_header("content-type", "text/html; charset=utf-8").set_body_string(html)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn normalise_queue_repairs_stubs_and_truncated_records_through_the_crawl() {
    let md = common::corpus_dir().join("md");
    let broken = ["front/0002.md", "front/0003.md", "front/0038.md", "front/0039.md"];
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("old-archive");
    std::fs::create_dir_all(archive.join("2023")).unwrap();
    let mut served = Vec::new();
    let mut copies = Vec::new();
    for (i, name) in broken.iter().enumerate() {
        let text = std::fs::read_to_string(md.join(name)).unwrap();
        let n = wxsec::normalise::normalise_text(&text);
        assert!(n.record.is_none(), "{name} is a stub or truncated");
        let mid = url::Url::parse(&n.url).unwrap().query_pairs().find(|(k, _)| k == "mid").unwrap().1.into_owned();
        let title = format!("修复的文章 {i}");
        served.push((mid, title, "某安全号".to_string()));
        let copy = archive.join("2023").join(format!("{i}-{}", name.replace('/', "-")));
        std::fs::write(&copy, text).unwrap();
        copies.push(copy);
    }
    let clean_one = archive.join("2023/clean.md");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/records/clean-already.md"), &clean_one).unwrap();

    let out = wxsec().args(["normalise", "--in-place", "--queue"]).arg(&archive).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("4 queued for the crawl"), "{stderr}");
    let status = wxsec().args(["status", "--json", "--out"]).arg(&archive).output().unwrap();
    let status: serde_json::Value = serde_json::from_str(stdout(&status).trim()).unwrap();
    assert_eq!(status["articles"], serde_json::json!({"pending": 4}));

    let wechat = MockServer::start().await;
    Mock::given(method("GET")).and(path_regex("^/s$")).respond_with(Articles(served.clone())).mount(&wechat).await;
    let out = wxsec()
        .env("WXSEC_ORIGIN", wechat.uri())
        .args(["crawl", "--delay", "0", "--jitter", "0", "--json", "--out"])
        .arg(&archive)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value = serde_json::from_str(stdout(&out).trim()).unwrap();
    assert_eq!(summary["new"], 4, "{summary}");
    for (copy, (_, title, _)) in copies.iter().zip(&served) {
        let record = std::fs::read_to_string(copy).unwrap();
        assert!(common::check_record(&record).is_empty(), "{}: {:?}", copy.display(), common::check_record(&record));
        let (_, meta) = common::front_matter(&record).unwrap();
        assert_eq!(meta["title"], title.as_str());
        assert!(record.contains("原来的存档把它截断了"));
    }
    // Written over the broken files, not at the crawl's own paths.
    let files = common::record_files(&archive);
    assert_eq!(files.len(), 5, "{files:?}");
    // The next normalise finds nothing to queue, and the repaired text is searchable.
    let out = wxsec().args(["normalise", "--in-place", "--queue"]).arg(&archive).output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("queued"));
    // normalise indexed the record that was clean already.
    let kept = search(&archive, &["条件竞争导致绕过"]);
    assert_eq!(kept.len(), 1);
    assert_eq!(PathBuf::from(kept[0]["path"].as_str().unwrap()), std::path::absolute(&clean_one).unwrap());
    let hits = search(&archive, &["修复后的全文"]);
    assert_eq!(hits.len(), 4);
    let paths: std::collections::HashSet<PathBuf> =
        hits.iter().map(|h| PathBuf::from(h["path"].as_str().unwrap())).collect();
    let want: std::collections::HashSet<PathBuf> = copies.iter().map(|c| std::path::absolute(c).unwrap()).collect();
    assert_eq!(paths, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_host_that_asks_to_slow_down_is_left_alone_for_the_run() {
    let host = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/busy/640"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "60"))
        .mount(&host)
        .await;
    Mock::given(method("GET"))
        .and(path("/fine/640"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "image/png").set_body_bytes(PNG.to_vec()),
        )
        .mount(&host)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("page.html");
    let body =
        format!(r#"<p>正文。</p><p><img data-src="{0}/busy/640"></p><p><img data-src="{0}/fine/640"></p>"#, host.uri());
    std::fs::write(&page, article_page("MzA5MzE5MDAzOA==", "2650000003", "1", "ghi", "限速", "测试号", &body)).unwrap();
    let out = wxsec()
        .args(["import", "--images", "local", "--image-delay", "0", "--allow-image-host", "127.0.0.1", "--out"])
        .arg(dir.path().join("archive"))
        .arg(&page)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("429") && stderr.contains("asked to slow down"), "{stderr}");
    let requests = host.received_requests().await.unwrap();
    assert_eq!(requests.len(), 1, "nothing more asked of the host after its 429");
    let record = std::fs::read_to_string(stdout(&out).trim()).unwrap();
    assert!(record.contains(&format!("]({}/fine/640)", host.uri())), "both keep their links: {record}");
}

#[test]
fn json_records_are_indexed_and_reindexed_too() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    wxsec()
        .args(["import", "--format", "json", "--out"])
        .arg(&archive)
        .arg(fixture("modern-2025.html"))
        .arg(fixture("desktop-2018.html"))
        .assert()
        .success();
    let hits = search(&archive, &["条件竞争"]);
    assert_eq!(hits.len(), 1);
    assert!(hits[0]["path"].as_str().unwrap().ends_with("2247521893_1.json"));
    std::fs::remove_dir_all(archive.join(".wxsec")).unwrap();
    wxsec().arg("reindex").arg("--out").arg(&archive).assert().success();
    assert_eq!(search(&archive, &["条件竞争"]), hits);
    assert_eq!(search(&archive, &["--cve", "CVE-2018-1000"]).len(), 1);
    let status = wxsec().args(["status", "--json", "--out"]).arg(&archive).output().unwrap();
    let status: serde_json::Value = serde_json::from_str(stdout(&status).trim()).unwrap();
    assert_eq!(status["indexed"], 2);
}

/// The HTTP client (and the TLS roots it loads) is built at the first target that needs the
/// network: with no CA certificate to be found, building it fails, and saved pages import all
/// the same; an address then fails with the client's error.
#[test]
fn saved_pages_import_without_building_the_http_client() {
    let dir = tempfile::tempdir().unwrap();
    let no_roots = |c: &mut assert_cmd::Command| {
        c.env("SSL_CERT_FILE", dir.path().join("none.pem"))
            .env("SSL_CERT_DIR", dir.path().join("none"))
            .env("WXSEC_ORIGIN", "http://127.0.0.1:9");
    };
    let mut import = wxsec();
    no_roots(&mut import);
    let out =
        import.arg("import").arg("--out").arg(dir.path().join("a")).arg(fixture("modern-2025.html")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(PathBuf::from(stdout(&out).trim()).is_file());
    let mut fetch = wxsec();
    no_roots(&mut fetch);
    let out = fetch
        .arg("import")
        .arg("--out")
        .arg(dir.path().join("b"))
        .arg("https://mp.weixin.qq.com/s/AbC")
        .output()
        .unwrap();
    assert!(!out.status.success(), "an address needs the client");
}

/// `--color always|never|auto` and NO_COLOR: matches are marked with ANSI colour only when asked
/// or on a terminal without NO_COLOR; into a pipe they are marked `**…**`.
#[test]
fn colour_follows_the_flag_and_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    wxsec().arg("import").arg("--out").arg(&archive).arg(fixture("modern-2025.html")).assert().success();
    let run = |args: &[&str], no_color: bool| {
        let mut c = wxsec();
        if no_color {
            c.env("NO_COLOR", "1");
        } else {
            c.env_remove("NO_COLOR");
        }
        let out = c.args(args).arg("search").arg("--out").arg(&archive).arg("漏洞").output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        stdout(&out)
    };
    assert!(run(&[], false).contains("**漏洞**"), "a pipe gets no colour");
    assert!(run(&["--color", "always"], false).contains("\x1b[1;31m漏洞\x1b[0m"));
    assert!(run(&["--color", "always"], true).contains("\x1b[1;31m"), "asked for, colour wins over NO_COLOR");
    assert!(!run(&["--color", "never"], false).contains('\x1b'));
    assert!(!run(&["--color", "auto"], true).contains('\x1b'));
    let bad = wxsec().args(["--color", "sometimes", "status"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    // No hits asked for is a usage mistake, not "no record matches".
    let none = wxsec().arg("search").arg("--out").arg(&archive).args(["--limit", "0", "漏洞"]).output().unwrap();
    assert_eq!(none.status.code(), Some(2));
}

/// An empty or binary file is named as such, not as an unknown page (exit 3 either way).
#[test]
fn empty_and_binary_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.html");
    std::fs::write(&empty, "").unwrap();
    let binary = dir.path().join("scan.html");
    std::fs::write(&binary, b"%PDF-1.7\n\x00\xff\xfe\x00\x01\x02\x03\xfa\xfb").unwrap();
    for (file, says) in [(&empty, "not an article: empty page"), (&binary, "not an article: binary (not HTML) page")] {
        let out = wxsec().arg("import").arg("--out").arg(dir.path().join("a")).arg(file).output().unwrap();
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}

/// `reindex --json` and `feed --json` print their counts as one JSON object on standard output.
#[test]
fn reindex_and_feed_speak_json() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    wxsec().arg("import").arg("--out").arg(&archive).arg(fixture("modern-2025.html")).assert().success();
    let re = wxsec().arg("reindex").arg("--out").arg(&archive).arg("--json").output().unwrap();
    assert!(re.status.success());
    let v: serde_json::Value = serde_json::from_str(stdout(&re).trim()).unwrap();
    assert_eq!((v["indexed"].as_u64(), v["skipped"].as_u64()), (Some(1), Some(0)));
    for (run, rewritten) in [(1, 2), (2, 0)] {
        let feed = wxsec().arg("feed").arg("--out").arg(&archive).arg("--json").output().unwrap();
        assert!(feed.status.success());
        let v: serde_json::Value = serde_json::from_str(stdout(&feed).trim()).unwrap();
        assert_eq!(v["feeds"], 2, "run {run}: {v}");
        assert_eq!(v["rewritten"], rewritten, "run {run}: {v}");
        assert_eq!(v["entries"], 1, "run {run}: {v}");
    }
}
