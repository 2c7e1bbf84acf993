//! `copy-state`: the crawl's history copied from one state into another in one transaction (a
//! file moved to a server, hosts' files merged); the index is not copied but rebuilt.

use super::{State, db};
use crate::error::Result;

/// The crawl's tables and the columns copied from one state into another: everything but the
/// search index, which is rebuilt from the record files, and the leases, which end with the
/// copy.
pub(super) const COPIED: &[(&str, &str, &str)] = &[
    (
        "articles",
        "key, url, status, attempts, last_error, next_attempt, record_path, content_hash, first_seen, fetched_at, source, depth, replace_path, fetched_by",
        // Two hosts' files may both know an article: the one that wrote it wins.
        "ON CONFLICT (key) DO UPDATE SET status = excluded.status, record_path = excluded.record_path,
         content_hash = excluded.content_hash, fetched_at = excluded.fetched_at, fetched_by = excluded.fetched_by
         WHERE articles.status <> 'done' AND excluded.status = 'done'",
    ),
    ("aliases", "alias, key", "ON CONFLICT DO NOTHING"),
    (
        "sources",
        "name, etag, last_modified, last_polled, kind, last_ok, last_error, found, walked, page_cursor",
        "ON CONFLICT DO NOTHING",
    ),
    ("alternates", "key, url", "ON CONFLICT DO NOTHING"),
    (
        "hosts",
        "name, blocked_until_ms, pause_until_ms, interval_ms, slow_until_ms, last_seen_ms",
        "ON CONFLICT DO NOTHING",
    ),
];

/// What [`State::copy_into`] copied.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Copied {
    /// Rows read from the old state, by table.
    pub tables: std::collections::BTreeMap<String, usize>,
}

impl State {
    /// Copies the crawl's history (articles, aliases, sources' poll state, hosts' cool-downs)
    /// into `to`, in one transaction: a state file moved to a server, or several hosts' files
    /// merged into one. Rows `to` has already are kept, but an article this state has written
    /// wins over one `to` has not.
    pub fn copy_into(&self, to: &State) -> Result<Copied> {
        let mut copied = Copied::default();
        to.batch(|to| {
            for (table, columns, conflict) in COPIED {
                let rows = self.db.query(&format!("SELECT {columns} FROM {table}"), &[])?;
                let n = columns.split(',').count();
                let marks: Vec<String> = (1..=n).map(|i| format!("?{i}")).collect();
                let sql = format!("INSERT INTO {table} ({columns}) VALUES ({}) {conflict}", marks.join(", "));
                for row in &rows {
                    let params: Vec<db::Value> = row.0.iter().map(db::Datum::as_value).collect();
                    to.db.execute(&sql, &params)?;
                }
                copied.tables.insert((*table).to_string(), rows.len());
            }
            Ok(())
        })?;
        Ok(copied)
    }
}
