//! Absences of a firm's experts.

use super::{Error, Result, Service};
use crate::domain::firm::NewAbsence;
use crate::store::{Absence, AbsenceOutcome, Expert};

impl Service {
    /// Records an absence of one of the firm's experts. CONFIRMED appointments inside it
    /// refuse it ([`Error::AbsenceOverAppointments`]), unless `force`, which cancels them
    /// (Claims IA is told). Returns the absence with its expert.
    pub async fn add_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence: &NewAbsence,
        force: bool,
    ) -> Result<(Absence, Expert)> {
        let horizon = self.clock.now() + chrono::Duration::days(super::HORIZON_DAYS);
        if absence.end > horizon {
            return Err(Error::invalid(
                "/end",
                format!("at most {} days from now", super::HORIZON_DAYS),
            ));
        }
        let expert = self.store.expert(firm_id, expert_id).await?;
        let outcome = self
            .store
            .create_absence(firm_id, expert_id, absence, force)
            .await?;
        self.calendar_changed(expert_id);
        let (absence, cancelled) = match outcome {
            AbsenceOutcome::Created { absence, cancelled } => (absence, cancelled),
            AbsenceOutcome::Conflicts(appointments) => {
                let ids = appointments.into_iter().map(|a| a.id).collect();
                return Err(Error::AbsenceOverAppointments(ids));
            }
        };
        tracing::info!(
            firm_id,
            expert_id,
            absence_id = absence.id,
            cancelled = cancelled.len(),
            "absence created"
        );
        Ok((absence, expert))
    }

    /// Removes an absence of one of the firm's experts.
    pub async fn remove_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence_id: &str,
    ) -> Result<()> {
        self.store
            .delete_absence(firm_id, expert_id, absence_id)
            .await?;
        self.calendar_changed(expert_id);
        tracing::info!(firm_id, expert_id, absence_id, "absence deleted");
        Ok(())
    }
}
