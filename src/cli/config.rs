//! Where the crawl's configuration is found, and `wxsec init`, which writes the commented example
//! there.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use wxsec::crawl::config::CrawlSettings;

use super::out::{fail, usage};

/// The arguments of `init`.
#[derive(clap::Args)]
pub struct InitArgs {
    /// Where to write it [default: $WXSEC_CONFIG, else $XDG_CONFIG_HOME/wxsec/config.toml].
    pub path: Option<PathBuf>,
    /// Print the example on standard output instead.
    #[arg(long, conflicts_with = "path")]
    pub print: bool,
}

/// The settings of a run: the flags over the configuration file, and where they came from.
pub fn load_settings(config: Option<&PathBuf>, flags: CrawlSettings) -> Result<(CrawlSettings, PathBuf), wxsec::Error> {
    match config.cloned().or_else(default_config) {
        Some(path) => Ok((flags.over(CrawlSettings::from_file(&path)?), path)),
        None => Ok((flags, PathBuf::from("command line"))),
    }
}

/// The commented example configuration, the same file as `examples/wxsec.toml`.
const EXAMPLE_CONFIG: &str = include_str!("../../examples/wxsec.toml");

/// Runs `init`.
pub fn init(args: InitArgs) -> ProcessExit {
    if args.print {
        outln!("{}", EXAMPLE_CONFIG.trim_end());
        return ProcessExit::SUCCESS;
    }
    let Some(path) = args.path.or_else(config_home_file) else {
        return usage("no HOME or XDG_CONFIG_HOME to put the configuration in; give a PATH");
    };
    if path.exists() {
        return usage(&format!(
            "{} exists already; it is kept (remove it first, or give another PATH)",
            path.display()
        ));
    }
    let written = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::OpenOptions::new().write(true).create_new(true).open(&path))
        .and_then(|mut f| {
            use std::io::Write as _;
            f.write_all(EXAMPLE_CONFIG.as_bytes()).and_then(|()| f.sync_all())
        });
    match written {
        Ok(()) => {
            noteln!("wxsec: wrote {}; edit its out and [[source]] tables, then run `wxsec crawl`", path.display());
            ProcessExit::SUCCESS
        }
        Err(source) => fail(&wxsec::Error::Write { path, source }),
    }
}

/// `$WXSEC_CONFIG`, else `wxsec/config.toml` in the user's configuration folder, existing or not.
fn config_home_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WXSEC_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|p| !p.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("wxsec/config.toml"))
}

/// The configuration used when `--config` is not given: `$WXSEC_CONFIG` (which must then exist:
/// a name set and not found is an error, said by the read), else `wxsec/config.toml` in the
/// user's configuration folder (`$XDG_CONFIG_HOME`, or `~/.config`) when it is there.
fn default_config() -> Option<PathBuf> {
    let named = std::env::var_os("WXSEC_CONFIG").is_some_and(|p| !p.is_empty());
    config_home_file().filter(|p| named || p.is_file())
}
