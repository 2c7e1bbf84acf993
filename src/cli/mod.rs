//! The command line: the commands, their arguments and their output, one file per command.
//! `main.rs` only parses and dispatches; the work itself is the library's.

/// A line on standard output. A reader that stopped early (`wxsec search … | head -1`) ends the
/// command quietly with exit 0, as ripgrep does; any other failure to write is exit 6.
macro_rules! outln {
    ($($arg:tt)*) => {
        if !$crate::cli::out::stdout_line(format_args!($($arg)*)) {
            std::process::exit(0);
        }
    };
}

/// A summary or warning line on standard error, unless `--quiet`.
macro_rules! noteln {
    ($($arg:tt)*) => {
        if !$crate::cli::out::quiet() {
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

pub mod account;
pub mod args;
pub mod config;
pub mod crawl;
pub mod feed;
pub mod import;
pub mod manual;
pub mod normalise;
pub mod out;
pub mod search;
pub mod state;
pub mod status;

use clap::{Parser, Subcommand};

use out::ColorChoice;

/// Archive WeChat official-account security articles as clean Markdown records.
#[derive(Parser)]
#[command(name = "wxsec", version, about, long_about = None)]
pub struct Cli {
    /// Colour in `search`'s matches: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Say more on standard error: -v each article, target or source polled; -vv each request and
    /// each file reported; -vvv everything. RUST_LOG (e.g. `wxsec=debug`) overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on standard error: no summary line, no warnings, no progress bar.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands; each one's help (what it does, its exit codes) is its doc comment here, its
/// arguments and output are in its own file.
#[derive(Subcommand)]
pub enum Command {
    /// Write the record of each article now: addresses, saved pages, or - for stdin.
    ///
    /// Exit codes: 0 all written; 2 bad usage or target; 3 a page was not an article (deleted,
    /// removed, expired, error, empty, binary, unknown); 4 WeChat's verification page (blocked);
    /// 5 network or HTTP failure; 6 a file could not be read or written; 7 an article page whose
    /// title or account could not be read; 10 the state file holding the index is unusable (the
    /// record is written); 1 anything else. With several failures, the code of the first.
    Import(import::ImportArgs),

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
    Normalise(normalise::NormaliseArgs),
    /// Which account an article is of, and the [[source]] table that follows its history.
    ///
    /// Prints the account's name, its __biz, its WeRead id (MP_WXS_…) and the table to paste into
    /// the configuration. One request to WeChat for an address; none for a saved page.
    ///
    /// Exit codes: 0 printed; 2 bad usage; 3 not an article; 4 WeChat's verification page; 5
    /// network or HTTP failure; 6 a file could not be read; 7 the page names no account.
    Account(account::AccountArgs),
    /// The scheduled job: poll the configured sources, fetch the articles not yet archived.
    ///
    /// Exit codes: 0 ok; 2 configuration error; 4 blocked (WeChat's verification page: no more
    /// requests until the cool-down ends); 6 a record or the state could not be written; 8 some
    /// articles or sources failed (retried on later runs); 9 another run holds the lock; 10 the
    /// state file is unusable; 11 a login is no longer accepted (the WeRead cookie: copy it
    /// again; the other sources were archived).
    Crawl(crawl::CrawlArgs),
    /// Write Atom feeds of the archive: one per account and one for everything.
    ///
    /// FEEDS/all.atom, one FEEDS/{account}.atom per account and FEEDS/feeds.opml listing them;
    /// newest entries first, each the whole record as HTML.
    ///
    /// Exit codes: 0 written; 2 bad usage; 6 a feed could not be written; 10 no usable index.
    Feed(feed::FeedArgs),
    /// Search the archive's records; every word must occur.
    ///
    /// Chinese matches as any substring (no spaces needed); other words match from their start
    /// (`tomca` finds Tomcat), in any case. Prints title, account, date, path and a snippet cut
    /// from the record file, newest first.
    ///
    /// Exit codes: 0 (also when nothing matches); 2 bad usage; 10 no usable index.
    Search(search::SearchArgs),
    /// Copy a crawl state into another: a state file moved to a PostgreSQL server that several
    /// crawl hosts share, or several hosts' files merged into one. The crawl's history
    /// (articles, aliases, sources, hosts' cool-downs) is copied in one transaction, then the
    /// search index of the new state is rebuilt from the archive's record files. The old state
    /// is only read.
    ///
    /// Exit codes: 0 done; 2 bad usage; 6 a record could not be read; 10 either state is
    /// unusable (nothing is written to the new one then).
    CopyState(state::CopyStateArgs),
    /// Rebuild the search index from the record files of the archive.
    ///
    /// Exit codes: 0 done; 2 bad usage; 6 a record could not be read; 10 the state file is unusable.
    Reindex(state::ReindexArgs),
    /// What the crawl state holds: articles by status, blocked-until, each source's last poll.
    ///
    /// Exit codes: 0 shown; 2 bad usage or configuration; 10 the state file is unusable.
    Status(status::StatusArgs),
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
    Init(config::InitArgs),
}
