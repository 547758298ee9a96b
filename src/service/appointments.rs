//! Reading, cancelling and completing appointments.

use super::{Error, Result, Service};
use crate::domain::appointment::{Actor, AppointmentStatus, Cancellation, CancellationReason};
use crate::domain::text::FreeText;
use crate::store::{Appointment, AppointmentFilter, Owner, Page, PageRequest};
use crate::wire::{AppointmentView, ExpertRef};

/// A cancellation.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CancellationRequest {
    /// Why.
    pub reason: CancellationReason,
    /// Free text.
    #[serde(default)]
    pub comment: Option<FreeText>,
}

impl Service {
    /// An appointment as Claims IA and firms see it, with its expert.
    pub async fn appointment_view(&self, appointment: &Appointment) -> Result<AppointmentView> {
        let expert = self
            .store
            .expert(&appointment.firm_id, &appointment.expert_id)
            .await?;
        let firm = self.store.firm(&appointment.firm_id).await?;
        let expert_ref = ExpertRef {
            id: expert.id,
            display_name: expert.profile.display_name.to_string(),
            firm: firm.profile.name.to_string(),
        };
        Ok(AppointmentView::new(
            appointment,
            expert_ref,
            expert.profile.time_zone.tz(),
        ))
    }

    /// A page of appointments, each with its expert.
    pub async fn appointment_views(
        &self,
        page: Page<Appointment>,
    ) -> Result<Page<AppointmentView>> {
        let mut items = Vec::with_capacity(page.items.len());
        for appointment in &page.items {
            items.push(self.appointment_view(appointment).await?);
        }
        Ok(Page {
            items,
            next_after: page.next_after,
        })
    }

    /// One of the appointments of `owner`.
    pub async fn appointment(&self, owner: Owner<'_>, id: &str) -> Result<Appointment> {
        Ok(match owner {
            Owner::Client(client_id) => self.store.client_appointment(client_id, id).await?,
            Owner::Firm(firm_id) => self.store.firm_appointment(firm_id, id).await?,
        })
    }

    /// A client's appointments for a claim, in every status.
    pub async fn appointments_by_ref(
        &self,
        client_id: &str,
        claims_ia_ref: &str,
        page: &PageRequest,
    ) -> Result<Page<AppointmentView>> {
        let page = self
            .store
            .client_appointments_by_ref(client_id, claims_ia_ref, page)
            .await?;
        self.appointment_views(page).await
    }

    /// A firm's appointments, filtered, in start order.
    pub async fn firm_appointments(
        &self,
        firm_id: &str,
        filter: &AppointmentFilter,
        page: &PageRequest,
    ) -> Result<Page<AppointmentView>> {
        let page = self.store.firm_appointments(firm_id, filter, page).await?;
        self.appointment_views(page).await
    }

    /// Cancels an appointment of `owner`; the time is freed. Cancelling again returns the
    /// same result. A firm's cancellation tells Claims IA (event and webhook).
    pub async fn cancel(
        &self,
        owner: Owner<'_>,
        id: &str,
        request: CancellationRequest,
    ) -> Result<Appointment> {
        let cancellation = Cancellation {
            reason: request.reason,
            comment: request.comment,
            by: match owner {
                Owner::Client(_) => Actor::ClaimsIa,
                Owner::Firm(_) => Actor::Firm,
            },
            at: self.clock.now(),
        };
        let appointment = self
            .store
            .cancel_appointment(owner, id, &cancellation)
            .await?;
        self.calendar_changed(&appointment.expert_id);
        tracing::info!(
            appointment_id = id,
            reason = ?cancellation.reason,
            by = ?cancellation.by,
            "appointment cancelled"
        );
        Ok(appointment)
    }

    /// Marks one of a firm's appointments completed (idempotent); Claims IA is told. Not
    /// before it has started ([`Error::NotStarted`]).
    pub async fn complete(&self, firm_id: &str, id: &str) -> Result<Appointment> {
        let current = self.store.firm_appointment(firm_id, id).await?;
        if current.status == AppointmentStatus::Confirmed && current.start > self.clock.now() {
            return Err(Error::NotStarted(current.start));
        }
        let appointment = self.store.complete_appointment(firm_id, id).await?;
        self.calendar_changed(&appointment.expert_id);
        tracing::info!(firm_id, appointment_id = id, "appointment completed");
        Ok(appointment)
    }
}
