//! Each stage of the pipeline, and the whole of it, over the shared corpus read in place, with
//! divan reporting bytes/s and items/s: `cargo bench --bench stages`. One thread.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use divan::counter::{BytesCount, ItemsCount};
use wxsec::{Article, FetchedPage, Record};

fn corpus() -> PathBuf {
    std::env::var_os("WXSEC_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"))
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("corpus folder (set WXSEC_CORPUS)").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The article pages of the corpus (non-articles are refused in microseconds and would flatter
/// the figures).
static PAGES: LazyLock<Vec<FetchedPage>> = LazyLock::new(|| {
    files(&corpus().join("html"), "html")
        .iter()
        .map(|p| FetchedPage::from_file(p, 64 << 20).unwrap())
        .filter(|p| wxsec::extract::extract(p).is_ok())
        .collect()
});
static FRAGMENTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    PAGES
        .iter()
        .filter_map(|p| wxsec::extract::locate::by_id(&p.html, "js_content").map(|e| e.inner.to_string()))
        .collect()
});
static ARTICLES: LazyLock<Vec<Article>> =
    LazyLock::new(|| PAGES.iter().map(|p| wxsec::extract::extract(p).unwrap()).collect());
static RECORDS: LazyLock<Vec<String>> =
    LazyLock::new(|| files(&corpus().join("md"), "md").iter().map(|p| std::fs::read_to_string(p).unwrap()).collect());

fn page_bytes() -> usize {
    PAGES.iter().map(|p| p.html.len()).sum()
}

#[divan::bench(sample_count = 20)]
fn stage1_classify(b: divan::Bencher) {
    b.counter(BytesCount::new(page_bytes())).counter(ItemsCount::new(PAGES.len())).bench(|| {
        for p in PAGES.iter() {
            divan::black_box(wxsec::page::classify(&p.html));
        }
    });
}

#[divan::bench(sample_count = 20)]
fn stage2_script_variables(b: divan::Bencher) {
    b.counter(BytesCount::new(page_bytes())).counter(ItemsCount::new(PAGES.len())).bench(|| {
        for p in PAGES.iter() {
            for name in ["msg_title", "nickname", "ct", "biz", "mid", "idx", "sn", "msg_cdn_url", "msg_link"] {
                divan::black_box(wxsec::extract::script::var(&p.html, name));
            }
            divan::black_box(wxsec::extract::script::object(&p.html, "window.cgiDataNew"));
        }
    });
}

#[divan::bench(sample_count = 20)]
fn stage3_locate_content(b: divan::Bencher) {
    b.counter(BytesCount::new(page_bytes())).counter(ItemsCount::new(PAGES.len())).bench(|| {
        for p in PAGES.iter() {
            divan::black_box(wxsec::extract::locate::by_id(&p.html, "js_content"));
        }
    });
}

#[divan::bench(sample_count = 20)]
fn stage4_markdown(b: divan::Bencher) {
    let bytes: usize = FRAGMENTS.iter().map(String::len).sum();
    b.counter(BytesCount::new(bytes)).counter(ItemsCount::new(FRAGMENTS.len())).bench(|| {
        for f in FRAGMENTS.iter() {
            divan::black_box(wxsec::markdown::convert(f));
        }
    });
}

#[divan::bench(sample_count = 20)]
fn stage5_record(b: divan::Bencher) {
    let when = chrono::Utc::now();
    b.counter(ItemsCount::new(ARTICLES.len())).bench(|| {
        for a in ARTICLES.iter() {
            divan::black_box(Record::new(a.clone(), when).to_markdown());
        }
    });
}

#[divan::bench(sample_count = 20)]
fn pipeline_import(b: divan::Bencher) {
    b.counter(BytesCount::new(page_bytes())).counter(ItemsCount::new(PAGES.len())).bench(|| {
        for p in PAGES.iter() {
            let a = wxsec::extract::extract(p).unwrap();
            divan::black_box(Record::new(a, p.fetched_at).to_markdown());
        }
    });
}

#[divan::bench(sample_count = 20)]
fn pipeline_normalise(b: divan::Bencher) {
    let bytes: usize = RECORDS.iter().map(String::len).sum();
    b.counter(BytesCount::new(bytes)).counter(ItemsCount::new(RECORDS.len())).bench(|| {
        for r in RECORDS.iter() {
            divan::black_box(wxsec::normalise::normalise_text(r));
        }
    });
}

fn main() {
    divan::main();
}
