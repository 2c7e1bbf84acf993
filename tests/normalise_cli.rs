//! `wxsec normalise` end to end: the binary on copies of the record fixtures, mirrored and in
//! place, with its report, summary line and exit codes.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn copy_fixtures(to: &Path) -> usize {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/records");
    let mut n = 0;
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "expected" || x == "report") {
            continue;
        }
        // A nested folder, to check that relative paths are kept.
        let sub = if n % 2 == 0 { to.join("a/b") } else { to.to_path_buf() };
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(&p, sub.join(p.file_name().unwrap())).unwrap();
        n += 1;
    }
    n
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            // The state folder (search index) is not a record.
            if e.file_name() == ".wxsec" {
                continue;
            }
            if e.path().is_dir() { stack.push(e.path()) } else { out.push(e.path()) }
        }
    }
    out.sort();
    out
}

fn expected_for(name: &str) -> Option<String> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/records").join(format!("{name}.expected"));
    std::fs::read_to_string(p).ok()
}

fn summary(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr).lines().find(|l| l.starts_with("normalise: ")).unwrap_or_default().to_string()
}

#[test]
fn mirrors_records_reports_the_rest_and_rewrites_nothing_twice() {
    let input = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let n = copy_fixtures(input.path());
    let report = out.path().join("report.jsonl");
    let run = || {
        Command::cargo_bin("wxsec")
            .unwrap()
            .args(["normalise", "--out"])
            .arg(out.path().join("clean"))
            .arg("--report")
            .arg(&report)
            .arg(input.path())
            .assert()
            .success()
    };
    let first = run();
    let line = summary(&first.get_output().stderr);
    assert_eq!(
        line,
        format!(
            "normalise: {n} read, 11 written, 0 unchanged, 7 stubs, 1 truncated, 1 other sites, 0 unrecognised, 0 errors"
        )
    );
    // Every written record is at its input's relative path and equals the expected fixture.
    for input_file in files(input.path()) {
        let rel = input_file.strip_prefix(input.path()).unwrap();
        let name = rel.file_name().unwrap().to_string_lossy().to_string();
        let written = out.path().join("clean").join(rel);
        match expected_for(&name) {
            Some(want) => assert_eq!(std::fs::read_to_string(&written).unwrap(), want, "{name}"),
            None => assert!(!written.exists(), "{name} is a stub or truncated but was written"),
        }
    }
    let report_lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&report).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(report_lines.len(), 8, "7 stubs and 1 truncated");
    assert!(report_lines.iter().all(|v| v["path"].is_string() && v["url"].as_str().unwrap().starts_with("https://")));
    assert!(report_lines.iter().any(|v| v["kind"] == "migrated"));

    let mtimes: Vec<_> =
        files(&out.path().join("clean")).iter().map(|f| std::fs::metadata(f).unwrap().modified().unwrap()).collect();
    let second = run();
    assert_eq!(
        summary(&second.get_output().stderr),
        format!(
            "normalise: {n} read, 0 written, 11 unchanged, 7 stubs, 1 truncated, 1 other sites, 0 unrecognised, 0 errors"
        )
    );
    let again: Vec<_> =
        files(&out.path().join("clean")).iter().map(|f| std::fs::metadata(f).unwrap().modified().unwrap()).collect();
    assert_eq!(mtimes, again, "unchanged files were rewritten");
}

#[test]
fn in_place_replaces_records_and_leaves_stubs() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixtures(dir.path());
    let stub = dir.path().join("a/b/stub-deleted.md");
    let stub = if stub.exists() { stub } else { dir.path().join("stub-deleted.md") };
    let stub_before = std::fs::read(&stub).unwrap();
    Command::cargo_bin("wxsec").unwrap().args(["normalise", "--in-place"]).arg(dir.path()).assert().success();
    assert_eq!(std::fs::read(&stub).unwrap(), stub_before, "a stub is left as it was");
    for f in files(dir.path()) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        if let Some(want) = expected_for(&name) {
            assert_eq!(std::fs::read_to_string(&f).unwrap(), want, "{name}");
        }
        assert!(!name.starts_with(".wxsec-"), "temporary file left: {name}");
    }
    let second =
        Command::cargo_bin("wxsec").unwrap().args(["normalise", "--in-place"]).arg(dir.path()).assert().success();
    assert!(summary(&second.get_output().stderr).contains(" 0 written, 11 unchanged"));
}

#[test]
fn bad_usage_and_missing_paths_have_their_codes() {
    Command::cargo_bin("wxsec").unwrap().args(["normalise", "somewhere"]).assert().code(2);
    let out = tempfile::tempdir().unwrap();
    let assert = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["normalise", "--out"])
        .arg(out.path())
        .arg("/nonexistent/wxsec-records")
        .assert()
        .code(6);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
    assert!(stderr.contains("/nonexistent/wxsec-records: cannot read"), "{stderr}");
}
