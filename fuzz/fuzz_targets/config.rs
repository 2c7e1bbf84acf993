//! Bytes of a crawl configuration → settings → a checked configuration, as `wxsec crawl` reads it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("/etc/wxsec.toml");
    if let Ok(settings) = wxsec::crawl::config::CrawlSettings::from_toml(text, path) {
        let _ = settings.resolve(path);
    }
});
