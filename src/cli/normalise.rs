//! `wxsec normalise`: an existing archive cleaned into the record format; a one-line summary
//! (or one JSON object) at the end.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use wxsec::ExitCode;
use wxsec::normalise::{self, Destination, NormaliseOptions};

use super::args::ExtrasArgs;
use super::out::{error_text, progress_bar, say};

/// The arguments of `normalise`.
#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("destination").required(true).args(["out", "in_place"])))]
pub struct NormaliseArgs {
    /// Write cleaned records under this folder, at the paths they had below each input.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace each file with its cleaned record (atomically); stubs are left as they are.
    #[arg(long)]
    pub in_place: bool,
    /// Write one JSON line per file not written as read (stub, truncated, incomplete,
    /// unrecognised, unreadable, account given): path, url, kind, reason, format.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Put every stub and truncated record into the crawl queue: the next `wxsec crawl` fetches
    /// it again and writes the real record over the broken file.
    #[arg(long)]
    pub queue: bool,
    /// The state file (search index and crawl queue) [default: ARCHIVE/.wxsec/state.sqlite,
    /// where ARCHIVE is --out, or the first input folder with --in-place].
    #[arg(long)]
    pub state: Option<PathBuf>,
    /// Do not keep the search index current.
    #[arg(long, conflicts_with = "queue")]
    pub no_index: bool,
    /// The account of files that name none (wechat-article-exporter's Markdown, a backup
    /// whose `来源` is empty); a file's own account always wins. The report lists the files
    /// written with it (kind `source-given`).
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// A file that names no account is of the account its folder is named after (exports
    /// laid out as ACCOUNT/TITLE.md).
    #[arg(long, conflicts_with = "source")]
    pub source_from_folder: bool,
    /// Print the summary as one JSON object on standard output (counts, kinds, formats read).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub extras: ExtrasArgs,
    /// Record files or folders (searched for *.md, *.markdown, *.txt, and saved pages: *.html,
    /// *.htm, *.mht, *.mhtml, *.warc, *.warc.gz).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
}

/// Runs `normalise`.
pub fn run(args: NormaliseArgs) -> ProcessExit {
    let NormaliseArgs {
        out,
        in_place: _,
        report,
        queue,
        state,
        no_index,
        source,
        source_from_folder,
        json,
        extras,
        paths,
    } = args;
    let root = match &out {
        Some(dir) => dir.clone(),
        None => paths
            .iter()
            .find(|p| p.is_dir())
            .cloned()
            .or_else(|| paths.first().and_then(|p| p.parent()).map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from(".")),
    };
    let state = if no_index { None } else { Some(state.unwrap_or_else(|| root.join(".wxsec/state.sqlite"))) };
    let destination = match out {
        Some(dir) => Destination::Out(dir),
        None => Destination::InPlace,
    };
    let (extra_fields, images, image_delay) = (extras.extra_fields, extras.images, extras.image_delay());
    let image_allow = wxsec::fetch::guard::Allowed::new(&extras.allow_image_hosts);
    let opts = NormaliseOptions {
        destination,
        report,
        extra_fields,
        root,
        state,
        queue,
        images,
        image_delay,
        image_allow,
        given: wxsec::normalise::Given { source, source_from_folder },
    };
    write(opts, paths, json)
}

fn write(opts: NormaliseOptions, paths: Vec<PathBuf>, json: bool) -> ProcessExit {
    let bar = progress_bar();
    let result = normalise::run(
        &paths,
        &opts,
        |done, total| {
            if let Some(b) = &bar {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        },
        |e| {
            say(bar.as_ref(), &error_text(e));
        },
    );
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(summary) => {
            if json {
                outln!("{}", serde_json::to_string(&summary).expect("plain data serialises"));
            } else {
                noteln!("normalise: {summary}");
            }
            if summary.errors > 0 { ProcessExit::from(ExitCode::Io as u8) } else { ProcessExit::SUCCESS }
        }
        Err(e) => {
            errln!("{}", error_text(&e));
            ProcessExit::from(e.exit_code() as u8)
        }
    }
}
