//! `wxsec status`: what the crawl state holds, read without changing it.

use std::path::Path;

use serde::Serialize;

use super::{blocked_until, rfc3339, rfc3339_ms, unix_ms};
use crate::archive::{self as state, HostStatus, State};
use crate::error::Result;

/// What `wxsec status` prints.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Articles by status (`{"done": 22, "pending": 3}`).
    pub articles: std::collections::BTreeMap<String, i64>,
    /// Until when this host leaves WeChat alone, if it does.
    pub blocked_until: Option<String>,
    /// Every host that worked on the state: one for a state file, each crawl host for a
    /// server's.
    pub hosts: Vec<HostStatus>,
    /// Each source with its last poll.
    pub sources: Vec<SourceStatus>,
    /// Records in the search index.
    pub indexed: i64,
}

/// One source in `wxsec status`.
#[derive(Debug, Clone, Serialize)]
pub struct SourceStatus {
    /// The source's name.
    pub name: String,
    /// `urls`, `feed`, `album`, `weread` or `opml` (unknown for a source last polled by an
    /// older wxsec).
    pub kind: Option<String>,
    /// Its last poll (RFC 3339), if it was ever polled.
    pub last_polled: Option<String>,
    /// Its last successful poll (RFC 3339).
    pub last_ok: Option<String>,
    /// What failed at its last poll, when that poll failed.
    pub last_error: Option<String>,
    /// Articles it named that were not known before.
    pub found: i64,
}

/// Reads the state without taking the lock (SQLite's own locking keeps reads consistent).
pub fn status(state_path: &Path) -> Result<StatusReport> {
    if !state::exists(state_path) {
        return Err(crate::archive::state_error(
            state_path.to_path_buf(),
            "no state file yet: run `wxsec crawl` first".to_string(),
        ));
    }
    let state = State::open(state_path)?;
    let blocked_until = blocked_until(&state)?.map(rfc3339_ms);
    let hosts = state.hosts(unix_ms())?;
    let sources = state
        .source_rows()?
        .into_iter()
        .map(|r| SourceStatus {
            name: r.name,
            kind: r.kind,
            last_polled: r.last_polled.map(rfc3339),
            last_ok: r.last_ok.map(rfc3339),
            last_error: r.last_error,
            found: r.found,
        })
        .collect();
    let indexed = crate::archive::index::count(&state)?;
    Ok(StatusReport { articles: state.counts()?.into_iter().collect(), blocked_until, hosts, sources, indexed })
}
