//! What every command shares on the way out: standard output that a closed pipe ends quietly,
//! `--quiet`, colour, log lines and the progress bar on standard error, and a failure's text and
//! exit code.

use std::io::IsTerminal;
use std::process::ExitCode as ProcessExit;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressStyle};
use wxsec::ExitCode;

/// Set by `--quiet`: summary lines and warnings are not printed.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Remembers `--quiet` for [`quiet`].
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes a line on standard output; false once the reader has gone.
pub fn stdout_line(args: std::fmt::Arguments) -> bool {
    use std::io::Write as _;
    static GONE: AtomicBool = AtomicBool::new(false);
    if GONE.load(Ordering::Relaxed) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            GONE.store(true, Ordering::Relaxed);
            false
        }
        Err(e) => {
            errln!("wxsec: cannot write to standard output: {e}");
            std::process::exit(ExitCode::Io as i32);
        }
    }
}

/// When to colour output.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless the NO_COLOR variable is set (https://no-color.org).
    Auto,
    /// Always, even into a pipe or with NO_COLOR.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn wanted(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

/// Log lines on standard error, as `RUST_LOG` says, else as `-v`/`-q` say: warnings by default,
/// `info` with -v, `debug` with -vv (wxsec's own events), everything with -vvv.
pub fn init_logging(verbose: u8, quiet: bool, color: ColorChoice) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(match (quiet, verbose) {
            (true, _) => "error",
            (false, 0) => "wxsec=warn",
            (false, 1) => "wxsec=info",
            (false, 2) => "wxsec=debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color.wanted(std::io::stderr().is_terminal()))
        .with_target(false)
        .try_init();
}

/// A progress bar on a terminal; nothing when stderr is a file or a pipe (cron), or with --quiet.
pub fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || quiet() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} eta {eta}") {
        bar.set_style(style);
    }
    Some(bar)
}

/// A line on standard error that does not tear the progress bar.
pub fn say(bar: Option<&ProgressBar>, line: &str) {
    match bar {
        Some(b) => b.suspend(|| errln!("{line}")),
        None => errln!("{line}"),
    }
}

/// The single-threaded runtime the network commands run on.
pub fn runtime() -> Result<tokio::runtime::Runtime, ProcessExit> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        errln!("wxsec: cannot start the async runtime: {e}");
        ProcessExit::from(ExitCode::Other as u8)
    })
}

/// A failure as every command reports it: what failed, then what to do.
pub fn error_text(e: &wxsec::Error) -> String {
    format!("wxsec: {e}\n  hint: {}", e.hint())
}

/// Reports a failure and gives its exit code.
pub fn fail(e: &wxsec::Error) -> ProcessExit {
    errln!("{}", error_text(e));
    ProcessExit::from(e.exit_code() as u8)
}

/// Exit 2 with a message: the command was given wrong.
pub fn usage(message: &str) -> ProcessExit {
    errln!("wxsec: {message}");
    ProcessExit::from(ExitCode::Usage as u8)
}
