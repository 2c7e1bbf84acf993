//! The README, ARCHITECTURE.md and the guide under `docs/` are true: every ` ```console ` example
//! is run and its output compared, and every `wxsec COMMAND --flag` they name anywhere is a flag
//! that command has.
//!
//! An example is a fenced block whose info string is `console`: lines `$ wxsec ARGS…`, each
//! followed by exactly what the command prints (standard output, then standard error). A line
//! `...` stands for any number of lines; a last line `[exit N]` says the command exits with N
//! (otherwise it must succeed). The examples of one page run one after the other in one folder
//! holding `fixtures/` (the repository's) and `archive/`, the fixture pages imported, as the
//! README's tour says: `wxsec import --out archive fixtures/pages/*.html`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn wxsec() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wxsec"));
    c.env_remove("HTTP_PROXY").env_remove("HTTPS_PROXY").env_remove("http_proxy").env_remove("https_proxy");
    c
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The pages checked: the README, the architecture map, every page of the guide.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    let mut guide: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    guide.sort();
    pages.extend(guide);
    pages
}

/// Fenced blocks: (info string, lines).
fn blocks(text: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    let mut open: Option<(String, Vec<String>)> = None;
    for line in text.lines() {
        let fence = line.trim_start().starts_with("```");
        match (&mut open, fence) {
            (None, true) => open = Some((line.trim_start().trim_start_matches('`').trim().to_string(), Vec::new())),
            (Some(_), true) => out.push(open.take().unwrap()),
            (Some((_, lines)), false) => lines.push(line.to_string()),
            (None, false) => {}
        }
    }
    out
}

/// Whether `got` is what `expected` says, `...` standing for any run of lines.
fn matches(expected: &[String], got: &[&str]) -> bool {
    match expected.split_first() {
        None => got.is_empty(),
        Some((first, rest)) if first == "..." => (0..=got.len()).any(|skip| matches(rest, &got[skip..])),
        Some((first, rest)) => got.first().is_some_and(|g| same_line(first, g)) && matches(rest, &got[1..]),
    }
}

/// Two lines alike: the same text, or the same JSON object (whose keys a build may order
/// otherwise: with serde_json's `preserve_order`, which the test build enables, in the order of
/// the fields).
fn same_line(expected: &str, got: &str) -> bool {
    if expected.trim_end() == got.trim_end() {
        return true;
    }
    let json = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok().filter(|v| v.is_object());
    matches!((json(expected), json(got)), (Some(a), Some(b)) if a == b)
}

/// A folder set up as the guide's examples expect.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(root().join("fixtures"), dir.path().join("fixtures")).unwrap();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("fixtures/pages"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| Path::new("fixtures/pages").join(p.file_name().unwrap()))
        .collect();
    pages.sort();
    // Some fixture pages are no articles: import says so and writes the rest.
    let out = run(dir.path(), &["import", "--out", "archive"].map(String::from), &pages);
    assert!(out.status.code().is_some_and(|c| c != 101), "the import of the fixture pages crashed");
    dir
}

fn run(dir: &Path, args: &[String], more: &[PathBuf]) -> std::process::Output {
    wxsec()
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", ".config")
        .env_remove("WXSEC_CONFIG")
        .env("NO_COLOR", "1")
        .args(args)
        .args(more)
        .output()
        .unwrap()
}

#[test]
fn every_console_example_prints_what_it_says() {
    let mut ran = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let examples: Vec<Vec<String>> =
            blocks(&text).into_iter().filter(|(info, _)| info == "console").map(|(_, l)| l).collect();
        if examples.is_empty() {
            continue;
        }
        let dir = workspace();
        for lines in examples {
            let mut steps: Vec<(String, Vec<String>)> = Vec::new();
            for line in lines {
                match line.strip_prefix("$ ") {
                    Some(command) => steps.push((command.to_string(), Vec::new())),
                    None => steps.last_mut().expect("an example starts with `$ wxsec …`").1.push(line),
                }
            }
            for (command, mut expected) in steps {
                let mut words = command.split_whitespace().map(String::from);
                assert_eq!(words.next().as_deref(), Some("wxsec"), "{}: {command}", page.display());
                let args: Vec<String> = words.collect();
                let exit = match expected.last().and_then(|l| l.strip_prefix("[exit ")) {
                    Some(code) => {
                        let code = code.trim_end_matches(']').parse::<i32>().unwrap();
                        expected.pop();
                        code
                    }
                    None => 0,
                };
                let out = run(dir.path(), &args, &[]);
                let got = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
                let got_lines: Vec<&str> = got.lines().collect();
                assert_eq!(out.status.code(), Some(exit), "{}: `{command}` printed:\n{got}", page.display());
                assert!(
                    matches(&expected, &got_lines),
                    "{}: `{command}`\nexpected:\n{}\ngot:\n{got}",
                    page.display(),
                    expected.join("\n")
                );
                ran += 1;
            }
        }
    }
    assert!(ran >= 10, "only {ran} examples were found");
}

/// The flags `wxsec COMMAND --help` lists, with the global ones.
fn flags_of(command: &str) -> Option<Vec<String>> {
    let out = wxsec().args([command, "--help"]).output().unwrap();
    if !out.status.success() {
        return None;
    }
    let help = String::from_utf8_lossy(&out.stdout).to_string();
    let mut flags: Vec<String> = help
        .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == ']' || c == '<' || c == '=')
        .filter(|w| w.starts_with("--"))
        .map(String::from)
        .collect();
    flags.extend(["--help", "--version", "--color", "--verbose", "--quiet"].map(String::from));
    Some(flags)
}

/// Every `wxsec COMMAND …` the pages name: in code blocks and in inline code.
fn command_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = blocks(text)
        .into_iter()
        .filter(|(info, _)| matches!(info.as_str(), "" | "sh" | "console" | "text"))
        .flat_map(|(_, l)| l)
        .collect();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 && !part.contains('\n') {
            lines.push(part.to_string());
        }
    }
    lines
        .into_iter()
        .filter_map(|l| l.find("wxsec ").map(|at| l[at..].to_string()))
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|w| w != "wxsec" && w.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
        })
        .collect()
}

#[test]
fn every_flag_the_pages_name_exists() {
    let mut known = std::collections::HashMap::new();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for line in command_lines(&text) {
            let mut words = line.split_whitespace().skip(1);
            let command = words.next().unwrap().to_string();
            // Commands chained on one line (`&&`, `|`, `;`) end the first one's flags.
            let flags: Vec<String> = words
                .take_while(|w| !matches!(*w, "&&" | "|" | ";" | "||" | ">" | "#"))
                .filter(|w| w.starts_with("--"))
                .map(|w| {
                    w.split(['=', ')', ',', '`', ']', '…']).next().unwrap_or_default().trim_end_matches('.').to_string()
                })
                .filter(|w| w.len() > 2)
                .collect();
            let Some(accepted) = known.entry(command.clone()).or_insert_with(|| flags_of(&command)) else {
                wrong.push(format!("{}: `{line}`: no command {command}", page.display()));
                continue;
            };
            for flag in flags {
                checked += 1;
                if !accepted.contains(&flag) {
                    wrong.push(format!("{}: `{line}`: {command} has no {flag}", page.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 30, "only {checked} flags were named");
}

#[test]
fn the_readme_is_short_and_points_at_the_guide() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.lines().count() <= 150, "README.md has {} lines", readme.lines().count());
    for page in pages().iter().skip(2) {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        let index = std::fs::read_to_string(root().join("docs/README.md")).unwrap();
        let linked = name == "docs/README.md" || index.contains(&format!("({})", name.trim_start_matches("docs/")));
        assert!(linked, "{name} is not in the guide's index (docs/README.md)");
    }
    assert!(readme.contains("(docs/README.md)") && readme.contains("(ARCHITECTURE.md)"));
}

/// The configuration crawl.md shows is the example `wxsec init` writes, byte for byte.
#[test]
fn the_crawl_page_shows_the_example_configuration() {
    let page = std::fs::read_to_string(root().join("docs/crawl.md")).unwrap();
    let shown: Vec<String> = blocks(&page).into_iter().find(|(info, _)| info == "toml").unwrap().1;
    let example = std::fs::read_to_string(root().join("examples/wxsec.toml")).unwrap();
    assert_eq!(shown.join("\n") + "\n", example);
}

#[test]
fn the_example_reader_is_strict() {
    let expected: Vec<String> = ["a", "...", "c"].map(String::from).to_vec();
    assert!(matches(&expected, &["a", "b", "b", "c"]));
    assert!(matches(&expected, &["a", "c"]));
    assert!(!matches(&expected, &["a", "b"]));
    assert!(!matches(&["a".to_string()], &["a", "b"]));
    assert!(matches(&[r#"{"a":1,"b":2}"#.to_string()], &[r#"{"b":2,"a":1}"#]));
    assert!(!matches(&[r#"{"a":1,"b":2}"#.to_string()], &[r#"{"b":2,"a":3}"#]));
    let lines =
        command_lines("run `wxsec search --cve X` or\n```sh\nwxsec feed --dest d && wxsec reindex --json\n```\n");
    assert_eq!(lines, ["wxsec feed --dest d && wxsec reindex --json", "wxsec search --cve X"]);
}
