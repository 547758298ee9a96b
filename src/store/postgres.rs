//! PostgreSQL: the engine for real deployments and several server instances on one
//! database. Migrations run under an advisory lock so instances can start together.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;

use super::dialect::Dialect;
use super::{Backend, SqlStore, StoreOptions, migrate};

/// PostgreSQL's SQL differences: row locks, so that writers of different experts go in
/// parallel, and advisory locks where an order must hold across instances.
pub(crate) const DIALECT: Dialect = Dialect {
    begin_write: "BEGIN",
    lock_expert: "SELECT id FROM experts WHERE id = $1 FOR UPDATE",
    for_update: "FOR UPDATE",
    skip_locked: "FOR UPDATE SKIP LOCKED",
    // One fixed key: every transaction recording events queues on it until commit.
    event_order_lock: Some("SELECT pg_advisory_xact_lock(727275)"),
    firm_feed_lock: Some("SELECT pg_advisory_xact_lock(727276)"),
    relaxed_commit: Some("SET LOCAL synchronous_commit TO OFF"),
    migration_lock: Some("SELECT pg_advisory_xact_lock(727274)"),
    // `= ANY` keeps the primary key's index whatever the planner guesses of the array's
    // length.
    id_in_json: "= ANY(ARRAY(SELECT jsonb_array_elements_text(CAST($1 AS JSONB))))",
    one_writer: false,
    announces: true,
    migrations: migrate::POSTGRES,
    elements: |array| format!("jsonb_array_elements(CAST({array} AS JSONB))"),
    // Each span looked up on its own through the index, whatever the statistics say:
    // OFFSET 0 keeps the lateral sub-select from being flattened into a join.
    join_each: |spans, columns, table, matching| {
        format!(
            "SELECT {columns} FROM {spans}
             CROSS JOIN LATERAL (SELECT * FROM {table} a WHERE {matching} OFFSET 0) a"
        )
    },
};

/// Connects to a PostgreSQL database and migrates it.
pub async fn open(url: &str, options: &StoreOptions) -> anyhow::Result<SqlStore> {
    sqlx::any::install_default_drivers();
    let pool = AnyPoolOptions::new()
        .max_connections(16)
        .acquire_timeout(Duration::from_secs(30))
        .connect(url)
        .await?;
    migrate::run(&pool, Backend::Postgres, &options.clock).await?;
    Ok(SqlStore::new(pool.clone(), pool, Backend::Postgres, options).announced_on(url))
}
