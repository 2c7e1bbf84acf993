//! The counts of a `normalise` run and the lines of its report.

use serde::Serialize;

/// Counts of a run, one outcome per file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Files read.
    pub read: usize,
    /// Clean records written (new or changed).
    pub written: usize,
    /// Clean records already as they should be (not rewritten).
    pub unchanged: usize,
    /// Stubs (reported, not written).
    pub stubs: usize,
    /// Truncated records (reported, not written).
    pub truncated: usize,
    /// Records of other sites (repaired and kept).
    pub other_sites: usize,
    /// Records without a title or account name (failed extractions of another tool).
    pub incomplete: usize,
    /// Files in no known record format.
    pub unrecognised: usize,
    /// Each kind of reported file (`chrome-only`, `deleted`, `site-error`, `truncated`, …) and how
    /// many: the kinds of the report, counted.
    pub kinds: std::collections::BTreeMap<&'static str, usize>,
    /// Hidden folders not entered (`.git`, `.wxsec`).
    pub skipped_folders: usize,
    /// Files not read: not records by their name, or symbolic links.
    pub skipped_files: usize,
    /// Files that could not be read or written.
    pub errors: usize,
    /// Stubs and truncated records put into the crawl queue (`--queue`).
    pub queued: usize,
    /// Images downloaded into `assets/` (`--images local`).
    pub images: usize,
    /// Images that kept their remote link.
    pub images_failed: usize,
    /// Files by the format they were read in (`front-matter`, `quote-header`, …).
    pub formats: std::collections::BTreeMap<&'static str, usize>,
    /// Records written with the account the user gave (`--source`, `--source-from-folder`).
    pub source_given: usize,
    /// Files not read: each as it was when last seen, its record on disk and in the index as
    /// written then, so its outcome is the one it had.
    pub remembered: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} read, {} written, {} unchanged, {} stubs", self.read, self.written, self.unchanged, self.stubs)?;
        let stub_kinds: Vec<String> = self
            .kinds
            .iter()
            .filter(|(k, _)| !matches!(**k, "truncated" | "incomplete" | "unrecognised" | "error"))
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        if !stub_kinds.is_empty() {
            write!(f, " ({})", stub_kinds.join(", "))?;
        }
        write!(
            f,
            ", {} truncated, {} other sites, {} incomplete, {} unrecognised, {} errors",
            self.truncated, self.other_sites, self.incomplete, self.unrecognised, self.errors
        )?;
        if self.skipped_folders + self.skipped_files > 0 {
            write!(
                f,
                ", {} skipped ({} hidden folders, {} files not records)",
                self.skipped_folders + self.skipped_files,
                self.skipped_folders,
                self.skipped_files
            )?;
        }
        if self.queued > 0 {
            write!(f, ", {} queued for the crawl", self.queued)?;
        }
        if self.images + self.images_failed > 0 {
            write!(f, ", {} images stored, {} kept remote", self.images, self.images_failed)?;
        }
        if self.source_given > 0 {
            write!(f, ", {} with the account given", self.source_given)?;
        }
        Ok(())
    }
}

#[derive(Serialize)]
pub(super) struct ReportLine<'a> {
    pub path: &'a str,
    pub url: &'a str,
    pub kind: &'a str,
    pub reason: &'a str,
    /// The format the file was read in; empty when it was in none.
    pub format: &'a str,
}
