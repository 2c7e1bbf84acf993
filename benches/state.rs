//! Crawl bookkeeping with a million articles in the state file: the per-article cost of looking
//! an address up, taking it from the queue and committing its outcome. Run with
//! `cargo bench --bench state` (builds the 1,000,000-row file first, in a temporary folder).

use std::time::Instant;

use wxsec::ArticleId;
use wxsec::archive::State;

fn url(biz: u64, mid: u64) -> String {
    format!("https://mp.weixin.qq.com/s?__biz=Mz{biz:08}==&mid={mid}&idx=1&sn={:032x}", mid * 7919)
}

fn main() {
    let rows: u64 = std::env::var("WXSEC_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp folder");
    let path = dir.path().join("state.sqlite");
    let state = State::open(&path).expect("state");
    let started = Instant::now();
    state
        .batch(|s| {
            for i in 0..rows {
                s.discover(&url(i % 2000, 2_000_000_000 + i), "bench", 0, 1)?;
            }
            Ok(())
        })
        .expect("fill");
    // Most of a real state is done: mark all but the last 2,000 as such, in one go.
    drop(state);
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute("UPDATE articles SET status = 'done' WHERE rowid <= ?1", [rows.saturating_sub(2000) as i64])
        .expect("update");
    drop(conn);
    println!(
        "state: {rows} rows built in {:.1} s, {:.0} MB",
        started.elapsed().as_secs_f64(),
        std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );

    let state = State::open(&path).expect("state");
    let n = 2_000u64;
    // Looking up an address that is already known (every feed item, every run).
    let t = Instant::now();
    for i in 0..n {
        let j = (i * 401) % rows;
        assert!(!state.discover(&url(j % 2000, 2_000_000_000 + j), "bench", 0, 2).expect("discover"));
    }
    let lookup = t.elapsed().as_secs_f64() / n as f64;
    // Claiming a due article (as the crawl does, under a lease) and committing its record.
    let t = Instant::now();
    for _ in 0..n {
        let row = state.claim(i64::MAX - 1, 600_000).expect("claim").expect("a due row");
        let (biz, mid) = row
            .key
            .split_once(':')
            .map(|(b, r)| (b.to_string(), r.split(':').next().unwrap_or("").to_string()))
            .unwrap();
        let id = ArticleId::new(&biz, &mid, "1", Some("ab")).expect("id");
        state.done(&row, Some(&id), "x/y.md", "0123456789abcdef", 3).expect("done");
    }
    let commit = t.elapsed().as_secs_f64() / n as f64;
    println!(
        "per article: lookup {:.1} µs, queue + commit {:.1} µs, total {:.3} ms",
        lookup * 1e6,
        commit * 1e6,
        (lookup + commit) * 1e3
    );
}
