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
            "normalise: {n} read, 26 written, 0 unchanged, 11 stubs (1 blocked, 1 cancelled, 4 chrome-only, 1 deleted, \
             1 migrated, 1 removed, 1 site-error, 1 verify), 2 truncated, 2 other sites, 4 incomplete, 2 unrecognised, \
             0 errors"
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
    assert_eq!(report_lines.len(), 19, "11 stubs, 2 truncated, 4 incomplete, 2 unrecognised");
    // The report names the kinds the summary counts.
    for (kind, count) in
        [("chrome-only", 4), ("site-error", 1), ("truncated", 2), ("incomplete", 4), ("unrecognised", 2)]
    {
        assert_eq!(report_lines.iter().filter(|v| v["kind"] == kind).count(), count, "{kind}");
    }
    // Two of the incomplete files name no address (an exporter's Markdown, a backup's empty link).
    assert!(report_lines.iter().all(|v| v["path"].is_string()
        && (v["kind"] == "unrecognised"
            || v["url"].as_str().unwrap().starts_with("https://")
            || (v["kind"] == "incomplete" && v["url"] == ""))));
    // Each line says the format its file was read in; an unrecognised file was in none.
    assert!(report_lines.iter().all(|v| (v["kind"] == "unrecognised") == (v["format"] == "")), "{report_lines:?}");
    assert!(report_lines.iter().any(|v| v["kind"] == "migrated"));

    let mtimes: Vec<_> =
        files(&out.path().join("clean")).iter().map(|f| std::fs::metadata(f).unwrap().modified().unwrap()).collect();
    let second = run();
    assert_eq!(
        summary(&second.get_output().stderr),
        format!(
            "normalise: {n} read, 0 written, 26 unchanged, 11 stubs (1 blocked, 1 cancelled, 4 chrome-only, 1 deleted, \
             1 migrated, 1 removed, 1 site-error, 1 verify), 2 truncated, 2 other sites, 4 incomplete, 2 unrecognised, \
             0 errors"
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
    // A killed in-place run leaves its batch's temporary files beside the records: the next run
    // clears them, and counts them as nothing.
    std::fs::write(stub.with_file_name(".wxsec-Ab12Cd.tmp"), "half a rec").unwrap();
    let first =
        Command::cargo_bin("wxsec").unwrap().args(["normalise", "--in-place"]).arg(dir.path()).assert().success();
    assert!(!stub.with_file_name(".wxsec-Ab12Cd.tmp").exists(), "a killed run's scrap is cleared");
    let said = summary(&first.get_output().stderr);
    assert!(said.contains(" 0 files not records)"), "{said}");
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
    assert!(summary(&second.get_output().stderr).contains(" 0 written, 26 unchanged"));
}

#[test]
fn bad_usage_and_missing_paths_have_their_codes() {
    let neither = Command::cargo_bin("wxsec").unwrap().args(["normalise", "somewhere"]).assert().code(2);
    let said = String::from_utf8_lossy(&neither.get_output().stderr).to_string();
    assert!(said.contains("--out <OUT>|--in-place"), "the usage names both ways: {said}");
    Command::cargo_bin("wxsec").unwrap().args(["normalise", "--out", "x", "--in-place", "y"]).assert().code(2);
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

/// Hidden record files are articles (`.NET 反序列化.md`); hidden folders, files that are not records
/// and symlinks are not read, and each is counted.
#[test]
fn hidden_records_are_read_and_everything_skipped_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/records");
    std::fs::copy(fixtures.join("raw-header.md"), dir.path().join(".NET 反序列化漏洞.md")).unwrap();
    std::fs::create_dir_all(dir.path().join(".git/objects")).unwrap();
    std::fs::copy(fixtures.join("raw-header.md"), dir.path().join(".git/objects/x.md")).unwrap();
    std::fs::write(dir.path().join("index.json"), "{}").unwrap();
    std::os::unix::fs::symlink(fixtures.join("raw-header.md"), dir.path().join("link.md")).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["normalise", "--no-index", "--out"])
        .arg(out.path())
        .arg(dir.path())
        .assert()
        .success();
    let line = summary(&run.get_output().stderr);
    assert!(line.starts_with("normalise: 1 read, 1 written"), "{line}");
    assert!(line.ends_with(", 3 skipped (1 hidden folders, 2 files not records)"), "{line}");
    assert!(out.path().join(".NET 反序列化漏洞.md").exists());
    // Without the index, the output holds the records only: the batches' scratch folder goes.
    assert!(!out.path().join(".wxsec").exists());
}

/// The loss audit (`scripts/loss-audit`) finds every author line of the record fixtures in what
/// normalise wrote, and finds the line a damaged record lost.
#[test]
fn loss_audit_finds_nothing_lost_and_notices_a_loss() {
    let input = tempfile::tempdir().unwrap();
    copy_fixtures(input.path());
    let out = tempfile::tempdir().unwrap();
    let report = out.path().join("report.jsonl");
    Command::cargo_bin("wxsec")
        .unwrap()
        .args(["normalise", "--no-index", "--out"])
        .arg(out.path().join("clean"))
        .arg("--report")
        .arg(&report)
        .arg(input.path())
        .assert()
        .success();
    let audit = |clean: &Path| {
        std::process::Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/loss-audit"))
            .arg(input.path())
            .arg(clean)
            .arg(&report)
            .output()
            .expect("python3 runs the loss audit")
    };
    let clean = audit(&out.path().join("clean"));
    let said = String::from_utf8_lossy(&clean.stdout).to_string();
    assert!(clean.status.success(), "{said}{}", String::from_utf8_lossy(&clean.stderr));
    assert!(said.contains(" lines_lost=0 ") && said.contains(" unaccounted=0 "), "{said}");
    // One paragraph taken out of a written record is a loss the audit names.
    let victim = files(&out.path().join("clean"))
        .into_iter()
        .find(|f| f.file_name().is_some_and(|n| n == "raw-header-heading.md"))
        .expect("the heading fixture is written");
    let text = std::fs::read_to_string(&victim).unwrap();
    std::fs::write(&victim, text.replace("正文第一段。", "")).unwrap();
    let damaged = audit(&out.path().join("clean"));
    let said = String::from_utf8_lossy(&damaged.stdout).to_string();
    assert!(!damaged.status.success() && said.contains(" lines_lost=1 "), "{said}");
}

/// The same option means the same in every command: `--image-delay` defaults to 1 s in `import`,
/// `normalise` and `crawl`; `crawl --format` is a choice like `import --format`.
#[test]
fn shared_options_agree_across_commands() {
    for cmd in ["import", "normalise"] {
        let help = Command::cargo_bin("wxsec").unwrap().args([cmd, "--help"]).output().unwrap();
        let help = String::from_utf8_lossy(&help.stdout).to_string();
        let at = help.find("--image-delay").expect("the option is there");
        assert!(help[at..].lines().take(4).any(|l| l.contains("[default: 1]")), "{cmd}: {help}");
    }
    let out = Command::cargo_bin("wxsec").unwrap().args(["crawl", "--format", "xml"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: md, json"));
}
