//! `wxsec status`: what the crawl state holds, as lines or one JSON object.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use wxsec::crawl::config::CrawlSettings;

use super::config::load_settings;
use super::out::fail;

/// The arguments of `status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The TOML configuration, to find the state file [default: as for crawl].
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The archive folder (the state is OUT/.wxsec/state.sqlite).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The state file itself.
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `status`.
pub fn run(args: StatusArgs) -> ProcessExit {
    let StatusArgs { config, out, state, json } = args;
    let flags = CrawlSettings { out, state, ..Default::default() };
    let path = match load_settings(config.as_ref(), flags).and_then(|(s, origin)| s.resolve(&origin)) {
        Ok(c) => c.state,
        Err(e) => return fail(&e),
    };
    let report = match wxsec::crawl::status(&path) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if json {
        outln!("{}", serde_json::to_string(&report).unwrap_or_default());
        return ProcessExit::SUCCESS;
    }
    outln!("state: {}", wxsec::archive::db::shown(&path).display());
    for (status, n) in &report.articles {
        outln!("  {status:<8} {n}");
    }
    // Each host's own: WeChat blocks an address, and the other hosts go on meanwhile.
    for h in &report.hosts {
        let blocked = h.blocked_until.as_deref().map_or("not blocked".to_string(), |t| format!("blocked until {t}"));
        outln!(
            "host {}: {}, {blocked}, {} written, {} leased now, last seen {}",
            h.name,
            if h.running { "running" } else { "idle" },
            h.written,
            h.leased,
            h.last_seen.as_deref().unwrap_or("never")
        );
    }
    match &report.blocked_until {
        Some(t) => outln!("blocked until {t}"),
        None => outln!("not blocked"),
    }
    outln!("search index: {} records", report.indexed);
    for s in &report.sources {
        outln!(
            "source {} ({}): last polled {}, last ok {}, {} articles found{}",
            s.name,
            s.kind.as_deref().unwrap_or("unknown"),
            s.last_polled.as_deref().unwrap_or("never"),
            s.last_ok.as_deref().unwrap_or("never"),
            s.found,
            s.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
        );
    }
    ProcessExit::SUCCESS
}
