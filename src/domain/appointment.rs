//! Appointments: status, mode, contact, cancellation.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::codes::ExpertiseType;
use super::text::{Email, FreeText, Name, Phone};

/// Life cycle of an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AppointmentStatus {
    /// Booked; the expert's time is taken.
    Confirmed,
    /// Cancelled; the time is free again.
    Cancelled,
    /// Done.
    Completed,
}

impl AppointmentStatus {
    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "CONFIRMED",
            Self::Cancelled => "CANCELLED",
            Self::Completed => "COMPLETED",
        }
    }

    /// Parses the wire and database name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "CONFIRMED" => Some(Self::Confirmed),
            "CANCELLED" => Some(Self::Cancelled),
            "COMPLETED" => Some(Self::Completed),
            _ => None,
        }
    }
}

/// Where an appointment happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    /// At the appointment place (travel and zone apply).
    OnSite,
    /// Video or remote assessment.
    Remote,
}

impl Mode {
    /// The mode of an expertise type (`VISIO` and `EAD` are remote).
    pub fn of(expertise_type: ExpertiseType) -> Self {
        if expertise_type.is_remote() {
            Self::Remote
        } else {
            Self::OnSite
        }
    }

    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OnSite => "ON_SITE",
            Self::Remote => "REMOTE",
        }
    }

    /// Parses the wire and database name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "ON_SITE" => Some(Self::OnSite),
            "REMOTE" => Some(Self::Remote),
            _ => None,
        }
    }
}

/// The person to call about an appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Contact {
    /// Name, e.g. `Mme Dupont`.
    pub name: Name,
    /// Phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Phone>,
    /// E-mail address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Email>,
}

/// Why an appointment was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CancellationReason {
    /// The insured asked.
    InsuredRequest,
    /// The expert cannot come.
    ExpertUnavailable,
    /// The claim is closed.
    ClaimClosed,
    /// Booked twice.
    Duplicate,
    /// Anything else.
    Other,
}

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Actor {
    /// The Claims IA platform.
    ClaimsIa,
    /// The expert firm.
    Firm,
}

/// A recorded cancellation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Cancellation {
    /// Why.
    pub reason: CancellationReason,
    /// Free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<FreeText>,
    /// Who cancelled.
    pub by: Actor,
    /// When.
    pub at: chrono::DateTime<chrono::Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_names() {
        for status in [
            AppointmentStatus::Confirmed,
            AppointmentStatus::Cancelled,
            AppointmentStatus::Completed,
        ] {
            assert_eq!(AppointmentStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AppointmentStatus::parse("confirmed"), None);
    }

    #[test]
    fn a_contact_needs_a_name_and_rejects_unknown_fields() {
        assert!(serde_json::from_str::<Contact>(r#"{"phone":"+33612345678"}"#).is_err());
        assert!(serde_json::from_str::<Contact>(r#"{"name":"Mme Dupont","fax":"1"}"#).is_err());
        let contact: Contact =
            serde_json::from_str(r#"{"name":"Mme Dupont","email":"d@example.fr"}"#).unwrap();
        assert_eq!(contact.name.as_str(), "Mme Dupont");
    }

    #[test]
    fn modes_use_the_wire_names() {
        assert_eq!(serde_json::to_string(&Mode::OnSite).unwrap(), "\"ON_SITE\"");
        assert_eq!(Mode::parse("REMOTE"), Some(Mode::Remote));
    }

    #[test]
    fn visio_and_ead_are_remote_the_others_on_site() {
        let modes = ExpertiseType::ALL.map(Mode::of);
        assert_eq!(
            modes,
            [Mode::Remote, Mode::Remote, Mode::OnSite, Mode::OnSite]
        );
    }
}
