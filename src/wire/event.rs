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

/// One event of the firm's feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FirmEventView {
    /// Position in the feed.
    pub id: String,
    /// `import.finished`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When it happened (UTC).
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    /// Appointment concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub appointment_id: Option<String>,
    /// Import concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_id: Option<String>,
    /// Details (`import.finished`: `importId`, `kind`, `status`, `dryRun`, the counts and the
    /// number of row errors).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<crate::store::FirmEvent> for FirmEventView {
    fn from(e: crate::store::FirmEvent) -> Self {
        Self {
            id: e.id.to_string(),
            kind: e.kind,
            occurred_at: e.occurred_at,
            appointment_id: e.appointment_id,
            import_id: e.import_id,
            data: e.data,
        }
    }
}
