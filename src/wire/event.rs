//! Events as `/v1/events` lists them and webhooks deliver them.

use serde::Serialize;
use utoipa::ToSchema;

/// One event.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventView {
    /// Position in the log.
    pub id: String,
    /// `appointment.cancelled`, `appointment.completed`, `appointment.rescheduled`,
    /// `attachment.stored`, `attachment.rejected`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (UTC).
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// Appointment concerned.
    pub appointment_id: String,
    /// Details (e.g. the cancellation reason).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<crate::store::Event> for EventView {
    fn from(e: crate::store::Event) -> Self {
        Self {
            id: e.id.to_string(),
            kind: e.kind,
            occurred_at: e.occurred_at,
            appointment_id: e.appointment_id,
            data: e.data,
        }
    }
}
