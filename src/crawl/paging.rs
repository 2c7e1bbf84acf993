//! Walking a paged list of articles (an album, an account's WeRead list) page by page, newest
//! first. A source not yet walked goes to its end (or back to `--since`); a walked one stops at
//! the first page that brings nothing the state does not know. Each page's articles and the
//! position after it are kept together, so a kill mid-walk asks again at most the page in flight,
//! and any host of a shared state goes on where another stopped.

use crate::archive::State;
use crate::error::Result;

/// One article a list names.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// Its address.
    pub url: String,
    /// Another address it may have, tried when the first answers no article.
    pub alternate: Option<String>,
    /// When the list says it was published (Unix seconds).
    pub published: Option<i64>,
}

/// One page of a list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// Its articles, newest first.
    pub items: Vec<Listed>,
    /// Where the next page starts; `None` at the end of the list.
    pub next: Option<String>,
}

/// How one walk goes.
pub struct Walk<'a> {
    /// The state (read only in a dry run).
    pub state: &'a State,
    /// The source's name and kind.
    pub name: &'a str,
    /// `album` or `weread`.
    pub kind: &'a str,
    /// List and keep nothing.
    pub dry_run: bool,
    /// Walk every page again (`crawl --backfill`).
    pub backfill: bool,
    /// Articles published before this day (China time) end the walk.
    pub since: Option<chrono::NaiveDate>,
    /// Lease to renew at each page (a shared state), in ms.
    pub lease: i64,
}

/// What a walk found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Walked {
    /// Pages asked.
    pub pages: usize,
    /// In a dry run, the addresses the state does not know (listed, not kept).
    pub new: Vec<String>,
    /// Addresses the state did not know, kept.
    pub kept: usize,
}

/// More pages than any real list has: a list that never ends is a fault, not an archive.
const MAX_PAGES: usize = 20_000;

/// A walk under way: ask [`Walking::next_page`] for the page to fetch, hand the page to
/// [`Walking::keep`], until `next` says the walk is over.
pub struct Walking<'a> {
    walk: &'a Walk<'a>,
    to_the_end: bool,
    cursor: Option<String>,
    over: bool,
    since: Option<i64>,
    now: i64,
    found: Walked,
}

impl<'a> Walk<'a> {
    /// Starts from where the source stands (its first page, or the page a stopped walk left).
    pub fn start(&'a self) -> Result<Walking<'a>> {
        let mut paging = self.state.paging(self.name)?;
        if self.backfill {
            if !self.dry_run {
                self.state.walk_again(self.name)?;
            }
            paging = crate::archive::Paging::default();
        }
        let since = self
            .since
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_local_timezone(crate::record::china_time()).single().map_or(i64::MIN, |t| t.timestamp()));
        Ok(Walking {
            walk: self,
            to_the_end: !paging.walked,
            cursor: paging.cursor,
            over: false,
            since,
            now: chrono::Utc::now().timestamp(),
            found: Walked::default(),
        })
    }
}

impl Walking<'_> {
    /// The page to ask next (`Some(None)` is the first page), or `None` when the walk is over.
    pub fn next_page(&mut self) -> Result<Option<Option<String>>> {
        if self.over || self.found.pages >= MAX_PAGES {
            return Ok(None);
        }
        let w = self.walk;
        if self.found.pages > 0 && !w.dry_run && w.lease > 0 {
            // A long walk outlives one lease: it is renewed page by page.
            w.state.claim_source(w.name, w.lease)?;
        }
        Ok(Some(self.cursor.clone()))
    }

    /// Keeps one page: its new addresses discovered with the position after it, in one
    /// transaction (in a dry run only listed), and decides whether the walk goes on.
    pub fn keep(&mut self, page: Page) -> Result<()> {
        let w = self.walk;
        self.found.pages += 1;
        let since = self.since;
        let before_since = |i: &Listed| since.is_some_and(|s| i.published.is_some_and(|p| p < s));
        let reached_since = page.items.iter().any(before_since);
        let items: Vec<(String, Option<String>)> =
            page.items.iter().filter(|i| !before_since(i)).map(|i| (i.url.clone(), i.alternate.clone())).collect();
        // The position does not move: the list answers the same page again.
        let stuck = page.next.is_some() && page.next == self.cursor;
        let end = page.next.is_none() || reached_since || stuck;
        let mut added = 0;
        if w.dry_run {
            for (url, _) in &items {
                let request = State::key_for(url).map(|(_, r)| r).unwrap_or_else(|| url.clone());
                if !w.state.knows(&request)? && !self.found.new.contains(&request) {
                    self.found.new.push(request);
                    added += 1;
                }
            }
        } else {
            added = w.state.keep_page(w.name, w.kind, &items, page.next.as_deref().filter(|_| !end), self.now)?;
            self.found.kept += added;
        }
        tracing::info!(source = w.name, page = self.found.pages, items = items.len(), new = added, "list page");
        if stuck {
            tracing::warn!(source = w.name, "the list answered the same page again; its walk ends there");
        }
        if end || (!self.to_the_end && added == 0) {
            if !w.dry_run {
                w.state.walk_done(w.name)?;
            }
            self.over = true;
        }
        self.cursor = page.next;
        Ok(())
    }

    /// What the walk found.
    pub fn found(self) -> Walked {
        self.found
    }
}
