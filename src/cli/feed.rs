//! `wxsec feed`: Atom feeds of the archive; a one-line summary (or one JSON object).

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use super::args::ArchiveArgs;
use super::out::fail;

/// The arguments of `feed`.
#[derive(clap::Args)]
pub struct FeedArgs {
    #[command(flatten)]
    pub archive: ArchiveArgs,
    /// Where the feeds go [default: ARCHIVE/feeds].
    #[arg(long)]
    pub dest: Option<PathBuf>,
    /// Entries per feed.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100000))]
    pub entries: u64,
    /// Where the feeds folder is served (https://example.org/feeds): self links and the OPML's
    /// xmlUrl become absolute, as readers importing the OPML need [default: file names].
    #[arg(long, value_name = "URL", value_parser = http_base)]
    pub base_url: Option<String>,
    /// The counts as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

/// Runs `feed`.
pub fn run(args: FeedArgs) -> ProcessExit {
    let FeedArgs { archive, dest, entries, base_url, json } = args;
    let entries = entries as usize;
    let (root, state) = match archive.open_existing() {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let dest = dest.unwrap_or_else(|| root.join("feeds"));
    let opts = wxsec::feed::FeedOptions { root, dest: dest.clone(), entries, base_url };
    match wxsec::feed::write_feeds(&state, &opts) {
        Ok(s) => {
            if json {
                outln!("{}", serde_json::to_string(&s).unwrap_or_default());
            }
            noteln!(
                "feed: {} feeds ({} rewritten, {} unchanged), {} entries in all.atom, in {}",
                s.feeds,
                s.rewritten,
                s.unchanged,
                s.entries,
                dest.display()
            );
            if s.missing > 0 {
                noteln!("wxsec: {} indexed records were not found on disk; run `wxsec reindex`", s.missing);
            }
            ProcessExit::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// An http(s) address with a host, for `--base-url`.
pub fn http_base(s: &str) -> Result<String, String> {
    wxsec::crawl::config::check_http(s)
        .map(|()| s.to_string())
        .map_err(|e| format!("{e}; give one such as https://example.org/feeds"))
}
