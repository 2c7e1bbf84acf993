//! `wxsec search`: the archive's records that hold every word, newest first, as three lines
//! each or one JSON object each.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode as ProcessExit;

use wxsec::archive::index;

use super::args::ArchiveArgs;
use super::out::{ColorChoice, fail, usage};

/// The arguments of `search`.
#[derive(clap::Args)]
pub struct SearchArgs {
    /// Words to find.
    pub query: Vec<String>,
    /// Only this account (its name, or its number as in the record paths).
    #[arg(long)]
    pub source: Option<String>,
    /// Only records published on or after this day (YYYY-MM-DD).
    #[arg(long)]
    pub since: Option<chrono::NaiveDate>,
    /// Only records naming this CVE id (CNVD, CNNVD, GHSA and ATT&CK ids work too).
    #[arg(long)]
    pub cve: Option<String>,
    /// Most hits shown.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: u64,
    /// One JSON object per hit, one per line.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub archive: ArchiveArgs,
}

/// Runs `search`.
pub fn run(args: SearchArgs, color: ColorChoice) -> ProcessExit {
    let SearchArgs { query, source, since, cve, limit, json, archive } = args;
    let q = index::Query { terms: query, source, since, id: cve, limit: limit as usize };
    if q.terms.is_empty() && q.id.is_none() && q.source.is_none() && q.since.is_none() {
        return usage("give words to search for, or --cve, --source or --since");
    }
    let (root, state) = match archive.open_existing() {
        Ok(x) => x,
        Err(e) => return fail(&e),
    };
    let colour = !json && color.wanted(std::io::stdout().is_terminal());
    let (open, close) = if colour { ("\x1b[1;31m", "\x1b[0m") } else { ("**", "**") };
    if let Ok(Some(message)) = index::emptied_because(&state) {
        return fail(&wxsec::archive::state_error(state.path().to_path_buf(), message));
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
