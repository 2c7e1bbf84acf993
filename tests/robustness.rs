//! No panic, no escape: characters across every scan window, dates in other digits, a reader
//! that closes the pipe, file modes, and image downloads kept off loopback, private and
//! link-local addresses. Each command is run as a user would run it; exit 101 (a panic) fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wxsec"));
    c.env_remove("WXSEC_ORIGIN").env_remove("NO_COLOR");
    for v in
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        c.env_remove(v);
    }
    c
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("wxsec runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "wxsec panicked: {err}");
    assert!(!err.contains("panicked"), "wxsec panicked: {err}");
    out
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

/// The byte offsets where readers look at a fixed-size head or window of their input.
const WINDOWS: [usize; 6] = [512, 1024, 2048, 4096, 8000, 8192];
/// Two-, three- and four-byte characters.
const WIDE: [&str; 3] = ["é", "漏", "𝕏"];

/// Every (offset, character) such that the character covers or touches one of the windows' ends.
fn straddles() -> Vec<(usize, &'static str)> {
    let mut out = Vec::new();
    for w in WINDOWS {
        for ch in WIDE {
            for k in w.saturating_sub(4)..=w + 1 {
                out.push((k, ch));
            }
        }
    }
    out
}

#[test]
fn a_character_across_any_scan_window_never_stops_an_import() {
    let dir = tempfile::tempdir().unwrap();
    let article = std::fs::read_to_string(fixture("pages/modern-2025.html")).unwrap();
    let saved = " saved from url=(0094)https://mp.weixin.qq.com/s?__biz=MzI2NTg4OTc5Nw==&mid=2247521893&idx=1&sn=867f98595849107577a98fcaf043a177 ";
    let mut targets = Vec::new();
    for (i, (k, ch)) in straddles().into_iter().enumerate() {
        // The character starts at byte k of the page: inside a leading comment (the saved-from
        // head), and again at k bytes into the article's text.
        let head = format!("<!--{}{ch}{saved}-->\n", "a".repeat(k - 4));
        let text = format!("<p>{}{ch}漏洞 CVSS 3.1评分：9.8 CVE-2024-56337</p>", "b".repeat(k));
        let page = head + &article.replacen("<div id=\"js_content\"", &format!("{text}<div id=\"js_content\""), 1);
        let file = dir.path().join(format!("page-{i:03}.html"));
        std::fs::write(&file, page).unwrap();
        targets.push(file);
    }
    let out = run(bin().arg("import").arg("--out").arg(dir.path().join("a")).args(&targets));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), targets.len(), "one record per page");

    // The case of the report: byte 2048 inside 漏, then an article that must still be imported.
    let p = "<!DOCTYPE html><html><head><title>";
    let cut = dir.path().join("s.html");
    std::fs::write(&cut, format!("{p}{}漏洞</title>", "a".repeat(2047 - p.len()))).unwrap();
    let out = run(bin()
        .arg("import")
        .arg("--out")
        .arg(dir.path().join("b"))
        .arg(&cut)
        .arg(fixture("pages/modern-2025.html")));
    assert_eq!(out.status.code(), Some(3), "the first is not an article");
    assert!(String::from_utf8_lossy(&out.stdout).contains("2247521893_1.md"), "the next target ran");
    let stdin = std::fs::read(&cut).unwrap();
    let mut child = bin()
        .args(["import", "--out"])
        .arg(dir.path().join("c"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn records_with_a_character_across_any_window_go_through_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for (i, (k, ch)) in straddles().into_iter().enumerate() {
        let front = format!(
            "---\ntitle: 标题{i}{ch}\nurl: https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid={i}&idx=1&sn=ab\nsource: 安全号\ndate: 2024-01-02\nfetch_date: 2025-10-04T04:36:04.680000\n---\n\n"
        );
        // The character starts at byte k of the file, and again k bytes into the body.
        let pad = k.saturating_sub(front.len() + 2).max(1);
        let body = format!(
            "# 标题{i}{ch}\n\n{}{ch}漏洞\n\n{}{ch}CVE-2024-56337 CVSS 3.1评分：9.8\n",
            "c".repeat(pad),
            "d".repeat(k)
        );
        std::fs::write(input.join(format!("{i:03}.md")), front + &body).unwrap();
    }
    // And a header-line record, a front matter cut short, and an empty file.
    std::fs::write(input.join("h.md"), format!("# 标题\n\n安全号  2024-01-02 10:00\n\n{}漏洞\n", "e".repeat(2045)))
        .unwrap();
    std::fs::write(input.join("cut.md"), "---\ntitle: 漏").unwrap();
    std::fs::write(input.join("empty.md"), "").unwrap();
    let archive = dir.path().join("out");
    let out = run(bin().args(["normalise", "--out"]).arg(&archive).arg(&input));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(common::record_files(&archive).len() >= straddles().len());
    run(bin().args(["reindex", "--out"]).arg(&archive));
    // Words match from their start; a term's first word may end a longer one (`é漏洞` in
    // `ccccé漏洞`), and the record file decides.
    for q in [&["漏洞"][..], &["𝕏漏洞"], &["é漏洞"], &["CVE-2024-56337"], &["cccc", "漏"]] {
        let out = run(bin().args(["search", "--out"]).arg(&archive).args(q));
        assert!(out.status.success());
        assert!(!out.stdout.is_empty(), "{q:?} finds records");
    }
    let out = run(bin().args(["feed", "--out"]).arg(&archive));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn dates_in_other_digits_are_not_dates_and_feeds_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    std::fs::write(
        input.join("wide.md"),
        "---\ntitle: 全角数字\nurl: https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=7&idx=1&sn=ab\nsource: 安全号\ndate: ２０２４-01-01\nfetch_date: 2024-01-01T00:00:0０\n---\n\n# 全角数字\n\n正文。\n",
    )
    .unwrap();
    let archive = dir.path().join("out");
    let out = run(bin().args(["normalise", "--out"]).arg(&archive).arg(&input));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let record = std::fs::read_to_string(archive.join("wide.md")).unwrap();
    let (_, meta) = common::front_matter(&record).unwrap();
    assert_eq!((meta["date"].as_str(), meta["fetch_date"].as_str()), (Some(""), Some("")), "{record}");
    assert!(common::check_record(&record).is_empty());
    let out = run(bin().args(["feed", "--out"]).arg(&archive));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let atom = std::fs::read_to_string(archive.join("feeds/all.atom")).unwrap();
    assert!(atom.contains("<title>全角数字</title>") && !atom.contains('０'), "{atom}");
}

/// Runs a command whose reader has already gone: the pipe is closed before it writes.
fn closed_stdout(cmd: &mut Command) -> Output {
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked") && out.status.code() != Some(101), "{err}");
    out
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("a");
    let pages: Vec<PathBuf> = ["modern-2025.html", "desktop-2018.html", "picture.html"]
        .iter()
        .map(|p| fixture(&format!("pages/{p}")))
        .collect();
    let out = closed_stdout(bin().args(["import", "--out"]).arg(&archive).args(&pages));
    assert!(out.status.success(), "import still writes every record: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(common::record_files(&archive).len(), 3);
    for args in
        [&["search", "--since", "2000-01-01"][..], &["search", "--json", "漏洞"], &["status"], &["status", "--json"]]
    {
        let out = closed_stdout(bin().args(args).arg("--out").arg(&archive));
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stderr.is_empty() || !String::from_utf8_lossy(&out.stderr).contains("Broken pipe"));
    }
    let urls = dir.path().join("urls.txt");
    let list: String = (0..200).map(|i| format!("https://mp.weixin.qq.com/s/abcdefgh{i:04}\n")).collect();
    std::fs::write(&urls, list).unwrap();
    let out =
        closed_stdout(bin().args(["crawl", "--dry-run", "--urls"]).arg(&urls).arg("--out").arg(dir.path().join("c")));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let out = closed_stdout(bin().arg("--help"));
    assert_eq!(out.status.code(), Some(0));
}

#[cfg(unix)]
#[test]
fn new_files_follow_the_umask_and_rewritten_files_keep_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // The shell sets the umask, then runs wxsec in its place.
    let sh = |umask: &str, args: Vec<std::ffi::OsString>| {
        let out = Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_wxsec"))
            .args(args)
            .output()
            .unwrap();
        assert_ne!(out.status.code(), Some(101));
        out
    };
    let dir = tempfile::tempdir().unwrap();
    for (umask, want) in [("022", 0o644), ("027", 0o640), ("077", 0o600)] {
        let archive = dir.path().join(format!("a{umask}"));
        let out = sh(
            umask,
            vec!["import".into(), "--out".into(), archive.clone().into(), fixture("pages/modern-2025.html").into()],
        );
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let record = common::record_files(&archive).pop().unwrap();
        assert_eq!(mode(&record), want, "record under umask {umask}");
        let out = sh(umask, vec!["feed".into(), "--out".into(), archive.clone().into()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(mode(&archive.join("feeds/all.atom")), want, "feed under umask {umask}");
    }
    // normalise --in-place rewrites a dirty record and keeps the mode its owner gave it.
    let dirty = dir.path().join("dirty");
    std::fs::create_dir_all(&dirty).unwrap();
    let file = dirty.join("r.md");
    std::fs::write(&file, "---\ntitle: 标题\nurl: https://mp.weixin.qq.com/s?__biz=MzA5MzE5MDAzOA==&mid=1&idx=1&sn=ab&chksm=1\nsource: 安全号\ndate: 2024-01-02\nfetch_date: 2025-10-04T04:36:04.68\n---\n\n# 标题\n\n正文&nbsp;&nbsp;&nbsp;段落。  \n").unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o604)).unwrap();
    let before = std::fs::read(&file).unwrap();
    let out = sh("077", vec!["normalise".into(), "--in-place".into(), "--no-index".into(), dirty.clone().into()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_ne!(std::fs::read(&file).unwrap(), before, "the record was rewritten");
    assert_eq!(mode(&file), 0o604);
}

/// A saved article page whose body shows one image.
fn page_with_image(url: &str) -> String {
    format!(
        r#"<html><body><script>var msg_title = "图片测试"; var nickname = "测试号"; var ct = "1700000000";
 var biz = "MzA5MzE5MDAzOA=="; var mid = "2650000009"; var idx = "1"; var sn = "ab";</script>
<div id="js_content"><p>正文。</p><p><img data-src="{url}"></p></div></body></html>"#
    )
}

struct ImageRun {
    out: Output,
    assets: usize,
}

fn import_image(dir: &Path, name: &str, url: &str, allow: &[&str], proxy: Option<&str>) -> ImageRun {
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, page_with_image(url)).unwrap();
    let archive = dir.join(name);
    let mut cmd = bin();
    cmd.args(["import", "--images", "local", "--image-delay", "0", "--timeout", "5", "--out"]).arg(&archive);
    for host in allow {
        cmd.args(["--allow-image-host", host]);
    }
    if let Some(p) = proxy {
        cmd.env("HTTP_PROXY", p).env("http_proxy", p);
    }
    let out = run(cmd.arg(&page));
    assert!(out.status.success(), "the record is written whatever the image: {}", String::from_utf8_lossy(&out.stderr));
    let assets = common::files_below(&archive.join("assets"), |_| true).len();
    ImageRun { out, assets }
}

fn refused(r: &ImageRun) -> bool {
    let err = String::from_utf8_lossy(&r.out.stderr);
    r.assets == 0 && err.contains("not a public address; refused") && err.contains("--allow-image-host")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_on_non_public_addresses_are_refused_unless_allowed() {
    let server = MockServer::start().await;
    let port = server.address().port();
    Mock::given(method("GET"))
        .and(path("/img.png"))
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "image/png").set_body_bytes(PNG.to_vec()),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/hop"))
        .respond_with(
            ResponseTemplate::new(302).insert_header("location", format!("http://127.0.0.1:{port}/img.png").as_str()),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let requests = || async { server.received_requests().await.unwrap().len() };

    // A loopback address, then a name that resolves to one: refused before any request.
    let ip = format!("http://127.0.0.1:{port}/img.png");
    let name = format!("http://localhost:{port}/img.png");
    let (d1, ip1, name1) = (d.clone(), ip.clone(), name.clone());
    let (a, b) = tokio::task::spawn_blocking(move || {
        (import_image(&d1, "ip", &ip1, &[], None), import_image(&d1, "name", &name1, &[], None))
    })
    .await
    .unwrap();
    assert!(refused(&a), "{}", String::from_utf8_lossy(&a.out.stderr));
    assert!(refused(&b), "{}", String::from_utf8_lossy(&b.out.stderr));
    assert_eq!(requests().await, 0, "nothing was asked of a refused host");
    let record = std::fs::read_to_string(common::record_files(&d.join("ip")).pop().unwrap()).unwrap();
    assert!(record.contains(&ip), "a refused image keeps its remote link");

    // Allowed by name, each is fetched.
    let (d1, ip1, name1) = (d.clone(), ip.clone(), name.clone());
    let (a, b) = tokio::task::spawn_blocking(move || {
        (
            import_image(&d1, "ip-ok", &ip1, &["127.0.0.1"], None),
            import_image(&d1, "name-ok", &name1, &["localhost"], None),
        )
    })
    .await
    .unwrap();
    assert_eq!(
        (a.assets, b.assets),
        (1, 1),
        "{}{}",
        String::from_utf8_lossy(&a.out.stderr),
        String::from_utf8_lossy(&b.out.stderr)
    );
    assert_eq!(requests().await, 2);

    // A redirect to a private address is checked like the first address.
    let hop = format!("http://localhost:{port}/hop");
    let (d1, hop1) = (d.clone(), hop.clone());
    let (a, b) = tokio::task::spawn_blocking(move || {
        (
            import_image(&d1, "hop", &hop1, &["localhost"], None),
            import_image(&d1, "hop-ok", &hop1, &["localhost", "127.0.0.1"], None),
        )
    })
    .await
    .unwrap();
    assert!(refused(&a), "{}", String::from_utf8_lossy(&a.out.stderr));
    assert_eq!(b.assets, 1, "{}", String::from_utf8_lossy(&b.out.stderr));
    assert_eq!(requests().await, 2 + 1 + 2, "the refused hop was not followed");

    // The cloud metadata address. An HTTP proxy on 127.0.0.1 stands in for the network, so that
    // nothing could leave this machine even if the check failed: refused, the proxy is never
    // asked; allowed, the request goes (through the proxy) and the image is stored.
    let proxy = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).insert_header("content-type", "image/png").set_body_bytes(PNG.to_vec()),
        )
        .mount(&proxy)
        .await;
    let (d1, p1) = (d.clone(), proxy.uri());
    let (a, b) = tokio::task::spawn_blocking(move || {
        let meta = "http://169.254.169.254/latest/meta-data/x.png";
        (
            import_image(&d1, "meta", meta, &[], Some(&p1)),
            import_image(&d1, "meta-ok", meta, &["169.254.169.254"], Some(&p1)),
        )
    })
    .await
    .unwrap();
    assert!(refused(&a), "{}", String::from_utf8_lossy(&a.out.stderr));
    assert!(String::from_utf8_lossy(&a.out.stderr).contains("link-local"));
    assert_eq!(b.assets, 1, "{}", String::from_utf8_lossy(&b.out.stderr));
    let asked = proxy.received_requests().await.unwrap();
    assert_eq!(asked.len(), 1, "only the allowed run reached the proxy");
    assert_eq!(asked[0].url.path(), "/latest/meta-data/x.png");
}
