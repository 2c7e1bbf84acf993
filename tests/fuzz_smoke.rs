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
    let words = wxsec::index::plain_words(&text);
    let needles: Vec<String> =
        entities.cves.iter().cloned().chain(words.split_whitespace().take(2).map(String::from)).collect();
    let _ = wxsec::index::snippet(&words, &needles, "**", "**");
    let _ = wxsec::assets::rewrite(&text, &Default::default());
    match wxsec::normalise::normalise_record(&text, true).record {
        Some(with_extra) => {
            let record = wxsec::normalise::normalise_text(&with_extra).record.unwrap_or_default();
            assert_eq!(wxsec::normalise::normalise_record(&record, true).record.as_deref(), Some(with_extra.as_str()));
            let unstable = wxsec::normalise::normalise_text(&record).record.as_deref() != Some(record.as_str());
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
