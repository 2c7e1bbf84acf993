//! `wxsec crawl`: the scheduled job. Quiet on success off a terminal, a progress bar on one, a
//! one-line summary (or one JSON object); `--dry-run` lists what would be fetched.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use wxsec::crawl::config::CrawlSettings;
use wxsec::crawl::{Crawl, Event, RunOptions};

use super::config::load_settings;
use super::out::{error_text, fail, progress_bar, runtime, say};

/// The arguments of `crawl`.
#[derive(clap::Args)]
pub struct CrawlArgs {
    /// The TOML configuration [default: $WXSEC_CONFIG, else $XDG_CONFIG_HOME/wxsec/config.toml
    /// (~/.config/wxsec/config.toml) when it exists]; examples/wxsec.toml is a commented example.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Poll the sources and print what would be fetched; fetch and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Fetch at most N articles this run.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Take feed items published on or after this day (YYYY-MM-DD) only, and walk albums and
    /// WeRead lists back to it.
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// Walk every page of every album and WeRead list again, not only up to the first page
    /// that brings nothing new.
    #[arg(long)]
    pub backfill: bool,
    /// Print the summary as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: Box<CrawlSettings>,
}

/// Runs `crawl`.
pub fn run(args: CrawlArgs) -> ProcessExit {
    let CrawlArgs { config, dry_run, limit, since, backfill, json, settings } = args;
    let opts = RunOptions { dry_run, limit, since, backfill };
    let flags = *settings;
    let resolved =
        load_settings(config.as_ref(), flags).and_then(|(s, origin)| s.resolve(&origin).map(|c| (c, origin)));
    let (config, origin) = match resolved {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    // With no sources, a run still drains the queue a state file already holds (repairs).
    if config.sources.is_empty() && !wxsec::archive::exists(&config.state) {
        return fail(&wxsec::Error::Config {
            path: origin,
            message: "no sources: add [[source]] tables to the config, or give --urls FILE or --feed URL".to_string(),
        });
    }
    if config.sources.is_empty() {
        noteln!(
            "wxsec: no sources configured: working through the queue of {} only",
            wxsec::archive::db::shown(&config.state).display()
        );
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut crawl = match Crawl::open_as(config, opts.dry_run) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let bar = progress_bar();
    let result = runtime.block_on(crawl.run(&opts, |event| match event {
        Event::Queue(n) => {
            if let Some(b) = &bar {
                b.set_length(n as u64);
            }
        }
        Event::Article { .. } => {
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
        Event::Warn(e) => {
            say(bar.as_ref(), &error_text(e));
        }
    }));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    // With --json the addresses are in the JSON (`would_fetch`): standard output is one object.
    if opts.dry_run && !json {
        for (source, n) in &summary.would_bring {
            noteln!("source {source}: {n} new article{}", if *n == 1 { "" } else { "s" });
        }
        for url in &summary.would_fetch {
            outln!("{url}");
        }
        // Written from their feed items, asking WeChat nothing: said apart from the fetches.
        for url in &summary.would_write {
            outln!("{url} (from its feed item)");
        }
    }
    if json {
        outln!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        noteln!("crawl: {summary}");
    }
    ProcessExit::from(summary.exit_code() as u8)
}
