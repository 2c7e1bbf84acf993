//! What feeds read from the index: the newest records, per account or all, and each feed's
//! signature, so an unchanged feed is not written again.

use super::record_ids;
use crate::archive::State;
use crate::error::Result;

/// An indexed record as a listing shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// The record file, as indexed.
    pub path: String,
    /// `biz:mid:idx`, when the address names the article.
    pub key: Option<String>,
    /// The account's number, or a name made from its title.
    pub account: String,
    /// Front matter.
    pub url: String,
    /// Front matter.
    pub title: String,
    /// Front matter.
    pub source: String,
    /// Front matter.
    pub date: String,
    /// Front matter.
    pub fetch_date: String,
    /// Every entity id the record names, sorted by kind and value.
    pub ids: Vec<String>,
}

/// The newest `limit` records, of one account or of all, newest first.
pub fn newest(state: &State, account: Option<&str>, limit: usize) -> Result<Vec<Listed>> {
    // Two statements, so that each has its index: one account's records by (account, date), all
    // of them by (date, fetch_date, path); one `account = ?1 OR ?1 IS NULL` could use neither.
    let sql = match account {
        Some(_) => {
            "SELECT id, path, key, account, url, title, source, date, fetch_date FROM records
             WHERE account = ?1 ORDER BY date DESC, fetch_date DESC, path LIMIT ?2"
        }
        None => {
            "SELECT id, path, key, account, url, title, source, date, fetch_date FROM records
             WHERE CAST(?1 AS TEXT) IS NULL ORDER BY date DESC, fetch_date DESC, path LIMIT ?2"
        }
    };
    let found = state.db().query(sql, &[account.into(), (limit.min(i64::MAX as usize) as i64).into()])?;
    let mut out = Vec::with_capacity(found.len());
    for r in found {
        out.push(Listed {
            path: r.text(1),
            key: r.opt_text(2),
            account: r.text(3),
            url: r.text(4),
            title: r.text(5),
            source: r.text(6),
            date: r.text(7),
            fetch_date: r.text(8),
            ids: record_ids(state, r.int(0), None)?,
        });
    }
    Ok(out)
}

/// One feed as the index orders its entries: its account (`None` for the feed of every
/// account), the account's name as its newest record gives it, and a signature of its entries
/// (their paths and file hashes): a feed whose signature is the one it was written with needs no
/// rendering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedPlan {
    /// The account, or `None` for every account.
    pub account: Option<String>,
    /// The account's name in its newest record.
    pub source: String,
    /// A hash of the entries' paths and file hashes, newest first.
    pub signature: String,
    /// Entries.
    pub entries: usize,
}

/// The plans of every feed: the one of all accounts first, then one per account in order, each
/// of its newest `limit` records. One pass over the index, reading no record file.
pub fn feed_plans(state: &State, limit: usize) -> Result<Vec<FeedPlan>> {
    let db = state.db();
    let limit = limit.min(i64::MAX as usize) as i64;
    let sign = |rows: &[(String, String)]| {
        let mut h = String::new();
        for (path, hash) in rows {
            h.push_str(path);
            h.push('\0');
            h.push_str(hash);
            h.push('\n');
        }
        format!("{:016x}", crate::store::fnv1a(h.as_bytes()))
    };
    let mut plans = Vec::new();
    let all = db.query(
        "SELECT source, path, hash FROM records ORDER BY date DESC, fetch_date DESC, path LIMIT ?1",
        &[limit.into()],
    )?;
    let source = all.first().map(|r| r.text(0)).unwrap_or_default();
    let rows: Vec<(String, String)> = all.iter().map(|r| (r.text(1), r.text(2))).collect();
    plans.push(FeedPlan { account: None, source, signature: sign(&rows), entries: rows.len() });
    // Each account's newest entries through the (account, date) index, the accounts met one
    // after the other along it: ranking every record of the archive at once sorted a million rows
    // to look at a few thousand.
    let mut account = String::new();
    let mut first = true;
    loop {
        let next = db.query_row(
            if first {
                "SELECT min(account) FROM records"
            } else {
                "SELECT min(account) FROM records WHERE account > ?1"
            },
            &if first { vec![] } else { vec![account.as_str().into()] },
        )?;
        first = false;
        let Some(name) = next.and_then(|r| r.opt_text(0)) else { break };
        let rows = db.query(
            "SELECT source, path, hash FROM records WHERE account = ?1
             ORDER BY date DESC, fetch_date DESC, path LIMIT ?2",
            &[name.as_str().into(), limit.into()],
        )?;
        let source = rows.first().map(|r| r.text(0)).unwrap_or_default();
        let entries: Vec<(String, String)> = rows.iter().map(|r| (r.text(1), r.text(2))).collect();
        plans.push(FeedPlan { account: Some(name.clone()), source, signature: sign(&entries), entries: entries.len() });
        account = name;
    }
    Ok(plans)
}

/// The signature a feed file was last written with.
pub fn feed_signature(state: &State, name: &str) -> Result<Option<String>> {
    Ok(state.db().query_row("SELECT signature FROM feeds WHERE name = ?1", &[name.into()])?.map(|r| r.text(0)))
}

/// Records the signature a feed file was written with.
pub fn set_feed_signature(state: &State, name: &str, signature: &str) -> Result<()> {
    state
        .db()
        .execute(
            "INSERT INTO feeds (name, signature) VALUES (?1, ?2)
             ON CONFLICT (name) DO UPDATE SET signature = excluded.signature",
            &[name.into(), signature.into()],
        )
        .map(|_| ())
}
