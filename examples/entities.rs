//! Prints the security entities wxsec finds in record files, one JSON line per file:
//! `cargo run --example entities -- RECORD…`. Records in another tool's format are normalised
//! first, as `wxsec normalise` would.

fn main() {
    for path in std::env::args().skip(1) {
        let Ok(text) = std::fs::read_to_string(&path) else {
            eprintln!("{path}: cannot read");
            continue;
        };
        let record = wxsec::normalise::normalise_text(&text).record.unwrap_or(text);
        let Some(parsed) = wxsec::record::formats::parse(&record) else { continue };
        let body = wxsec::archive::index::strip_title_line(&parsed.body, &parsed.title);
        let e = wxsec::entities::find(&parsed.title, body);
        println!("{}", serde_json::json!({ "path": path, "entities": e }));
    }
}
