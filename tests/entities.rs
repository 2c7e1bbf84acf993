//! Entity extraction measured against 30 corpus records checked by hand
//! (`fixtures/entities/truth.tsv`): precision and recall per kind and overall.

mod common;

use std::collections::BTreeMap;

#[test]
fn precision_and_recall_on_thirty_hand_checked_records() {
    let truth = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/entities/truth.tsv")).unwrap();
    let md = common::corpus_dir().join("md");
    let kinds = ["cves", "cnvds", "cnnvds", "ghsas", "attack", "cvss"];
    // kind → (true positives, false positives, false negatives)
    let mut counts: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    let mut records = 0;
    let mut misses = Vec::new();
    for line in truth.lines().filter(|l| !l.starts_with('#') && !l.starts_with("file\t") && !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        assert_eq!(cols.len(), 7, "{line}");
        records += 1;
        let text = std::fs::read_to_string(md.join(cols[0])).unwrap();
        let record = wxsec::normalise::normalise_text(&text).record.unwrap_or(text);
        let parsed = wxsec::record::formats::parse(&record).unwrap();
        let body = wxsec::archive::index::strip_title_line(&parsed.body, &parsed.title);
        let e = wxsec::entities::find(&parsed.title, body);
        let found: [Vec<String>; 6] =
            [e.cves, e.cnvds, e.cnnvds, e.ghsas, e.attack, e.cvss.iter().map(|s| format!("{s:.1}")).collect()];
        for (i, kind) in kinds.iter().enumerate() {
            let want: Vec<&str> = if cols[i + 1] == "-" { Vec::new() } else { cols[i + 1].split(',').collect() };
            let got: Vec<&str> = found[i].iter().map(String::as_str).collect();
            let c = counts.entry(kind).or_default();
            for g in &got {
                if want.contains(g) {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                    misses.push(format!("{}: {kind} {g} found but not there", cols[0]));
                }
            }
            for w in &want {
                if !got.contains(w) {
                    c.2 += 1;
                    misses.push(format!("{}: {kind} {w} missed", cols[0]));
                }
            }
        }
    }
    assert_eq!(records, 30);
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    let (mut tp, mut fp, mut fn_) = (0, 0, 0);
    for (kind, (t, p, n)) in &counts {
        eprintln!(
            "{kind:<7} {t:>4} found right, {p:>2} wrong, {n:>2} missed: precision {:.3}, recall {:.3}",
            ratio(*t, t + p),
            ratio(*t, t + n)
        );
        tp += t;
        fp += p;
        fn_ += n;
    }
    let (precision, recall) = (ratio(tp, tp + fp), ratio(tp, tp + fn_));
    eprintln!(
        "all     {tp:>4} found right, {fp:>2} wrong, {fn_:>2} missed: precision {precision:.3}, recall {recall:.3}"
    );
    for m in &misses {
        eprintln!("  {m}");
    }
    assert!(precision >= 0.98, "precision {precision:.3}");
    assert!(recall >= 0.97, "recall {recall:.3}");
    // Each kind that the thirty records hold must be found at all.
    for (kind, (t, _, n)) in &counts {
        assert!(*t > 0 || *n == 0, "{kind}: none found of {n}");
    }
}
