//! One article of a run: fetched (or written from its feed item), its record written like
//! `import`'s, its row in the state moved on.

use std::path::Path;
use std::time::Duration;

use chrono::Utc;

use super::polite::backoff;
use super::sources;
use super::summary::{CrawlSummary, Event};
use super::{Crawl, ms, unix_ms, unix_now};
use crate::archive::{self as state, State, Status};
use crate::assets::Images;
use crate::error::{Error, Result};
use crate::extract::extract;
use crate::fetch::Fetched;
use crate::page::PageKind;
use crate::record::Record;
use crate::store;

impl Crawl {
    /// Writes the record of a full-text feed item, unless its article is on disk already: the
    /// same record a fetched page gives, and not one request to WeChat.
    pub(super) async fn write_from_feed(
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
    pub(super) async fn fetch_one(
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
    pub(super) async fn write_record(
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
