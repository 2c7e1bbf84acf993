//! An HTML fragment → Markdown, as the emitter sees a page's content element.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let html = String::from_utf8_lossy(data);
    let _ = wxsec::markdown::convert(&html);
});
