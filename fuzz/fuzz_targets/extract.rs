//! Bytes of a page → article → record, as `import` reads a saved page.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = wxsec::fetch::decode_html(data, None);
    let page = wxsec::FetchedPage { target: "fuzz".into(), url: None, html, fetched_at: chrono::Utc::now() };
    if let Ok(article) = wxsec::extract::extract(&page) {
        let record = wxsec::Record::new(article, page.fetched_at);
        let _ = record.to_markdown();
        let _ = record.to_json();
    }
});
