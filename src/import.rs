//! The `import` job: targets in, records out, one target's failure never stopping the others.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::archive::{State, index};
use crate::assets::{Failed, Images, Localiser};
use crate::error::Result;
use crate::extract::{Known, extract_with};
use crate::fetch::kept::Kept;
use crate::fetch::{FetchConfig, FetchedPage, Fetcher, Target};
use crate::page::PageKind;
use crate::record::Record;
use crate::store::{self, Format};

/// Settings of one import run.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// The archive folder.
    pub out: PathBuf,
    /// Markdown records or JSON objects.
    pub format: Format,
    /// HTTP settings.
    pub fetch: FetchConfig,
    /// Security entities in the Markdown front matter too.
    pub extra_fields: bool,
    /// Remote image links, or images downloaded into `assets/`.
    pub images: Images,
    /// Spacing of requests to each image host.
    pub image_delay: Duration,
    /// The state file holding the search index (`OUT/.wxsec/state.sqlite`); `None`: no index.
    pub index: Option<PathBuf>,
    /// The account of saved pages that name none (`--source`).
    pub source: Option<String>,
}

/// One record written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The record file.
    pub path: PathBuf,
    /// The article's address as the record gives it (`""` when the page named none).
    pub url: String,
    /// The record's title.
    pub title: String,
    /// Images that kept their remote link (with `--images local`).
    pub failed_images: Vec<Failed>,
}

/// The record of a page; a bug met on the way is an error of this page alone.
pub fn read_page(page: &FetchedPage) -> Result<Record> {
    read_page_with(page, &Known::default())
}

/// The record of a page, with what is known of it from outside (a `meta.json` beside a saved
/// page, the account given).
pub fn read_page_with(page: &FetchedPage, known: &Known) -> Result<Record> {
    crate::error::guarded(&page.target, || Ok(Record::new(extract_with(page, known)?, page.fetched_at)))
}

/// A saved page and what is known of it from outside.
fn read_file(path: &Path, max_body: usize, source: Option<&str>) -> Result<Record> {
    let page = FetchedPage::from_file(path, max_body)?;
    read_page_with(&page, &Known::for_file(path, source))
}

/// Turns a page into its record and writes it; returns the path written.
pub fn write_page(page: &FetchedPage, out: &Path, format: Format) -> Result<PathBuf> {
    let record = read_page(page)?;
    store::write_atomic(out, &store::relative_path(&record, format), &contents(&record, format, false))
}

/// The bytes of a record in a format.
pub fn contents(record: &Record, format: Format, extra_fields: bool) -> Vec<u8> {
    match format {
        Format::Markdown => record.to_markdown_with(extra_fields).into_bytes(),
        Format::Json => record.to_json().into_bytes(),
    }
}

/// Downloads a record's images (body and cover) and points the record at the local copies.
pub async fn localise_record(record: &mut Record, relative: &Path, localiser: &mut Localiser) -> Result<Vec<Failed>> {
    localise_record_kept(record, relative, localiser, &Kept::default()).await
}

/// As `localise_record`, the images the saved page kept (`kept`) taken from it, not fetched.
pub async fn localise_record_kept(
    record: &mut Record,
    relative: &Path,
    localiser: &mut Localiser,
    kept: &Kept,
) -> Result<Vec<Failed>> {
    let a = &mut record.article;
    let mut urls = crate::assets::image_urls(&a.body);
    if let Some(cover) = &a.cover
        && !urls.contains(cover)
    {
        urls.insert(0, cover.clone());
    }
    let (map, failed) = localiser.localise_kept(&urls, relative, kept).await?;
    a.body = crate::assets::rewrite(&a.body, &map);
    if let Some(local) = a.cover.as_ref().and_then(|c| map.get(c)) {
        a.cover = Some(local.clone());
    }
    Ok(failed)
}

/// Imports every target in order; calls `report` with each outcome once it is settled: a record
/// is reported written once it is durable on disk. Records of saved pages are made durable in
/// batches (one sync for many files); before a target that needs the network, everything
/// written so far is committed, so a slow or failing fetch never holds finished records back.
pub async fn run(
    targets: &[String],
    opts: &ImportOptions,
    mut report: impl FnMut(&str, &Result<Written>),
) -> Result<()> {
    // Built at the first target that needs the network: loading the TLS roots costs more than
    // importing a saved page.
    let mut fetcher: Option<Fetcher> = None;
    let mut localiser: Option<Localiser> = None;
    // Opened at the first record written: an import that writes nothing leaves no state file.
    let mut state: Option<State> = None;
    let stager = store::Stager::new(None)?;
    let mut batch = store::Batch::default();
    let mut pending: Vec<(String, Result<Written>)> = Vec::new();
    // After WeChat's verification page, nothing more is asked of it this run (as in `crawl`).
    let mut blocked: Option<String> = None;
    // Saved pages read and extracted ahead, on every core, by their place in `targets`.
    let mut ahead: std::collections::HashMap<usize, Result<Record>> = std::collections::HashMap::new();
    for (i, target) in targets.iter().enumerate() {
        let parsed = Target::parse(target);
        let is_url = matches!(parsed, Ok(Target::Url(_)));
        if let Some(first) = &blocked
            && is_url
        {
            let evidence =
                Some(format!("not asked: WeChat served its verification page for {first} earlier in this run"));
            let e = crate::Error::NotArticle { target: target.clone(), kind: PageKind::Verify, evidence };
            pending.push((target.clone(), Err(e)));
            continue;
        }
        let needs_network = is_url || opts.images == Images::Local;
        if needs_network || batch.is_full() {
            settle(&mut batch, state.as_ref(), &mut pending, &mut report);
        }
        if needs_network && fetcher.is_none() {
            let f = Fetcher::new(opts.fetch.clone())?;
            localiser = Some(Localiser::new(&opts.out, f.clone(), opts.image_delay));
            fetcher = Some(f);
        }
        // A web archive holds many pages: each is read and written in turn, as a target of its own.
        if let Ok(Target::File(path)) = &parsed
            && crate::fetch::warc::is_warc(path)
        {
            let mut w =
                Writer { opts, localiser: localiser.as_mut(), stager: &stager, state: &mut state, batch: &mut batch };
            archive_pages(path, target, &mut w, &mut pending).await;
            continue;
        }
        if !needs_network && matches!(parsed, Ok(Target::File(_))) && !ahead.contains_key(&i) {
            read_ahead(targets, i, opts.fetch.max_body, opts.source.as_deref(), &mut ahead);
        }
        let outcome = async {
            let record = match ahead.remove(&i) {
                Some(record) => record?,
                None => {
                    let known = Known { source: opts.source.clone(), ..Known::default() };
                    match parsed? {
                        Target::Url(url) => match &fetcher {
                            Some(f) => read_page_with(&f.fetch(target, &url).await?, &known)?,
                            None => unreachable!("the fetcher is built before the first address"),
                        },
                        Target::File(path) => read_file(&path, opts.fetch.max_body, opts.source.as_deref())?,
                        Target::Stdin => read_page_with(&FetchedPage::from_stdin(opts.fetch.max_body)?, &known)?,
                    }
                }
            };
            let page_file = match Target::parse(target) {
                Ok(Target::File(page)) => Some(page),
                _ => None,
            };
            let kept = match (&page_file, opts.images) {
                (Some(page), Images::Local) => Kept::of_file(page)?,
                _ => Kept::default(),
            };
            let mut w =
                Writer { opts, localiser: localiser.as_mut(), stager: &stager, state: &mut state, batch: &mut batch };
            w.write(record, page_file.as_deref(), &kept).await
        }
        .await;
        if let Err(crate::Error::NotArticle { kind: PageKind::Verify, .. }) = &outcome
            && is_url
        {
            blocked = Some(target.clone());
        }
        pending.push((target.clone(), outcome));
    }
    settle(&mut batch, state.as_ref(), &mut pending, &mut report);
    Ok(())
}

/// The article pages of a web archive, each written once (an article kept under two addresses
/// too); a broken archive keeps what came before it. What is no article is counted, not an error.
async fn archive_pages(path: &Path, target: &str, w: &mut Writer<'_>, pending: &mut Vec<(String, Result<Written>)>) {
    let mut pages = match crate::fetch::warc::Pages::open(path) {
        Ok(p) => p,
        Err(e) => return pending.push((target.to_string(), Err(e))),
    };
    let known = Known { source: w.opts.source.clone(), ..Known::default() };
    // The archive's own images, for every page of it: read before the pages, which may come
    // after their images or before them.
    let kept = match w.opts.images {
        Images::Local => match Kept::of_file(path) {
            Ok(k) => k,
            Err(e) => return pending.push((target.to_string(), Err(e))),
        },
        Images::Remote => Kept::default(),
    };
    let mut written = std::collections::HashSet::new();
    loop {
        let page = match pages.next_page(w.opts.fetch.max_body) {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) => {
                pending.push((target.to_string(), Err(e)));
                break;
            }
        };
        let outcome = match read_page_with(&page, &known) {
            Ok(record) if !written.insert(store::relative_path(&record, w.opts.format)) => {
                pages.counts.again += 1;
                continue;
            }
            Ok(record) => w.write(record, None, &kept).await,
            Err(e) => Err(e),
        };
        pending.push((page.target, outcome));
    }
    let c = &pages.counts;
    tracing::info!(
        target,
        records = c.records,
        pages = written.len(),
        again = c.again,
        other = c.other,
        "web archive read"
    );
}

/// Writes one record of a run: its images made local when asked, staged for the batch's commit,
/// and its index entry.
struct Writer<'a> {
    opts: &'a ImportOptions,
    localiser: Option<&'a mut Localiser>,
    stager: &'a store::Stager,
    state: &'a mut Option<State>,
    batch: &'a mut store::Batch,
}

impl Writer<'_> {
    /// `page_file` is the saved page the record was read from, whose own images come along:
    /// those beside it, and those it holds (`kept`).
    async fn write(&mut self, mut record: Record, page_file: Option<&Path>, kept: &Kept) -> Result<Written> {
        let opts = self.opts;
        let relative = store::relative_path(&record, opts.format);
        let failed_images = match (opts.images, self.localiser.as_deref_mut()) {
            (Images::Local, Some(l)) => localise_record_kept(&mut record, &relative, l, kept).await?,
            _ => Vec::new(),
        };
        // A saved page's own images, beside it (`./images/…`), come along into `assets/`.
        if opts.images == Images::Local
            && let Some(page) = page_file
        {
            let base = store::folder_of(page);
            let (body, _) = crate::assets::copy_saved_images(&record.article.body, base, &opts.out, &relative)?;
            record.article.body = body;
        }
        let bytes = contents(&record, opts.format, opts.extra_fields);
        let staged = self.stager.stage(&opts.out, &relative, &bytes)?;
        if let Some(file) = &opts.index {
            if self.state.is_none() {
                let s = State::open(file)?;
                s.begin()?;
                *self.state = Some(s);
            }
            if let Some(state) = self.state.as_ref() {
                let entry = index::Entry::of_record(&record, relative.to_string_lossy().into_owned(), &bytes);
                index::upsert(state, &entry)?;
            }
        }
        let path = staged.path().to_path_buf();
        self.batch.push(staged);
        Ok(Written { path, url: record.article.url(), title: record.article.title.clone(), failed_images })
    }
}

/// Reads and extracts the saved pages from `targets[from]` on (up to sixteen), on one thread per
/// core, each taking the next page when done with one: a page is in memory only while it is
/// read. Records and errors are kept by their place, to be written in order.
fn read_ahead(
    targets: &[String],
    from: usize,
    max_body: usize,
    source: Option<&str>,
    ahead: &mut std::collections::HashMap<usize, Result<Record>>,
) {
    let files: Vec<(usize, PathBuf)> = targets
        .iter()
        .enumerate()
        .skip(from)
        .map_while(|(i, t)| match Target::parse(t) {
            Ok(Target::File(path)) => Some((i, path)),
            _ => None,
        })
        .take(16)
        .collect();
    if files.len() < 2 {
        return;
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(files.len());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Vec::with_capacity(files.len()));
    std::thread::scope(|scope| {
        for _ in 0..cores {
            scope.spawn(|| {
                while let Some((i, path)) = files.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                    let record = read_file(path, max_body, source);
                    if let Ok(mut d) = done.lock() {
                        d.push((*i, record));
                    }
                }
            });
        }
    });
    // A page a thread could not hand over is read again, in order, by the caller.
    ahead.extend(done.into_inner().unwrap_or_default());
}

/// Commits the batch (the records, then the index entries naming them) and reports every
/// outcome held back; when the commit fails, the records it held are reported failed.
fn settle(
    batch: &mut store::Batch,
    state: Option<&State>,
    pending: &mut Vec<(String, Result<Written>)>,
    report: &mut impl FnMut(&str, &Result<Written>),
) {
    let committed = batch.commit().and_then(|_| match state {
        Some(s) => s.commit().and_then(|()| s.begin()),
        None => Ok(()),
    });
    for (target, outcome) in pending.drain(..) {
        match (&committed, outcome) {
            (Err(e), Ok(w)) => {
                let source = std::io::Error::other(format!("the record was not made durable: {e}"));
                report(&target, &Err(crate::Error::Write { path: w.path, source }));
            }
            (_, outcome) => {
                match &outcome {
                    Ok(w) => tracing::info!(target, path = %w.path.display(), "written"),
                    Err(e) => tracing::info!(target, error = %e, "not written"),
                }
                report(&target, &outcome)
            }
        }
    }
}
