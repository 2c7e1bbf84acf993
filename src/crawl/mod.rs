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
pub mod weread;

use std::path::Path;
use std::time::Duration;

use chrono::{NaiveDate, Utc};
use serde::Serialize;

use crate::archive::{self as state, HostField, HostStatus, State, Status};
use crate::article::WECHAT_HOST;
use crate::assets::{Images, Localiser};
use crate::error::{Error, ExitCode, Result};
use crate::extract::extract;
use crate::fetch::{FetchConfig, Fetched, Fetcher};
use crate::page::PageKind;
use crate::record::Record;
use crate::store;
use config::CrawlConfig;
use polite::{Lock, backoff, lock_path};
use poll::Polled;

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

    /// Writes the record of a full-text feed item, unless its article is on disk already: the
    /// same record a fetched page gives, and not one request to WeChat.
    async fn write_from_feed(
        &mut self,
        url: &str,
        article: crate::article::Article,
        source: &str,
        summary: &mut CrawlSummary,
        event: &mut impl FnMut(Event),
    ) -> Result<&'static str> {
        let Some((key, request)) = State::key_for(url) else {
            return Err(Error::BadTarget { target: url.to_string() });
        };
        let canonical = article.id.as_ref().map(state::id_key).unwrap_or_else(|| key.clone());
        if self.state.is_done(&key)? || self.state.is_done(&canonical)? {
            summary.skipped += 1;
            return Ok("already archived");
        }
        let now = unix_now();
        summary.discovered += usize::from(self.state.discover(url, source, 0, now)?);
        let row = state::Row {
            key,
            url: request,
            status: "pending".to_string(),
            attempts: 0,
            depth: 0,
            record_path: None,
            content_hash: None,
            replace_path: None,
        };
        let mut followed = 0;
        self.write_record(&row, Record::new(article, Utc::now()), summary, &mut followed, event).await
    }

    /// Fetches one article and records the outcome; returns a word for the log.
    async fn fetch_one(
        &mut self,
        row: &state::Row,
        summary: &mut CrawlSummary,
        followed: &mut u32,
        event: &mut impl FnMut(Event),
    ) -> Result<&'static str> {
        let now = unix_now();
        let Ok(target) = url::Url::parse(&row.url) else {
            self.state.finish(&row.key, Status::GaveUp, "not an address", now)?;
            summary.gave_up += 1;
            return Ok("gave-up");
        };
        // A short link that leads to an article already on disk is not followed to it.
        let state = &self.state;
        let repair = row.replace_path.is_some();
        let known = |u: &url::Url| {
            !repair && State::key_for(u.as_str()).is_some_and(|(k, _)| state.is_done(&k).unwrap_or(false))
        };
        let fetched = match self.fetcher.fetch_until(&row.url, &target, &known).await {
            Ok(Fetched::Known(at)) => {
                let canonical = State::key_for(at.as_str()).map(|(k, _)| k).unwrap_or_default();
                return self.already_archived(row, &canonical, summary);
            }
            Ok(Fetched::Page(page)) => Ok(page),
            Err(e) => Err(e),
        };
        let result =
            fetched.and_then(|page| crate::error::guarded(&row.url, || extract(&page)).map(|a| (a, page.fetched_at)));
        // A short link answering with the page itself: the page names the article.
        if let Ok((article, _)) = &result
            && let Some(id) = &article.id
            && !repair
        {
            let canonical = state::id_key(id);
            if canonical != row.key && self.state.is_done(&canonical)? {
                return self.already_archived(row, &canonical, summary);
            }
        }
        let (article, fetched_at) = match result {
            Ok(x) => x,
            Err(Error::NotArticle { kind: PageKind::Verify, target, evidence }) => {
                return Err(Error::NotArticle { target, kind: PageKind::Verify, evidence });
            }
            // An address a list gave in one of two spellings (WeRead's ids with `~`): the
            // other is asked before the article counts as gone.
            Err(
                e @ Error::NotArticle {
                    kind: PageKind::Deleted | PageKind::Removed | PageKind::Gone | PageKind::Unknown,
                    ..
                },
            ) if self.state.has_alternate(&row.key)? => {
                let alternate = self.state.take_alternate(&row.key)?.unwrap_or_default();
                self.state.finish(
                    &row.key,
                    Status::Removed,
                    &format!("{e}; its other address {alternate} is queued"),
                    now,
                )?;
                summary.discovered += usize::from(self.state.discover(&alternate, "alternate", row.depth, now)?);
                return Ok("other address queued");
            }
            Err(e @ Error::NotArticle { kind: PageKind::Deleted, .. }) => {
                self.state.finish(&row.key, Status::Deleted, &e.to_string(), now)?;
                summary.gone += 1;
                return Ok("deleted");
            }
            Err(e @ Error::NotArticle { kind: PageKind::Removed | PageKind::Gone, .. }) => {
                self.state.finish(&row.key, Status::Removed, &e.to_string(), now)?;
                summary.gone += 1;
                return Ok("removed");
            }
            Err(e) => {
                if matches!(e, Error::Status { status: 429 | 503, .. }) {
                    self.remember_slowdown()?;
                }
                let attempts = row.attempts + 1;
                // A blank answer is a failed response, not a page: tried again like one.
                let retry = e.is_retryable()
                    || matches!(
                        &e,
                        Error::NotArticle { kind: PageKind::Unavailable | PageKind::Error | PageKind::Empty, .. }
                    );
                if !retry || attempts >= i64::from(self.config.max_attempts) {
                    self.state.finish(&row.key, Status::GaveUp, &e.to_string(), now)?;
                    summary.gave_up += 1;
                } else {
                    let after = match &e {
                        Error::Status { retry_after: Some(s), .. } => Duration::from_secs(*s),
                        _ => Duration::ZERO,
                    };
                    let wait = after.max(backoff(self.config.retry_base, row.attempts));
                    self.state.retry_later(&row.key, &e.to_string(), unix_ms() + ms(wait))?;
                }
                return Err(e);
            }
        };
        self.write_record(row, Record::new(article, fetched_at), summary, followed, event).await
    }

    /// Writes an article's record for `row` and keeps the state and index with it; returns a
    /// word for the log.
    async fn write_record(
        &mut self,
        row: &state::Row,
        mut record: Record,
        summary: &mut CrawlSummary,
        followed: &mut u32,
        event: &mut impl FnMut(Event),
    ) -> Result<&'static str> {
        let now = unix_now();
        // The hash is of the article as WeChat serves it, before its images are made local.
        let hash = format!("{:016x}", store::fnv1a(record.body_markdown().as_bytes()));
        // A repair writes over the broken file it was queued for; otherwise the usual place.
        let relative = match row.replace_path.as_deref() {
            Some(p) => std::path::PathBuf::from(p),
            None => store::relative_path(&record, self.config.format),
        };
        if self.config.images == Images::Local {
            let failed = crate::import::localise_record(&mut record, &relative, &mut self.localiser).await?;
            summary.images_failed += failed.len();
            for f in &failed {
                let e = Error::Network {
                    url: f.url.clone(),
                    message: format!("{} (image kept its remote link)", f.error),
                    timeout: false,
                };
                event(Event::Warn(&e));
            }
        }
        // A repaired file was a Markdown record and stays one, whatever this crawl writes.
        let format = if row.replace_path.is_some() { store::Format::Markdown } else { self.config.format };
        let contents = crate::import::contents(&record, format, self.config.extra_fields);
        if relative.is_absolute() {
            let dir = relative.parent().unwrap_or(Path::new("/"));
            let name = relative.file_name().map(Path::new).unwrap_or(Path::new("record.md"));
            store::write_atomic(dir, name, &contents)?;
        } else {
            store::write_atomic_via(&self.config.out, &relative, &contents, &self.tmp_dir())?;
        }
        let indexed = crate::archive::index::index_path(&self.config.out, &self.config.out.join(&relative));
        let entry = crate::archive::index::Entry::of_record(&record, indexed.clone(), &contents);
        crate::archive::index::upsert(&self.state, &entry)?;
        let outcome = match &row.content_hash {
            None => {
                summary.new += 1;
                "new"
            }
            Some(old) if *old != hash => {
                summary.updated += 1;
                "updated"
            }
            Some(_) => {
                summary.skipped += 1;
                "unchanged"
            }
        };
        self.state.done(row, record.id(), &indexed, &hash, now)?;
        // Other articles of the same account that this one links to.
        if (row.depth as u32) < self.config.follow_depth
            && let Some(id) = record.id()
        {
            let links = sources::article_links(&record.article.body);
            for link in sources::same_account(&links, &id.biz) {
                if *followed >= self.config.follow_max {
                    break;
                }
                if self.state.discover(link, "follow", row.depth + 1, now)? {
                    *followed += 1;
                    summary.discovered += 1;
                }
            }
        }
        Ok(outcome)
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
        return Err(Error::State {
            path: state_path.to_path_buf(),
            message: "no state file yet: run `wxsec crawl` first".to_string(),
        });
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
