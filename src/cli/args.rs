//! Arguments several commands share: what is written beside a record's text, and where the
//! archive and its state are.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use wxsec::assets::Images;
use wxsec::crawl::config::CrawlSettings;

use super::config::load_settings;

/// What `import` and `normalise` write beyond the record's text.
#[derive(clap::Args)]
pub struct ExtrasArgs {
    /// Write the security entities (CVE, CNVD, CNNVD, GHSA, ATT&CK, CVSS) into the front matter
    /// too, after the five standard keys (JSON records, `import --format json`, always have them).
    #[arg(long)]
    pub extra_fields: bool,
    /// Images: keep WeChat's links, or download them once into the archive's assets/ folder and
    /// link there (a failed image keeps its link and is reported).
    #[arg(long, value_enum, default_value_t = Images::Remote)]
    pub images: Images,
    /// Seconds between requests to an image host (the crawl's default too).
    #[arg(long, default_value_t = 1.0)]
    pub image_delay: f64,
    /// A host images may be downloaded from although it is not a public address (loopback,
    /// private, link-local); repeatable. Without it such hosts are refused.
    #[arg(long = "allow-image-host", value_name = "HOST")]
    pub allow_image_hosts: Vec<String>,
}

impl ExtrasArgs {
    /// The spacing between two requests to one image host.
    pub fn image_delay(&self) -> Duration {
        Duration::from_secs_f64(self.image_delay.clamp(0.0, 3600.0))
    }
}

/// Where the archive and its state file are.
#[derive(clap::Args)]
pub struct ArchiveArgs {
    /// The archive folder [default: ./archive, or the config's `out`].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The state file [default: ARCHIVE/.wxsec/state.sqlite].
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// The crawl's TOML configuration, to find both [default: as for crawl].
    #[arg(long)]
    pub config: Option<PathBuf>,
}

impl ArchiveArgs {
    /// The archive folder and the state's path, flags over the configuration.
    pub fn resolve(self) -> Result<(PathBuf, PathBuf), wxsec::Error> {
        let flags = CrawlSettings { out: self.out, state: self.state, ..Default::default() };
        let (settings, origin) = load_settings(self.config.as_ref(), flags)?;
        let c = settings.resolve(&origin)?;
        Ok((c.out, c.state))
    }

    /// The archive folder and its state, which must exist already: reading commands never
    /// create one.
    pub fn open_existing(self) -> Result<(PathBuf, wxsec::archive::State), wxsec::Error> {
        let (root, path) = self.resolve()?;
        if !wxsec::archive::exists(&path) {
            return Err(wxsec::archive::state_error(
                path,
                "no index yet: run `wxsec reindex --out ARCHIVE` (or import, crawl or normalise into it)".to_string(),
            ));
        }
        Ok((root, wxsec::archive::State::open(&path)?))
    }
}

/// The form `import` writes.
#[derive(Clone, Copy, ValueEnum)]
pub enum OutFormat {
    /// The FORMAT.md record: YAML front matter and Markdown.
    Md,
    /// One JSON object per article with every fact found.
    Json,
}
