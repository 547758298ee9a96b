//! The dossier Claims IA hands over after booking, and the documents it brings.

use futures_util::Stream;

use super::{Error, Result, Service};
use crate::domain::dossier::Dossier;
use crate::fetch::{BoxError, IngestError, RejectReason, StoredBlob, check_stream};
use crate::scan::Verdict;
use crate::store::{Attachment, BlobInfo, Refusal, StoredDossier};

/// A document Claims IA uploaded, once its bytes are checked and scanned.
#[derive(Debug)]
pub enum Received {
    /// Clean, or unscanned when no scanner is configured: stored.
    Stored(StoredBlob),
    /// The scanner found a signature: the bytes are gone, the upload is to be recorded as
    /// refused.
    Infected {
        /// What the scanner found.
        signature: String,
    },
}

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

    /// Receives the bytes of a document uploaded for appointment `id`: staged, checked (size,
    /// type), scanned when a scanner is configured, and stored unless infected. A refusal,
    /// a broken upload or a failed scan keeps nothing.
    pub async fn receive_upload<S, B, E>(&self, id: &str, chunks: S) -> Result<Received>
    where
        S: Stream<Item = std::result::Result<B, E>>,
        B: AsRef<[u8]>,
        E: Into<BoxError>,
    {
        let blobs = self.jobs.blobs.as_ref();
        let checked = match check_stream(blobs, self.jobs.fetch_policy(), chunks).await {
            Ok(checked) => checked,
            Err(IngestError::Rejected(rejection)) => {
                tracing::warn!(
                    appointment_id = id,
                    reason = rejection.reason.code(),
                    detail = rejection.detail,
                    "upload refused"
                );
                return Err(IngestError::Rejected(rejection).into());
            }
            Err(err) => return Err(err.into()),
        };
        if let Some(scanner) = &self.jobs.scanner {
            match scanner.scan_file(checked.path()).await {
                Ok(Verdict::Clean) => {}
                // Dropping the checked blob deletes the staged bytes.
                Ok(Verdict::Infected { signature }) => return Ok(Received::Infected { signature }),
                Err(err) => {
                    tracing::warn!(appointment_id = id, error = %err, "upload not scanned; refused");
                    return Err(err.into());
                }
            }
        }
        let blob = checked.store().await.map_err(IngestError::Io)?;
        Ok(Received::Stored(blob))
    }

    /// Records a document uploaded by Claims IA for one of its appointments, once received:
    /// `STORED`, or `REJECTED` with reason `infected` (and an `attachment.rejected` event),
    /// which is then the error [`Error::Infected`].
    pub async fn add_upload(
        &self,
        client_id: &str,
        id: &str,
        name: Option<&str>,
        declared: Option<&str>,
        received: Received,
    ) -> Result<Attachment> {
        let blob = match received {
            Received::Stored(blob) => blob,
            Received::Infected { signature } => {
                let refusal = Refusal {
                    reason: RejectReason::Infected.code().to_owned(),
                    detail: format!("virus signature {signature}"),
                };
                let attachment = self
                    .store
                    .reject_upload(client_id, id, name, declared, &refusal)
                    .await?;
                self.jobs.wake_webhooks();
                tracing::warn!(
                    appointment_id = id,
                    attachment_id = attachment.id,
                    signature,
                    "uploaded document infected; recorded as rejected"
                );
                return Err(Error::Infected {
                    attachment_id: attachment.id,
                    signature,
                });
            }
        };
        let blob = BlobInfo {
            sha256: blob.key.to_string(),
            size: i64::try_from(blob.size).map_err(|e| Error::Internal(e.into()))?,
            content_type: blob.content_type.to_owned(),
        };
        let attachment = self
            .store
            .add_upload(client_id, id, name, declared, &blob)
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
