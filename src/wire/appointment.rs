//! Appointments as Claims IA and firms see them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Place;
use crate::domain::appointment::{AppointmentStatus, Cancellation, Contact, Mode};
use crate::store::Appointment;

/// The expert of a slot or an appointment.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpertRef {
    /// Expert id.
    pub id: String,
    /// Name shown to the insured.
    pub display_name: String,
    /// Firm name.
    pub firm: String,
}

/// RFC 3339 rendering of an instant in a time zone (explicit offset).
pub fn render(instant: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    instant
        .with_timezone(&tz)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An appointment as Claims IA and firms see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppointmentView {
    /// Id.
    pub appointment_id: String,
    /// Life cycle.
    pub status: AppointmentStatus,
    /// Bumped by every change; also the `ETag`.
    pub version: i64,
    /// Start, in the expert's time zone.
    pub start: String,
    /// End, in the expert's time zone.
    pub end: String,
    /// On site or remote.
    pub mode: Mode,
    /// Expertise type booked.
    pub expertise_type: crate::domain::ExpertiseType,
    /// The expert.
    pub expert: ExpertRef,
    /// Where (on site).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_place: Option<Place>,
    /// Claims IA reference.
    pub claims_ia_ref: String,
    /// Insurer's claim reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_ref: Option<String>,
    /// Person to call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<Contact>,
    /// Free text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Set once cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<Cancellation>,
    /// Creation instant.
    pub created_at: String,
    /// Last change.
    pub updated_at: String,
}

impl AppointmentView {
    /// Renders an appointment with its expert, times in `tz`.
    pub fn new(a: &Appointment, expert: ExpertRef, tz: chrono_tz::Tz) -> Self {
        Self {
            appointment_id: a.id.clone(),
            status: a.status,
            version: a.version,
            start: render(a.start, tz),
            end: render(a.end, tz),
            mode: a.mode,
            expertise_type: a.expertise_type,
            expert,
            appointment_place: a.place.clone(),
            claims_ia_ref: a.claims_ia_ref.clone(),
            claim_ref: a.claim_ref.clone(),
            contact: a.contact.clone(),
            comment: a.comment.clone(),
            cancellation: a.cancellation.clone(),
            created_at: render(a.created_at, tz),
            updated_at: render(a.updated_at, tz),
        }
    }

    /// The strong `ETag` of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}
