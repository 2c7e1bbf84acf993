//! The `wxsec` command line: a thin layer over the library that owns the exit codes.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use std::io::IsTerminal;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wxsec::ExitCode;
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
