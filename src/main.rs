//! The `wxsec` command line: a thin layer over the library that owns the exit codes.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use std::io::IsTerminal;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wxsec::ExitCode;
use wxsec::crawl::config::CrawlSettings;
use wxsec::crawl::{self, Crawl, Event, RunOptions};
use wxsec::fetch::FetchConfig;
use wxsec::import::{self, ImportOptions};
use wxsec::normalise::{self, Destination, NormaliseOptions};
use wxsec::store::Format;

/// Archive WeChat official-account security articles as clean Markdown records.
#[derive(Parser)]
#[command(name = "wxsec", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the record of each article now: addresses, saved pages, or - for stdin.
    ///
    /// Exit codes: 0 all written; 2 bad usage or target; 3 a page was not an article (deleted,
    /// removed, expired, error, unknown); 4 WeChat's verification page (blocked); 5 network or HTTP
    /// failure; 6 a file could not be read or written; 7 an article page whose title or account
    /// could not be read; 1 anything else. With several failures, the code of the first.
    Import {
        /// The archive folder.
        #[arg(long, default_value = "archive")]
        out: PathBuf,
        /// Output form.
        #[arg(long, value_enum, default_value_t = OutFormat::Md)]
        format: OutFormat,
        /// Seconds one request may take, connection included.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
        /// Largest page accepted, in bytes after decompression (real pages are 2–4 MB).
        #[arg(long, default_value_t = wxsec::fetch::DEFAULT_MAX_BODY)]
        max_page_bytes: usize,
        /// Article addresses (https://mp.weixin.qq.com/s?__biz=… or /s/…), saved pages, or -.
        #[arg(required = true)]
        targets: Vec<String>,
    },

    /// Clean an existing archive into the record format: front matter repaired, chrome and
    /// layout HTML removed; stubs and truncated records reported instead of written.
    ///
    /// Exit codes: 0 every file handled (stubs and truncated ones are reported, not failures);
    /// 2 bad usage; 6 a file could not be read or written.
    Normalise {
        /// Write cleaned records under this folder, at the paths they had below each input.
        #[arg(long, conflicts_with = "in_place", required_unless_present = "in_place")]
        out: Option<PathBuf>,
        /// Replace each file with its cleaned record (atomically); stubs are left as they are.
        #[arg(long)]
        in_place: bool,
        /// Write one JSON line per stub, truncated or unreadable file: path, url, kind, reason.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Record files or folders (searched for *.md, *.markdown, *.txt).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// The scheduled job: poll the configured sources, fetch the articles not yet archived.
    ///
    /// Exit codes: 0 ok; 2 configuration error; 4 blocked (WeChat's verification page: no more
    /// requests until the cool-down ends); 6 a record or the state could not be written; 8 some
    /// articles or sources failed (retried on later runs); 9 another run holds the lock; 10 the
    /// state file is unusable.
    Crawl {
        /// The TOML configuration (README.md has a commented example).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Poll the sources and print what would be fetched; fetch and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Fetch at most N articles this run.
        #[arg(long)]
        limit: Option<usize>,
        /// Take feed items published on or after this day (YYYY-MM-DD) only.
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        /// Print the summary as one JSON object on standard output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        settings: Box<CrawlSettings>,
    },
    /// What the crawl state holds: articles by status, blocked-until, each source's last poll.
    Status {
        /// The TOML configuration, to find the state file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// The archive folder (the state is OUT/.wxsec/state.sqlite).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The state file itself.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    /// The FORMAT.md record: YAML front matter and Markdown.
    Md,
    /// One JSON object per article with every fact found.
    Json,
}

fn main() -> ProcessExit {
    let cli = Cli::parse();
    match cli.command {
        Command::Import { out, format, timeout, max_page_bytes, targets } => {
            import_cmd(out, format, Duration::from_secs(timeout), max_page_bytes, targets)
        }
        Command::Normalise { out, in_place: _, report, paths } => normalise_cmd(out, report, paths),
        Command::Crawl { config, dry_run, limit, since, json, settings } => {
            crawl_cmd(config, RunOptions { dry_run, limit, since }, json, *settings)
        }
        Command::Status { config, out, state, json } => status_cmd(config, out, state, json),
    }
}

fn import_cmd(
    out: PathBuf,
    format: OutFormat,
    timeout: Duration,
    max_body: usize,
    targets: Vec<String>,
) -> ProcessExit {
    let fetch = match FetchConfig::from_env() {
        Ok(f) => FetchConfig { timeout, connect_timeout: timeout.min(f.connect_timeout), max_body, ..f },
        Err(msg) => {
            eprintln!("wxsec: {msg}");
            return ProcessExit::from(ExitCode::Usage as u8);
        }
    };
    let format = match format {
        OutFormat::Md => Format::Markdown,
        OutFormat::Json => Format::Json,
    };
    let opts = ImportOptions { out, format, fetch };
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wxsec: cannot start the async runtime: {e}");
            return ProcessExit::from(ExitCode::Other as u8);
        }
    };
    let mut first_failure: Option<ExitCode> = None;
    let result = runtime.block_on(import::run(&targets, &opts, |_, outcome| match outcome {
        Ok(path) => println!("{}", path.display()),
        Err(e) => {
            eprintln!("wxsec: {e}\n  hint: {}", e.hint());
            first_failure.get_or_insert(e.exit_code());
        }
    }));
    if let Err(e) = result {
        eprintln!("wxsec: {e}\n  hint: {}", e.hint());
        first_failure.get_or_insert(e.exit_code());
    }
    ProcessExit::from(first_failure.unwrap_or(ExitCode::Ok) as u8)
}

fn normalise_cmd(out: Option<PathBuf>, report: Option<PathBuf>, paths: Vec<PathBuf>) -> ProcessExit {
    let destination = match out {
        Some(dir) => Destination::Out(dir),
        None => Destination::InPlace,
    };
    let opts = NormaliseOptions { destination, report };
    let bar = progress_bar();
    let result = normalise::run(
        &paths,
        &opts,
        |done, total| {
            if let Some(b) = &bar {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        },
        |e| {
            let line = format!("wxsec: {e}\n  hint: {}", e.hint());
            match &bar {
                Some(b) => b.suspend(|| eprintln!("{line}")),
                None => eprintln!("{line}"),
            }
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(summary) => {
            eprintln!("normalise: {summary}");
            if summary.errors > 0 { ProcessExit::from(ExitCode::Io as u8) } else { ProcessExit::SUCCESS }
        }
        Err(e) => {
            eprintln!("wxsec: {e}\n  hint: {}", e.hint());
            ProcessExit::from(e.exit_code() as u8)
        }
    }
}

/// A progress bar on a terminal; nothing when stderr is a file or a pipe (cron).
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} eta {eta}") {
        bar.set_style(style);
    }
    Some(bar)
}

fn fail(e: &wxsec::Error) -> ProcessExit {
    eprintln!("wxsec: {e}\n  hint: {}", e.hint());
    ProcessExit::from(e.exit_code() as u8)
}

fn load_settings(config: Option<&PathBuf>, flags: CrawlSettings) -> Result<(CrawlSettings, PathBuf), wxsec::Error> {
    match config {
        Some(path) => Ok((flags.over(CrawlSettings::from_file(path)?), path.clone())),
        None => Ok((flags, PathBuf::from("command line"))),
    }
}

fn crawl_cmd(config: Option<PathBuf>, opts: RunOptions, json: bool, flags: CrawlSettings) -> ProcessExit {
    let resolved =
        load_settings(config.as_ref(), flags).and_then(|(s, origin)| s.resolve(&origin).map(|c| (c, origin)));
    let (config, origin) = match resolved {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    if config.sources.is_empty() {
        return fail(&wxsec::Error::Config {
            path: origin,
            message: "no sources: add [[source]] tables to the config, or give --urls FILE or --feed URL".to_string(),
        });
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wxsec: cannot start the async runtime: {e}");
            return ProcessExit::from(ExitCode::Other as u8);
        }
    };
    let mut crawl = match Crawl::open(config) {
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
            let line = format!("wxsec: {e}");
            match &bar {
                Some(b) => b.suspend(|| eprintln!("{line}")),
                None => eprintln!("{line}"),
            }
        }
    }));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if opts.dry_run {
        for url in &summary.would_fetch {
            println!("{url}");
        }
    }
    if json {
        println!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        eprintln!("crawl: {summary}");
    }
    ProcessExit::from(summary.exit_code() as u8)
}

fn status_cmd(config: Option<PathBuf>, out: Option<PathBuf>, state: Option<PathBuf>, json: bool) -> ProcessExit {
    let flags = CrawlSettings { out, state, ..Default::default() };
    let path = match load_settings(config.as_ref(), flags).and_then(|(s, origin)| s.resolve(&origin)) {
        Ok(c) => c.state,
        Err(e) => return fail(&e),
    };
    let report = match crawl::status(&path) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return ProcessExit::SUCCESS;
    }
    println!("state: {}", path.display());
    for (status, n) in &report.articles {
        println!("  {status:<8} {n}");
    }
    match &report.blocked_until {
        Some(t) => println!("blocked until {t}"),
        None => println!("not blocked"),
    }
    for (name, polled) in &report.sources {
        println!("source {name}: last polled {}", polled.as_deref().unwrap_or("never"));
    }
    ProcessExit::SUCCESS
}
