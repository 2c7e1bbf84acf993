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
