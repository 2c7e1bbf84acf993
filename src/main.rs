//! The `wxsec` command line: a thin layer over the library that owns the exit codes.

#![warn(clippy::string_slice)]

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;
use std::time::Duration;

use std::io::IsTerminal;

use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use wxsec::ExitCode;
use wxsec::archive::index;
use wxsec::assets::Images;
use wxsec::crawl::config::CrawlSettings;
use wxsec::crawl::{self, Crawl, Event, RunOptions};
use wxsec::fetch::FetchConfig;
use wxsec::import::{self, ImportOptions};
use wxsec::normalise::{self, Destination, NormaliseOptions};
use wxsec::store::Format;

/// A line on standard output. A reader that stopped early (`wxsec search … | head -1`) ends the
/// command quietly with exit 0, as ripgrep does; any other failure to write is exit 6.
macro_rules! outln {
    ($($arg:tt)*) => {
        if !$crate::stdout_line(format_args!($($arg)*)) {
            std::process::exit(0);
        }
    };
}

/// Set by `--quiet`: summary lines and warnings are not printed.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether `--quiet` was given.
fn quiet() -> bool {
    QUIET.load(std::sync::atomic::Ordering::Relaxed)
}

/// A summary or warning line on standard error, unless `--quiet`.
macro_rules! noteln {
    ($($arg:tt)*) => {
        if !$crate::quiet() {
            errln!($($arg)*);
        }
    };
}

/// A line on standard error; a closed standard error is no reason to stop the work.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

mod cli;

/// Writes a line on standard output; false once the reader has gone.
fn stdout_line(args: std::fmt::Arguments) -> bool {
    use std::io::Write as _;
    static GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if GONE.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    let mut out = std::io::stdout().lock();
    match out.write_fmt(args).and_then(|()| out.write_all(b"\n")).and_then(|()| out.flush()) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            GONE.store(true, std::sync::atomic::Ordering::Relaxed);
            false
        }
        Err(e) => {
            errln!("wxsec: cannot write to standard output: {e}");
            std::process::exit(ExitCode::Io as i32);
        }
    }
}

/// Archive WeChat official-account security articles as clean Markdown records.
#[derive(Parser)]
#[command(name = "wxsec", version, about, long_about = None)]
struct Cli {
    /// Colour in `search`'s matches: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Say more on standard error: -v each article, target or source polled; -vv each request and
    /// each file reported; -vvv everything. RUST_LOG (e.g. `wxsec=debug`) overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    /// Only errors on standard error: no summary line, no warnings, no progress bar.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

/// When to colour output.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    /// On a terminal, unless the NO_COLOR variable is set (https://no-color.org).
    Auto,
    /// Always, even into a pipe or with NO_COLOR.
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    fn wanted(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Write the record of each article now: addresses, saved pages, or - for stdin.
    ///
    /// Exit codes: 0 all written; 2 bad usage or target; 3 a page was not an article (deleted,
    /// removed, expired, error, empty, binary, unknown); 4 WeChat's verification page (blocked);
    /// 5 network or HTTP failure; 6 a file could not be read or written; 7 an article page whose
    /// title or account could not be read; 10 the state file holding the index is unusable (the
    /// record is written); 1 anything else. With several failures, the code of the first.
    Import {
        /// The archive folder.
        #[arg(long, default_value = "archive")]
        out: PathBuf,
        /// Output form.
        #[arg(long, value_enum, default_value_t = OutFormat::Md)]
        format: OutFormat,
        /// Seconds one request may take, connection included.
        #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
        timeout: u64,
        /// Largest page accepted, in bytes after decompression (real pages are 2–4 MB).
        #[arg(long, default_value_t = wxsec::fetch::DEFAULT_MAX_BODY)]
        max_page_bytes: usize,
        /// Seconds between requests to mp.weixin.qq.com (redirect hops included), as in `crawl`.
        #[arg(long, default_value_t = 3.0)]
        delay: f64,
        /// Random extra spacing, as a fraction of the delay.
        #[arg(long, default_value_t = 0.5)]
        jitter: f64,
        #[command(flatten)]
        extras: ExtrasArgs,
        /// Do not add the records to the search index.
        #[arg(long, conflicts_with = "state")]
        no_index: bool,
        /// The state holding the search index: a file, or the `postgres://` address crawl hosts
        /// share [default: OUT/.wxsec/state.sqlite].
        #[arg(long)]
        state: Option<PathBuf>,
        /// The account of saved pages that name none (a backup tool's page rebuilt around the
        /// content, with no account line); a page's own account always wins.
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// One JSON object per target on standard output instead of the record's path:
        /// {"target", "path", "url", "title"} when written, {"target", "error", "exit"} when not.
        #[arg(long)]
        json: bool,
        /// Article addresses (https://mp.weixin.qq.com/s?__biz=… or /s/…), saved pages, or -.
        #[arg(required = true)]
        targets: Vec<String>,
    },

    /// Clean an existing archive into the record format: front matter repaired, chrome and
    /// layout HTML removed; stubs and truncated records reported instead of written.
    ///
    /// Formats read, told apart by content: front-matter (wxsec's and the seed archive's key
    /// lines), header-lines (`# title` / `account   YYYY-MM-DD HH:MM`), list-header (`- 来源:`),
    /// quote-header (`> 来源:` / `> 发布时间:` / `> 原文链接:`, backup scripts), web-clipper
    /// (Obsidian Web Clipper), turndown (wechat-article-exporter's Markdown). Saved pages (HTML,
    /// MHTML, SingleFile, WARC) are read as `import` reads them, their records written beside
    /// them (`NAME.md`; `NAME.records/…` for each article of a WARC).
    ///
    /// Exit codes: 0 every file handled (stubs and truncated ones are reported, not failures);
    /// 2 bad usage; 6 a file could not be read or written; 10 the state file is unusable.
    #[command(group(clap::ArgGroup::new("destination").required(true).args(["out", "in_place"])))]
    Normalise {
        /// Write cleaned records under this folder, at the paths they had below each input.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Replace each file with its cleaned record (atomically); stubs are left as they are.
        #[arg(long)]
        in_place: bool,
        /// Write one JSON line per file not written as read (stub, truncated, incomplete,
        /// unrecognised, unreadable, account given): path, url, kind, reason, format.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Put every stub and truncated record into the crawl queue: the next `wxsec crawl` fetches
        /// it again and writes the real record over the broken file.
        #[arg(long)]
        queue: bool,
        /// The state file (search index and crawl queue) [default: ARCHIVE/.wxsec/state.sqlite,
        /// where ARCHIVE is --out, or the first input folder with --in-place].
        #[arg(long)]
        state: Option<PathBuf>,
        /// Do not keep the search index current.
        #[arg(long, conflicts_with = "queue")]
        no_index: bool,
        /// The account of files that name none (wechat-article-exporter's Markdown, a backup
        /// whose `来源` is empty); a file's own account always wins. The report lists the files
        /// written with it (kind `source-given`).
        #[arg(long, value_name = "NAME")]
        source: Option<String>,
        /// A file that names no account is of the account its folder is named after (exports
        /// laid out as ACCOUNT/TITLE.md).
        #[arg(long, conflicts_with = "source")]
        source_from_folder: bool,
        /// Print the summary as one JSON object on standard output (counts, kinds, formats read).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        extras: ExtrasArgs,
        /// Record files or folders (searched for *.md, *.markdown, *.txt, and saved pages: *.html,
        /// *.htm, *.mht, *.mhtml, *.warc, *.warc.gz).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Which account an article is of, and the [[source]] table that follows its history.
    ///
    /// Prints the account's name, its __biz, its WeRead id (MP_WXS_…) and the table to paste into
    /// the configuration. One request to WeChat for an address; none for a saved page.
    ///
    /// Exit codes: 0 printed; 2 bad usage; 3 not an article; 4 WeChat's verification page; 5
    /// network or HTTP failure; 6 a file could not be read; 7 the page names no account.
    Account(cli::account::AccountArgs),
    /// The scheduled job: poll the configured sources, fetch the articles not yet archived.
    ///
    /// Exit codes: 0 ok; 2 configuration error; 4 blocked (WeChat's verification page: no more
    /// requests until the cool-down ends); 6 a record or the state could not be written; 8 some
    /// articles or sources failed (retried on later runs); 9 another run holds the lock; 10 the
    /// state file is unusable; 11 a login is no longer accepted (the WeRead cookie: copy it
    /// again; the other sources were archived).
    Crawl {
        /// The TOML configuration [default: $WXSEC_CONFIG, else $XDG_CONFIG_HOME/wxsec/config.toml
        /// (~/.config/wxsec/config.toml) when it exists]; examples/wxsec.toml is a commented example.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Poll the sources and print what would be fetched; fetch and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Fetch at most N articles this run.
        #[arg(long)]
        limit: Option<usize>,
        /// Take feed items published on or after this day (YYYY-MM-DD) only, and walk albums and
        /// WeRead lists back to it.
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        /// Walk every page of every album and WeRead list again, not only up to the first page
        /// that brings nothing new.
        #[arg(long)]
        backfill: bool,
        /// Print the summary as one JSON object on standard output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        settings: Box<CrawlSettings>,
    },
    /// Write Atom feeds of the archive: one per account and one for everything.
    ///
    /// FEEDS/all.atom, one FEEDS/{account}.atom per account and FEEDS/feeds.opml listing them;
    /// newest entries first, each the whole record as HTML.
    ///
    /// Exit codes: 0 written; 2 bad usage; 6 a feed could not be written; 10 no usable index.
    Feed {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// Where the feeds go [default: ARCHIVE/feeds].
        #[arg(long)]
        dest: Option<PathBuf>,
        /// Entries per feed.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=100000))]
        entries: u64,
        /// Where the feeds folder is served (https://example.org/feeds): self links and the OPML's
        /// xmlUrl become absolute, as readers importing the OPML need [default: file names].
        #[arg(long, value_name = "URL", value_parser = http_base)]
        base_url: Option<String>,
        /// The counts as one JSON object on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Search the archive's records; every word must occur.
    ///
    /// Chinese matches as any substring (no spaces needed); other words match from their start
    /// (`tomca` finds Tomcat), in any case. Prints title, account, date, path and a snippet cut
    /// from the record file, newest first.
    ///
    /// Exit codes: 0 (also when nothing matches); 2 bad usage; 10 no usable index.
    Search {
        /// Words to find.
        query: Vec<String>,
        /// Only this account (its name, or its number as in the record paths).
        #[arg(long)]
        source: Option<String>,
        /// Only records published on or after this day (YYYY-MM-DD).
        #[arg(long)]
        since: Option<chrono::NaiveDate>,
        /// Only records naming this CVE id (CNVD, CNNVD, GHSA and ATT&CK ids work too).
        #[arg(long)]
        cve: Option<String>,
        /// Most hits shown.
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
        limit: u64,
        /// One JSON object per hit, one per line.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        archive: ArchiveArgs,
    },
    /// Copy a crawl state into another: a state file moved to a PostgreSQL server that several
    /// crawl hosts share, or several hosts' files merged into one. The crawl's history
    /// (articles, aliases, sources, hosts' cool-downs) is copied in one transaction, then the
    /// search index of the new state is rebuilt from the archive's record files. The old state
    /// is only read.
    ///
    /// Exit codes: 0 done; 2 bad usage; 6 a record could not be read; 10 either state is
    /// unusable (nothing is written to the new one then).
    CopyState {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// The state to copy into: `postgres://…` (an empty database, or one other hosts' states
        /// were copied into), or a file.
        #[arg(long)]
        to: PathBuf,
        /// The counts as one JSON object on standard output.
        #[arg(long)]
        json: bool,
    },
    /// Rebuild the search index from the record files of the archive.
    ///
    /// Exit codes: 0 done; 2 bad usage; 6 a record could not be read; 10 the state file is unusable.
    Reindex {
        #[command(flatten)]
        archive: ArchiveArgs,
        /// The counts as one JSON object on standard output.
        #[arg(long)]
        json: bool,
    },
    /// What the crawl state holds: articles by status, blocked-until, each source's last poll.
    ///
    /// Exit codes: 0 shown; 2 bad usage or configuration; 10 the state file is unusable.
    Status {
        /// The TOML configuration, to find the state file [default: as for crawl].
        #[arg(long)]
        config: Option<PathBuf>,
        /// The archive folder (the state is OUT/.wxsec/state.sqlite).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The state file itself.
        #[arg(long)]
        state: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the shell completion script for SHELL on standard output.
    ///
    /// bash: `wxsec completions bash > ~/.local/share/bash-completion/completions/wxsec`;
    /// zsh: `wxsec completions zsh > "${fpath[1]}/_wxsec"`;
    /// fish: `wxsec completions fish > ~/.config/fish/completions/wxsec.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) on standard output: `wxsec man > ~/.local/share/man/man1/wxsec.1`.
    Man,
    /// Write the commented example configuration where `crawl` finds it without --config
    /// ($WXSEC_CONFIG, else ~/.config/wxsec/config.toml), or to PATH; an existing file is kept.
    ///
    /// Exit codes: 0 written (or printed); 2 the file exists already; 6 it could not be written.
    Init {
        /// Where to write it [default: $WXSEC_CONFIG, else $XDG_CONFIG_HOME/wxsec/config.toml].
        path: Option<PathBuf>,
        /// Print the example on standard output instead.
        #[arg(long, conflicts_with = "path")]
        print: bool,
    },
}

/// What `import` and `normalise` write beyond the record's text.
#[derive(clap::Args)]
struct ExtrasArgs {
    /// Write the security entities (CVE, CNVD, CNNVD, GHSA, ATT&CK, CVSS) into the front matter
    /// too, after the five standard keys (JSON records, `import --format json`, always have them).
    #[arg(long)]
    extra_fields: bool,
    /// Images: keep WeChat's links, or download them once into the archive's assets/ folder and
    /// link there (a failed image keeps its link and is reported).
    #[arg(long, value_enum, default_value_t = Images::Remote)]
    images: Images,
    /// Seconds between requests to an image host (the crawl's default too).
    #[arg(long, default_value_t = 1.0)]
    image_delay: f64,
    /// A host images may be downloaded from although it is not a public address (loopback,
    /// private, link-local); repeatable. Without it such hosts are refused.
    #[arg(long = "allow-image-host", value_name = "HOST")]
    allow_image_hosts: Vec<String>,
}

impl ExtrasArgs {
    fn image_delay(&self) -> Duration {
        Duration::from_secs_f64(self.image_delay.clamp(0.0, 3600.0))
    }
}

/// Where the archive and its state file are.
#[derive(clap::Args)]
struct ArchiveArgs {
    /// The archive folder [default: ./archive, or the config's `out`].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The state file [default: ARCHIVE/.wxsec/state.sqlite].
    #[arg(long)]
    state: Option<PathBuf>,
    /// The crawl's TOML configuration, to find both [default: as for crawl].
    #[arg(long)]
    config: Option<PathBuf>,
}

impl ArchiveArgs {
    fn resolve(self) -> Result<(PathBuf, PathBuf), wxsec::Error> {
        let flags = CrawlSettings { out: self.out, state: self.state, ..Default::default() };
        let (settings, origin) = load_settings(self.config.as_ref(), flags)?;
        let c = settings.resolve(&origin)?;
        Ok((c.out, c.state))
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum OutFormat {
    /// The FORMAT.md record: YAML front matter and Markdown.
    Md,
    /// One JSON object per article with every fact found.
    Json,
}

fn main() -> ProcessExit {
    let cli = Cli::parse();
    let color = cli.color;
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    init_logging(cli.verbose, cli.quiet, color);
    match cli.command {
        Command::Import {
            out,
            format,
            timeout,
            max_page_bytes,
            delay,
            jitter,
            extras,
            no_index,
            state,
            source,
            json,
            targets,
        } => {
            let index = (!no_index).then(|| state.unwrap_or_else(|| out.join(".wxsec/state.sqlite")));
            let fetch = match FetchConfig::from_env() {
                Ok(f) => FetchConfig {
                    timeout: Duration::from_secs(timeout),
                    connect_timeout: Duration::from_secs(timeout).min(f.connect_timeout),
                    max_body: max_page_bytes,
                    image_allow: wxsec::fetch::guard::Allowed::new(&extras.allow_image_hosts),
                    delay: Duration::from_secs_f64(delay.clamp(0.0, 3600.0)),
                    jitter: jitter.clamp(0.0, 4.0),
                    ..f
                },
                Err(msg) => {
                    errln!("wxsec: {msg}");
                    return ProcessExit::from(ExitCode::Usage as u8);
                }
            };
            let format = match format {
                OutFormat::Md => Format::Markdown,
                OutFormat::Json => Format::Json,
            };
            let (extra_fields, images, image_delay) = (extras.extra_fields, extras.images, extras.image_delay());
            let opts = ImportOptions { out, format, fetch, extra_fields, images, image_delay, index, source };
            import_cmd(opts, targets, json)
        }
        Command::Normalise {
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
        } => {
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
            normalise_cmd(opts, paths, json)
        }
        Command::Feed { archive, dest, entries, base_url, json } => {
            feed_cmd(archive, dest, entries as usize, base_url, json)
        }
        Command::Search { query, source, since, cve, limit, json, archive } => {
            let q = index::Query { terms: query, source, since, id: cve, limit: limit as usize };
            search_cmd(archive, q, json, color)
        }
        Command::Reindex { archive, json } => reindex_cmd(archive, json),
        Command::CopyState { archive, to, json } => copy_state_cmd(archive, &to, json),
        Command::Crawl { config, dry_run, limit, since, backfill, json, settings } => {
            crawl_cmd(config, RunOptions { dry_run, limit, since, backfill }, json, *settings)
        }
        Command::Status { config, out, state, json } => status_cmd(config, out, state, json),
        Command::Account(args) => cli::account::run(args),
        Command::Init { path, print } => init_cmd(path, print),
        Command::Completions { shell } => {
            use clap::CommandFactory as _;
            use std::io::Write as _;
            // Into memory first: the generator panics on a write error (a closed pipe).
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "wxsec", &mut script);
            let _ = std::io::stdout().write_all(&script);
            ProcessExit::SUCCESS
        }
        Command::Man => {
            use clap::CommandFactory as _;
            let mut page = Vec::new();
            match clap_mangen::Man::new(Cli::command()).render(&mut page) {
                Ok(()) => {
                    use std::io::Write as _;
                    let _ = std::io::stdout().write_all(&page);
                    ProcessExit::SUCCESS
                }
                Err(e) => {
                    errln!("wxsec: the manual page could not be written: {e}");
                    ProcessExit::from(ExitCode::Io as u8)
                }
            }
        }
    }
}

fn import_cmd(opts: ImportOptions, targets: Vec<String>, json: bool) -> ProcessExit {
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    // A bar only when there is something to wait for: several targets, on a terminal.
    let bar = progress_bar().filter(|_| targets.len() > 1);
    if let Some(b) = &bar {
        b.set_length(targets.len() as u64);
    }
    let say = |line: &str| match &bar {
        Some(b) => b.suspend(|| errln!("{line}")),
        None => errln!("{line}"),
    };
    let mut first_failure: Option<ExitCode> = None;
    let result = runtime.block_on(import::run(&targets, &opts, |target, outcome| {
        match outcome {
            Ok(written) => {
                // The records matter more than their listing: a closed pipe only stops the listing.
                let _ = if json {
                    let line = serde_json::json!({
                        "target": target,
                        "path": written.path,
                        "url": written.url,
                        "title": written.title,
                    });
                    stdout_line(format_args!("{line}"))
                } else {
                    stdout_line(format_args!("{}", written.path.display()))
                };
                if !quiet() {
                    for f in &written.failed_images {
                        say(&format!("wxsec: {}: {} (the image kept its remote link)", f.url, f.error));
                    }
                }
            }
            Err(e) => {
                say(&error_text(e));
                if json {
                    let line = serde_json::json!({
                        "target": target,
                        "error": e.to_string(),
                        "exit": e.exit_code() as u8,
                    });
                    let _ = stdout_line(format_args!("{line}"));
                }
                first_failure.get_or_insert(e.exit_code());
            }
        }
        if let Some(b) = &bar {
            b.inc(1);
        }
    }));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Err(e) = result {
        errln!("{}", error_text(&e));
        first_failure.get_or_insert(e.exit_code());
    }
    ProcessExit::from(first_failure.unwrap_or(ExitCode::Ok) as u8)
}

fn normalise_cmd(opts: NormaliseOptions, paths: Vec<PathBuf>, json: bool) -> ProcessExit {
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
            let line = error_text(e);
            match &bar {
                Some(b) => b.suspend(|| errln!("{line}")),
                None => errln!("{line}"),
            }
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

/// Log lines on standard error, as `RUST_LOG` says, else as `-v`/`-q` say: warnings by default,
/// `info` with -v, `debug` with -vv (wxsec's own events), everything with -vvv.
fn init_logging(verbose: u8, quiet: bool, color: ColorChoice) {
    use tracing_subscriber::EnvFilter;
    let filter = match std::env::var("RUST_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(match (quiet, verbose) {
            (true, _) => "error",
            (false, 0) => "wxsec=warn",
            (false, 1) => "wxsec=info",
            (false, 2) => "wxsec=debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color.wanted(std::io::stderr().is_terminal()))
        .with_target(false)
        .try_init();
}

/// A progress bar on a terminal; nothing when stderr is a file or a pipe (cron), or with --quiet.
fn progress_bar() -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() || quiet() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {elapsed_precise} eta {eta}") {
        bar.set_style(style);
    }
    Some(bar)
}

/// The single-threaded runtime the network commands run on.
fn runtime() -> Result<tokio::runtime::Runtime, ProcessExit> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| {
        errln!("wxsec: cannot start the async runtime: {e}");
        ProcessExit::from(ExitCode::Other as u8)
    })
}

/// A failure as every command reports it: what failed, then what to do.
fn error_text(e: &wxsec::Error) -> String {
    format!("wxsec: {e}\n  hint: {}", e.hint())
}

fn fail(e: &wxsec::Error) -> ProcessExit {
    errln!("{}", error_text(e));
    ProcessExit::from(e.exit_code() as u8)
}

fn load_settings(config: Option<&PathBuf>, flags: CrawlSettings) -> Result<(CrawlSettings, PathBuf), wxsec::Error> {
    match config.cloned().or_else(default_config) {
        Some(path) => Ok((flags.over(CrawlSettings::from_file(&path)?), path)),
        None => Ok((flags, PathBuf::from("command line"))),
    }
}

/// The commented example configuration, the same file as `examples/wxsec.toml`.
const EXAMPLE_CONFIG: &str = include_str!("../examples/wxsec.toml");

fn init_cmd(path: Option<PathBuf>, print: bool) -> ProcessExit {
    if print {
        outln!("{}", EXAMPLE_CONFIG.trim_end());
        return ProcessExit::SUCCESS;
    }
    let Some(path) = path.or_else(config_home_file) else {
        errln!("wxsec: no HOME or XDG_CONFIG_HOME to put the configuration in; give a PATH");
        return ProcessExit::from(ExitCode::Usage as u8);
    };
    if path.exists() {
        errln!("wxsec: {} exists already; it is kept (remove it first, or give another PATH)", path.display());
        return ProcessExit::from(ExitCode::Usage as u8);
    }
    let written = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::OpenOptions::new().write(true).create_new(true).open(&path))
        .and_then(|mut f| {
            use std::io::Write as _;
            f.write_all(EXAMPLE_CONFIG.as_bytes()).and_then(|()| f.sync_all())
        });
    match written {
        Ok(()) => {
            noteln!("wxsec: wrote {}; edit its out and [[source]] tables, then run `wxsec crawl`", path.display());
            ProcessExit::SUCCESS
        }
        Err(source) => fail(&wxsec::Error::Write { path, source }),
    }
}

/// `$WXSEC_CONFIG`, else `wxsec/config.toml` in the user's configuration folder, existing or not.
fn config_home_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WXSEC_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").filter(|p| !p.is_empty()).map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("wxsec/config.toml"))
}

/// The configuration used when `--config` is not given: `$WXSEC_CONFIG` (which must then exist:
/// a name set and not found is an error, said by the read), else `wxsec/config.toml` in the
/// user's configuration folder (`$XDG_CONFIG_HOME`, or `~/.config`) when it is there.
fn default_config() -> Option<PathBuf> {
    let named = std::env::var_os("WXSEC_CONFIG").is_some_and(|p| !p.is_empty());
    config_home_file().filter(|p| named || p.is_file())
}

fn crawl_cmd(config: Option<PathBuf>, opts: RunOptions, json: bool, flags: CrawlSettings) -> ProcessExit {
    let resolved =
        load_settings(config.as_ref(), flags).and_then(|(s, origin)| s.resolve(&origin).map(|c| (c, origin)));
    let (config, origin) = match resolved {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    // With no sources, a run still drains the queue a state file already holds (repairs).
    if config.sources.is_empty() && !wxsec::archive::exists(&config.state) {
        return fail(&wxsec::Error::Config {
            path: origin,
            message: "no sources: add [[source]] tables to the config, or give --urls FILE or --feed URL".to_string(),
        });
    }
    if config.sources.is_empty() {
        noteln!(
            "wxsec: no sources configured: working through the queue of {} only",
            wxsec::archive::db::shown(&config.state).display()
        );
    }
    let runtime = match runtime() {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let mut crawl = match Crawl::open_as(config, opts.dry_run) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let bar = progress_bar();
    let result = runtime.block_on(crawl.run(&opts, |event| match event {
        Event::Queue(n) => {
            if let Some(b) = &bar {
                b.set_length(n as u64);
            }
        }
        Event::Article { .. } => {
            if let Some(b) = &bar {
                b.inc(1);
            }
        }
        Event::Warn(e) => {
            let line = error_text(e);
            match &bar {
                Some(b) => b.suspend(|| errln!("{line}")),
                None => errln!("{line}"),
            }
        }
    }));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    // With --json the addresses are in the JSON (`would_fetch`): standard output is one object.
    if opts.dry_run && !json {
        for (source, n) in &summary.would_bring {
            noteln!("source {source}: {n} new article{}", if *n == 1 { "" } else { "s" });
        }
        for url in &summary.would_fetch {
            outln!("{url}");
        }
        // Written from their feed items, asking WeChat nothing: said apart from the fetches.
        for url in &summary.would_write {
            outln!("{url} (from its feed item)");
        }
    }
    if json {
        outln!("{}", serde_json::to_string(&summary).unwrap_or_default());
    } else {
        noteln!("crawl: {summary}");
    }
    ProcessExit::from(summary.exit_code() as u8)
}

fn status_cmd(config: Option<PathBuf>, out: Option<PathBuf>, state: Option<PathBuf>, json: bool) -> ProcessExit {
    let flags = CrawlSettings { out, state, ..Default::default() };
    let path = match load_settings(config.as_ref(), flags).and_then(|(s, origin)| s.resolve(&origin)) {
        Ok(c) => c.state,
        Err(e) => return fail(&e),
    };
    let report = match crawl::status(&path) {
        Ok(r) => r,
        Err(e) => return fail(&e),
    };
    if json {
        outln!("{}", serde_json::to_string(&report).unwrap_or_default());
        return ProcessExit::SUCCESS;
    }
    outln!("state: {}", wxsec::archive::db::shown(&path).display());
    for (status, n) in &report.articles {
        outln!("  {status:<8} {n}");
    }
    // Each host's own: WeChat blocks an address, and the other hosts go on meanwhile.
    for h in &report.hosts {
        let blocked = h.blocked_until.as_deref().map_or("not blocked".to_string(), |t| format!("blocked until {t}"));
        outln!(
            "host {}: {}, {blocked}, {} written, {} leased now, last seen {}",
            h.name,
            if h.running { "running" } else { "idle" },
            h.written,
            h.leased,
            h.last_seen.as_deref().unwrap_or("never")
        );
    }
    match &report.blocked_until {
        Some(t) => outln!("blocked until {t}"),
        None => outln!("not blocked"),
    }
    outln!("search index: {} records", report.indexed);
    for s in &report.sources {
        outln!(
            "source {} ({}): last polled {}, last ok {}, {} articles found{}",
            s.name,
            s.kind.as_deref().unwrap_or("unknown"),
            s.last_polled.as_deref().unwrap_or("never"),
            s.last_ok.as_deref().unwrap_or("never"),
            s.found,
            s.last_error.as_deref().map(|e| format!("; last error: {e}")).unwrap_or_default()
        );
    }
    ProcessExit::SUCCESS
}

/// An http(s) address with a host, for `--base-url`.
fn http_base(s: &str) -> Result<String, String> {
    wxsec::crawl::config::check_http(s)
        .map(|()| s.to_string())
        .map_err(|e| format!("{e}; give one such as https://example.org/feeds"))
}

fn feed_cmd(
    archive: ArchiveArgs,
    dest: Option<PathBuf>,
    entries: usize,
    base_url: Option<String>,
    json: bool,
) -> ProcessExit {
    let (root, state) = match open_existing(archive) {
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

/// The archive folder and its state file, which must exist already: reading commands never
/// create one.
fn open_existing(archive: ArchiveArgs) -> Result<(PathBuf, wxsec::archive::State), wxsec::Error> {
    let (root, path) = archive.resolve()?;
    if !wxsec::archive::exists(&path) {
        return Err(wxsec::Error::State {
            path,
            message: "no index yet: run `wxsec reindex --out ARCHIVE` (or import, crawl or normalise into it)"
                .to_string(),
        });
    }
    Ok((root, wxsec::archive::State::open(&path)?))
}

fn search_cmd(archive: ArchiveArgs, q: index::Query, json: bool, color: ColorChoice) -> ProcessExit {
    if q.terms.is_empty() && q.id.is_none() && q.source.is_none() && q.since.is_none() {
        errln!("wxsec: give words to search for, or --cve, --source or --since");
        return ProcessExit::from(ExitCode::Usage as u8);
    }
    let (root, state) = match open_existing(archive) {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let colour = !json && color.wanted(std::io::stdout().is_terminal());
    let (open, close) = if colour { ("\x1b[1;31m", "\x1b[0m") } else { ("**", "**") };
    if let Ok(Some(message)) = index::emptied_because(&state) {
        return fail(&wxsec::Error::State { path: state.path().to_path_buf(), message });
    }
    let hits = match index::search(&state, &root, &q, open, close) {
        Ok(h) => h,
        Err(e) => return fail(&e),
    };
    for hit in &hits {
        let path =
            if std::path::Path::new(&hit.path).is_absolute() { PathBuf::from(&hit.path) } else { root.join(&hit.path) };
        if json {
            let mut v = serde_json::to_value(hit).unwrap_or_default();
            v["path"] = serde_json::Value::String(path.display().to_string());
            outln!("{v}");
        } else {
            let date = if hit.date.is_empty() { "----------" } else { hit.date.as_str() };
            outln!("{date}  {}  {}", hit.source, hit.title);
            outln!("  {}", path.display());
            outln!("  {}", hit.snippet);
        }
    }
    if hits.is_empty() {
        noteln!("search: no record matches");
    } else if !json {
        noteln!("search: {} record{}", hits.len(), if hits.len() == 1 { "" } else { "s" });
    }
    ProcessExit::SUCCESS
}

fn copy_state_cmd(archive: ArchiveArgs, to: &std::path::Path, json: bool) -> ProcessExit {
    let run = || -> Result<(wxsec::archive::Copied, index::ReindexSummary), wxsec::Error> {
        let (root, from) = archive.resolve()?;
        if !wxsec::archive::exists(&from) {
            return Err(wxsec::Error::State { path: from, message: "no state to copy".to_string() });
        }
        // Opened as any run opens it: an older file is brought to this schema first.
        let from = wxsec::archive::State::open(&from)?;
        let to = wxsec::archive::State::open(to)?;
        let copied = from.copy_into(&to)?;
        let indexed = if root.is_dir() { index::reindex(&to, &root)? } else { index::ReindexSummary::default() };
        Ok((copied, indexed))
    };
    match run() {
        Ok((copied, indexed)) => {
            if json {
                let v = serde_json::json!({"copied": copied.tables, "indexed": indexed.indexed, "skipped": indexed.skipped});
                outln!("{v}");
            }
            let tables: Vec<String> = copied.tables.iter().map(|(t, n)| format!("{n} {t}")).collect();
            noteln!(
                "copy-state: {} copied; index rebuilt: {} records, {}",
                tables.join(", "),
                indexed.indexed,
                skipped_line(&indexed)
            );
            ProcessExit::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn reindex_cmd(archive: ArchiveArgs, json: bool) -> ProcessExit {
    let (root, state_path) = match archive.resolve() {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    if !root.is_dir() {
        return fail(&wxsec::Error::Read {
            path: root,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no archive folder here"),
        });
    }
    let state = match wxsec::archive::State::open(&state_path) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    match index::reindex(&state, &root) {
        Ok(s) => {
            if json {
                outln!("{}", serde_json::to_string(&s).unwrap_or_default());
            }
            noteln!("reindex: {} records indexed, {}", s.indexed, skipped_line(&s));
            ProcessExit::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// What `reindex` did not index, by kind, so that nothing is missed without a word.
fn skipped_line(s: &index::ReindexSummary) -> String {
    format!(
        "{} skipped ({} files not records, {} other files, {} hidden folders)",
        s.skipped, s.not_records, s.other_files, s.hidden_folders
    )
}
