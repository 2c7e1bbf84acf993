//! Throughput of the two pure pipelines over the shared corpus, read in place:
//! `import` (extract + Markdown + record) on `corpus/html`, `normalise` on `corpus/md` and the
//! seeds. Single thread, release build. Run with `cargo bench --bench throughput`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wxsec::{FetchedPage, Record};

fn corpus() -> PathBuf {
    std::env::var_os("WXSEC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

fn files(dir: &Path, ext: &[&str]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus folder").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|x| x.to_str()).is_some_and(|x| ext.contains(&x)) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Runs `f` over all inputs, pass after pass, until `min` has passed; returns MB/s and items/s
/// of the best pass (as peers.py does: the machine's noise only ever slows a pass down).
fn measure<T>(inputs: &[T], size: impl Fn(&T) -> usize, mut f: impl FnMut(&T), min: Duration) -> (f64, f64) {
    let bytes: usize = inputs.iter().map(&size).sum();
    inputs.iter().for_each(&mut f);
    let start = Instant::now();
    let mut best = f64::MAX;
    let mut passes = 0;
    while start.elapsed() < min || passes < 3 {
        let t = Instant::now();
        inputs.iter().for_each(&mut f);
        best = best.min(t.elapsed().as_secs_f64());
        passes += 1;
    }
    (bytes as f64 / best / 1e6, inputs.len() as f64 / best)
}

fn main() {
    let corpus = corpus();
    if !corpus.join("html/MANIFEST.tsv").is_file() {
        eprintln!("throughput: no corpus at {} (set WXSEC_CORPUS)", corpus.display());
        std::process::exit(1);
    }
    let min = Duration::from_secs(3);

    let pages: Vec<FetchedPage> = files(&corpus.join("html"), &["html"])
        .iter()
        .map(|p| FetchedPage::from_file(p, 64 << 20).unwrap())
        .filter(|p| wxsec::extract::extract(p).is_ok())
        .collect();
    let (mbs, per_s) = measure(
        &pages,
        |p| p.html.len(),
        |p| {
            let a = wxsec::extract::extract(p).unwrap();
            std::hint::black_box(Record::new(a, p.fetched_at).to_markdown());
        },
        min,
    );
    let total: usize = pages.iter().map(|p| p.html.len()).sum();
    println!(
        "import (extract+markdown+record): {} pages, {:.1} MB: {mbs:.1} MB/s, {per_s:.1} pages/s, {:.2} ms per 3 MB page",
        pages.len(),
        total as f64 / 1e6,
        3.0 / mbs * 1e3
    );

    let mut records: Vec<(PathBuf, String)> = files(&corpus.join("md"), &["md"])
        .into_iter()
        .chain(files(&corpus.join("../seeds"), &["txt"]))
        .map(|p| {
            let t = std::fs::read_to_string(&p).unwrap();
            (p, t)
        })
        .collect();
    records.sort();
    let (mbs, per_s) = measure(
        &records,
        |(_, t)| t.len(),
        |(_, t)| {
            std::hint::black_box(wxsec::normalise::normalise_text(t));
        },
        min,
    );
    let total: usize = records.iter().map(|(_, t)| t.len()).sum();
    println!(
        "normalise: {} files, {:.1} MB: {mbs:.1} MB/s, {per_s:.0} files/s; a 1 GB, 143k-file archive ≈ {:.0} s on one core",
        records.len(),
        total as f64 / 1e6,
        1000.0 / mbs
    );
}
