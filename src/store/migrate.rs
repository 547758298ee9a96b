//! A small migration runner over embedded SQL files, one list per engine. The pending
//! migrations are applied together in one transaction under the engine's write lock, so
//! instances starting together apply each once; each is recorded with a checksum, and an
//! applied file that was edited is refused.

use sha2::{Digest, Sha256};
use sqlx::{AnyPool, AssertSqlSafe, Row};

use super::Backend;

/// One embedded migration.
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $($version:literal $name:literal),* $(,)?) => {
        &[$(Migration {
            version: $version,
            name: $name,
            sql: include_str!(concat!("../../migrations/", $dir, "/", $name, ".sql")),
        }),*]
    };
}

pub(super) const SQLITE: &[Migration] = migrations!("sqlite": 1 "0001_init", 2 "0002_appointments", 3 "0003_calendar_feeds", 4 "0004_documents", 5 "0005_calendar_end_index", 6 "0006_settlements", 7 "0007_imports", 8 "0008_search_log");
pub(super) const POSTGRES: &[Migration] = migrations!("postgres": 1 "0001_init", 2 "0002_appointments", 3 "0003_calendar_feeds", 4 "0004_documents", 5 "0005_calendar_end_index", 6 "0006_settlements", 7 "0007_imports", 8 "0008_search_log");

/// Applies, in one transaction under the engine's write lock, every migration of `backend`
/// not yet recorded in the database.
pub(super) async fn run(
    pool: &AnyPool,
    backend: Backend,
    clock: &crate::clock::Clock,
) -> anyhow::Result<()> {
    let dialect = backend.dialect();
    let list = dialect.migrations;
    let mut tx = pool.begin_with(dialect.begin_write).await?;
    if let Some(lock) = dialect.migration_lock {
        sqlx::query(lock).execute(&mut *tx).await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS creneau_migrations (
            version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    for migration in list {
        let checksum = hex::encode(Sha256::digest(migration.sql.as_bytes()));
        let applied = sqlx::query("SELECT checksum FROM creneau_migrations WHERE version = $1")
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = applied {
            let stored: String = row.try_get(0)?;
            anyhow::ensure!(
                stored == checksum,
                "migration {} ({}) was edited after it was applied",
                migration.version,
                migration.name
            );
            continue;
        }
        sqlx::raw_sql(AssertSqlSafe(migration.sql))
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO creneau_migrations (version, name, checksum, applied_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(migration.version)
        .bind(migration.name)
        .bind(checksum)
        .bind(clock.now_ms())
        .execute(&mut *tx)
        .await?;
        tracing::info!(
            version = migration.version,
            name = migration.name,
            "migration applied"
        );
    }
    tx.commit().await?;
    Ok(())
}
