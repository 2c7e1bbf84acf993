//! What a run was asked to do and what it did: its options, the summary it ends with (the
//! one-line text and the JSON), and the events the command line shows progress by.

use chrono::NaiveDate;
use serde::Serialize;

use crate::error::{Error, ExitCode};

/// Options of one run beyond the configuration.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Poll the sources and list what would be fetched; fetch no article, change no state.
    pub dry_run: bool,
    /// Fetch at most this many articles.
    pub limit: Option<usize>,
    /// Take feed items published on or after this day only (and walk paged lists back to it).
    pub since: Option<NaiveDate>,
    /// Walk every page of every album and WeRead list again, not only up to what is known.
    pub backfill: bool,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CrawlSummary {
    /// Addresses found that the state did not know.
    pub discovered: usize,
    /// Records written for the first time.
    pub new: usize,
    /// Records written again with a changed body.
    pub updated: usize,
    /// Addresses found that were already known, and refetches with an unchanged body.
    pub skipped: usize,
    /// Fetches that failed this run (to be retried, or given up).
    pub failed: usize,
    /// Articles given up for good this run.
    pub gave_up: usize,
    /// Articles found deleted or removed this run.
    pub gone: usize,
    /// Articles left waiting because WeChat is blocking this address.
    pub blocked: usize,
    /// Until when WeChat is left alone (RFC 3339), when it is.
    pub blocked_until: Option<String>,
    /// Sources that could not be polled.
    pub source_errors: usize,
    /// Images that kept their remote link (with `images = "local"`).
    pub images_failed: usize,
    /// Feed files written at the end of the run (with `feeds = true`).
    pub feeds: usize,
    /// With `--dry-run`: the addresses that would be fetched.
    pub would_fetch: Vec<String>,
    /// With `--dry-run`: the articles a full-text feed would write from its items (no request).
    pub would_write: Vec<String>,
    /// With `--dry-run`: how many new articles each source would bring.
    pub would_bring: std::collections::BTreeMap<String, usize>,
    /// The login file no longer accepted (a WeRead cookie), when one was not.
    pub login_expired: Option<String>,
}

impl CrawlSummary {
    /// The exit code of the run.
    pub fn exit_code(&self) -> ExitCode {
        // A login only the user can renew comes first: waiting does not mend it.
        if self.login_expired.is_some() {
            ExitCode::LoginExpired
        } else if self.blocked_until.is_some() {
            ExitCode::Blocked
        } else if self.failed > 0 || self.source_errors > 0 {
            ExitCode::SomeFailed
        } else {
            ExitCode::Ok
        }
    }
}

impl std::fmt::Display for CrawlSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} new, {} updated, {} skipped, {} failed, {} blocked",
            self.new, self.updated, self.skipped, self.failed, self.blocked
        )?;
        if self.gave_up + self.gone > 0 {
            write!(f, " ({} given up, {} deleted or removed)", self.gave_up, self.gone)?;
        }
        if self.source_errors > 0 {
            write!(f, ", {} source{} failed", self.source_errors, if self.source_errors == 1 { "" } else { "s" })?;
        }
        if self.images_failed > 0 {
            write!(f, ", {} images kept remote", self.images_failed)?;
        }
        if let Some(until) = &self.blocked_until {
            write!(f, "; WeChat blocked until {until}")?;
        }
        Ok(())
    }
}

/// What the run reports as it goes (for a progress bar and log lines).
pub enum Event<'a> {
    /// Articles due this run (the progress bar's length).
    Queue(usize),
    /// One article handled.
    Article {
        /// Its address.
        url: &'a str,
        /// What happened, in a word or two.
        outcome: &'a str,
    },
    /// A failure worth a log line.
    Warn(&'a Error),
}
