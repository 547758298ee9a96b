//! Webhook endpoints and the delivery outbox (see [`crate::store::Webhooks`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::events::event_from_row;
use super::{SqlStore, claim_due, expect_one, on_constraint};
use crate::store::{Delivery, DeliverySettlement, StoreResult, WebhookEndpoint, Webhooks};

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

    async fn claim_delivery(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Delivery>> {
        let mut tx = self.begin_write().await?;
        let claimed = claim_due(
            self,
            &mut tx,
            ("webhook_deliveries", "status = 'PENDING'"),
            "id, event_id, client_id, attempts",
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
        let client_id: String = claimed.try_get("client_id")?;
        let attempts: i64 = claimed.try_get("attempts")?;
        let event = sqlx::query(
            "SELECT id, type, appointment_id, data, occurred_at FROM events WHERE id = $1",
        )
        .bind(event_id)
        .fetch_one(&mut *tx)
        .await?;
        let endpoint =
            sqlx::query("SELECT url, secret FROM webhook_endpoints WHERE client_id = $1")
                .bind(&client_id)
                .fetch_optional(&mut *tx)
                .await?;
        tx.commit().await?;
        let Some(endpoint) = endpoint else {
            // The endpoint was removed after the claim: nothing to deliver to.
            return Ok(None);
        };
        Ok(Some(Delivery {
            id,
            event: event_from_row(&event)?,
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
        let mut tx = self.begin_write().await?;
        let result = sqlx::query(
            "UPDATE webhook_deliveries SET status = $3, last_status = $4, last_error = $5,
                next_attempt_at = COALESCE($6, next_attempt_at), delivered_at = $7,
                lease_owner = NULL, lease_until = NULL
             WHERE id = $1 AND lease_owner = $2 AND status = 'PENDING'",
        )
        .bind(delivery.id)
        .bind(worker)
        .bind(status)
        .bind(http_status.map(i64::from))
        .bind(detail)
        .bind(next)
        .bind(delivered)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(result.rows_affected() == 1)
    }
}
