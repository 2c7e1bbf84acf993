//! The `wxsec` command line: a thin layer over the library that owns the exit codes.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use wxsec::ExitCode;
use wxsec::fetch::FetchConfig;
use wxsec::import::{self, ImportOptions};
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
