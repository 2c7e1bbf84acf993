//! The same checks of the state on both stores: a SQLite file always, and a PostgreSQL database
//! when `WXSEC_TEST_POSTGRES` names a server (scripts/test starts one). What the crawl, import,
//! normalise, search and feed ask of the state must answer alike on either.

mod common;

use std::path::Path;

use wxsec::archive::{HostField, State, Status, index};
use wxsec::article::ArticleId;

const LONG: &str =
    "https://mp.weixin.qq.com/s?__biz=MzI2NTg4OTc5Nw==&mid=2247521893&idx=1&sn=867f98595849107577a98fcaf043a177";

/// An archive folder holding two expected records of the fixtures.
fn archive() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    for name in ["modern-2025.md", "desktop-2018.md"] {
        let sub = dir.path().join("acct");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(fixtures.join(name), sub.join(name)).unwrap();
    }
    dir
}

fn exercise(state: &State, root: &Path) {
    assert_eq!(state.version().unwrap(), 7, "every migration applied");
    let now = 1_700_000_000_000;

    // Discovery, aliases, the queue.
    assert!(state.discover("https://mp.weixin.qq.com/s/AbC", "list", 0, 1).unwrap());
    assert!(!state.discover("http://mp.weixin.qq.com/s/AbC?scene=1", "list", 0, 1).unwrap(), "known");
    assert!(state.discover(LONG, "list", 0, 2).unwrap());
    assert_eq!(state.due_count(now).unwrap(), 2);
    let first = state.claim(now, 1000).unwrap().expect("a due article");
    assert_eq!(first.key, "s:AbC", "oldest first");
    // A host takes back what it holds (a run of it was killed), never what it finished.
    assert_eq!(state.claim(now, 1000).unwrap().map(|r| r.key).as_deref(), Some("s:AbC"));
    let id = ArticleId::new("MzA=", "1", "2", Some("ab")).unwrap();
    state.done(&first, Some(&id), "a.md", "h", 5).unwrap();
    let second = state.claim(now, 1000).unwrap().expect("the other");
    assert!(second.key.starts_with("MzI2NTg4OTc5Nw==:2247521893"), "{}", second.key);
    assert!(!state.discover("https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=ab", "t", 0, 6).unwrap());
    assert!(!state.discover("https://mp.weixin.qq.com/s/AbC", "t", 0, 6).unwrap(), "an alias now");
    assert!(state.is_done("s:AbC").unwrap() && state.is_done("MzA=:1:2").unwrap());
    state.retry_later(&second.key, "HTTP 503", now + 500).unwrap();
    assert!(state.claim(now, 1000).unwrap().is_none(), "waiting");
    assert_eq!(state.next_due().unwrap(), Some(now + 500));
    let again = state.claim(now + 600, 2000).unwrap().expect("its wait is over");
    assert_eq!(again.attempts, 1);
    state.finish(&again.key, Status::GaveUp, "too often", now).unwrap();
    assert!(state.queue_repair(LONG, "acct/broken.md", now).unwrap());
    let repair = state.claim(now, 1000).unwrap().unwrap();
    assert_eq!(repair.replace_path.as_deref(), Some("acct/broken.md"));
    state.release(&repair.key).unwrap();
    state.postpone(&repair.key, now + 10).unwrap();
    let mut counts = state.counts().unwrap();
    counts.sort();
    assert_eq!(counts, vec![("done".to_string(), 1), ("pending".to_string(), 1)]);
    let finished = state.finished_by().unwrap();
    assert!(finished.iter().any(|(_, s, h)| s == "done" && h.as_deref() == Some(state.host())), "{finished:?}");

    // Sources: claimed by one host at a time, polled, validators kept.
    assert!(state.claim_source("feed", 1000).unwrap());
    assert!(state.claim_source("feed", 1000).unwrap(), "the host's own claim");
    state.polled("feed", Some("\"e1\""), None, 7).unwrap();
    state.polled("feed", None, Some("Mon"), 8).unwrap();
    assert_eq!(state.source_validators("feed").unwrap(), (Some("\"e1\"".into()), Some("Mon".into())));
    assert!(!state.sources_busy().unwrap());
    let sources: Vec<_> = state.source_rows().unwrap().into_iter().map(|r| (r.name, r.last_polled)).collect();
    assert_eq!(sources, vec![("feed".to_string(), Some(8))]);

    // Each host's limits, and the settings.
    state.set_host(state.host(), HostField::BlockedUntil, now + 9).unwrap();
    assert_eq!(state.host_state(state.host()).unwrap().blocked_until_ms, now + 9);
    assert_eq!(state.host_state("elsewhere").unwrap().blocked_until_ms, 0, "a host's own");
    state.host_seen(state.host(), now, true).unwrap();
    let hosts = state.hosts(now).unwrap();
    assert_eq!(hosts.len(), 1);
    assert!(hosts[0].running && hosts[0].blocked_until.is_some() && hosts[0].written == 1, "{hosts:?}");
    state.set_setting("x", "1").unwrap();
    state.set_setting("x", "2").unwrap();
    assert_eq!(state.setting("x").unwrap().as_deref(), Some("2"));

    // The search index.
    let summary = index::reindex(state, root).unwrap();
    assert_eq!(summary.indexed, 2);
    assert_eq!(index::count(state).unwrap(), 2);
    // A record written again (a crawl's refetch) replaces its entry, entities and words.
    let text = std::fs::read_to_string(root.join("acct/modern-2025.md")).unwrap();
    let entry = index::Entry::of_file_text(&text, "acct/modern-2025.md".into(), false).unwrap();
    index::upsert(state, &entry).unwrap();
    index::upsert(state, &entry).unwrap();
    assert_eq!(index::count(state).unwrap(), 2);
    let q = |terms: &[&str]| index::Query {
        terms: terms.iter().map(|t| t.to_string()).collect(),
        limit: 10,
        ..Default::default()
    };
    let titles = |q: &index::Query| -> Vec<String> {
        index::search(state, root, q, "[", "]").unwrap().into_iter().map(|h| h.title).collect()
    };
    assert_eq!(titles(&q(&["条件竞争"])), vec!["Apache Tomcat 漏洞 & 补丁分析"]);
    assert_eq!(titles(&q(&["tomca"])), vec!["Apache Tomcat 漏洞 & 补丁分析"], "a word's start");
    assert_eq!(titles(&q(&["漏"])).len(), 2, "one character, a prefix of the pairs");
    assert!(titles(&q(&["it's \\ 'quoted'"])).is_empty(), "quotes and backslashes are only text");
    let cve = index::Query { id: Some("cve-2024-56337".into()), limit: 10, ..Default::default() };
    let hits = index::search(state, root, &cve, "[", "]").unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].cves, vec!["CVE-2024-56337"]);
    let newest = index::newest(state, None, 10).unwrap();
    assert_eq!(newest.len(), 2);
    assert!(newest[0].date >= newest[1].date);
    let plans = index::feed_plans(state, 10).unwrap();
    assert_eq!(plans[0].entries, 2);
    index::set_feed_signature(state, "all", "s1").unwrap();
    index::set_feed_signature(state, "all", "s2").unwrap();
    assert_eq!(index::feed_signature(state, "all").unwrap().as_deref(), Some("s2"));
    let path = &newest[0].path;
    assert!(index::indexed_hash(state, path).unwrap().is_some());
    index::remove(state, path).unwrap();
    assert_eq!(index::count(state).unwrap(), 1);
    // A whole batch, rolled back on error, leaves nothing half-done.
    let failed: wxsec::error::Result<()> = state.batch(|s| {
        s.discover("https://mp.weixin.qq.com/s/Rolled", "t", 0, 1)?;
        Err(wxsec::Error::BadTarget { target: "stop".into() })
    });
    assert!(failed.is_err());
    assert!(!state.knows("https://mp.weixin.qq.com/s/Rolled").unwrap());
}

#[test]
fn a_state_file_answers_every_question() {
    let root = archive();
    let state = State::open(&root.path().join(".wxsec/state.sqlite")).unwrap();
    exercise(&state, root.path());
}

#[test]
fn a_postgresql_state_answers_them_alike() {
    let Some(url) = common::postgres_database("stores") else { return };
    let root = archive();
    let state = State::open(Path::new(&url)).unwrap();
    exercise(&state, root.path());
    // Opened again (another host starting): nothing migrates twice, nothing is lost.
    let again = State::open(Path::new(&url)).unwrap();
    assert_eq!(again.version().unwrap(), 7);
    assert_eq!(index::count(&again).unwrap(), 1);
}

#[test]
fn a_server_takes_many_entries_in_one_statement_as_it_takes_each() {
    let Some(url) = common::postgres_database("stores_bulk") else { return };
    let root = archive();
    let state = State::open(Path::new(&url)).unwrap();
    let text = std::fs::read_to_string(root.path().join("acct/modern-2025.md")).unwrap();
    let mut a = index::Entry::of_file_text(&text, "acct/modern-2025.md".into(), false).unwrap();
    // A one-entry batch whose key, date and entities are empty: every column splits to nothing.
    let mut bare = a.clone();
    bare.path = "acct/bare.md".into();
    bare.key = None;
    bare.date = String::new();
    bare.entities = Default::default();
    wxsec::archive::bulk::upsert_many(&state, std::slice::from_ref(&bare)).unwrap();
    assert_eq!(index::count(&state).unwrap(), 1);
    // The same path twice in a batch: the last is kept; a value holding the separator is text.
    let mut changed = a.clone();
    changed.title = "新标题\u{1f}二".into();
    wxsec::archive::bulk::upsert_many(&state, &[a.clone(), changed.clone(), bare.clone()]).unwrap();
    assert_eq!(index::count(&state).unwrap(), 2);
    let cve = index::Query { id: Some("CVE-2024-56337".into()), limit: 10, ..Default::default() };
    let hits = index::search(&state, root.path(), &cve, "[", "]").unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].title, "新标题 二");
    // Entities replaced: the record names another CVE now.
    a.entities.cves = vec!["CVE-2099-0001".into()];
    wxsec::archive::bulk::upsert_many(&state, std::slice::from_ref(&a)).unwrap();
    assert!(index::search(&state, root.path(), &cve, "[", "]").unwrap().is_empty());
    let same = wxsec::archive::bulk::unchanged(&state, &[a.clone(), changed]).unwrap();
    assert!(same.contains(&a.path) && same.len() == 1, "{same:?}");
}

#[test]
fn a_database_of_another_program_is_refused() {
    let Some(url) = common::postgres_database("foreign") else { return };
    let u = url.clone();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&u, postgres::NoTls).unwrap();
        c.batch_execute("CREATE TABLE invoices (id INT)").unwrap();
    })
    .join()
    .unwrap();
    let e = State::open(Path::new(&url)).err().expect("refused").to_string();
    assert!(e.contains("another program"), "{e}");
}

/// A state file with history, moved with `wxsec copy-state` into `to`; checked there.
fn copy_state_into(to: &str) {
    let root = archive();
    let file = root.path().join(".wxsec/state.sqlite");
    {
        let s = State::open(&file).unwrap();
        assert!(s.discover("https://mp.weixin.qq.com/s/AbC", "list", 0, 1).unwrap());
        assert!(s.discover(LONG, "list", 0, 2).unwrap());
        let row = s.claim(5, 10).unwrap().unwrap();
        let id = ArticleId::new("MzA=", "1", "2", Some("ab")).unwrap();
        s.done(&row, Some(&id), "acct/modern-2025.md", "h", 5).unwrap();
        s.polled("list", Some("\"e\""), None, 7).unwrap();
        s.set_host("old-host", HostField::BlockedUntil, 99).unwrap();
    }
    let out = assert_cmd::Command::cargo_bin("wxsec")
        .unwrap()
        .args(["copy-state", "--json", "--out"])
        .arg(root.path())
        .arg("--to")
        .arg(to)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["copied"]["articles"], 2, "{v}");
    assert_eq!(v["indexed"], 2, "{v}");
    let s = State::open(Path::new(to)).unwrap();
    assert!(s.is_done("s:AbC").unwrap(), "the alias came along");
    assert!(!s.discover("https://mp.weixin.qq.com/s?__biz=MzA=&mid=1&idx=2&sn=ab", "t", 0, 6).unwrap());
    assert_eq!(s.due_count(i64::MAX).unwrap(), 1);
    assert_eq!(s.source_validators("list").unwrap().0.as_deref(), Some("\"e\""));
    assert_eq!(s.host_state("old-host").unwrap().blocked_until_ms, 99);
    assert_eq!(index::count(&s).unwrap(), 2);
    // Copied twice (a second host's file): nothing doubles.
    let again = assert_cmd::Command::cargo_bin("wxsec")
        .unwrap()
        .args(["copy-state", "--out"])
        .arg(root.path())
        .arg("--to")
        .arg(to)
        .output()
        .unwrap();
    assert!(again.status.success());
    assert_eq!(s.counts().unwrap().iter().map(|(_, n)| n).sum::<i64>(), 2);
}

#[test]
fn copy_state_moves_a_file_into_another_file() {
    let dir = tempfile::tempdir().unwrap();
    copy_state_into(dir.path().join("new.sqlite").to_str().unwrap());
}

#[test]
fn copy_state_moves_a_file_onto_a_server() {
    let Some(url) = common::postgres_database("copy") else { return };
    copy_state_into(&url);
}

/// The index's writer failing halfway through a large `normalise` (a full disk, a server gone)
/// ends the run with the error; the walker that still has files to hand out does not wait
/// forever on a queue no one reads.
#[test]
fn normalise_stops_with_the_error_when_the_index_fails_midway() {
    let Some(url) = common::postgres_database("midway") else { return };
    let state = State::open(Path::new(&url)).unwrap();
    drop(state);
    let u = url.clone();
    std::thread::spawn(move || {
        let mut c = postgres::Client::connect(&u, postgres::NoTls).unwrap();
        c.batch_execute(
            "CREATE SEQUENCE n;
             CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN
               IF nextval('n') > 300 THEN RAISE EXCEPTION 'no space left on the server'; END IF; RETURN NEW;
             END $$ LANGUAGE plpgsql;
             CREATE TRIGGER boom BEFORE INSERT ON records FOR EACH ROW EXECUTE FUNCTION boom();",
        )
        .unwrap();
    })
    .join()
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    for i in 0..3000 {
        let text = format!(
            "---\ntitle: 第 {i} 篇\nurl: https://mp.weixin.qq.com/s?__biz=MzA=&mid={}&idx=1&sn=ab\nsource: 测试号\n\
             date: 2025-01-02\nfetch_date: 2025-01-03T00:00:00\n---\n\n# 第 {i} 篇\n\n正文第 {i} 段，讲漏洞修复。\n",
            1000 + i
        );
        std::fs::write(input.join(format!("{i:04}.md")), text).unwrap();
    }
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("wxsec"))
        .args(["normalise", "--out"])
        .arg(dir.path().join("out"))
        .arg("--state")
        .arg(&url)
        .arg(&input)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("normalise hung after its index failed");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert_eq!(status.code(), Some(10), "{err}");
    assert!(err.contains("no space left on the server"), "{err}");
}
