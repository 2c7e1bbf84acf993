//! Bytes of a record file → its index entry (Markdown and JSON forms), a snippet of its words,
//! and its feed entry (HTML and Atom time), as `reindex`, `search` and `feed` read it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = wxsec::feed::FeedOptions {
        root: PathBuf::from("a"),
        dest: PathBuf::from("a/feeds"),
        entries: 5,
        base_url: None,
    };
    for json in [false, true] {
        let Some(entry) = wxsec::archive::index::Entry::of_file_text(&text, "x/1_1.md".into(), json) else { continue };
        let needles: Vec<String> = entry.text.split_whitespace().take(2).map(String::from).collect();
        let _ = wxsec::archive::index::snippet(&entry.text, &needles, "**", "**");
        let _ = wxsec::feed::atom_time(&entry.date, &entry.fetch_date);
        let body = wxsec::archive::index::strip_title_line(&text, &entry.title);
        let _ = wxsec::feed::to_html(body, Path::new("a/x/1_1.md"), &opts);
    }
});
