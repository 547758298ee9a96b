//! Webhook endpoints and the delivery outbox (see [`crate::store::Webhooks`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::events::event_from_row;
use super::firm_events::{firm_event, sequence};
use super::{SqlStore, claim_due, expect_one, from_ms, on_constraint};
use crate::store::{
    Delivery, DeliveryRecord, DeliverySettlement, FirmWebhook, Outbox, Payload, StoreResult,
    WebhookEndpoint, Webhooks,
};

#[async_trait]
impl Webhooks for SqlStore {
    async fn set_webhook(&self, endpoint: &WebhookEndpoint) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM webhook_endpoints WHERE client_id = $1")
            .bind(&endpoint.client_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO webhook_endpoints (client_id, url, secret, created_at)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&endpoint.client_id)
        .bind(&endpoint.url)
        .bind(&endpoint.secret)
        .bind(self.now_ms())
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_webhook(&self, client_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM webhook_endpoints WHERE client_id = $1")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        expect_one(&removed)?;
        sqlx::query("DELETE FROM webhook_deliveries WHERE client_id = $1 AND status = 'PENDING'")
            .bind(client_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_firm_webhook(&self, firm_id: &str, url: &str, secret: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM firm_webhooks WHERE firm_id = $1")
            .bind(firm_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO firm_webhooks (firm_id, url, secret, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(firm_id)
        .bind(url)
        .bind(secret)
        .bind(self.now_ms())
        .execute(&mut *tx)
        .await
        .map_err(on_constraint)?;
        tx.commit().await?;
        Ok(())
    }

    async fn firm_webhook(&self, firm_id: &str) -> StoreResult<Option<FirmWebhook>> {
        let row = sqlx::query("SELECT url, created_at FROM firm_webhooks WHERE firm_id = $1")
            .bind(firm_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(FirmWebhook {
                url: row.try_get("url")?,
                created_at: from_ms(row.try_get("created_at")?)?,
            })
        })
        .transpose()
    }

    async fn remove_firm_webhook(&self, firm_id: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let removed = sqlx::query("DELETE FROM firm_webhooks WHERE firm_id = $1")
            .bind(firm_id)
            .execute(&mut *tx)
            .await?;
        expect_one(&removed)?;
        sqlx::query(
            "DELETE FROM firm_webhook_deliveries WHERE firm_id = $1 AND status = 'PENDING'",
        )
        .bind(firm_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn firm_deliveries(&self, firm_id: &str, limit: u32) -> StoreResult<Vec<DeliveryRecord>> {
        sequence(self).await?;
        let rows = sqlx::query(
            "SELECT firm_event_id, status, attempts, attempted_at, last_status, last_error,
                next_attempt_at
             FROM firm_webhook_deliveries WHERE firm_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(firm_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let status: String = row.try_get("status")?;
                let next: Option<i64> = row.try_get("next_attempt_at")?;
                let attempted: Option<i64> = row.try_get("attempted_at")?;
                Ok(DeliveryRecord {
                    event_id: row.try_get("firm_event_id")?,
                    next_attempt_at: if status == "PENDING" {
                        next.map(from_ms).transpose()?
                    } else {
                        None
                    },
                    status,
                    attempts: row.try_get("attempts")?,
                    attempted_at: attempted.map(from_ms).transpose()?,
                    last_status: row.try_get("last_status")?,
                    last_error: row.try_get("last_error")?,
                })
            })
            .collect()
    }

    async fn claim_delivery(
        &self,
        outbox: Outbox,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>> {
        let (table, event_column, owner_column) = tables(outbox);
        if outbox == Outbox::Firms {
            sequence(self).await?;
        }
        let mut tx = self.begin_write().await?;
        let claimed = claim_due(
            self,
            &mut tx,
            (table, "status = 'PENDING'"),
            &format!("id, {event_column} AS event_id, {owner_column} AS owner, attempts"),
            worker,
            lease_until,
        )
        .await?;
        let Some(claimed) = claimed else {
            tx.commit().await?;
            return Ok(None);
        };
        let id: i64 = claimed.try_get("id")?;
        let event_id: i64 = claimed.try_get("event_id")?;
        let owner: String = claimed.try_get("owner")?;
        let attempts: i64 = claimed.try_get("attempts")?;
        let (payload, endpoint) = match outbox {
            Outbox::Clients => {
                let event = sqlx::query(
                    "SELECT id, type, appointment_id, data, occurred_at FROM events WHERE id = $1",
                )
                .bind(event_id)
                .fetch_one(&mut *tx)
                .await?;
                let endpoint =
                    sqlx::query("SELECT url, secret FROM webhook_endpoints WHERE client_id = $1")
                        .bind(&owner)
                        .fetch_optional(&mut *tx)
                        .await?;
                (Payload::Client(event_from_row(&event)?), endpoint)
            }
            Outbox::Firms => {
                let event = firm_event(&mut tx, event_id).await?;
                let endpoint =
                    sqlx::query("SELECT url, secret FROM firm_webhooks WHERE firm_id = $1")
                        .bind(&owner)
                        .fetch_optional(&mut *tx)
                        .await?;
                (Payload::Firm(event), endpoint)
            }
        };
        tx.commit().await?;
        let Some(endpoint) = endpoint else {
            // The endpoint was removed after the claim: nothing to deliver to.
            return Ok(None);
        };
        Ok(Some(Delivery {
            id,
            outbox,
            payload,
            url: endpoint.try_get("url")?,
            secret: endpoint.try_get("secret")?,
            attempts,
        }))
    }

    async fn settle_delivery(
        &self,
        delivery: &Delivery,
        worker: &str,
        settlement: &DeliverySettlement,
    ) -> StoreResult<bool> {
        let now = self.now_ms();
        let (status, http_status, detail, next, delivered) = match settlement {
            DeliverySettlement::Delivered { status } => {
                ("DELIVERED", Some(*status), None, None, Some(now))
            }
            DeliverySettlement::Retry { at, status, detail } => (
                "PENDING",
                *status,
                Some(detail.as_str()),
                Some(at.timestamp_millis()),
                None,
            ),
            DeliverySettlement::Failed { status, detail } => {
                ("FAILED", *status, Some(detail.as_str()), None, None)
            }
        };
        let (table, ..) = tables(delivery.outbox);
        let attempted = match delivery.outbox {
            Outbox::Clients => "",
            Outbox::Firms => ", attempted_at = $8",
        };
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET status = $3, last_status = $4, last_error = $5,
                next_attempt_at = COALESCE($6, next_attempt_at), delivered_at = $7,
                lease_owner = NULL, lease_until = NULL{attempted}
             WHERE id = $1 AND lease_owner = $2 AND status = 'PENDING'"
        )))
        .bind(delivery.id)
        .bind(worker)
        .bind(status)
        .bind(http_status.map(i64::from))
        .bind(detail)
        .bind(next)
        .bind(delivered);
        let result = match delivery.outbox {
            Outbox::Clients => result,
            Outbox::Firms => result.bind(now),
        }
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(result.rows_affected() == 1)
    }
}

/// The outbox table, its event column and its owner column.
fn tables(outbox: Outbox) -> (&'static str, &'static str, &'static str) {
    match outbox {
        Outbox::Clients => ("webhook_deliveries", "event_id", "client_id"),
        Outbox::Firms => ("firm_webhook_deliveries", "firm_event_id", "firm_id"),
    }
}
