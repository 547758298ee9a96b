//! A firm's own webhook: its URL is the tenant's input, so it is checked like a dossier's
//! document URL (https, public addresses, operator-allowed origins aside) when it is set,
//! and again at every delivery.

use super::{Error, Result, Service};
use crate::jobs::webhooks::new_secret;
use crate::store::{DeliveryRecord, FirmWebhook};

impl Service {
    /// Sets the firm's endpoint with a new signing secret (returned once); the URL must be
    /// reachable under the guard now.
    pub async fn set_firm_webhook(&self, firm_id: &str, url: &str) -> Result<String> {
        if url.len() > 2048 {
            return Err(Error::invalid("/url", "at most 2048 characters"));
        }
        if let Err(refusal) = self.jobs.webhook_guard.check_destination(url).await {
            return Err(Error::Refused {
                code: "webhook-url-not-allowed",
                pointer: "/url",
                detail: refusal.detail,
            });
        }
        let secret = new_secret();
        self.store.set_firm_webhook(firm_id, url, &secret).await?;
        tracing::info!(firm_id, "firm webhook set");
        Ok(secret)
    }

    /// The firm's endpoint, if set.
    pub async fn firm_webhook(&self, firm_id: &str) -> Result<Option<FirmWebhook>> {
        Ok(self.store.firm_webhook(firm_id).await?)
    }

    /// Removes the firm's endpoint and its pending deliveries.
    pub async fn remove_firm_webhook(&self, firm_id: &str) -> Result<()> {
        self.store.remove_firm_webhook(firm_id).await?;
        tracing::info!(firm_id, "firm webhook removed");
        Ok(())
    }

    /// The firm's most recent deliveries, newest first.
    pub async fn firm_deliveries(&self, firm_id: &str, limit: u32) -> Result<Vec<DeliveryRecord>> {
        Ok(self.store.firm_deliveries(firm_id, limit).await?)
    }
}
