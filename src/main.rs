//! The `wxsec` command line. This file only parses and dispatches: each command's arguments and
//! output are in `cli/`, the work itself in the library.

#![warn(clippy::string_slice)]

use std::process::ExitCode as ProcessExit;

use clap::Parser as _;

mod cli;

use cli::{Cli, Command};

fn main() -> ProcessExit {
    let args = Cli::parse();
    cli::out::set_quiet(args.quiet);
    cli::out::init_logging(args.verbose, args.quiet, args.color);
    match args.command {
        Command::Import(a) => cli::import::run(a),
        Command::Normalise(a) => cli::normalise::run(a),
        Command::Account(a) => cli::account::run(a),
        Command::Crawl(a) => cli::crawl::run(a),
        Command::Feed(a) => cli::feed::run(a),
        Command::Search(a) => cli::search::run(a, args.color),
        Command::CopyState(a) => cli::state::copy(a),
        Command::Reindex(a) => cli::state::reindex(a),
        Command::Status(a) => cli::status::run(a),
        Command::Completions { shell } => cli::manual::completions(shell),
        Command::Man => cli::manual::man(),
        Command::Init(a) => cli::config::init(a),
    }
}
