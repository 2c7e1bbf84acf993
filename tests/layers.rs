//! The house rules ARCHITECTURE.md states, held by reading the source: each stage imports only
//! the stages below it (so there is no circle and no arrow back up), the binary's `cli/` only the
//! library, and no source file is longer than 600 lines.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The library's modules, lowest first; a module may use only modules of a lower layer. The
/// same list, with the reasons, is in ARCHITECTURE.md.
const LAYERS: &[&[&str]] = &[
    &["text", "entities", "page"],
    &["article", "error"],
    &["fetch"],
    &["markdown"],
    &["record"],
    &["extract"],
    &["store"],
    &["tree"],
    &["archive"],
    &["assets"],
    &["feed", "import"],
    &["normalise", "crawl"],
];

const LONGEST_FILE: usize = 600;

/// The items lib.rs re-exports at the crate's root, by the module that holds them.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Article", "article"),
    ("ArticleId", "article"),
    ("Kind", "article"),
    ("Error", "error"),
    ("ExitCode", "error"),
    ("FetchedPage", "fetch"),
    ("Target", "fetch"),
    ("Record", "record"),
];

fn layer_of(module: &str) -> Option<usize> {
    let module = ROOT_ITEMS.iter().find(|(item, _)| *item == module).map_or(module, |(_, m)| m);
    LAYERS.iter().position(|l| l.contains(&module))
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate's top-level modules a file names: `crate::x`, and each name of `use crate::{x, y}`.
fn named_modules(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (at, _) in text.match_indices("crate::") {
        // `$crate::` in a macro is the binary's own root, not a stage.
        if text.get(..at).is_some_and(|b| b.ends_with('$')) {
            continue;
        }
        let rest = text.get(at + "crate::".len()..).unwrap_or_default();
        if let Some(group) = rest.strip_prefix('{') {
            let group = group.get(..group.find('}').unwrap_or(group.len())).unwrap_or_default();
            for name in group.split(',') {
                let name = name.trim().split("::").next().unwrap_or_default();
                if !name.is_empty() {
                    found.insert(name.to_string());
                }
            }
        } else {
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.insert(name);
        }
    }
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn each_stage_imports_only_the_stages_below_it() {
    let root = src();
    let mut files = Vec::new();
    sources(&root, &mut files);
    let mut wrong = Vec::new();
    let mut unplaced = BTreeSet::new();
    for file in &files {
        let rel = file.strip_prefix(&root).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        if top == "lib" || top == "main" || top == "cli" {
            continue;
        }
        let Some(own) = layer_of(&top) else {
            unplaced.insert(top);
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        for used in named_modules(&text) {
            if used == top {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                Some(_) => wrong.push(format!("{} uses crate::{used}, which is not below {top}", rel.display())),
                None => {
                    unplaced.insert(used);
                }
            }
        }
    }
    assert!(unplaced.is_empty(), "modules with no layer in this test and ARCHITECTURE.md: {unplaced:?}");
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn every_library_module_has_its_layer() {
    let lib = std::fs::read_to_string(src().join("lib.rs")).unwrap();
    let declared: BTreeSet<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ")).map(|l| l.trim_end_matches(';')).collect();
    let layered: BTreeSet<&str> = LAYERS.iter().flat_map(|l| l.iter().copied()).collect();
    assert_eq!(declared, layered);
}

#[test]
fn the_command_line_uses_the_library_only() {
    let mut files = Vec::new();
    sources(&src().join("cli"), &mut files);
    files.push(src().join("main.rs"));
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        // The binary's own modules are `crate::cli`; the library is reached as `wxsec::`.
        let stray: Vec<String> = named_modules(&text).into_iter().filter(|m| m != "cli").collect();
        assert!(stray.is_empty(), "{} names crate::{stray:?}", file.display());
    }
}

#[test]
fn no_source_file_is_over_600_lines() {
    let mut files = Vec::new();
    sources(&src(), &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > LONGEST_FILE).then(|| format!("{}: {n} lines", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by concern:\n{}", long.join("\n"));
}

#[test]
fn the_import_reader_sees_what_it_must() {
    let names =
        named_modules("use crate::{store, tree};\nlet x = crate::text::fold_ws(a); macro $crate::cli::out::quiet()");
    assert_eq!(names.into_iter().collect::<Vec<_>>(), ["store", "text", "tree"]);
}
