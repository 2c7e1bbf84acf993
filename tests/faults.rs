//! Faults and crashes: a page server on 127.0.0.1 that injects network faults at random, forty
//! `SIGKILL`s of a running crawl, and a full disk. Each ends with every article archived once,
//! whole, and a state that agrees with the files.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::Command;

/// The corpus pages that are articles with ids of their own.
fn article_pages() -> Vec<Vec<u8>> {
    let dir = common::corpus_dir().join("html");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| {
            (n.starts_with("article-") || n.starts_with("text-") || n.starts_with("picture-")) && n.ends_with(".html")
        })
        .collect();
    names.sort();
    names.iter().map(|n| std::fs::read(dir.join(n)).unwrap()).collect()
}

struct Xorshift(u64);

impl Xorshift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// What the server does with one request.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    Reset,
    Truncated,
    Slow,
    Error500,
    Unavailable503,
    TooMany429,
    Verify,
}

struct Server {
    origin: String,
    faults: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

/// Serves `/s/F{i}` with page `i`; `fault_rate` of requests in 100 get a fault picked at random.
fn serve(pages: Vec<Vec<u8>>, fault_rate: u64, delay: Duration, seed: u64) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let faults = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let verify = std::fs::read(common::corpus_dir().join("html/verify-01.html")).unwrap();
    let rng = Arc::new(Mutex::new(Xorshift(seed)));
    let (f, r) = (faults.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (pages, verify, rng, f, r) = (pages.clone(), verify.clone(), rng.clone(), f.clone(), r.clone());
            std::thread::spawn(move || {
                let roll = rng.lock().unwrap().next();
                // Verification pages stop a whole run, so they come a third as often as the rest.
                let fault = if roll % 100 < fault_rate {
                    [
                        Fault::Reset,
                        Fault::Reset,
                        Fault::Reset,
                        Fault::Truncated,
                        Fault::Truncated,
                        Fault::Truncated,
                        Fault::Slow,
                        Fault::Slow,
                        Fault::Slow,
                        Fault::Error500,
                        Fault::Error500,
                        Fault::Error500,
                        Fault::Unavailable503,
                        Fault::Unavailable503,
                        Fault::Unavailable503,
                        Fault::TooMany429,
                        Fault::TooMany429,
                        Fault::TooMany429,
                        Fault::Verify,
                    ][((roll / 100) % 19) as usize]
                } else {
                    Fault::None
                };
                r.fetch_add(1, Ordering::Relaxed);
                if fault != Fault::None {
                    f.fetch_add(1, Ordering::Relaxed);
                }
                let _ = answer(stream, &pages, &verify, fault, delay);
            });
        }
    });
    Server { origin, faults, requests }
}

fn answer(
    mut stream: TcpStream,
    pages: &[Vec<u8>],
    verify: &[u8],
    fault: Fault,
    delay: Duration,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/");
    let page = path.strip_prefix("/s/F").and_then(|n| n.parse::<usize>().ok()).and_then(|i| pages.get(i));
    std::thread::sleep(delay);
    let head = |status: &str, extra: &str, len: usize| {
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {len}\r\nconnection: close\r\n{extra}\r\n"
        )
    };
    let Some(page) = page else {
        return stream.write_all(head("404 Not Found", "", 0).as_bytes());
    };
    match fault {
        Fault::None => {
            stream.write_all(head("200 OK", "", page.len()).as_bytes())?;
            stream.write_all(page)
        }
        // The connection dropped with no answer at all.
        Fault::Reset => stream.shutdown(std::net::Shutdown::Both),
        Fault::Truncated => {
            stream.write_all(head("200 OK", "", page.len()).as_bytes())?;
            stream.write_all(&page[..page.len() / 3])
        }
        Fault::Slow => {
            std::thread::sleep(Duration::from_millis(1500));
            stream.write_all(head("200 OK", "", page.len()).as_bytes())?;
            stream.write_all(page)
        }
        Fault::Error500 => stream.write_all(head("500 Internal Server Error", "", 0).as_bytes()),
        Fault::Unavailable503 => stream.write_all(head("503 Service Unavailable", "retry-after: 1\r\n", 0).as_bytes()),
        Fault::TooMany429 => stream.write_all(head("429 Too Many Requests", "", 0).as_bytes()),
        Fault::Verify => {
            stream.write_all(head("200 OK", "", verify.len()).as_bytes())?;
            stream.write_all(verify)
        }
    }
}

fn setup(n: usize, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let urls: String = (0..n).map(|i| format!("https://mp.weixin.qq.com/s/F{i}\n")).collect();
    std::fs::write(dir.path().join("urls.txt"), urls).unwrap();
    let config = dir.path().join("wxsec.toml");
    std::fs::write(
        &config,
        format!(
            "out = \"archive\"\ndelay = 0\njitter = 0\ntimeout = 1\nretry_base = 0.05\nmax_wait = 2\ncooldown = 1\nmax_attempts = 1000\n{extra}\n[[source]]\nurls = \"urls.txt\"\n"
        ),
    )
    .unwrap();
    (dir, config)
}

/// Every article has exactly one whole record, and the state names each file.
fn assert_consistent(archive: &Path, articles: usize) {
    let state = wxsec::archive::State::open(&archive.join(".wxsec/state.sqlite")).unwrap();
    let rows = state.all().unwrap();
    assert!(rows.iter().all(|(_, st, _)| st == "done"), "{rows:?}");
    let mut paths: Vec<String> = rows.iter().filter_map(|(_, _, p)| p.clone()).collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), articles, "records lost: {} of {articles}", articles - paths.len().min(articles));
    let files = common::record_files(archive);
    assert_eq!(files.len(), articles, "duplicate or stray files: {files:?}");
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(common::check_record(&text).is_empty(), "{}: {:?}", f.display(), common::check_record(&text));
        let rel = f.strip_prefix(archive).unwrap().to_string_lossy().to_string();
        assert!(paths.contains(&rel), "{rel} is not in the state");
    }
}

#[test]
fn random_faults_lose_nothing_and_duplicate_nothing() {
    let pages = article_pages();
    let n = pages.len();
    let server = serve(pages, 40, Duration::ZERO, 0x853c_49e6_748f_ea9b);
    let (dir, config) = setup(n, "");
    let mut runs = 0;
    loop {
        runs += 1;
        let out = Command::cargo_bin("wxsec")
            .unwrap()
            .env("WXSEC_ORIGIN", &server.origin)
            .args(["crawl", "--json", "--config"])
            .arg(&config)
            .output()
            .unwrap();
        let code = out.status.code().unwrap_or(-1);
        assert!([0, 4, 8].contains(&code), "run {runs}: exit {code}: {}", String::from_utf8_lossy(&out.stderr));
        // A run that ends cleanly may leave retries for later runs: done means every article is.
        let state = wxsec::archive::State::open(&dir.path().join("archive/.wxsec/state.sqlite")).unwrap();
        if state.all().unwrap().iter().all(|(_, st, _)| st == "done") && state.all().unwrap().len() == n {
            break;
        }
        let pending: Vec<_> = state.all().unwrap().into_iter().filter(|(_, st, _)| st != "done").collect();
        assert!(
            runs < 40,
            "still failing after {runs} runs: {pending:?}, next due {:?}, last stderr {}",
            state.next_due(),
            String::from_utf8_lossy(&out.stderr)
        );
        let wait = state.next_due().unwrap().map_or(0, |t| (t - chrono::Utc::now().timestamp_millis()).clamp(0, 3000));
        std::thread::sleep(Duration::from_millis(if code == 4 { 1100 } else { 100 + wait as u64 }));
    }
    let faults = server.faults.load(Ordering::Relaxed);
    eprintln!(
        "fault injection: {n} articles, {runs} runs, {} requests, {faults} faults injected, 0 records lost, 0 duplicates",
        server.requests.load(Ordering::Relaxed)
    );
    assert!(faults >= 15, "only {faults} faults injected");
    assert_consistent(&dir.path().join("archive"), n);
}

#[test]
fn forty_kills_mid_run_leave_whole_records_and_a_consistent_state() {
    let pages = article_pages();
    let n = pages.len();
    let server = serve(pages, 0, Duration::from_millis(30), 1);
    let (dir, config) = setup(n, "");
    let bin = assert_cmd::cargo::cargo_bin("wxsec");
    let mut rng = Xorshift(0x2545_f491_4f6c_dd1d);
    let mut killed_mid_run = 0;
    let mut kills = 0;
    // Until forty kills landed mid-run: how many that takes depends on this machine's speed, not on
    // wxsec (a run that finishes before its kill is a run, not a trial).
    while killed_mid_run < 40 && kills < 400 {
        kills += 1;
        let mut child = std::process::Command::new(&bin)
            .env("WXSEC_ORIGIN", &server.origin)
            .args(["crawl", "--config"])
            .arg(&config)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(5 + rng.next() % 100));
        if child.try_wait().unwrap().is_none() {
            killed_mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        // The state is readable and its records whole after every kill.
        for f in common::record_files(&dir.path().join("archive")) {
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(common::check_record(&text).is_empty(), "{}: partial record after a kill", f.display());
        }
    }
    Command::cargo_bin("wxsec")
        .unwrap()
        .env("WXSEC_ORIGIN", &server.origin)
        .args(["crawl", "--config"])
        .arg(&config)
        .assert()
        .success();
    eprintln!("crash trials: {kills} SIGKILLs ({killed_mid_run} mid-run), 0 records lost, 0 duplicates");
    assert!(killed_mid_run >= 40);
    assert_consistent(&dir.path().join("archive"), n);
    let disagree = common::index_disagreements(&dir.path().join("archive"), true);
    assert!(disagree.is_empty(), "{disagree:?}");
}

/// `normalise` writes records in batches made durable together; kills at any moment leave every
/// record either absent or whole (byte for byte what a run without kills writes), never a
/// temporary file beside the records, and an index naming only records that are on disk as they
/// were indexed. The next run completes, and then the index and the files agree.
#[test]
fn kills_mid_normalise_leave_whole_records_and_an_index_that_agrees() {
    let corpus = common::corpus_dir().join("md");
    if !corpus.is_dir() {
        eprintln!("corpus not found at {}: set WXSEC_CORPUS", corpus.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The corpus's records, four times over, so that a run takes long enough to be killed in.
    let input = dir.path().join("in");
    for copy in 0..4 {
        for f in common::files_below(&corpus, |_| true) {
            let rel = f.strip_prefix(&corpus).unwrap();
            let to = input.join(format!("c{copy}")).join(rel);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&f, &to).unwrap();
        }
    }
    let bin = assert_cmd::cargo::cargo_bin("wxsec");
    let normalise = |out: &Path| {
        let mut c = std::process::Command::new(&bin);
        // Small batches: many commits in a run, so that kills fall between and inside them.
        c.env("WXSEC_BATCH_FILES", "40").args(["normalise", "--out"]).arg(out).arg(&input);
        c.stderr(std::process::Stdio::null()).stdout(std::process::Stdio::null());
        c
    };
    let reference = dir.path().join("reference");
    assert!(normalise(&reference).status().unwrap().success());
    let expected = common::record_files(&reference);
    assert!(expected.len() > 500, "{}", expected.len());
    let out = dir.path().join("out");
    let mut rng = Xorshift(0x9e37_79b9_7f4a_7c15);
    let (mut kills, mut mid_run, mut seen_partial_runs) = (0, 0, 0);
    while mid_run < 15 && kills < 100 {
        kills += 1;
        let mut child = normalise(&out).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(20 + rng.next() % 400));
        if child.try_wait().unwrap().is_none() {
            mid_run += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let files = common::record_files(&out);
        if files.len() < expected.len() {
            seen_partial_runs += 1;
        }
        for f in &files {
            let rel = f.strip_prefix(&out).unwrap();
            let name = rel.file_name().unwrap().to_string_lossy();
            assert!(!name.starts_with(".wxsec-"), "a temporary file beside the records: {}", rel.display());
            let want = std::fs::read(reference.join(rel)).unwrap_or_default();
            assert!(std::fs::read(f).unwrap() == want, "{}: not the whole record after a kill", rel.display());
        }
        let disagree = common::index_disagreements(&out, false);
        assert!(disagree.is_empty(), "after kill {kills}: {disagree:?}");
        // Each trial starts over half the time, so that kills land early in a run as well as in
        // a run that has little left to do.
        if rng.next().is_multiple_of(2) {
            let _ = std::fs::remove_dir_all(&out);
        }
    }
    assert!(normalise(&out).status().unwrap().success());
    eprintln!(
        "normalise crash trials: {kills} SIGKILLs ({mid_run} mid-run, {seen_partial_runs} left a partial archive)"
    );
    assert!(mid_run >= 15 && seen_partial_runs > 0);
    let got = common::record_files(&out);
    let rel =
        |v: &[PathBuf], root: &Path| v.iter().map(|p| p.strip_prefix(root).unwrap().to_path_buf()).collect::<Vec<_>>();
    assert_eq!(rel(&got, &out), rel(&expected, &reference));
    for f in &got {
        assert_eq!(std::fs::read(f).unwrap(), std::fs::read(reference.join(f.strip_prefix(&out).unwrap())).unwrap());
    }
    let disagree = common::index_disagreements(&out, true);
    assert!(disagree.is_empty(), "{disagree:?}");
}

/// A full disk gives a clear error and loses nothing already written. Needs root to mount a
/// small tmpfs (CI and the development machines run as root).
#[test]
fn a_full_disk_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=12k", "tmpfs"])
        .arg(&mount)
        .status()
        .expect("mount runs");
    assert!(status.success(), "cannot mount a tmpfs at {} (this test needs root)", mount.display());
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mount.clone());
    let html = common::corpus_dir().join("html");
    let pages: Vec<PathBuf> = [
        "article-11",
        "article-12",
        "article-13",
        "article-14",
        "article-15",
        "article-10",
        "article-07",
        "article-09",
        "article-03",
        "article-16",
    ]
    .iter()
    .map(|n| html.join(format!("{n}.html")))
    .collect();
    // With the search index on, the state file is what fills the disk first: a clear error, and
    // nothing partial left among the records.
    let out = Command::cargo_bin("wxsec").unwrap().args(["import", "--out"]).arg(&mount).args(&pages).output().unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No space left on device") && stderr.contains("state.sqlite"), "{stderr}");
    for f in common::record_files(&mount) {
        assert!(common::check_record(&std::fs::read_to_string(&f).unwrap()).is_empty(), "{}", f.display());
    }
    for entry in std::fs::read_dir(&mount).unwrap() {
        std::fs::remove_dir_all(entry.unwrap().path()).unwrap();
    }
    // Without it, the records themselves fill the disk.
    let out = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--no-index", "--out"])
        .arg(&mount)
        .args(&pages)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(6), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("No space left on device") && stderr.contains("hint:"), "{stderr}");
    let written: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect();
    assert!(!written.is_empty(), "some records fit");
    let files = common::record_files(&mount);
    assert_eq!(files.len(), written.len(), "no partial or temporary file: {files:?}");
    for f in files {
        let text = std::fs::read_to_string(&f).unwrap();
        assert!(common::check_record(&text).is_empty(), "{}", f.display());
    }
}
