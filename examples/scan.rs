//! Finds the records that hold a term by reading every record file, with no index: the check
//! that `wxsec search` gives exactly what a scan of the files gives (issue 26, BENCHMARKS.md).
//! `cargo run --release --example scan -- ARCHIVE TERM…` prints `TERM<TAB>PATH` for every record
//! holding TERM (each term a query of its own), PATH relative to ARCHIVE as `search` prints it
//! under `--out ARCHIVE`. The files are walked as `reindex` walks them and confirmed by the rule
//! `search` confirms its candidates by.

use std::path::PathBuf;
use std::sync::mpsc;

use wxsec::archive::index;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(root) = args.next().map(PathBuf::from) else {
        eprintln!("usage: scan ARCHIVE TERM…");
        std::process::exit(2);
    };
    let terms: Vec<String> = args.collect();
    let folded: Vec<Vec<String>> = terms.iter().map(|t| index::fold_terms(std::slice::from_ref(t))).collect();
    let skip = [root.join(".wxsec"), root.join("assets"), root.join("feeds")];
    let (tx, rx) = mpsc::sync_channel::<PathBuf>(1024);
    let rx = std::sync::Mutex::new(rx);
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                let mut out = Vec::new();
                loop {
                    let Ok(file) = rx.lock().unwrap().recv() else { break };
                    let Some(record) = index::read_file(&file) else { continue };
                    let words = index::plain_words(&record.body);
                    let shown = file.strip_prefix(&root).unwrap_or(&file).display().to_string();
                    for (term, f) in terms.iter().zip(&folded) {
                        if index::holds_every_term(&record.title, &record.source, &words, f) {
                            out.push(format!("{term}\t{shown}"));
                        }
                    }
                }
                use std::io::Write as _;
                let mut stdout = std::io::stdout().lock();
                for line in out {
                    let _ = writeln!(stdout, "{line}");
                }
            });
        }
        let rules = wxsec::tree::Rules { skip: &skip, clear_scraps: false, is_record: wxsec::tree::is_written_record };
        wxsec::tree::walk(std::slice::from_ref(&root), rules, |found| {
            if let Ok(wxsec::tree::Found::Record(path, _)) = found {
                return tx.send(path).is_ok();
            }
            true
        });
        drop(tx);
    });
}
