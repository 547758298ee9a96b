//! SQLite: the embedded default. One file, WAL journal, created if missing. Writers are
//! serialised by SQLite itself; transactions that read before they write start with
//! `BEGIN IMMEDIATE` so that they take the write lock up front instead of failing to
//! upgrade it.

use std::time::Duration;

use sqlx::Executor;
use sqlx::any::AnyPoolOptions;

use super::dialect::Dialect;
use super::{Backend, SqlStore, StoreOptions, migrate};

/// The database used when none is configured.
pub const DEFAULT_URL: &str = "sqlite:./creneau.db";

/// SQLite's SQL differences. Write transactions start with the database's write lock, so
/// there are no row locks to take.
pub(crate) const DIALECT: Dialect = Dialect {
    begin_write: "BEGIN IMMEDIATE",
    lock_expert: "SELECT id FROM experts WHERE id = $1",
    for_update: "",
    skip_locked: "",
    event_order_lock: None,
    firm_feed_lock: None,
    relaxed_commit: None,
    migration_lock: None,
    id_in_json: "IN (SELECT value FROM json_each($1))",
    one_writer: true,
    announces: false,
    migrations: migrate::SQLITE,
    elements: |array| format!("json_each({array})"),
    join_each: |spans, columns, table, matching| {
        format!("SELECT {columns} FROM {spans} JOIN {table} a ON {matching}")
    },
};

/// Turns `sqlite:PATH`, `sqlite://PATH` or a bare path into a URL that creates the file
/// when it is missing.
pub fn normalize_url(url: &str) -> String {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("mode=")) {
        params.push("mode=rwc");
    }
    format!("sqlite:{path}?{}", params.join("&"))
}

/// Opens (creating if needed) a SQLite database and migrates it.
///
/// Two pools: readers (8 connections; WAL lets them read while one writes) and a single
/// writer connection. SQLite allows one writer at a time anyway; queueing write transactions
/// for the one connection, in order, replaces the busy handler's sleep-and-retry (up to
/// 100 ms a turn) among writers, and keeps writers waiting for the lock from holding the
/// connections readers need.
pub async fn open(url: &str, settings: &StoreOptions) -> anyhow::Result<SqlStore> {
    sqlx::any::install_default_drivers();
    let url = normalize_url(url);
    let pool = options(8).connect(&url).await?;
    // WAL is persistent in the file; switching needs an exclusive lock, so do it once here.
    pool.execute("PRAGMA journal_mode = WAL").await?;
    migrate::run(&pool, Backend::Sqlite, &settings.clock).await?;
    let writer = options(1).connect(&url).await?;
    Ok(SqlStore::new(pool, writer, Backend::Sqlite, settings))
}

/// A new SQLite database in a temporary directory, removed when the directory guard goes.
#[cfg(test)]
pub(crate) async fn temporary() -> (tempfile::TempDir, SqlStore) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    let store = open(&url, &StoreOptions::default())
        .await
        .expect("open a temporary SQLite database");
    (dir, store)
}

fn options(connections: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // FULL: an acknowledged write survives a power cut, not only a crash.
                conn.execute(
                    "PRAGMA busy_timeout = 15000; PRAGMA foreign_keys = ON; \
                     PRAGMA synchronous = FULL;",
                )
                .await?;
                Ok(())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::normalize_url;

    #[test]
    fn a_bare_path_becomes_a_creating_sqlite_url() {
        assert_eq!(
            normalize_url("./creneau.db"),
            "sqlite:./creneau.db?mode=rwc"
        );
    }

    #[test]
    fn both_url_spellings_name_the_same_file() {
        assert_eq!(
            normalize_url("sqlite:///tmp/a.db"),
            "sqlite:/tmp/a.db?mode=rwc"
        );
        assert_eq!(
            normalize_url("sqlite:/tmp/a.db"),
            "sqlite:/tmp/a.db?mode=rwc"
        );
    }

    #[test]
    fn an_explicit_mode_is_kept() {
        assert_eq!(normalize_url("sqlite:a.db?mode=ro"), "sqlite:a.db?mode=ro");
    }
}
