//! PostgreSQL: the engine for real deployments and several server instances on one
//! database. Migrations run under an advisory lock so instances can start together.

use std::time::Duration;

use sqlx::any::AnyPoolOptions;

use super::{Backend, SqlStore, StoreOptions, migrate};

/// Statement that opens a write transaction.
pub(crate) const BEGIN_WRITE: &str = "BEGIN";

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
