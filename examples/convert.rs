//! Converts an HTML fragment on stdin to Markdown (a debugging aid for the emitter).
use std::io::Read;

fn main() {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s).expect("stdin");
    print!("{}", wxsec::markdown::convert(&s).markdown);
}
