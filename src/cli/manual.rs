//! `wxsec completions` and `wxsec man`: the shell completion scripts and the manual page, both
//! made from the command definitions, so they never drift from `--help`.

use std::io::Write as _;
use std::process::ExitCode as ProcessExit;

use clap::CommandFactory as _;
use wxsec::ExitCode;

use super::Cli;

/// Prints the completion script for `shell`.
pub fn completions(shell: clap_complete::Shell) -> ProcessExit {
    // Into memory first: the generator panics on a write error (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "wxsec", &mut script);
    let _ = std::io::stdout().write_all(&script);
    ProcessExit::SUCCESS
}

/// Prints the manual page.
pub fn man() -> ProcessExit {
    let mut page = Vec::new();
    match clap_mangen::Man::new(Cli::command()).render(&mut page) {
        Ok(()) => {
            let _ = std::io::stdout().write_all(&page);
            ProcessExit::SUCCESS
        }
        Err(e) => {
            errln!("wxsec: the manual page could not be written: {e}");
            ProcessExit::from(ExitCode::Io as u8)
        }
    }
}
