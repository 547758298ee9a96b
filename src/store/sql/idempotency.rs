//! Idempotency keys: claim, settle, release.

use sqlx::{AnyPool, Row};

use super::rows::corrupt;
use super::{SqlStore, expect_one};
use crate::store::{IdempotencyBegin, IdempotencyRecord, StoreResult};

/// See [`crate::store::Bookings::idempotency_begin`].
///
/// The claim is one transaction; on PostgreSQL it commits without waiting for its WAL
/// flush. That is safe: nothing is answered on the strength of the claim alone, and the
/// next synchronous commit of the request (the booking, or the recorded answer) flushes the
/// WAL up to and including it. A claim lost in a crash only lets the retried request claim
/// the key again. It saves one disk flush per keyed request.
pub(super) async fn begin(
    store: &SqlStore,
    client_id: &str,
    key: &str,
    request_hash: &str,
    ttl_ms: i64,
    stale_ms: i64,
) -> StoreResult<IdempotencyBegin> {
    let now = store.now_ms();
    let pool = &store.pool;
    let mut tx = store.begin_write().await?;
    if let Some(relaxed) = store.backend.dialect().relaxed_commit {
        sqlx::query(relaxed).execute(&mut *tx).await?;
    }
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND created_at < $3",
    )
    .bind(client_id)
    .bind(key)
    .bind(now - ttl_ms)
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at)
         VALUES ($1, $2, $3, NULL, NULL, $4) ON CONFLICT (client_id, key) DO NOTHING",
    )
    .bind(client_id)
    .bind(key)
    .bind(request_hash)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if inserted.rows_affected() == 1 {
        return Ok(IdempotencyBegin::Started);
    }
    let Some(row) = sqlx::query(
        "SELECT request_hash, status, response, created_at FROM idempotency_keys
         WHERE client_id = $1 AND key = $2",
    )
    .bind(client_id)
    .bind(key)
    .fetch_optional(pool)
    .await?
    else {
        // Deleted between our two statements: the caller may simply retry.
        return Ok(IdempotencyBegin::InFlight);
    };
    let stored_hash: String = row.try_get(0)?;
    let status: Option<i64> = row.try_get(1)?;
    let response: Option<String> = row.try_get(2)?;
    let created_at: i64 = row.try_get(3)?;
    if stored_hash != request_hash {
        return Ok(IdempotencyBegin::Mismatch);
    }
    match (status, response) {
        (Some(status), Some(response)) => Ok(IdempotencyBegin::Done {
            status: u16::try_from(status).map_err(|_| corrupt("idempotency status"))?,
            response,
        }),
        _ if created_at < now - stale_ms => take_over(pool, client_id, key, created_at, now).await,
        _ => Ok(IdempotencyBegin::InFlight),
    }
}

/// Takes over a key whose request died (claimed at `created_at`, never answered), once:
/// of several requests trying, one starts and the others find it in flight.
async fn take_over(
    pool: &AnyPool,
    client_id: &str,
    key: &str,
    created_at: i64,
    now: i64,
) -> StoreResult<IdempotencyBegin> {
    let taken = sqlx::query(
        "UPDATE idempotency_keys SET created_at = $3
         WHERE client_id = $1 AND key = $2 AND created_at = $4 AND status IS NULL",
    )
    .bind(client_id)
    .bind(key)
    .bind(now)
    .bind(created_at)
    .execute(pool)
    .await?;
    Ok(if taken.rows_affected() == 1 {
        IdempotencyBegin::Started
    } else {
        IdempotencyBegin::InFlight
    })
}

/// See [`crate::store::Bookings::idempotency_finish`].
pub(super) async fn finish(pool: &AnyPool, record: &IdempotencyRecord) -> StoreResult<()> {
    let mut conn = pool.acquire().await?;
    finish_key(&mut conn, record).await
}

/// See [`crate::store::Bookings::idempotency_abandon`].
pub(super) async fn abandon(pool: &AnyPool, client_id: &str, key: &str) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE client_id = $1 AND key = $2 AND status IS NULL",
    )
    .bind(client_id)
    .bind(key)
    .execute(pool)
    .await?;
    Ok(())
}

/// Claims a key and records its answer at once, in the caller's transaction: `false`, and
/// nothing written, when the key is already known and unexpired (created at or after
/// `expired_before_ms`). An expired key is replaced.
pub(super) async fn claim_answered(
    conn: &mut sqlx::AnyConnection,
    record: &IdempotencyRecord,
    request_hash: &str,
    expired_before_ms: i64,
    now_ms: i64,
) -> StoreResult<bool> {
    let written = sqlx::query(
        "INSERT INTO idempotency_keys (client_id, key, request_hash, status, response, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (client_id, key) DO UPDATE SET request_hash = excluded.request_hash,
             status = excluded.status, response = excluded.response,
             created_at = excluded.created_at
         WHERE idempotency_keys.created_at < $7",
    )
    .bind(&record.client_id)
    .bind(&record.key)
    .bind(request_hash)
    .bind(i64::from(record.status))
    .bind(&record.response)
    .bind(now_ms)
    .bind(expired_before_ms)
    .execute(&mut *conn)
    .await?;
    Ok(written.rows_affected() == 1)
}

/// Records the response of a key, in the caller's transaction or connection.
pub(super) async fn finish_key(
    conn: &mut sqlx::AnyConnection,
    record: &IdempotencyRecord,
) -> StoreResult<()> {
    let result = sqlx::query(
        "UPDATE idempotency_keys SET status = $3, response = $4 WHERE client_id = $1 AND key = $2",
    )
    .bind(&record.client_id)
    .bind(&record.key)
    .bind(i64::from(record.status))
    .bind(&record.response)
    .execute(&mut *conn)
    .await?;
    expect_one(&result)
}
