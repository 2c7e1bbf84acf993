//! `crawl`: the scheduled job. Polls the configured sources, fetches the articles it has not
//! got (politely, one request at a time per host), writes their records like `import`, and keeps
//! its state in one SQLite file so that every run resumes where the last one stopped.

pub mod album;
pub mod config;
pub mod opml;
pub mod paging;
pub mod polite;
mod poll;
pub mod sources;
mod status;
mod summary;
pub mod weread;
mod write;

pub use status::{SourceStatus, StatusReport, status};
pub use summary::{CrawlSummary, Event, RunOptions};

use std::time::Duration;

use chrono::Utc;

use crate::archive::{self as state, HostField, State};
use crate::article::WECHAT_HOST;
use crate::assets::Localiser;
use crate::error::{Error, Result};
use crate::fetch::{FetchConfig, Fetcher};
use crate::page::PageKind;
use config::CrawlConfig;
use polite::{Lock, lock_path};
use poll::Polled;

fn unix_now() -> i64 {
    Utc::now().timestamp()
}

/// The time in milliseconds: the unit of every wait the state keeps (retries, cool-down), so
/// that a `Retry-After` or a cool-down is kept to the millisecond, never rounded down.
fn unix_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A wait as milliseconds, rounded up.
fn ms(d: Duration) -> i64 {
    d.as_micros().div_ceil(1000).min(i64::MAX as u128) as i64
}

/// A run of the crawl. Holds the lock for its whole life.
pub struct Crawl {
    config: CrawlConfig,
    state: State,
    fetcher: Fetcher,
    localiser: Localiser,
    /// The WeRead login, when a `weread` source is configured.
    weread: Option<weread::Weread>,
    _lock: Option<Lock>,
}

impl Crawl {
    /// Takes the lock, opens the state, builds the client.
    pub fn open(config: CrawlConfig) -> Result<Crawl> {
        Crawl::open_as(config, false)
    }

    /// Like [`Crawl::open`]; a dry run takes no lock and reads the state without writing a byte
    /// (see [`State::open_snapshot`]).
    pub fn open_as(config: CrawlConfig, dry_run: bool) -> Result<Crawl> {
        // Runs of one host never overlap; hosts sharing a server's state work side by side, each
        // with its own lock in the shared folder.
        let lock_file = if state::is_server(&config.state) {
            config.out.join(".wxsec").join(format!("crawl-{}.lock", file_safe(&state::host_name())))
        } else {
            lock_path(&config.state)
        };
        let lock = if dry_run { None } else { Some(Lock::acquire(&lock_file)?) };
        let state = if dry_run { State::open_snapshot(&config.state)? } else { State::open(&config.state)? };
        let fetch =
            FetchConfig::from_env().map_err(|message| Error::Config { path: "WXSEC_ORIGIN".into(), message })?;
        let fetcher = Fetcher::new(FetchConfig {
            timeout: config.timeout,
            connect_timeout: config.timeout.min(fetch.connect_timeout),
            image_allow: config.image_allow.clone(),
            delay: config.delay,
            jitter: config.jitter,
            ..fetch
        })?;
        // WeChat asked this host for less in an earlier run (429, 503): its pause and wider
        // spacing hold until the cool-down after that answer has passed.
        let now = unix_ms();
        let limits = state.host_state(state.host())?;
        if limits.pause_until_ms > now {
            let left = Duration::from_millis((limits.pause_until_ms - now) as u64);
            fetcher.limiter().with(|l| l.pause_until(WECHAT_HOST, std::time::Instant::now() + left));
        }
        if limits.interval_ms > 0 && limits.slow_until_ms > now {
            let wider = Duration::from_millis(limits.interval_ms as u64).max(config.delay);
            fetcher.limiter().with(|l| l.set_interval(WECHAT_HOST, wider));
        }
        let localiser = Localiser::new(&config.out, fetcher.clone(), config.image_delay);
        let weread = config.weread_cookie_file.as_deref().map(|path| {
            fetcher.limiter().with(|l| l.set_interval(crate::fetch::api::WEREAD_HOST, config.weread_delay));
            let client = weread::Weread::new(fetcher.clone(), path);
            if client.file().readable_by_others() {
                tracing::warn!(
                    file = %path.display(),
                    "the WeRead cookie file can be read by other users of this machine: chmod 600 it"
                );
            }
            client
        });
        Ok(Crawl { config, state, fetcher, localiser, weread, _lock: lock })
    }

    /// The state, for `status` and tests.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Where records are written before their rename: one folder per host when hosts share
    /// the records' folder, since each run clears its own.
    fn tmp_dir(&self) -> std::path::PathBuf {
        if self.state.is_shared() {
            self.config.out.join(".wxsec").join(format!("tmp-{}", file_safe(self.state.host())))
        } else {
            self.config.out.join(".wxsec/tmp")
        }
    }

    /// Runs, and tells the state whether this host is at work (for `status`), whatever the
    /// outcome.
    pub async fn run(&mut self, opts: &RunOptions, event: impl FnMut(Event)) -> Result<CrawlSummary> {
        if opts.dry_run {
            return self.run_inner(opts, event).await;
        }
        self.state.host_seen(self.state.host(), unix_ms(), true)?;
        let result = self.run_inner(opts, event).await;
        let seen = self.state.host_seen(self.state.host(), unix_ms(), false);
        let summary = result?;
        seen?;
        Ok(summary)
    }

    /// Polls the sources, then fetches what is due.
    async fn run_inner(&mut self, opts: &RunOptions, mut event: impl FnMut(Event)) -> Result<CrawlSummary> {
        let mut summary = CrawlSummary::default();
        // Scraps of a write a killed run left behind; the lock says no other run is writing.
        if !opts.dry_run {
            let tmp = self.tmp_dir();
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(&tmp).map_err(|source| Error::Write { path: tmp.clone(), source })?;
        }

        let now = unix_now();
        let blocked_until = blocked_until(&self.state)?;
        let mut wechat_blocked = blocked_until.is_some();
        if let Some(t) = blocked_until {
            summary.blocked_until = Some(rfc3339_ms(t));
        }

        let (sources, lists_failed) = self.expand_lists(opts, |e| event(Event::Warn(e))).await?;
        summary.source_errors += lists_failed;
        let lease = ms(self.config.lease);
        for source in &sources {
            // A source is polled by one host at a time; the others go on with the queue.
            if !opts.dry_run && !self.state.claim_source(source.name(), lease)? {
                tracing::info!(source = source.name(), "another host is polling it");
                continue;
            }
            let Polled { urls: found, articles, validators, kept } = match self.poll(source, opts, wechat_blocked).await
            {
                Ok(polled) => polled,
                Err(e @ Error::Write { .. }) | Err(e @ Error::State { .. }) => return Err(e),
                Err(e) => {
                    if !opts.dry_run {
                        self.state.release_source(source.name())?;
                        self.state.source_outcome(source.name(), source.kind(), Some(&e.to_string()), now)?;
                    }
                    if poll::is_verify(&e) {
                        if !opts.dry_run {
                            self.trip_breaker(&mut summary)?;
                        }
                        wechat_blocked = true;
                        continue;
                    }
                    if let Error::LoginExpired { path, .. } = &e {
                        summary.login_expired = Some(path.display().to_string());
                    }
                    summary.source_errors += 1;
                    event(Event::Warn(&e));
                    continue;
                }
            };
            summary.discovered += kept;
            tracing::info!(source = source.name(), addresses = found.len(), whole = articles.len(), "polled");
            let (found, bad): (Vec<String>, Vec<String>) = found.into_iter().partition(|u| State::key_for(u).is_some());
            for target in bad {
                event(Event::Warn(&Error::BadTarget { target: format!("{}: {target}", source.name()) }));
            }
            if opts.dry_run {
                let mut brings = 0;
                for url in found {
                    let request = State::key_for(&url).map(|(_, r)| r).unwrap_or(url);
                    if !self.state.knows(&request)? && !summary.would_fetch.contains(&request) {
                        summary.would_fetch.push(request);
                        brings += 1;
                    }
                }
                summary.would_bring.insert(source.name().to_string(), brings + articles.len());
                for (url, _) in articles {
                    let known = State::key_for(&url).map(|(k, _)| self.state.is_done(&k)).transpose()?;
                    if known != Some(true) && !summary.would_write.contains(&url) {
                        summary.would_write.push(url);
                    }
                }
                continue;
            }
            let added = self.state.batch(|s| {
                let mut added = 0;
                for url in &found {
                    added += usize::from(s.discover(url, source.name(), 0, now)?);
                }
                Ok(added)
            })?;
            summary.discovered += added;
            summary.skipped += found.len() - added;
            self.state.count_found(source.name(), source.kind(), added)?;
            let mut all_written = true;
            for (url, article) in articles {
                match self.write_from_feed(&url, article, source.name(), &mut summary, &mut event).await {
                    Ok(outcome) => {
                        tracing::info!(url, outcome, "article written from its feed item");
                        event(Event::Article { url: &url, outcome })
                    }
                    Err(e @ Error::Write { .. }) | Err(e @ Error::State { .. }) => return Err(e),
                    Err(e) => {
                        all_written = false;
                        event(Event::Warn(&e))
                    }
                }
            }
            // The validators only once everything the feed gave is kept: otherwise the next
            // poll's "304 Not Modified" would hide what this run did not keep.
            let (etag, last_modified) = if all_written { validators } else { (None, None) };
            self.state.polled(source.name(), etag.as_deref(), last_modified.as_deref(), now)?;
            self.state.source_outcome(source.name(), source.kind(), None, now)?;
        }
        if opts.dry_run {
            for row in self.state.due(unix_ms(), usize::MAX >> 1)? {
                if !summary.would_fetch.contains(&row.url) {
                    summary.would_fetch.push(row.url);
                }
            }
            return Ok(summary);
        }

        let mut fetched = 0usize;
        let mut followed = 0u32;
        // Articles whose last attempt this run failed: a retry that succeeds within the run
        // takes its article off the list.
        let mut failing: std::collections::HashSet<String> = std::collections::HashSet::new();
        let limit = opts.limit.unwrap_or(usize::MAX);
        let queued = self.state.due_count(unix_ms())?.min(limit);
        event(Event::Queue(queued));
        let deadline = std::time::Instant::now() + self.config.max_wait;
        while !wechat_blocked && fetched < limit {
            let now = unix_ms();
            // One article at a time, under a lease: hosts sharing the state never fetch the
            // same article, and one killed mid-run lets go of it when its lease runs out.
            let Some(row) = self.state.claim(now, lease)? else {
                let next = self.state.next_due()?;
                // Claimable this instant after all (another host let go of it meanwhile).
                if self.state.is_shared() && next.is_some_and(|t| t <= now) {
                    continue;
                }
                // Retries that fall due soon, and articles other hosts hold or are still
                // finding, are waited for; later ones are the next run's.
                let wait = match next {
                    Some(t) => Some(Duration::from_millis((t - now).max(0) as u64)),
                    None if self.state.sources_busy()? => Some(Duration::from_millis(200)),
                    None => None,
                };
                match wait {
                    Some(wait) if std::time::Instant::now() + wait <= deadline => {
                        tokio::time::sleep(wait.clamp(Duration::from_millis(50), Duration::from_secs(1))).await;
                        continue;
                    }
                    _ => break,
                }
            };
            fetched += 1;
            match self.fetch_one(&row, &mut summary, &mut followed, &mut event).await {
                Ok(outcome) => {
                    tracing::info!(url = row.url, outcome, "article");
                    failing.remove(&row.key);
                    event(Event::Article { url: &row.url, outcome })
                }
                Err(e @ Error::Write { .. }) | Err(e @ Error::State { .. }) => return Err(e),
                Err(Error::NotArticle { kind: PageKind::Verify, .. }) => {
                    // Not this article's fault: it goes back to the queue, for another host
                    // or for this one after its cool-down.
                    self.state.release(&row.key)?;
                    self.trip_breaker(&mut summary)?;
                    wechat_blocked = true;
                    event(Event::Article { url: &row.url, outcome: "blocked" });
                }
                Err(e) => {
                    tracing::info!(url = row.url, attempt = row.attempts + 1, error = %e, "article failed");
                    failing.insert(row.key.clone());
                    event(Event::Warn(&e));
                    event(Event::Article { url: &row.url, outcome: "failed" });
                }
            }
        }
        if wechat_blocked {
            // Count what stays waiting: no more requests to WeChat from this host this run.
            summary.blocked = self.state.due_count(i64::MAX)?;
        }
        self.remember_slowdown()?;
        summary.failed = failing.len();
        let feeds_dir = self.config.out.join("feeds");
        if self.config.write_feeds && (summary.new + summary.updated > 0 || !feeds_dir.join("all.atom").exists()) {
            let opts = crate::feed::FeedOptions {
                root: self.config.out.clone(),
                dest: feeds_dir,
                entries: self.config.feed_entries,
                base_url: None,
            };
            summary.feeds = crate::feed::write_feeds(&self.state, &opts)?.feeds;
        }
        Ok(summary)
    }

    /// `row` turned out to be another address of `canonical`, whose record is on disk.
    fn already_archived(&self, row: &state::Row, canonical: &str, summary: &mut CrawlSummary) -> Result<&'static str> {
        self.state.alias(&row.key, canonical)?;
        summary.skipped += 1;
        Ok("already archived")
    }

    /// This host leaves WeChat alone for the cool-down; other hosts of a shared state go on.
    fn trip_breaker(&self, summary: &mut CrawlSummary) -> Result<()> {
        let until = unix_ms() + ms(self.config.cooldown);
        self.state.set_host(self.state.host(), HostField::BlockedUntil, until)?;
        summary.blocked_until = Some(rfc3339_ms(until));
        Ok(())
    }

    /// Keeps WeChat's request for less (a pause, a wider spacing) in the state for later runs.
    fn remember_slowdown(&self) -> Result<()> {
        let now = unix_ms();
        let (paused, interval) =
            self.fetcher.limiter().with(|l| (l.paused_until(WECHAT_HOST), l.interval(WECHAT_HOST)));
        let host = self.state.host();
        if let Some(until) = paused {
            let left = until.saturating_duration_since(std::time::Instant::now());
            self.state.set_host(host, HostField::PauseUntil, now + ms(left))?;
        }
        if interval > self.config.delay {
            self.state.set_host(host, HostField::Interval, ms(interval))?;
            self.state.set_host(host, HostField::SlowUntil, now + ms(self.config.cooldown))?;
        }
        Ok(())
    }
}

fn rfc3339(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|d| d.to_rfc3339()).unwrap_or_default()
}

fn rfc3339_ms(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// Until when (Unix milliseconds) this host leaves WeChat alone, if it still does.
fn blocked_until(state: &State) -> Result<Option<i64>> {
    let now = unix_ms();
    Ok(Some(state.host_state(state.host())?.blocked_until_ms).filter(|t| *t > now))
}

/// A host's name as part of a file name.
fn file_safe(name: &str) -> String {
    name.chars().map(|c| if c.is_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}
