//! Hostile input, each case a fixture under `tests/hostile/`: titles that attack the front
//! matter, bodies that attack Markdown renderers, ids that attack the file system, pages that
//! attack resources, and charsets. Each ends in a correct record or a clear error.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use pulldown_cmark::{Event, Options, Parser, Tag};
use wxsec::{FetchedPage, Record};

fn hostile(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile").join(rel)
}

fn page(html: String) -> FetchedPage {
    FetchedPage { target: "hostile".into(), url: None, html, fetched_at: chrono::Utc::now() }
}

/// A page whose title and account are `title`, written as a JavaScript string as WeChat does.
fn titled(title: &str, body: &str) -> String {
    let js = serde_json::to_string(title).unwrap();
    format!(
        "<html><body><script>var msg_title = {js}; var nickname = {js}; var ct = \"1700000000\";
         var biz = \"MzA=\"; var mid = \"1\"; var idx = \"1\"; var sn = \"ab\";</script>{body}</body></html>"
    )
}

#[test]
fn hostile_titles_read_back_exactly() {
    let titles: Vec<String> = serde_json::from_str(&std::fs::read_to_string(hostile("titles.json")).unwrap()).unwrap();
    assert!(titles.len() >= 35);
    let out = tempfile::tempdir().unwrap();
    for (i, title) in titles.iter().enumerate() {
        let meant = wxsec::text::clean_value(title).expect("every case has words");
        let p = page(titled(title, "<div id=\"js_content\"><p>正文</p></div>"));
        let article = wxsec::extract::extract(&p).unwrap_or_else(|e| panic!("{title:?}: {e}"));
        let md = Record::new(article, p.fetched_at).to_markdown();
        let (_, meta) = common::front_matter(&md).unwrap_or_else(|e| panic!("{title:?}: {e}\n{md}"));
        assert_eq!(meta["title"], serde_json::Value::String(meant.clone()), "{title:?}");
        assert_eq!(meta["source"], serde_json::Value::String(meant.clone()), "{title:?}");
        let defects = common::check_record(&md);
        assert!(defects.is_empty(), "{title:?}: {defects:?}");
        std::fs::write(out.path().join(format!("{i:02}.md")), &md).unwrap();
    }
    // YAML 1.1 as well: PyYAML reads every front matter back as the same strings.
    let checker = common::corpus_dir().join("../tools/check-record");
    let output = std::process::Command::new("python3").arg(checker).arg(out.path()).output().expect("python3");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
}

fn safe_scheme(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("mailto:")
        || !lower.contains(':')
}

#[test]
fn hostile_bodies_render_as_text() {
    let mut seen = 0;
    for entry in std::fs::read_dir(hostile("bodies")).unwrap() {
        let path = entry.unwrap().path();
        let body = std::fs::read_to_string(&path).unwrap();
        let p = page(titled("正文攻击", &body));
        let md = Record::new(wxsec::extract::extract(&p).unwrap(), p.fetched_at).to_markdown();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        assert!(common::check_record(&md).is_empty(), "{name}: {:?}", common::check_record(&md));
        let mut opts = Options::empty();
        opts.insert(Options::ENABLE_TABLES);
        opts.insert(Options::ENABLE_STRIKETHROUGH);
        let mut text = String::new();
        for event in Parser::new_ext(&md, opts) {
            match event {
                Event::Html(h) | Event::InlineHtml(h) => panic!("{name}: live HTML {h:?} in\n{md}"),
                Event::Start(Tag::Link { dest_url, .. }) | Event::Start(Tag::Image { dest_url, .. }) => {
                    assert!(safe_scheme(&dest_url), "{name}: link to {dest_url}");
                }
                Event::Text(t) | Event::Code(t) => text.push_str(&t),
                _ => {}
            }
        }
        if name == "script-as-text.html" {
            assert!(text.contains("<script>alert(document.cookie)</script>"), "{text}");
            assert!(text.contains("<img src=x onerror=alert(1)>"), "{text}");
        }
        if name == "live-elements.html" {
            assert!(!text.contains("alert"), "{name}: script text survived: {text}");
            assert!(text.contains("正文") && text.contains("后文"), "{text}");
        }
        seen += 1;
    }
    assert!(seen >= 4);
}

#[test]
fn hostile_ids_stay_inside_the_output_folder() {
    let out = tempfile::tempdir().unwrap();
    let root = out.path().canonicalize().unwrap();
    let mut seen = 0;
    for entry in std::fs::read_dir(hostile("paths")).unwrap() {
        let path = entry.unwrap().path();
        let p = FetchedPage::from_file(&path, 1 << 20).unwrap();
        let written = wxsec::import::write_page(&p, out.path(), wxsec::store::Format::Markdown)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let real = written.canonicalize().unwrap();
        assert!(real.starts_with(&root), "{} wrote {}", path.display(), real.display());
        for part in written.strip_prefix(out.path()).unwrap().components() {
            let part = part.as_os_str().to_string_lossy();
            assert!(part.len() <= 200, "{part}");
            let stem = part.split('.').next().unwrap_or("").to_ascii_uppercase();
            assert!(!["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str()), "{part} is a reserved name");
        }
        seen += 1;
    }
    assert!(seen >= 7);
    // Nothing landed anywhere else.
    assert!(!Path::new("/tmp/x.md").exists());
}

#[test]
fn a_page_nested_a_hundred_thousand_deep_is_read() {
    let depth = 100_000;
    let body = format!(
        "<div id=\"js_content\">{}深处的文字{}</div>",
        "<div><span>".repeat(depth / 2),
        "</span></div>".repeat(depth / 2)
    );
    let p = page(titled("嵌套", &body));
    let md = Record::new(wxsec::extract::extract(&p).unwrap(), p.fetched_at).to_markdown();
    assert!(md.contains("深处的文字"));
}

#[test]
fn charsets_declared_and_not() {
    let text = "繁體中文的漏洞公告，請儘快更新系統。攻擊者可以利用此漏洞執行任意程式碼。";
    let simplified = "简体中文的漏洞公告，请尽快更新系统。攻击者可以利用此漏洞执行任意代码。";
    let cases: Vec<(&str, &'static encoding_rs::Encoding, &str, bool)> = vec![
        ("big5 declared", encoding_rs::BIG5, text, true),
        ("big5 undeclared", encoding_rs::BIG5, text, false),
        ("gb18030 declared", encoding_rs::GB18030, simplified, true),
        ("gb18030 undeclared", encoding_rs::GB18030, simplified, false),
        ("gbk declared", encoding_rs::GBK, simplified, true),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (name, enc, words, declare) in cases {
        let meta = if declare { format!("<meta charset=\"{}\">", enc.name()) } else { String::new() };
        let html = format!(
            "<html><head>{meta}</head><body><script>var msg_title = \"{words}\"; var nickname = \"账号\";</script><div id=\"js_content\"><p>{words}</p></div></body></html>"
        );
        let (bytes, _, _) = enc.encode(&html);
        let file = dir.path().join(format!("{}.html", name.replace(' ', "-")));
        std::fs::write(&file, &bytes).unwrap();
        let p = FetchedPage::from_file(&file, 1 << 20).unwrap();
        let a = wxsec::extract::extract(&p).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(a.title, words, "{name}");
        assert!(a.body.contains(words), "{name}");
    }
    // Invalid UTF-8 inside a UTF-8 page: replaced, and the rest is read.
    let mut bytes = titled("无效字节", "<div id=\"js_content\"><p>前</p><p>").into_bytes();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    bytes.extend_from_slice("后</p></div>".as_bytes());
    let file = dir.path().join("invalid.html");
    std::fs::write(&file, &bytes).unwrap();
    let a = wxsec::extract::extract(&FetchedPage::from_file(&file, 1 << 20).unwrap()).unwrap();
    assert!(a.body.contains('前') && a.body.contains('后'), "{}", a.body);
}

/// A raw server: answers every connection with `respond`, once per connection, `n` times.
fn raw_server(n: usize, respond: impl Fn(&mut std::net::TcpStream) + Send + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let mut stream = stream.unwrap();
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            respond(&mut stream);
        }
    });
    format!("http://{addr}")
}

#[test]
fn an_endless_page_is_cut_at_the_cap() {
    // 200 MB announced and streamed: the client stops at its cap.
    let origin = raw_server(1, |s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 209715200\r\n\r\n");
        let chunk = vec![b'a'; 1 << 16];
        for _ in 0..3200 {
            if s.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let out = tempfile::tempdir().unwrap();
    let run = Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", &origin)
        .args(["import", "--delay", "0", "--max-page-bytes", "4000000", "--out"])
        .arg(out.path())
        .arg("https://mp.weixin.qq.com/s/Endless")
        .assert()
        .code(5);
    assert!(String::from_utf8_lossy(&run.get_output().stderr).contains("larger than 4000000 bytes"));
}

#[test]
fn a_slow_drip_times_out() {
    let origin = raw_server(1, |s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 100000\r\n\r\n");
        for _ in 0..100 {
            if s.write_all(b"<").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let out = tempfile::tempdir().unwrap();
    let run = Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", &origin)
        .args(["import", "--delay", "0", "--timeout", "2", "--out"])
        .arg(out.path())
        .arg("https://mp.weixin.qq.com/s/Drip")
        .assert()
        .code(5);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).to_string();
    assert!(stderr.contains("timed out") || stderr.contains("timeout"), "{stderr}");
    assert!(std::fs::read_dir(out.path()).map_or(true, |mut d| d.next().is_none()));
}
