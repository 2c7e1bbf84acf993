//! The package around the commands: shell completions and the manual page, generated from the
//! same definitions as `--help`, so they name every command and option there is.

use assert_cmd::Command;

fn run(args: &[&str]) -> String {
    let out = Command::cargo_bin("wxsec").unwrap().args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn completions_and_the_manual_name_every_command() {
    for (shell, marker) in [("bash", "_wxsec()"), ("zsh", "#compdef wxsec"), ("fish", "complete -c wxsec")] {
        let script = run(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {}", &script[..script.len().min(200)]);
        // fish names long options without their dashes (`-l dry-run`).
        for word in ["import", "normalise", "crawl", "search", "source-from-folder", "dry-run"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let man = run(&["man"]);
    assert!(man.contains(".TH wxsec 1"), "{}", &man[..man.len().min(200)]);
    for word in ["import", "normalise", "crawl", "completions"] {
        assert!(man.contains(word), "the manual lacks {word}");
    }
    // An unknown shell is a usage error.
    Command::cargo_bin("wxsec").unwrap().args(["completions", "cmd.exe"]).assert().code(2);
}

/// Without `--config`, `$WXSEC_CONFIG` names the configuration, else the user's configuration
/// folder holds it; the shipped example is a configuration wxsec reads.
#[test]
fn the_configuration_is_found_without_config_and_the_example_reads() {
    let dir = tempfile::tempdir().unwrap();
    let status = |envs: &[(&str, &std::path::Path)]| {
        let mut c = Command::cargo_bin("wxsec").unwrap();
        c.current_dir(dir.path()).env_remove("WXSEC_CONFIG").env("HOME", dir.path()).env_remove("XDG_CONFIG_HOME");
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.arg("status").output().unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    };
    // Nothing anywhere: the default archive's state, which is not there.
    let (code, err) = status(&[]);
    assert_eq!(code, Some(10), "{err}");
    assert!(err.contains("archive/.wxsec/state.sqlite"), "{err}");
    // The user's configuration folder.
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("wxsec")).unwrap();
    std::fs::write(xdg.join("wxsec/config.toml"), "out = \"from-xdg\"\n").unwrap();
    let (_, err) = status(&[("XDG_CONFIG_HOME", &xdg)]);
    assert!(err.contains("from-xdg/.wxsec/state.sqlite"), "{err}");
    // ~/.config when XDG_CONFIG_HOME is not set.
    std::fs::create_dir_all(dir.path().join(".config/wxsec")).unwrap();
    std::fs::write(dir.path().join(".config/wxsec/config.toml"), "out = \"from-home\"\n").unwrap();
    let (_, err) = status(&[]);
    assert!(err.contains("from-home/.wxsec/state.sqlite"), "{err}");
    // $WXSEC_CONFIG wins; one that names no file is an error that names it.
    let named = dir.path().join("named.toml");
    std::fs::write(&named, "out = \"from-env\"\n").unwrap();
    let (_, err) = status(&[("WXSEC_CONFIG", &named), ("XDG_CONFIG_HOME", &xdg)]);
    assert!(err.contains("from-env/.wxsec/state.sqlite"), "{err}");
    let missing = dir.path().join("missing.toml");
    let (code, err) = status(&[("WXSEC_CONFIG", &missing)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("missing.toml"), "{err}");

    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/wxsec.toml");
    let settings = wxsec::crawl::config::CrawlSettings::from_file(&example).unwrap();
    let config = settings.resolve(&example).unwrap();
    assert_eq!(config.sources.len(), 5, "{:?}", config.sources);
}

/// `import --json`: one object per target, written or not, each a line of JSON.
#[test]
fn import_json_says_what_became_of_each_target() {
    let dir = tempfile::tempdir().unwrap();
    let pages = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    let out = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--json", "--no-index", "--out"])
        .arg(dir.path().join("archive"))
        .arg(pages.join("modern-2025.html"))
        .arg(pages.join("deleted.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let written = &lines[0];
    assert!(std::path::Path::new(written["path"].as_str().unwrap()).is_file(), "{written}");
    assert_eq!(written["title"], "Apache Tomcat 漏洞 & 补丁分析");
    assert!(written["url"].as_str().unwrap().contains("mid=2247521893"), "{written}");
    assert!(written["target"].as_str().unwrap().ends_with("modern-2025.html"));
    assert_eq!(lines[1]["exit"], 3);
    assert!(lines[1]["error"].as_str().unwrap().contains("deleted"), "{}", lines[1]);
}

/// `feed --base-url`: the feeds' self links and the OPML's addresses are absolute, and a run
/// without it makes them file names again (the feeds are rendered again when it changes).
#[test]
fn feed_links_are_absolute_with_a_base_url() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let pages = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pages");
    Command::cargo_bin("wxsec")
        .unwrap()
        .args(["import", "--out"])
        .arg(&archive)
        .arg(pages.join("modern-2025.html"))
        .arg(pages.join("desktop-2018.html"))
        .assert()
        .success();
    let feed = |extra: &[&str]| {
        Command::cargo_bin("wxsec").unwrap().args(["feed", "--out"]).arg(&archive).args(extra).assert().success();
        let read = |n: &str| std::fs::read_to_string(archive.join("feeds").join(n)).unwrap();
        (read("feeds.opml"), read("all.atom"))
    };
    let (opml, all) = feed(&["--base-url", "https://example.org/feeds/"]);
    assert!(opml.contains("xmlUrl=\"https://example.org/feeds/all.atom\""), "{opml}");
    assert_eq!(opml.matches("xmlUrl=\"https://example.org/feeds/").count(), opml.matches("xmlUrl=").count(), "{opml}");
    assert!(all.contains("<link rel=\"self\" href=\"https://example.org/feeds/all.atom\"/>"), "{all}");
    let (opml, all) = feed(&[]);
    assert!(opml.contains("xmlUrl=\"all.atom\"") && !opml.contains("example.org"), "{opml}");
    assert!(all.contains("<link rel=\"self\" href=\"all.atom\"/>"), "{all}");
    Command::cargo_bin("wxsec")
        .unwrap()
        .args(["feed", "--out"])
        .arg(&archive)
        .args(["--base-url", "ftp://example.org/"])
        .assert()
        .code(2);
}

/// `-v` says more on standard error, `RUST_LOG` chooses for itself, `-q` leaves only errors; what
/// goes to standard output does not change.
#[test]
fn verbosity_is_chosen_with_v_q_and_rust_log() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let run = |args: &[&str], rust_log: Option<&str>| {
        let mut c = Command::cargo_bin("wxsec").unwrap();
        c.env_remove("RUST_LOG");
        if let Some(v) = rust_log {
            c.env("RUST_LOG", v);
        }
        let out = c.args(args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let page = fixtures.join("pages/modern-2025.html");
    let page = page.to_str().unwrap();
    let out = dir.path().join("a");
    let out = out.to_str().unwrap();
    let (plain_out, plain_err) = run(&["import", "--no-index", "--out", out, page], None);
    assert!(plain_err.is_empty(), "{plain_err}");
    let (verbose_out, verbose_err) = run(&["-v", "import", "--no-index", "--out", out, page], None);
    assert_eq!(verbose_out, plain_out);
    assert!(
        verbose_err.contains("INFO") && verbose_err.contains("written") && verbose_err.contains(page),
        "{verbose_err}"
    );

    let stub = fixtures.join("records/stub-deleted.md");
    let stub = stub.to_str().unwrap();
    let out = dir.path().join("b");
    let out = out.to_str().unwrap();
    let (_, err) = run(&["normalise", "--no-index", "--out", out, stub], None);
    assert!(err.starts_with("normalise: 1 read") && !err.contains("DEBUG"), "{err}");
    let (_, err) = run(&["normalise", "--no-index", "--out", out, stub], Some("wxsec=debug"));
    assert!(
        err.contains("DEBUG") && err.contains("kind=\"deleted\"") && err.contains("format=\"front-matter\""),
        "{err}"
    );
    let (_, err) = run(&["-vv", "normalise", "--no-index", "--out", out, stub], None);
    assert!(err.contains("DEBUG"), "{err}");
    let (_, err) = run(&["-q", "normalise", "--no-index", "--out", out, stub], None);
    assert!(err.is_empty(), "-q leaves nothing on a run without errors: {err}");
    // Errors still speak with -q.
    let missing = Command::cargo_bin("wxsec")
        .unwrap()
        .args(["-q", "import", "--no-index", "--out", out, "/nonexistent/page.html"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/page.html"));
    Command::cargo_bin("wxsec").unwrap().args(["-v", "-q", "status"]).assert().code(2);
}

/// `wxsec init` puts the example where `crawl` finds it, keeps a file that is there, and prints it.
#[test]
fn init_writes_the_example_where_it_is_found() {
    let home = tempfile::tempdir().unwrap();
    let cmd = || {
        let mut c = Command::cargo_bin("wxsec").unwrap();
        c.env("HOME", home.path()).env_remove("XDG_CONFIG_HOME").env_remove("WXSEC_CONFIG");
        c
    };
    cmd().arg("init").assert().success();
    let written = home.path().join(".config/wxsec/config.toml");
    let example =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/wxsec.toml")).unwrap();
    assert_eq!(std::fs::read_to_string(&written).unwrap(), example);
    std::fs::write(&written, "out = \"mine\"\n").unwrap();
    cmd().arg("init").assert().code(2);
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "out = \"mine\"\n", "an existing file is kept");
    let printed = cmd().args(["init", "--print"]).output().unwrap();
    assert_eq!(String::from_utf8(printed.stdout).unwrap(), example);
    // What init wrote is what the commands read.
    let status = cmd().arg("status").output().unwrap();
    assert!(String::from_utf8_lossy(&status.stderr).contains("mine/.wxsec/state.sqlite"));
}
