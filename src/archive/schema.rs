//! The state's schema, for both stores: the crawl's tables, the index's, and the migrations
//! that bring an older state to this wxsec's version, step for step the same number in SQLite
//! and PostgreSQL.

use std::path::Path;

use super::{HostField, state_error};
use crate::error::Error;

/// Schema 1, the crawl's tables, in the SQL both stores read alike (SQLite takes `BIGINT` as it
/// takes `INTEGER`).
pub(super) const CRAWL_TABLES: &str = "CREATE TABLE articles (
        key TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        status TEXT NOT NULL,
        attempts BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        next_attempt BIGINT NOT NULL DEFAULT 0,
        record_path TEXT,
        content_hash TEXT,
        first_seen BIGINT NOT NULL,
        fetched_at BIGINT,
        source TEXT
     );
     CREATE TABLE aliases (alias TEXT PRIMARY KEY, key TEXT NOT NULL);
     CREATE TABLE sources (name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT, last_polled BIGINT);
     CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);";

/// Schema 2, for both stores.
pub(super) const QUEUE_INDEX: &str = "ALTER TABLE articles ADD COLUMN depth BIGINT NOT NULL DEFAULT 0;
     CREATE INDEX articles_queue ON articles (status, next_attempt);";

/// Migrations, in order: the schema version is the number applied (`PRAGMA user_version`).
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: articles, aliases, sources, settings.
    CRAWL_TABLES,
    // 2: follow depth, and an index for the queue.
    QUEUE_INDEX,
    // 3: the search index (see `index`), and the files a repair replaces.
    "CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        key TEXT,
        account TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        source TEXT NOT NULL,
        date TEXT NOT NULL,
        fetch_date TEXT NOT NULL,
        cvss REAL
     );
     CREATE INDEX records_date ON records (date);
     CREATE INDEX records_account ON records (account, date);
     CREATE TABLE record_entities (
        record INTEGER NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (record, kind, value)
     ) WITHOUT ROWID;
     CREATE INDEX record_entities_value ON record_entities (value);
     CREATE VIRTUAL TABLE records_fts USING fts5(title, source, body, tokenize = 'trigram');
     ALTER TABLE articles ADD COLUMN replace_path TEXT;",
    // 4: waits kept in milliseconds (a Retry-After or a cool-down is never rounded down).
    "UPDATE articles SET next_attempt = next_attempt * 1000 WHERE next_attempt > 0;
     INSERT OR REPLACE INTO settings (name, value)
        SELECT 'blocked_until_ms', CAST(value AS INTEGER) * 1000 FROM settings WHERE name = 'blocked_until';
     DELETE FROM settings WHERE name = 'blocked_until';",
    // 5: the index keeps its words once, without positions (pairs of characters for Chinese), and
    // each record's hash; the feeds' signatures. The old index cannot be converted without the
    // record files: it is emptied, and `search` says to run `reindex`.
    "INSERT INTO settings (name, value) SELECT 'index_emptied', 'schema 5' WHERE EXISTS (SELECT 1 FROM records);
     DROP TABLE records_fts;
     DELETE FROM record_entities;
     DELETE FROM records;
     ALTER TABLE records ADD COLUMN hash TEXT NOT NULL DEFAULT '';
     CREATE INDEX records_order ON records (date DESC, fetch_date DESC, path);
     CREATE VIRTUAL TABLE records_fts USING fts5(words, content = '', contentless_delete = 1, detail = none,
        tokenize = 'unicode61 remove_diacritics 0');
     CREATE TABLE feeds (name TEXT PRIMARY KEY, signature TEXT NOT NULL);",
    HOSTS_MIGRATION,
    SOURCES_MIGRATION,
];

/// Migrations of a server, step for step the same schema as [`MIGRATIONS`], so that a state
/// keeps its version number whichever store holds it. From 3 on the SQL differs: the record id
/// is a `BIGSERIAL` (SQLite's rowid), and the search index's words are a `tsvector` of the same
/// tokens FTS5 keeps.
pub(super) const PG_MIGRATIONS: &[&str] = &[
    CRAWL_TABLES,
    QUEUE_INDEX,
    "CREATE TABLE records (
        id BIGSERIAL PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        key TEXT,
        account TEXT NOT NULL,
        url TEXT NOT NULL,
        title TEXT NOT NULL,
        source TEXT NOT NULL,
        date TEXT NOT NULL,
        fetch_date TEXT NOT NULL,
        cvss DOUBLE PRECISION
     );
     CREATE INDEX records_date ON records (date);
     CREATE INDEX records_account ON records (account, date);
     CREATE TABLE record_entities (
        record BIGINT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (record, kind, value)
     );
     CREATE INDEX record_entities_value ON record_entities (value);
     ALTER TABLE articles ADD COLUMN replace_path TEXT;",
    // 4 converted SQLite's waits to milliseconds: a server state was never in seconds.
    "SELECT 1",
    "ALTER TABLE records ADD COLUMN hash TEXT NOT NULL DEFAULT '';
     CREATE INDEX records_order ON records (date DESC, fetch_date DESC, path);
     CREATE TABLE records_words (id BIGINT PRIMARY KEY, words tsvector NOT NULL);
     CREATE INDEX records_words_gin ON records_words USING gin (words);
     CREATE TABLE feeds (name TEXT PRIMARY KEY, signature TEXT NOT NULL);",
    HOSTS_MIGRATION,
    SOURCES_MIGRATION,
];

/// 6: claims with leases (an article or a source is worked on by one host at a time, and a host
/// that dies lets go when its lease runs out), the host that fetched each article, and each
/// host's own politeness and cool-down: WeChat limits an egress address, not a fleet.
pub(super) const HOSTS_MIGRATION: &str = "ALTER TABLE articles ADD COLUMN lease_owner TEXT;
     ALTER TABLE articles ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE articles ADD COLUMN fetched_by TEXT;
     ALTER TABLE sources ADD COLUMN lease_owner TEXT;
     ALTER TABLE sources ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;
     CREATE TABLE hosts (
        name TEXT PRIMARY KEY,
        blocked_until_ms BIGINT NOT NULL DEFAULT 0,
        pause_until_ms BIGINT NOT NULL DEFAULT 0,
        interval_ms BIGINT NOT NULL DEFAULT 0,
        slow_until_ms BIGINT NOT NULL DEFAULT 0,
        last_seen_ms BIGINT NOT NULL DEFAULT 0,
        running BIGINT NOT NULL DEFAULT 0
     );";

/// 7: what each source did (its kind, last success and error, the articles it named) and where
/// a paged source (an album, an account's WeRead list) stands: walked to its end once, and the
/// page to ask next when a run stopped mid-walk. Alternates: the other address an article listed
/// by WeRead may have, tried when the first answers no article.
pub(super) const SOURCES_MIGRATION: &str = "ALTER TABLE sources ADD COLUMN kind TEXT;
     ALTER TABLE sources ADD COLUMN last_ok BIGINT;
     ALTER TABLE sources ADD COLUMN last_error TEXT;
     ALTER TABLE sources ADD COLUMN found BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sources ADD COLUMN walked BIGINT NOT NULL DEFAULT 0;
     ALTER TABLE sources ADD COLUMN page_cursor TEXT;
     CREATE TABLE alternates (key TEXT PRIMARY KEY, url TEXT NOT NULL);";

/// The settings a host's cool-down was kept in before schema 6, when one state had one host.
pub(super) const HOST_SETTINGS: [(&str, HostField); 4] = [
    ("blocked_until_ms", HostField::BlockedUntil),
    ("wechat_pause_until_ms", HostField::PauseUntil),
    ("wechat_interval_ms", HostField::Interval),
    ("wechat_slow_until_ms", HostField::SlowUntil),
];

/// The identity of wxsec's state files, so that a foreign SQLite file is not taken for one.
pub(super) const APPLICATION_ID: i64 = 0x7778_7365; // "wxse"

pub(super) fn newer(path: &Path, version: i64) -> Error {
    state_error(
        path.to_path_buf(),
        format!("schema version {version} is newer than this wxsec ({}); upgrade wxsec", MIGRATIONS.len()),
    )
}

pub(super) fn not_current(path: &Path, version: i64) -> Error {
    state_error(
        path.to_path_buf(),
        format!(
            "a dry run reads the state as it is, and this one is not of this wxsec's schema ({version}, not {}): run `wxsec crawl` once to upgrade it",
            MIGRATIONS.len()
        ),
    )
}
