//! Every page of `../shared/corpus/html`, read in place, against the facts its MANIFEST.tsv expects
//! and the FORMAT.md rules.

mod common;

use wxsec::page::PageKind;
use wxsec::{Error, FetchedPage, Record};

fn page_kind_for(expect: &str) -> Option<&'static [PageKind]> {
    Some(match expect {
        "deleted" => &[PageKind::Deleted],
        "removed" => &[PageKind::Removed],
        "expired" => &[PageKind::Expired],
        "verify" => &[PageKind::Verify],
        "json" => &[PageKind::Unknown],
        "not-article" => &[PageKind::Profile, PageKind::Unavailable, PageKind::Unknown],
        _ => return None,
    })
}

#[test]
fn every_corpus_page_reads_as_its_manifest_says() {
    let dir = common::corpus_dir().join("html");
    let rows = common::manifest(&dir.join("MANIFEST.tsv"));
    assert!(rows.len() >= 30, "manifest has {} rows", rows.len());
    let mut failures = Vec::new();
    let (mut articles, mut refused) = (0, 0);
    for row in &rows {
        let file = &row["file"];
        let page = FetchedPage::from_file(&dir.join(file), 64 << 20).expect("corpus page readable");
        let result = wxsec::extract::extract(&page);
        let expect = row["expect_kind"].as_str();
        if let Some(kinds) = page_kind_for(expect) {
            match result {
                Err(Error::NotArticle { kind, .. }) if kinds.contains(&kind) => refused += 1,
                Err(e) => failures.push(format!("{file}: expected {expect}, got error {e}")),
                Ok(a) => failures.push(format!("{file}: expected {expect}, got an article {:?}", a.title)),
            }
            continue;
        }
        let article = match result {
            Ok(a) => a,
            Err(e) => {
                failures.push(format!("{file}: {e}"));
                continue;
            }
        };
        articles += 1;
        let record = Record::new(article, page.fetched_at);
        let a = &record.article;
        if a.title != row["expect_title"] {
            failures.push(format!("{file}: title {:?}, expected {:?}", a.title, row["expect_title"]));
        }
        if a.source != row["expect_source"] {
            failures.push(format!("{file}: source {:?}, expected {:?}", a.source, row["expect_source"]));
        }
        if record.date != row["expect_date"] {
            failures.push(format!("{file}: date {:?}, expected {:?}", record.date, row["expect_date"]));
        }
        let expect_url = row["expect_url"].as_str();
        let url = a.url();
        // The reference reader took `msg_link`, which is the short link on newer pages; FORMAT.md
        // wants the canonical address whenever the page gives `__biz/mid/idx/sn`. Both are checked.
        let url_ok = url == expect_url
            || (expect_url.contains("/s/") && a.short_url.as_deref() == Some(expect_url) && url.contains("__biz="));
        if !expect_url.is_empty() && !url_ok {
            failures.push(format!("{file}: url {url:?}, expected {expect_url:?}"));
        }
        let md = record.to_markdown();
        for defect in common::check_record(&md) {
            failures.push(format!("{file}: {defect}"));
        }
        if a.body.trim().is_empty() {
            failures.push(format!("{file}: empty body"));
        }
    }
    eprintln!("corpus html: {} pages, {articles} articles read, {refused} non-articles refused", rows.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
