//! After the visit: the firm files its settlement (report and fee note, or invoice) on a
//! COMPLETED appointment, with documents it pre-uploaded; Claims IA reads it back.

use crate::domain::settlement::SettlementInput;
use crate::store::{Owner, SettleError, StoredSettlement};

use super::{Error, Result, Service};

impl Service {
    /// Files a settlement on the firm's appointment: checked against the kind of partner
    /// of its expert (EXPERT: fees, damage, fee note and report; REN: invoice), then
    /// recorded with its `settlement.submitted` event.
    pub async fn file_settlement(
        &self,
        firm_id: &str,
        appointment_id: &str,
        input: SettlementInput,
    ) -> Result<StoredSettlement> {
        let appointment = self.store.firm_appointment(firm_id, appointment_id).await?;
        let expert = self.store.expert(firm_id, &appointment.expert_id).await?;
        let today = self
            .clock
            .now()
            .with_timezone(&chrono_tz::Europe::Paris)
            .date_naive();
        let (settlement, documents) = input
            .check(expert.profile.partner_kind, today)
            .map_err(Error::Invalid)?;
        let stored = self
            .store
            .file_settlement(firm_id, appointment_id, &settlement, &documents)
            .await
            .map_err(|err| match err {
                SettleError::NotCompleted => Error::NotCompleted,
                SettleError::UnknownUpload(field) => Error::UnknownUpload(field),
                SettleError::Exists(id) => Error::SettlementExists(id),
                SettleError::Store(err) => Error::Store(err),
            })?;
        self.jobs.wake_webhooks();
        tracing::info!(
            firm_id,
            appointment_id,
            settlement_id = stored.id,
            kind = settlement.kind.as_str(),
            "settlement submitted"
        );
        Ok(stored)
    }

    /// The settlements of an appointment of `owner`.
    pub async fn settlements(
        &self,
        owner: Owner<'_>,
        appointment_id: &str,
    ) -> Result<Vec<StoredSettlement>> {
        Ok(self.store.settlements(owner, appointment_id).await?)
    }

    /// One settlement of an appointment of `owner`.
    pub async fn settlement(
        &self,
        owner: Owner<'_>,
        appointment_id: &str,
        settlement_id: &str,
    ) -> Result<StoredSettlement> {
        Ok(self
            .store
            .settlement(owner, appointment_id, settlement_id)
            .await?)
    }
}
