//! `wxsec copy-state` and `wxsec reindex`: a state moved or merged, and the search index rebuilt
//! from the record files; a one-line summary (or one JSON object) each.

use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use wxsec::archive::index;

use super::args::ArchiveArgs;
use super::out::fail;

/// The arguments of `copy-state`.
#[derive(clap::Args)]
pub struct CopyStateArgs {
    #[command(flatten)]
    pub archive: ArchiveArgs,
    /// The state to copy into: `postgres://…` (an empty database, or one other hosts' states
    /// were copied into), or a file.
    #[arg(long)]
    pub to: PathBuf,
    /// The counts as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

/// The arguments of `reindex`.
#[derive(clap::Args)]
pub struct ReindexArgs {
    #[command(flatten)]
    pub archive: ArchiveArgs,
    /// The counts as one JSON object on standard output.
    #[arg(long)]
    pub json: bool,
}

/// Runs `copy-state`.
pub fn copy(args: CopyStateArgs) -> ProcessExit {
    let CopyStateArgs { archive, to, json } = args;
    let to = to.as_path();
    let run = || -> Result<(wxsec::archive::Copied, index::ReindexSummary), wxsec::Error> {
        let (root, from) = archive.resolve()?;
        if !wxsec::archive::exists(&from) {
            return Err(wxsec::archive::state_error(from, "no state to copy".to_string()));
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

/// Runs `reindex`.
pub fn reindex(args: ReindexArgs) -> ProcessExit {
    let ReindexArgs { archive, json } = args;
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
