//! Normalises the given record files in a loop (a profiling aid): `normalise_loop N FILE…`.
fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let texts: Vec<String> = args.map(|p| std::fs::read_to_string(p).unwrap()).collect();
    for _ in 0..n {
        for t in &texts {
            std::hint::black_box(wxsec::normalise::normalise_text(t));
        }
    }
}
