//! A short fuzz run inside `cargo test`: the bodies of the three cargo-fuzz targets
//! (`fuzz/fuzz_targets/`) over the fixtures and corpus, cut, spliced and bit-flipped at random.
//! The long coverage-guided runs are `scripts/fuzz.sh`; a crash either finds is kept here as an
//! ordinary case.

mod common;

use std::path::Path;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A mutation of `seed`: a cut, a splice of another seed, a run of flipped bytes, or markup noise.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(5) {
            0 if !b.is_empty() => b.truncate(rng.below(b.len())),
            1 if !b.is_empty() && !other.is_empty() => {
                let at = rng.below(b.len());
                let from = rng.below(other.len());
                let len = rng.below(4096).min(other.len() - from);
                b.splice(at..at, other[from..from + len].iter().copied());
            }
            2 if !b.is_empty() => {
                for _ in 0..=rng.below(16) {
                    let at = rng.below(b.len());
                    b[at] ^= 1 << rng.below(8);
                }
            }
            3 => {
                let noise: &[&[u8]] =
                    &[b"<", b"</div>", b"<table><tr><td>", b"\\x26amp;", b"'", b"\"", b"\n---\n", b"`", b"]("];
                let at = rng.below(b.len() + 1);
                let n = noise[rng.below(noise.len())];
                b.splice(at..at, n.iter().copied());
            }
            _ => {}
        }
    }
    b
}

fn extract_target(data: &[u8]) {
    let html = wxsec::fetch::decode_html(data, None);
    let page = wxsec::FetchedPage { target: "fuzz".into(), url: None, html, fetched_at: chrono::Utc::now() };
    if let Ok(article) = wxsec::extract::extract(&page) {
        let record = wxsec::Record::new(article, page.fetched_at);
        let _ = record.to_markdown();
        let _ = record.to_json();
    }
}

/// Returns whether normalising the record it wrote changed it again.
fn normalise_target(data: &[u8]) -> bool {
    let text = wxsec::fetch::decode_html(data, None);
    // What the index and the feeds read of a record: entities, words, snippets, rendered HTML.
    let entities = wxsec::entities::find("", &text);
    let words = wxsec::archive::index::plain_words(&text);
    let needles: Vec<String> =
        entities.cves.iter().cloned().chain(words.split_whitespace().take(2).map(String::from)).collect();
    let _ = wxsec::archive::index::snippet(&words, &needles, "**", "**");
    let _ = wxsec::assets::rewrite(&text, &Default::default());
    match wxsec::normalise::normalise_record(&text, true).record {
        Some(with_extra) => {
            let record = wxsec::normalise::normalise_text(&with_extra).record.unwrap_or_default();
            let extra_again = wxsec::normalise::normalise_record(&record, true).record;
            let unstable = extra_again.as_deref() != Some(with_extra.as_str())
                || wxsec::normalise::normalise_text(&record).record.as_deref() != Some(record.as_str());
            if unstable && let Some(dir) = std::env::var_os("WXSEC_FUZZ_DUMP") {
                let _ = std::fs::write(
                    Path::new(&dir).join(format!("unstable-{:016x}.md", wxsec::store::fnv1a(data))),
                    data,
                );
            }
            unstable
        }
        None => false,
    }
}

fn seeds(dirs: &[&Path]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in dirs {
        let mut files: Vec<_> =
            std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_file()).collect();
        files.sort();
        out.extend(files.iter().map(|p| std::fs::read(p).unwrap()));
    }
    out
}

#[test]
fn mutated_pages_and_records_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = common::corpus_dir();
    let pages =
        seeds(&[&root.join("fixtures/pages"), &root.join("tests/hostile/bodies"), &root.join("tests/hostile/paths")]);
    // The small real pages (the big ones are 3 MB: a few cuts of them are enough).
    let real: Vec<Vec<u8>> =
        ["article-07", "article-08", "article-09", "deleted-01", "verify-01", "expired-01", "profile-04"]
            .iter()
            .map(|n| std::fs::read(corpus.join(format!("html/{n}.html"))).unwrap())
            .collect();
    let records = seeds(&[&root.join("fixtures/records"), &corpus.join("md/front")]);
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    let mut runs = 0;
    for _ in 0..600 {
        let pool = if rng.below(3) == 0 { &real } else { &pages };
        let seed = &pool[rng.below(pool.len())];
        let other = &pages[rng.below(pages.len())];
        let input = mutate(&mut rng, seed, other);
        extract_target(&input);
        let _ = wxsec::markdown::convert(&String::from_utf8_lossy(&input));
        runs += 2;
    }
    let mut unstable = 0;
    for _ in 0..600 {
        let seed = &records[rng.below(records.len())];
        let other = &records[rng.below(records.len())];
        unstable += usize::from(normalise_target(&mutate(&mut rng, seed, other)));
        runs += 1;
    }
    eprintln!("fuzz smoke: {runs} runs, no panic; {unstable} of 600 mutated records changed on a second pass");
    assert_eq!(unstable, 0, "normalise is not idempotent on some mutated records (WXSEC_FUZZ_DUMP=DIR keeps them)");
}

/// A character of two, three or four bytes placed at every offset around the windows readers cut.
fn straddled(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    const WINDOWS: [usize; 6] = [90, 512, 2048, 4096, 8000, 8192];
    const WIDE: [&str; 4] = ["é", "漏", "𝕏", "\u{200b}"];
    let w = WINDOWS[rng.below(WINDOWS.len())];
    let at = (w + rng.below(6)).saturating_sub(4);
    let ch = WIDE[rng.below(WIDE.len())].as_bytes();
    let mut b = seed.to_vec();
    if b.len() < at {
        b.resize(at, b'a');
    }
    // Cut where a character would break (a half character left in the bytes), or insert whole.
    if rng.below(4) == 0 {
        b.splice(at..at, ch[..ch.len() - 1].iter().copied());
    } else {
        b.splice(at..at, ch.iter().copied());
    }
    b
}

/// What `reindex`, `search` and `feed` read of a record file.
fn index_target(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let opts = wxsec::feed::FeedOptions { root: "a".into(), dest: "a/feeds".into(), entries: 5, base_url: None };
    for json in [false, true] {
        let Some(entry) = wxsec::archive::index::Entry::of_file_text(&text, "x/1_1.md".into(), json) else { continue };
        let needles: Vec<String> = entry.text.split_whitespace().take(2).map(String::from).collect();
        let _ = wxsec::archive::index::snippet(&entry.text, &needles, "**", "**");
        let _ = wxsec::feed::atom_time(&entry.date, &entry.fetch_date);
        let _ = wxsec::feed::to_html(
            wxsec::archive::index::strip_title_line(&text, &entry.title),
            Path::new("a/x/1.md"),
            &opts,
        );
    }
}

fn config_target(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let path = Path::new("/etc/wxsec.toml");
    if let Ok(settings) = wxsec::crawl::config::CrawlSettings::from_toml(&text, path) {
        let _ = settings.resolve(path);
    }
}

#[test]
fn every_reader_survives_generated_and_mutated_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = common::corpus_dir();
    let pages = seeds(&[&root.join("fixtures/pages"), &root.join("tests/hostile/bodies")]);
    let records = seeds(&[&root.join("fixtures/records"), &corpus.join("md/front"), &corpus.join("md/raw")]);
    let configs: Vec<Vec<u8>> = vec![
        b"out = \"a\"\ndelay = 3\njitter = 0.5\n[[source]]\nfeed = \"https://example.com/a.atom\"\n".to_vec(),
        b"[[source]]\nurls = \"urls.txt\"\nname = \"\xe6\xbc\x8f\"\n[[source]]\nalbum = \"https://mp.weixin.qq.com/mp/appmsgalbum?__biz=MzA=&album_id=1\"\n".to_vec(),
        b"timeout = 0\nmax_attempts = 0\nimages = \"local\"\nallow_image_hosts = [\"127.0.0.1\"]\nformat = \"json\"\n".to_vec(),
    ];
    let dir = tempfile::tempdir().unwrap();
    let state = wxsec::archive::State::open(&dir.path().join("state.sqlite")).unwrap();
    std::fs::create_dir_all(dir.path().join("r")).unwrap();
    for (i, r) in records.iter().take(40).enumerate() {
        // Hits are confirmed against the record files: they are there, as in an archive.
        std::fs::write(dir.path().join(format!("r/{i}.md")), r).unwrap();
        if let Some(e) =
            wxsec::archive::index::Entry::of_file_text(&String::from_utf8_lossy(r), format!("r/{i}.md"), false)
        {
            wxsec::archive::index::upsert(&state, &e).unwrap();
        }
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut runs = 0;
    for i in 0..3000 {
        let seed = &pages[rng.below(pages.len())];
        let other = &pages[rng.below(pages.len())];
        let input = if i % 2 == 0 { straddled(seed, &mut rng) } else { mutate(&mut rng, seed, other) };
        extract_target(&input);
        runs += 1;
    }
    for i in 0..3000 {
        let seed = &records[rng.below(records.len())];
        let other = &records[rng.below(records.len())];
        let input = if i % 2 == 0 { straddled(seed, &mut rng) } else { mutate(&mut rng, seed, other) };
        index_target(&input);
        let _ = wxsec::normalise::normalise_record(&String::from_utf8_lossy(&input), false);
        runs += 2;
    }
    for i in 0..1500 {
        let seed = &records[rng.below(records.len())];
        let input = if i % 2 == 0 { straddled(b"", &mut rng) } else { mutate(&mut rng, seed, b"%_\\\"*NEAR(") };
        let text = String::from_utf8_lossy(&input);
        let terms: Vec<String> =
            text.split_whitespace().skip(rng.below(50)).take(1 + rng.below(3)).map(String::from).collect();
        let id = (i % 5 == 0).then(|| terms.first().cloned().unwrap_or_default());
        let q = wxsec::archive::index::Query { terms, source: None, since: None, id, limit: 5 };
        wxsec::archive::index::search(&state, dir.path(), &q, "\x1b[1m", "\x1b[0m").unwrap();
        runs += 1;
    }
    for i in 0..1500 {
        let seed = &configs[rng.below(configs.len())];
        let input = if i % 3 == 0 { straddled(seed, &mut rng) } else { mutate(&mut rng, seed, b"[[source]]\n= \"") };
        config_target(&input);
        runs += 1;
    }
    eprintln!("fuzz smoke: {runs} generated and mutated inputs through every reader, no panic");
    assert!(runs >= 10_000);
}
