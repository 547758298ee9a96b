//! The dossier Claims IA hands over after booking, and the documents it brings.

use super::{Error, Result, Service};
use crate::domain::dossier::Dossier;
use crate::store::{Attachment, BlobInfo, StoredDossier};

impl Service {
    /// Stores (or replaces) the dossier of a client's appointment; with `expected`, only
    /// over that version. Attachment URLs that may not be fetched are rejected at once,
    /// without any connection; the others are downloaded in the background.
    pub async fn put_dossier(
        &self,
        client_id: &str,
        id: &str,
        dossier: &Dossier,
        expected: Option<i64>,
    ) -> Result<StoredDossier> {
        let today = self
            .clock
            .now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive();
        dossier.check(today)?;
        let appointment = self.store.client_appointment(client_id, id).await?;
        if dossier.claims_ia_ref.as_str() != appointment.claims_ia_ref {
            return Err(Error::invalid(
                "/claimsIaRef",
                format!("must be the appointment's ({})", appointment.claims_ia_ref),
            ));
        }
        let refusals: Vec<_> = dossier
            .attachments
            .iter()
            .map(|link| self.jobs.precheck(link.url.as_str()))
            .collect();
        let stored = self
            .store
            .put_dossier(client_id, id, dossier, &refusals, expected)
            .await?;
        self.jobs.wake_fetcher();
        // URLs refused at once are attachment.rejected events already.
        self.jobs.wake_webhooks();
        tracing::info!(
            appointment_id = id,
            version = stored.version,
            attachments = stored.attachments.len(),
            "dossier stored"
        );
        Ok(stored)
    }

    /// Records a document uploaded by Claims IA for one of its appointments, once its
    /// bytes are stored.
    pub async fn add_upload(
        &self,
        client_id: &str,
        id: &str,
        name: Option<&str>,
        declared: Option<&str>,
        blob: &BlobInfo,
    ) -> Result<Attachment> {
        let attachment = self
            .store
            .add_upload(client_id, id, name, declared, blob)
            .await?;
        tracing::info!(
            appointment_id = id,
            attachment_id = attachment.id,
            sha256 = blob.sha256,
            size = blob.size,
            "document uploaded"
        );
        Ok(attachment)
    }
}
