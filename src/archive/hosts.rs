//! Each crawl host's own state: WeChat limits an egress address, so its pauses, its wider
//! spacing and its cool-down after a verification page belong to the host that met them. In a
//! state file there is one host; on a server, one row per host, which `status` shows.

use serde::Serialize;

use super::State;
use crate::error::Result;

/// What WeChat asked of one host, in Unix milliseconds (0: nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HostState {
    /// Until when it leaves WeChat alone (after a verification page).
    pub blocked_until_ms: i64,
    /// Until when WeChat asked for a pause (429, 503).
    pub pause_until_ms: i64,
    /// The wider spacing WeChat asked for.
    pub interval_ms: i64,
    /// Until when that spacing holds.
    pub slow_until_ms: i64,
}

/// One host as `status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostStatus {
    /// Its name (`WXSEC_HOST`, or the machine's name).
    pub name: String,
    /// When a run of it last started or ended (RFC 3339).
    pub last_seen: Option<String>,
    /// Whether a run of it is going on (as it said; a killed run says so until its next run).
    pub running: bool,
    /// Until when it leaves WeChat alone, if it does.
    pub blocked_until: Option<String>,
    /// Articles it holds a lease on now.
    pub leased: i64,
    /// Articles it fetched and wrote.
    pub written: i64,
}

/// The host fields kept, as columns.
#[derive(Debug, Clone, Copy)]
pub enum HostField {
    /// See [`HostState::blocked_until_ms`].
    BlockedUntil,
    /// See [`HostState::pause_until_ms`].
    PauseUntil,
    /// See [`HostState::interval_ms`].
    Interval,
    /// See [`HostState::slow_until_ms`].
    SlowUntil,
}

impl HostField {
    fn column(self) -> &'static str {
        match self {
            HostField::BlockedUntil => "blocked_until_ms",
            HostField::PauseUntil => "pause_until_ms",
            HostField::Interval => "interval_ms",
            HostField::SlowUntil => "slow_until_ms",
        }
    }
}

fn rfc3339_ms(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms).map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
}

impl State {
    /// What WeChat asked of `host`.
    pub fn host_state(&self, host: &str) -> Result<HostState> {
        let row = self.db.query_row(
            "SELECT blocked_until_ms, pause_until_ms, interval_ms, slow_until_ms FROM hosts WHERE name = ?1",
            &[host.into()],
        )?;
        Ok(row.map_or_else(HostState::default, |r| HostState {
            blocked_until_ms: r.int(0),
            pause_until_ms: r.int(1),
            interval_ms: r.int(2),
            slow_until_ms: r.int(3),
        }))
    }

    /// Keeps one of `host`'s limits.
    pub fn set_host(&self, host: &str, field: HostField, value: i64) -> Result<()> {
        let column = field.column();
        let sql = format!(
            "INSERT INTO hosts (name, {column}) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET {column} = excluded.{column}"
        );
        self.db.execute(&sql, &[host.into(), value.into()]).map(|_| ())
    }

    /// Notes that `host` is alive at `now` (ms), and whether a run of it is going on.
    pub fn host_seen(&self, host: &str, now: i64, running: bool) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO hosts (name, last_seen_ms, running) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, running = excluded.running",
                &[host.into(), now.into(), i64::from(running).into()],
            )
            .map(|_| ())
    }

    /// Every host that ever worked on this state, for `status`.
    pub fn hosts(&self, now: i64) -> Result<Vec<HostStatus>> {
        let clock = self.lease_clock()?;
        let rows = self.db.query(
            "SELECT h.name, h.last_seen_ms, h.running, h.blocked_until_ms,
                (SELECT count(*) FROM articles a WHERE a.lease_owner = h.name AND a.lease_until > ?1),
                (SELECT count(*) FROM articles a WHERE a.fetched_by = h.name AND a.status = 'done')
             FROM hosts h ORDER BY h.name",
            &[clock.into()],
        )?;
        Ok(rows
            .into_iter()
            .map(|r| HostStatus {
                name: r.text(0),
                last_seen: Some(r.int(1)).filter(|t| *t > 0).and_then(rfc3339_ms),
                running: r.int(2) != 0,
                blocked_until: Some(r.int(3)).filter(|t| *t > now).and_then(rfc3339_ms),
                leased: r.int(4),
                written: r.int(5),
            })
            .collect())
    }
}
