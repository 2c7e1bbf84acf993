//! `normalise` with the index remembers what it saw of each input: a run with nothing changed
//! reads no file and gives the same summary and report; any change (an input's bytes at the same
//! size, its record touched or removed, the state made anew, other options) is read again.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use assert_cmd::Command;

mod common;

/// Copies the record fixtures into `to`, each dated an hour ago (a file changed in the last two
/// seconds is never remembered).
fn inputs(to: &Path) -> Vec<PathBuf> {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/records");
    let mut out = Vec::new();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "expected" || x == "report") {
            continue;
        }
        let target = to.join(p.file_name().unwrap());
        std::fs::copy(&p, &target).unwrap();
        age(&target, 3600);
        out.push(target);
    }
    out.sort();
    out
}

fn age(path: &Path, secs: u64) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - Duration::from_secs(secs)).unwrap();
}

fn run(input: &Path, out: &Path, extra: &[&str]) -> (serde_json::Value, String) {
    let report = out.with_extension("report.jsonl");
    let o = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["normalise", "--json", "--report"])
        .arg(&report)
        .args(extra)
        .arg("--out")
        .arg(out)
        .arg(input)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut lines: Vec<String> = std::fs::read_to_string(&report).unwrap().lines().map(str::to_string).collect();
    lines.sort();
    (serde_json::from_slice(&o.stdout).unwrap(), lines.join("\n"))
}

/// The summary without the counts of what was written and remembered (they differ by design).
fn outcome(summary: &serde_json::Value) -> serde_json::Value {
    let mut s = summary.clone();
    for k in ["written", "unchanged", "remembered"] {
        s.as_object_mut().unwrap().remove(k);
    }
    s
}

fn indexed(out: &Path) -> String {
    let o = Command::cargo_bin("wxsec").unwrap().args(["status", "--json", "--out"]).arg(out).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    v["indexed"].to_string()
}

#[test]
fn nothing_changed_reads_nothing_and_says_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    let files = inputs(&input);
    let out = dir.path().join("out");
    let (first, report) = run(&input, &out, &[]);
    assert_eq!(first["remembered"], 0);
    let n = first["read"].as_u64().unwrap();
    let (second, report2) = run(&input, &out, &[]);
    assert_eq!(second["remembered"].as_u64(), Some(n), "{second}");
    assert_eq!(outcome(&second), outcome(&first));
    assert_eq!(second["unchanged"], first["written"]);
    assert_eq!(report2, report, "the report lists the stubs and truncated files again");

    // An input's bytes changed at the same size: read again, written again.
    let changed = files.iter().find(|f| f.ends_with("quote-header.md")).unwrap();
    let text = std::fs::read_to_string(changed).unwrap().replacen("漏洞", "缺陷", 1);
    std::fs::write(changed, text).unwrap();
    age(changed, 1800);
    // A record removed, and another touched: each read again and written again.
    let records = walk(&out);
    std::fs::remove_file(&records[0]).unwrap();
    age(&records[1], 60);
    let (third, _) = run(&input, &out, &[]);
    assert_eq!(third["remembered"].as_u64(), Some(n - 3), "{third}");
    assert_eq!(third["written"].as_u64(), Some(2), "the changed input and the removed record: {third}");
    assert_eq!(outcome(&third), outcome(&first));

    // A state made anew: nothing the cache remembers is trusted without the index confirming it.
    let before = indexed(&out);
    std::fs::remove_file(out.join(".wxsec/state.sqlite")).unwrap();
    let (fourth, _) = run(&input, &out, &[]);
    assert_eq!(indexed(&out), before, "every record is in the new index");
    assert!(fourth["remembered"].as_u64().unwrap() < n / 2, "{fourth}");

    // Other options clean otherwise: nothing remembered is used.
    let (fifth, _) = run(&input, &out, &["--extra-fields"]);
    assert_eq!(fifth["remembered"], 0, "{fifth}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    common::files_below(dir, |p| !p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect()
}
