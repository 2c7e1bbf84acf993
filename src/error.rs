//! The one error type of the library, with the exit code and the hint each failure carries.

use std::path::PathBuf;

use crate::page::PageKind;

/// Process exit codes, documented in README.md and each command's page of docs/. `main` owns them; the library only names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Every target was written.
    Ok = 0,
    /// A failure that fits no other code (a bug, an unexpected state).
    Other = 1,
    /// The command line was wrong (clap's own code).
    Usage = 2,
    /// A page was not an article: deleted, removed, expired, an error page, a profile, unknown.
    NotArticle = 3,
    /// WeChat answered with its verification page (`环境异常`): this address is being throttled.
    Blocked = 4,
    /// The network or the server failed: connection, timeout, HTTP status, oversized body.
    Network = 5,
    /// A local file could not be read or a record could not be written.
    Io = 6,
    /// The page looked like an article but its title or account could not be found.
    Extract = 7,
    /// `crawl`: some articles failed this run (they are retried later or reported as given up).
    SomeFailed = 8,
    /// `crawl`: another run holds the lock.
    Locked = 9,
    /// `crawl`: the state file cannot be used (corrupt, foreign, or from a newer wxsec).
    State = 10,
    /// `crawl`: a login is no longer accepted (the WeRead cookie expired and could not be renewed).
    LoginExpired = 11,
}

/// Everything that can go wrong between a target and a written record.
///
/// Each variant names what failed (the address or path) so that a message stands on its own in a
/// cron mail; [`Error::hint`] says what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The target is neither a WeChat article address nor a readable path.
    #[error("{target}: not a WeChat article address (https://mp.weixin.qq.com/s…)")]
    BadTarget {
        /// The target as given on the command line.
        target: String,
    },
    /// The page is one of WeChat's non-article pages.
    #[error("{target}: not an article: {kind} page{}", evidence.as_deref().map(|e| format!(" (“{e}”)")).unwrap_or_default())]
    NotArticle {
        /// The target as given.
        target: String,
        /// What the page was.
        kind: PageKind,
        /// The page's own words that told it apart, when it has any.
        evidence: Option<String>,
    },
    /// The server answered with an HTTP error status.
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The address requested.
        url: String,
        /// The status code.
        status: u16,
        /// The server's `Retry-After`, in seconds, when it sent one.
        retry_after: Option<u64>,
    },
    /// Connection, TLS, timeout or a body that broke off.
    #[error("{url}: {message}")]
    Network {
        /// The address requested.
        url: String,
        /// What the HTTP client reported, with its causes.
        message: String,
        /// Whether the failure was a timeout.
        timeout: bool,
    },
    /// The body grew past the size cap (counted after decompression).
    #[error("{url}: page larger than {limit} bytes, refused")]
    TooLarge {
        /// The address requested.
        url: String,
        /// The cap in bytes.
        limit: usize,
    },
    /// A redirect left WeChat, or went round too long.
    #[error("{url}: {message}")]
    Redirect {
        /// The address requested.
        url: String,
        /// What was wrong with the redirect.
        message: String,
    },
    /// A local file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A record could not be written.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file or folder being written.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The crawl configuration is wrong.
    #[error("{}: {message}", path.display())]
    Config {
        /// The configuration file (or `command line`).
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Another crawl holds the lock.
    #[error("{}: another wxsec crawl is running{}", path.display(), pid.map(|p| format!(" (pid {p})")).unwrap_or_default())]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// The process holding it, as it wrote itself in.
        pid: Option<u32>,
    },
    /// The state file cannot be used.
    #[error("{}: {message}", path.display())]
    State {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
        /// Whether it is a PostgreSQL server rather than a file (what to do differs); the store
        /// that failed says so, as only it knows.
        server: bool,
    },
    /// An article page without the facts every record needs.
    #[error("{target}: extraction failed: no {missing} found on the page")]
    Extract {
        /// The target as given.
        target: String,
        /// Which fact was missing.
        missing: &'static str,
    },
    /// A login the user gave is no longer accepted (WeRead's `-2012`, after one renewal).
    #[error("{}: the WeRead login is no longer accepted ({message})", path.display())]
    LoginExpired {
        /// The cookie file.
        path: PathBuf,
        /// What the server said (never the cookie).
        message: String,
    },
    /// A discovery service refused a source (WeRead's `-2041`: the account is not on the
    /// user's shelf, or a passing risk control).
    #[error("{source_name}: {service} refused the list ({message})")]
    Refused {
        /// The source.
        source_name: String,
        /// The service (`weread.qq.com`).
        service: String,
        /// What it said.
        message: String,
    },
    /// A bug: reading one input panicked. The input is named so it can be reported; the other
    /// inputs of the run go on.
    #[error("{target}: internal error while reading it: {message}")]
    Internal {
        /// The target or file being read.
        target: String,
        /// The panic's message.
        message: String,
    },
}

/// Runs `f`, turning a panic into [`Error::Internal`] for `target`: one input that trips a bug
/// must not stop a batch or a cron run (the panic message is still printed by the hook).
pub fn guarded<T>(target: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        Err(Error::Internal { target: target.to_string(), message })
    })
}

impl Error {
    /// The exit code that `main` reports for this failure.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::BadTarget { .. } => ExitCode::Usage,
            Error::NotArticle { kind, .. } if *kind == PageKind::Verify => ExitCode::Blocked,
            Error::NotArticle { .. } => ExitCode::NotArticle,
            Error::Status { .. } | Error::Network { .. } | Error::TooLarge { .. } | Error::Redirect { .. } => {
                ExitCode::Network
            }
            Error::Read { .. } | Error::Write { .. } => ExitCode::Io,
            Error::Extract { .. } => ExitCode::Extract,
            Error::Config { .. } => ExitCode::Usage,
            Error::Locked { .. } => ExitCode::Locked,
            Error::State { .. } => ExitCode::State,
            Error::Internal { .. } => ExitCode::Other,
            Error::LoginExpired { .. } => ExitCode::LoginExpired,
            Error::Refused { .. } => ExitCode::SomeFailed,
        }
    }

    /// Whether trying the same request later may succeed (a crawler backs off and retries these).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Status { status, .. } => *status == 429 || *status >= 500,
            Error::Network { .. } => true,
            _ => false,
        }
    }

    /// One sentence saying what the user can do.
    pub fn hint(&self) -> &'static str {
        match self {
            Error::BadTarget { .. } => {
                "give an https://mp.weixin.qq.com/s?__biz=… or /s/… address, a saved page, or - for stdin"
            }
            Error::NotArticle { kind, .. } => kind.hint(),
            Error::Status { status: 404, .. } => "the address is wrong or the article is gone; check it in a browser",
            Error::Status { status: 429, .. } => "WeChat is rate-limiting this address; wait and run again",
            Error::Status { .. } => "the server failed; run again later",
            Error::Network { .. } => "check the network or the proxy settings (HTTPS_PROXY), then run again",
            Error::TooLarge { .. } => "this is not a WeChat article page; check the address",
            Error::Redirect { .. } => "the address does not lead to a WeChat article; check it in a browser",
            Error::Read { .. } => "check the path and its permissions",
            Error::Write { .. } => {
                "check that the output folder is writable and the disk is not full; nothing partial was left behind"
            }
            // A saved page rebuilt by a backup tool often keeps the article and drops the account.
            Error::Extract { missing: "account name", .. } => {
                "a saved page without its account line: give the account with --source NAME; otherwise please report the page"
            }
            Error::Extract { .. } => "the page template is not understood; please report it with the saved page",
            Error::Config { .. } => {
                "fix the configuration; `wxsec init --print` shows a commented example of every key"
            }
            Error::Locked { .. } => {
                "wait for the other run to finish; a lock left by a killed run is released by the system"
            }
            Error::State { server: true, .. } => {
                "check that the PostgreSQL server is up and reachable from this host, and that the database is wxsec's; what was committed before the failure is kept, and the next run goes on from there"
            }
            Error::State { .. } => {
                "move the state file aside (it is not deleted for you) and run again to start a new one"
            }
            Error::Internal { .. } => "this is a bug in wxsec: please report it with the input named above",
            Error::LoginExpired { .. } => {
                "log in at weread.qq.com in a browser and copy its Cookie header into this file again (docs/finding-articles.md); the other sources were archived"
            }
            Error::Refused { .. } => {
                "add the account to your WeRead shelf (书架 → 公众号) with the same login; a passing risk control clears by itself, and the source is asked again next run"
            }
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
