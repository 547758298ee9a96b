//! What the firms and Claims IA read: their own objects, scoped by owner, without side
//! effects.

use super::{Result, Service};
use crate::store::StoreError;
use crate::store::{
    Absence, ApiClient, Attachment, Event, Expert, Firm, FirmCredential, Owner, Page, PageRequest,
    StoredDossier,
};

impl Service {
    /// Whether the database answers (readiness).
    pub async fn ready(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// A firm.
    pub async fn firm(&self, firm_id: &str) -> Result<Firm> {
        Ok(self.store.firm(firm_id).await?)
    }

    /// A firm's credential, by its public client id.
    pub async fn firm_credential(&self, client_id: &str) -> Result<Option<FirmCredential>> {
        match self.store.firm_credential(client_id).await {
            Err(StoreError::NotFound) => Ok(None),
            found => Ok(found?),
        }
    }

    /// A Claims IA client, from the cache while fresh.
    pub async fn api_client(&self, id: &str) -> Result<Option<ApiClient>> {
        match self.api_clients.get(self.store.as_ref(), id).await {
            Err(StoreError::NotFound) => Ok(None),
            found => Ok(found?),
        }
    }

    /// One of a firm's experts.
    pub async fn expert(&self, firm_id: &str, expert_id: &str) -> Result<Expert> {
        Ok(self.store.expert(firm_id, expert_id).await?)
    }

    /// A page of a firm's experts, in creation order; with `external_ref`, the one that
    /// has it.
    pub async fn experts(
        &self,
        firm_id: &str,
        external_ref: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Expert>> {
        Ok(self.store.list_experts(firm_id, external_ref, page).await?)
    }

    /// The firm's own events after `after`, in commit order.
    pub async fn firm_events(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::store::FirmEvent>> {
        Ok(self.store.firm_events(firm_id, after, limit).await?)
    }

    /// The firm's appointments with unvalidated changes, after a cursor.
    pub async fn changed_appointments(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::store::ChangedAppointment>> {
        Ok(self
            .store
            .changed_appointments(firm_id, after, limit)
            .await?)
    }

    /// What changed on one of the firm's appointments since its last validation.
    pub async fn appointment_changes(
        &self,
        firm_id: &str,
        appointment_id: &str,
    ) -> Result<crate::store::AppointmentChanges> {
        Ok(self
            .store
            .appointment_changes(firm_id, appointment_id)
            .await?)
    }

    /// Marks an appointment's changes seen (with `expected`, only if nothing changed since).
    pub async fn validate_changes(
        &self,
        firm_id: &str,
        appointment_id: &str,
        expected: Option<i64>,
    ) -> Result<()> {
        self.store
            .validate_changes(firm_id, appointment_id, expected)
            .await?;
        tracing::info!(firm_id, appointment_id, "changes validated");
        Ok(())
    }

    /// Every expert of the firm, in creation order.
    pub async fn all_experts(&self, firm_id: &str) -> Result<Vec<Expert>> {
        Ok(self.store.firm_experts(firm_id).await?)
    }

    /// A page of the absences of one of a firm's experts, with the expert.
    pub async fn absences(
        &self,
        firm_id: &str,
        expert_id: &str,
        page: &PageRequest,
    ) -> Result<(Page<Absence>, Expert)> {
        let expert = self.store.expert(firm_id, expert_id).await?;
        let page = self.store.list_absences(firm_id, expert_id, page).await?;
        Ok((page, expert))
    }

    /// The dossier of one of the appointments of `owner`.
    pub async fn dossier(&self, owner: Owner<'_>, id: &str) -> Result<StoredDossier> {
        Ok(match owner {
            Owner::Client(client_id) => self.store.client_dossier(client_id, id).await?,
            Owner::Firm(firm_id) => self.store.firm_dossier(firm_id, id).await?,
        })
    }

    /// Every document of one of a firm's appointments, oldest first.
    pub async fn attachments(&self, firm_id: &str, id: &str) -> Result<Vec<Attachment>> {
        Ok(self.store.firm_attachments(firm_id, id).await?)
    }

    /// One document of one of a firm's appointments.
    pub async fn attachment(
        &self,
        firm_id: &str,
        id: &str,
        attachment_id: &str,
    ) -> Result<Attachment> {
        Ok(self
            .store
            .firm_attachment(firm_id, id, attachment_id)
            .await?)
    }

    /// Events about a client's appointments after the cursor `after`, in commit order.
    pub async fn events(&self, client_id: &str, after: i64, limit: u32) -> Result<Vec<Event>> {
        Ok(self.store.events(client_id, after, limit).await?)
    }
}
