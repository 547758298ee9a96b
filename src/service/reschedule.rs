//! Moving an appointment to another time, and possibly another expert: one operation for
//! Claims IA (to a slot it was offered) and for firms (to a time they choose).

use chrono::{DateTime, Utc};

use super::booking::{recheck_for, slot_free};
use super::{Error, Result, Service};
use crate::store::{Appointment, Move, Owner, Recheck, StoreError};

/// Where an appointment goes.
#[derive(Debug, Clone)]
pub enum Destination {
    /// A slot offered to the client by a search (its `slotId`).
    Offer(String),
    /// A start chosen by the firm, with one of its experts (default: the same one); the
    /// length is that expert's duration for the appointment's expertise type.
    Chosen {
        /// New start.
        start: DateTime<Utc>,
        /// Another expert of the firm.
        expert_id: Option<String>,
    },
}

impl Service {
    /// Moves an appointment of `owner` (same id, `version + 1`), checked like a booking:
    /// working hours, absences, other appointments, travel, daily maximum, notice, grid.
    /// Atomic: when the new time is not free, [`Error::SlotUnavailable`] and the appointment
    /// is untouched. A firm's move tells Claims IA (event and webhook).
    pub async fn reschedule(
        &self,
        owner: Owner<'_>,
        id: &str,
        destination: Destination,
    ) -> Result<Appointment> {
        let now = self.clock.now();
        let (to, recheck, previous) = match (destination, owner) {
            (Destination::Offer(slot_id), Owner::Client(client_id)) => {
                let (offer, snapshot, index) = self.offered(client_id, &slot_id, now).await?;
                let (start, end) = offer.times().ok_or(Error::InvalidSlot)?;
                let to = Move {
                    expert_id: offer.expert_id.clone(),
                    firm_id: snapshot.firm_ids[index].clone(),
                    start,
                    end,
                    mode: offer.mode(),
                    expertise_type: offer.expertise_type,
                    place: offer.place.clone(),
                };
                let recheck: Box<Recheck> = Box::new(recheck_for(offer, now, self.settings));
                let previous = self.appointment(owner, id).await?;
                (to, recheck, previous)
            }
            (Destination::Offer(_), Owner::Firm(_)) => return Err(Error::InvalidSlot),
            (Destination::Chosen { start, expert_id }, owner) => {
                let previous = self.appointment(owner, id).await?;
                let (to, recheck) = self.chosen(&previous, start, expert_id, now).await?;
                (to, recheck, previous)
            }
        };
        let outcome = self.store.reschedule(owner, id, &to, &*recheck).await;
        // Both calendars changed (or, on a refusal, the new one proved stale).
        self.calendar_changed(&previous.expert_id);
        self.calendar_changed(&to.expert_id);
        let appointment = outcome?;
        tracing::info!(
            appointment_id = id,
            expert_id = appointment.expert_id,
            start = %appointment.start,
            "appointment rescheduled"
        );
        Ok(appointment)
    }

    /// The move to a start chosen by the firm, and its check.
    async fn chosen(
        &self,
        current: &Appointment,
        start: DateTime<Utc>,
        expert_id: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<(Move, Box<Recheck>)> {
        if start > now + chrono::Duration::days(super::HORIZON_DAYS) {
            return Err(Error::invalid(
                "/start",
                format!("at most {} days from now", super::HORIZON_DAYS),
            ));
        }
        let expert_id = expert_id.unwrap_or_else(|| current.expert_id.clone());
        let expert = match self.store.expert(&current.firm_id, &expert_id).await {
            Err(StoreError::NotFound) => {
                return Err(Error::invalid("/expertId", "no such expert in this firm"));
            }
            other => other?,
        };
        let minutes = expert.profile.durations_minutes.get(current.expertise_type);
        let end = start + chrono::Duration::minutes(i64::from(minutes));
        let to = Move {
            expert_id,
            firm_id: current.firm_id.clone(),
            start,
            end,
            mode: current.mode,
            expertise_type: current.expertise_type,
            place: current.place.clone(),
        };
        let settings = self.settings;
        let geo = current.place.as_ref().and_then(|p| p.geo);
        let expertise = current.expertise_type;
        let recheck = move |schedule: &crate::store::Schedule| {
            slot_free(schedule, expertise, geo, (start, end), now, &settings)
        };
        Ok((to, Box::new(recheck)))
    }
}
