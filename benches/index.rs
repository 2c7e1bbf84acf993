//! The search index at archive scale: indexing records, searching them (words of several pairs
//! of characters, one pair, one character, an id), and writing the feeds. The records are
//! the corpus's cleaned records, repeated under new ids to `WXSEC_BENCH_RECORDS` (20,000).
//! Run with `cargo bench --bench index`.

use std::time::Instant;

use wxsec::archive::State;
use wxsec::archive::index::{self, Entry, Query};

fn main() {
    let corpus = std::env::var_os("WXSEC_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    let mut texts = Vec::new();
    let mut stack = vec![corpus.join("md")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus/md").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                if let Some(r) = wxsec::normalise::normalise_text(&text).record {
                    texts.push(r);
                }
            }
        }
    }
    let n: usize = std::env::var("WXSEC_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp folder");
    let state = State::open(&dir.path().join("state.sqlite")).expect("state");
    let bytes: usize = (0..n).map(|i| texts[i % texts.len()].len()).sum();
    let t = Instant::now();
    let entries: Vec<Entry> = (0..n.min(2000))
        .map(|i| Entry::of_file_text(&texts[i % texts.len()], String::new(), false).expect("entry"))
        .collect();
    println!(
        "entries: {:.3} ms per record (parse, entities, words)",
        t.elapsed().as_secs_f64() * 1000.0 / entries.len() as f64
    );
    let t = Instant::now();
    state
        .batch(|s| {
            for i in 0..n {
                let text = &texts[i % texts.len()];
                // Hits are confirmed and their snippets cut from the record files: they are written.
                let path = format!("{}/{i}_1.md", i % 300);
                let file = dir.path().join(&path);
                std::fs::create_dir_all(file.parent().expect("folder")).expect("folder");
                std::fs::write(&file, text).expect("record");
                let mut e = Entry::of_file_text(text, path, false).expect("entry");
                e.key = Some(format!("biz{}:{i}:1", i % 300));
                e.account = format!("{}", i % 300);
                index::upsert(s, &e)?;
            }
            Ok(())
        })
        .expect("index");
    let took = t.elapsed().as_secs_f64();
    println!(
        "index: {n} records ({:.0} MB of Markdown) in {took:.1} s: {:.2} ms per record, {:.0} MB/s; state file {:.0} MB",
        bytes as f64 / 1e6,
        took * 1000.0 / n as f64,
        bytes as f64 / 1e6 / took,
        std::fs::metadata(dir.path().join("state.sqlite")).map(|m| m.len()).unwrap_or(0) as f64 / 1e6
    );
    let q = |terms: &[&str], id: Option<&str>| Query {
        terms: terms.iter().map(|s| s.to_string()).collect(),
        id: id.map(str::to_string),
        limit: 20,
        ..Default::default()
    };
    for (name, query) in [
        ("远程代码执行 (5 pairs)", q(&["远程代码执行"], None)),
        ("Tomcat 漏洞分析 (a word, 3 pairs)", q(&["Tomcat", "漏洞分析"], None)),
        ("漏洞 (2 characters, one pair)", q(&["漏洞"], None)),
        ("洞 (1 character, a prefix)", q(&["洞"], None)),
        ("id CVE-2023-32057", q(&[], Some("CVE-2023-32057"))),
    ] {
        let runs = 20;
        let t = Instant::now();
        let mut hits = 0;
        for _ in 0..runs {
            hits = index::search(&state, dir.path(), &query, "**", "**").expect("search").len();
        }
        println!("search {name}: {:.1} ms ({hits} hits shown)", t.elapsed().as_secs_f64() * 1000.0 / runs as f64);
    }
}
