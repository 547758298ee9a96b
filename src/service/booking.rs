//! Booking an offered slot (protocol Etape 2), and the re-check every change of an
//! appointment's time goes through.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::directory::Snapshot;
use super::offers::{SlotOffer, SlotTokenError};
use super::{Error, Result, Service};
use crate::domain::appointment::{AppointmentStatus, Contact};
use crate::domain::text::{FreeText, Reference};
use crate::domain::{ExpertiseType, GeoPoint};
use crate::engine::{Booked, Settings};
use crate::store::{Appointment, BookError, BookKey, IdempotencyRecord, Schedule};
use crate::wire::{AppointmentView, ExpertRef};

/// A booking (Etape 2).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BookingRequest {
    /// A `slotId` from a slot search.
    pub slot_id: String,
    /// Claims IA reference of the claim (one CONFIRMED appointment each).
    pub claims_ia_ref: Reference,
    /// Insurer's claim reference.
    #[serde(default)]
    pub claim_ref: Option<Reference>,
    /// Person to call.
    #[serde(default)]
    pub contact: Option<Contact>,
    /// Free text (access code, floor…).
    #[serde(default)]
    pub comment: Option<FreeText>,
}

/// Longest accepted slot id.
const MAX_SLOT_ID: usize = 4096;

/// What the booking transaction records under the request's `Idempotency-Key`, rendered by
/// the caller (the stored answer is the caller's representation).
#[derive(Clone, Copy)]
pub enum Keyed<'a> {
    /// No key.
    None,
    /// Claimed beforehand: a success is recorded in the booking transaction.
    Claimed {
        /// The answer to record for a success.
        answer: &'a (dyn Fn(&AppointmentView) -> IdempotencyRecord + Sync),
    },
    /// Not claimed yet: the booking transaction claims it, and records the success or a
    /// refusal (slot taken, claim booked). A key already known ends in [`Error::KeyTaken`]
    /// with nothing written.
    Fresh {
        /// The request's fingerprint.
        request_hash: &'a str,
        /// Keys created before this instant (ms) are expired and may be replaced.
        expired_before_ms: i64,
        /// The answer to record for a success.
        answer: &'a (dyn Fn(&AppointmentView) -> IdempotencyRecord + Sync),
        /// The answer to record for a refusal.
        refusal: &'a (dyn Fn(&Error) -> IdempotencyRecord + Send + Sync),
    },
}

/// The outcome of a booking that has an answer.
#[derive(Debug)]
pub enum Answered {
    /// Booked.
    Booked(Box<AppointmentView>),
    /// Refused, with the refusal recorded under a [`Keyed::Fresh`] key.
    Refused(Error),
}

impl Service {
    /// Books the slot behind `request.slot_id` for a protocol client. The booking
    /// transaction re-checks the slot against the expert's schedule as it is then, so two
    /// bookings can never take the same time. The booked time joins the cached calendar.
    pub async fn book(
        &self,
        client_id: &str,
        request: &BookingRequest,
        keyed: Keyed<'_>,
    ) -> Result<Answered> {
        let now = self.clock.now();
        let (offer, snapshot, index) = self.offered(client_id, &request.slot_id, now).await?;
        let entry = snapshot.directory.expert(index);
        let appointment =
            new_appointment(&offer, request, client_id, &snapshot.firm_ids[index], now)?;
        let expert = ExpertRef {
            id: entry.id.clone(),
            display_name: entry.profile.display_name.to_string(),
            firm: snapshot.firm_names[index].clone(),
        };
        let view = AppointmentView::new(&appointment, expert, entry.profile.time_zone.tz());
        let fresh = matches!(keyed, Keyed::Fresh { .. });
        let recheck = Arc::new(recheck_for(offer, now, self.settings));
        match self
            .store_booking(&appointment, &view, recheck, keyed)
            .await
        {
            Ok(()) => {
                self.calendars.booked(
                    &appointment.expert_id,
                    Booked {
                        start: appointment.start,
                        end: appointment.end,
                        place: appointment.place.as_ref().and_then(|p| p.geo),
                    },
                );
                tracing::info!(
                    appointment_id = appointment.id,
                    expert_id = appointment.expert_id,
                    claims_ia_ref = appointment.claims_ia_ref,
                    "appointment booked"
                );
                Ok(Answered::Booked(Box::new(view)))
            }
            Err(err) => {
                // Refused because the time was taken, or failed: the cached calendar is old.
                self.calendar_changed(&appointment.expert_id);
                match err {
                    BookError::SlotUnavailable | BookError::AppointmentExists(_) if fresh => {
                        Ok(Answered::Refused(refusal_of(&err)))
                    }
                    err => Err(err.into()),
                }
            }
        }
    }

    /// Writes the booking, with its answer under the key.
    async fn store_booking(
        &self,
        appointment: &Appointment,
        view: &AppointmentView,
        recheck: Arc<crate::store::Recheck>,
        keyed: Keyed<'_>,
    ) -> std::result::Result<(), BookError> {
        match keyed {
            Keyed::None => self.store.book(appointment, recheck, None).await,
            Keyed::Claimed { answer } => {
                let record = answer(view);
                let key = BookKey::Claimed(&record);
                self.store.book(appointment, recheck, Some(key)).await
            }
            Keyed::Fresh {
                request_hash,
                expired_before_ms,
                answer,
                refusal,
            } => {
                let record = answer(view);
                let refusal = |err: &BookError| refusal(&refusal_of(err));
                let key = BookKey::Fresh {
                    answer: &record,
                    request_hash,
                    expired_before_ms,
                    refusal: &refusal,
                };
                self.store.book(appointment, recheck, Some(key)).await
            }
        }
    }

    /// The offer behind a slot id made to this client, with the directory snapshot holding
    /// its expert and the expert's index there; or why not.
    pub(super) async fn offered(
        &self,
        client_id: &str,
        slot_id: &str,
        now: DateTime<Utc>,
    ) -> Result<(SlotOffer, Arc<Snapshot>, usize)> {
        if slot_id.len() > MAX_SLOT_ID {
            return Err(Error::InvalidSlot);
        }
        let offer = self
            .offers
            .verify(slot_id, client_id, now)
            .map_err(|e| match e {
                SlotTokenError::Invalid => Error::InvalidSlot,
                SlotTokenError::Expired => Error::SlotExpired,
            })?;
        let (snapshot, index) = self
            .directory
            .holding(self.store.as_ref(), self.search_cache, &offer.expert_id)
            .await?;
        let index = index.ok_or(Error::SlotUnavailable)?;
        Ok((offer, snapshot, index))
    }
}

/// The error of a booking refused by the store (the slot taken, the claim booked).
fn refusal_of(err: &BookError) -> Error {
    match err {
        BookError::AppointmentExists(id) => Error::AppointmentExists(id.clone()),
        _ => Error::SlotUnavailable,
    }
}

/// The booking-time check of an offered slot against a schedule read in the transaction.
pub(super) fn recheck_for(
    offer: SlotOffer,
    now: DateTime<Utc>,
    settings: Settings,
) -> impl Fn(&Schedule) -> bool + Send + Sync {
    let geo = offer.place.as_ref().and_then(|p| p.geo);
    move |schedule| {
        offer.times().is_some_and(|(start, end)| {
            slot_free(
                schedule,
                offer.expertise_type,
                geo,
                (start, end),
                now,
                &settings,
            )
        })
    }
}

/// Whether `[start, end)` is still bookable in `schedule` (read in the writing
/// transaction): the expert is active and the engine's rules allow the slot.
pub(super) fn slot_free(
    schedule: &Schedule,
    expertise: ExpertiseType,
    geo: Option<GeoPoint>,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    settings: &Settings,
) -> bool {
    schedule.expert.profile.active
        && crate::engine::check_slot(
            &schedule.expert.profile,
            &super::calendars::calendar_of(&schedule.absences, &schedule.appointments),
            expertise,
            geo.as_ref(),
            start,
            end,
            now,
            settings,
        )
        .is_ok()
}

fn new_appointment(
    offer: &SlotOffer,
    request: &BookingRequest,
    client_id: &str,
    firm_id: &str,
    now: DateTime<Utc>,
) -> Result<Appointment> {
    let (start, end) = offer.times().ok_or(Error::InvalidSlot)?;
    // Milliseconds only, as stored, so the first answer and later reads agree.
    let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    Ok(Appointment {
        id: uuid::Uuid::now_v7().to_string(),
        firm_id: firm_id.to_owned(),
        expert_id: offer.expert_id.clone(),
        client_id: client_id.to_owned(),
        status: AppointmentStatus::Confirmed,
        version: 1,
        start,
        end,
        mode: offer.mode(),
        expertise_type: offer.expertise_type,
        place: offer.place.clone(),
        claims_ia_ref: request.claims_ia_ref.to_string(),
        claim_ref: request.claim_ref.as_ref().map(ToString::to_string),
        contact: request.contact.clone(),
        comment: request.comment.as_ref().map(ToString::to_string),
        cancellation: None,
        created_at: now,
        updated_at: now,
        search_id: offer.search_id.clone(),
    })
}
