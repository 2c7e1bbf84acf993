//! Polling one source: a file of addresses, a feed, an album walked page by page, an account's
//! WeRead list, and the feeds an OPML list names.

use std::time::Duration;

use super::config::Source;
use super::paging::Walk;
use super::{Crawl, RunOptions, album, opml, sources};
use crate::archive::State;
use crate::article::WECHAT_HOST;
use crate::error::{Error, Result};
use crate::fetch::FeedResponse;
use crate::page::PageKind;

/// What polling a source found.
#[derive(Default)]
pub(super) struct Polled {
    /// Article addresses to fetch.
    pub urls: Vec<String>,
    /// Articles a full-text feed carried whole, with their item's address.
    pub articles: Vec<(String, crate::article::Article)>,
    /// A feed's `ETag` and `Last-Modified`: kept only once what the feed gave is in the state, so
    /// that a run killed in between asks for the whole feed again instead of hearing "304".
    pub validators: (Option<String>, Option<String>),
    /// Addresses a paged source kept itself, page by page (not in `urls`).
    pub kept: usize,
}

impl Crawl {
    /// The configured sources with each OPML list replaced by its feeds (read anew every run:
    /// an outline removed from the list is no longer polled). A list that cannot be read is
    /// reported and counted; the other sources go on.
    pub(super) async fn expand_lists(
        &mut self,
        opts: &RunOptions,
        mut warn: impl FnMut(&Error),
    ) -> Result<(Vec<Source>, usize)> {
        let mut out: Vec<Source> = Vec::new();
        let mut failed = 0;
        let now = chrono::Utc::now().timestamp();
        for source in self.config.sources.clone() {
            let Source::Opml { name, location, full_text, account } = &source else {
                out.push(source);
                continue;
            };
            match self.read_list(location).await {
                Ok(outlines) => {
                    if !opts.dry_run {
                        self.state.source_outcome(name, "opml", None, now)?;
                    }
                    for o in outlines {
                        if super::config::check_http(&o.url).is_err() {
                            continue;
                        }
                        let mut feed_name = o.name.clone();
                        if out.iter().any(|s| s.name() == feed_name) {
                            feed_name = format!("{} ({})", o.name, o.url);
                        }
                        if out.iter().any(|s| matches!(s, Source::Feed { url, .. } if *url == o.url)) {
                            continue;
                        }
                        out.push(Source::Feed {
                            name: feed_name,
                            url: o.url,
                            full_text: *full_text,
                            account: account.clone(),
                        });
                    }
                }
                Err(e) => {
                    if !opts.dry_run {
                        self.state.source_outcome(name, "opml", Some(&e.to_string()), now)?;
                    }
                    failed += 1;
                    warn(&e);
                }
            }
        }
        Ok((out, failed))
    }

    /// An OPML list's feeds, from a file or an http(s) address.
    async fn read_list(&mut self, location: &str) -> Result<Vec<opml::Outline>> {
        if location.starts_with("http://") || location.starts_with("https://") {
            let host =
                url::Url::parse(location).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
            self.fetcher.limiter().with(|l| l.set_interval(&host, self.config.feed_delay));
            match self.fetcher.fetch_feed(location, None, None).await? {
                FeedResponse::Body { bytes, .. } => opml::outlines(&bytes, location),
                FeedResponse::NotModified => Ok(Vec::new()),
            }
        } else {
            let path = std::path::Path::new(location);
            let bytes = std::fs::read(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })?;
            opml::outlines(&bytes, location)
        }
    }

    /// Polls one source; returns the article addresses it lists, and the articles a full-text
    /// feed carries whole. A paged source keeps what it finds page by page itself.
    pub(super) async fn poll(&mut self, source: &Source, opts: &RunOptions, wechat_blocked: bool) -> Result<Polled> {
        match source {
            Source::Urls { path, .. } => Ok(Polled { urls: sources::read_urls(path)?, ..Polled::default() }),
            Source::Feed { name, url, full_text, account } => {
                let host = url::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
                if host != WECHAT_HOST {
                    self.fetcher.limiter().with(|l| l.set_interval(&host, self.config.feed_delay));
                }
                let (etag, modified) = self.state.source_validators(name)?;
                match self.fetcher.fetch_feed(url, etag.as_deref(), modified.as_deref()).await? {
                    FeedResponse::NotModified => Ok(Polled::default()),
                    FeedResponse::Body { bytes, etag, last_modified } => {
                        let doc = sources::feed_doc(&bytes, url)?;
                        let mut polled = Polled { validators: (etag, last_modified), ..Polled::default() };
                        for item in doc.items.iter().filter(|i| sources::since_ok(i, opts.since)) {
                            // An item without the whole article, or whose account is not known,
                            // is fetched from WeChat as any address is.
                            let article = item.full.as_ref().filter(|_| *full_text).and_then(|full| {
                                let account = account.clone().or_else(|| doc.account_of(full))?;
                                crate::extract::from_feed_item(
                                    &item.url,
                                    &full.title,
                                    &account,
                                    item.published,
                                    &full.html,
                                )
                            });
                            match article {
                                Some(a) => polled.articles.push((item.url.clone(), a)),
                                None => polled.urls.push(item.url.clone()),
                            }
                        }
                        Ok(polled)
                    }
                }
            }
            Source::Album { name, url } => {
                if wechat_blocked {
                    return Ok(Polled::default());
                }
                let (biz, album_id) = album::album_of(url).ok_or_else(|| Error::BadTarget { target: url.clone() })?;
                let walk = walk(&self.state, self.config.lease, name, "album", opts);
                let mut walking = walk.start()?;
                while let Some(cursor) = walking.next_page()? {
                    walking.keep(album::fetch_page(&self.fetcher, url, &biz, &album_id, cursor.as_deref()).await?)?;
                }
                Ok(walked(walking.found()))
            }
            Source::Weread { name, book_id } => {
                let Some(client) = self.weread.as_mut() else {
                    return Err(Error::Config {
                        path: "weread_cookie_file".into(),
                        message: "a weread source needs weread_cookie_file".to_string(),
                    });
                };
                let walk = walk(&self.state, self.config.lease, name, "weread", opts);
                let mut walking = walk.start()?;
                while let Some(cursor) = walking.next_page()? {
                    let offset = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
                    walking.keep(client.page(name, book_id, offset).await?)?;
                }
                Ok(walked(walking.found()))
            }
            Source::Opml { .. } => Ok(Polled::default()),
        }
    }
}

/// A walk of one paged source by this run.
fn walk<'a>(state: &'a State, lease: Duration, name: &'a str, kind: &'a str, opts: &RunOptions) -> Walk<'a> {
    Walk {
        state,
        name,
        kind,
        dry_run: opts.dry_run,
        backfill: opts.backfill,
        since: opts.since,
        lease: if state.is_shared() { super::ms(lease) } else { 0 },
    }
}

/// What a walk found, as a poll's result: in a dry run the addresses to list, otherwise the
/// count it kept.
fn walked(walked: super::paging::Walked) -> Polled {
    Polled { urls: walked.new, kept: walked.kept, ..Polled::default() }
}

/// Whether a poll failed for WeChat's verification page (the crawl's breaker trips).
pub(super) fn is_verify(e: &Error) -> bool {
    matches!(e, Error::NotArticle { kind: PageKind::Verify, .. })
}
