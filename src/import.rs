//! The `import` job: targets in, records out, one target's failure never stopping the others.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::assets::{Failed, Images, Localiser};
use crate::crawl::state::State;
use crate::error::Result;
use crate::extract::extract;
use crate::fetch::{FetchConfig, FetchedPage, Fetcher, Target};
use crate::index;
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
}

/// One record written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The record file.
    pub path: PathBuf,
    /// Images that kept their remote link (with `--images local`).
    pub failed_images: Vec<Failed>,
}

/// Brings in the page of one target (`target` as given, `parsed` as [`Target::parse`] read it).
pub async fn load(target: &str, parsed: Target, fetcher: &Fetcher, max_body: usize) -> Result<FetchedPage> {
    match parsed {
        Target::Url(url) => fetcher.fetch(target, &url).await,
        Target::File(path) => FetchedPage::from_file(&path, max_body),
        Target::Stdin => FetchedPage::from_stdin(max_body),
    }
}

/// The record of a page; a bug met on the way is an error of this page alone.
pub fn read_page(page: &FetchedPage) -> Result<Record> {
    crate::error::guarded(&page.target, || Ok(Record::new(extract(page)?, page.fetched_at)))
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
    let a = &mut record.article;
    let mut urls = crate::assets::image_urls(&a.body);
    if let Some(cover) = &a.cover
        && !urls.contains(cover)
    {
        urls.insert(0, cover.clone());
    }
    let (map, failed) = localiser.localise(&urls, relative).await?;
    a.body = crate::assets::rewrite(&a.body, &map);
    if let Some(local) = a.cover.as_ref().and_then(|c| map.get(c)) {
        a.cover = Some(local.clone());
    }
    Ok(failed)
}

/// Imports every target in order; calls `report` with each outcome as it happens.
pub async fn run(
    targets: &[String],
    opts: &ImportOptions,
    mut report: impl FnMut(&str, &Result<Written>),
) -> Result<()> {
    let fetcher = Fetcher::new(opts.fetch.clone())?;
    // Opened at the first record written: an import that writes nothing leaves no state file.
    let mut state: Option<State> = None;
    let mut localiser = Localiser::new(&opts.out, fetcher.clone(), opts.image_delay);
    // After WeChat's verification page, nothing more is asked of it this run (as in `crawl`).
    let mut blocked: Option<String> = None;
    for target in targets {
        let parsed = Target::parse(target);
        let is_url = matches!(parsed, Ok(Target::Url(_)));
        if let Some(first) = &blocked
            && is_url
        {
            let evidence =
                Some(format!("not asked: WeChat served its verification page for {first} earlier in this run"));
            report(target, &Err(crate::Error::NotArticle { target: target.clone(), kind: PageKind::Verify, evidence }));
            continue;
        }
        let outcome = async {
            let page = load(target, parsed?, &fetcher, opts.fetch.max_body).await?;
            let mut record = read_page(&page)?;
            let relative = store::relative_path(&record, opts.format);
            let failed_images = match opts.images {
                Images::Local => localise_record(&mut record, &relative, &mut localiser).await?,
                Images::Remote => Vec::new(),
            };
            let path = store::write_atomic(&opts.out, &relative, &contents(&record, opts.format, opts.extra_fields))?;
            if let Some(file) = &opts.index {
                if state.is_none() {
                    state = Some(State::open(file)?);
                }
                if let Some(state) = &state {
                    let entry = index::Entry::of_record(&record, relative.to_string_lossy().into_owned());
                    index::upsert(state, &entry)?;
                }
            }
            Ok(Written { path, failed_images })
        }
        .await;
        if let Err(crate::Error::NotArticle { kind: PageKind::Verify, .. }) = &outcome
            && is_url
        {
            blocked = Some(target.clone());
        }
        report(target, &outcome);
    }
    Ok(())
}
