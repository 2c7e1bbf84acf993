//! The `import` job: targets in, records out, one target's failure never stopping the others.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::extract::extract;
use crate::fetch::{FetchConfig, FetchedPage, Fetcher, Target};
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
}

/// Brings in the page of one target.
pub async fn load(target: &str, fetcher: &Fetcher, max_body: usize) -> Result<FetchedPage> {
    match Target::parse(target)? {
        Target::Url(url) => fetcher.fetch(target, &url).await,
        Target::File(path) => FetchedPage::from_file(&path, max_body),
        Target::Stdin => FetchedPage::from_stdin(max_body),
    }
}

/// Turns a page into its record and writes it; returns the path written.
pub fn write_page(page: &FetchedPage, out: &Path, format: Format) -> Result<PathBuf> {
    let article = extract(page)?;
    let record = Record::new(article, page.fetched_at);
    let contents = match format {
        Format::Markdown => record.to_markdown(),
        Format::Json => record.to_json(),
    };
    store::write_atomic(out, &store::relative_path(&record, format), contents.as_bytes())
}

/// Imports every target in order; calls `report` with each outcome as it happens.
pub async fn run(
    targets: &[String],
    opts: &ImportOptions,
    mut report: impl FnMut(&str, &Result<PathBuf>),
) -> Result<()> {
    let fetcher = Fetcher::new(opts.fetch.clone())?;
    for target in targets {
        let outcome = match load(target, &fetcher, opts.fetch.max_body).await {
            Ok(page) => write_page(&page, &opts.out, opts.format),
            Err(e) => Err(e),
        };
        report(target, &outcome);
    }
    Ok(())
}
