//! Bytes of a record written by another tool → a clean record, and that record again.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = wxsec::fetch::decode_html(data, None);
    if let Some(record) = wxsec::normalise::normalise_text(&text).record {
        let _ = wxsec::normalise::normalise_text(&record);
    }
});
