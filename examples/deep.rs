//! Times the pieces of reading a deeply nested fragment (a profiling aid).
fn main() {
    let depth: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let html = format!("{}deep{}", "<div><span>".repeat(depth / 2), "</span></div>".repeat(depth / 2));
    let t = std::time::Instant::now();
    let doc = scraper::Html::parse_fragment(&html);
    println!("parse {depth}: {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let md = wxsec::markdown::convert(&html);
    println!("convert {depth}: {:?} ({} bytes)", t.elapsed(), md.markdown.len());
    drop(doc);
}
