//! Attachment rows, and what settling a download writes.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::from_ms;
use super::rows::corrupt;
use crate::store::{
    Attachment, AttachmentStatus, BlobInfo, FetchJob, FetchSettlement, Refusal, StoreResult,
};

pub(super) const ATTACHMENT_COLUMNS: &str = "id, appointment_id, url, position, name, declared_type, \
    status, reason, detail, content_type, size, sha256, attempts, created_at, updated_at";

pub(super) fn attachment_from_row(row: &AnyRow) -> StoreResult<Attachment> {
    let status: String = row.try_get("status")?;
    let sha256: Option<String> = row.try_get("sha256")?;
    let blob = match sha256 {
        Some(sha256) => Some(BlobInfo {
            sha256,
            size: row.try_get::<Option<i64>, _>("size")?.unwrap_or(0),
            content_type: row
                .try_get::<Option<String>, _>("content_type")?
                .ok_or_else(|| corrupt("attachment content type"))?,
        }),
        None => None,
    };
    Ok(Attachment {
        id: row.try_get("id")?,
        appointment_id: row.try_get("appointment_id")?,
        url: row.try_get("url")?,
        in_dossier: row.try_get::<Option<i64>, _>("position")?.is_some(),
        name: row.try_get("name")?,
        declared_type: row.try_get("declared_type")?,
        status: AttachmentStatus::parse(&status).ok_or_else(|| corrupt("attachment status"))?,
        reason: row.try_get("reason")?,
        detail: row.try_get("detail")?,
        blob,
        attempts: row.try_get("attempts")?,
        created_at: from_ms(row.try_get("created_at")?)?,
        updated_at: from_ms(row.try_get("updated_at")?)?,
    })
}

/// Data of an `attachment.*` event.
pub(super) fn event_data(
    id: &str,
    status: AttachmentStatus,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut data = serde_json::json!({ "attachmentId": id, "status": status.as_str() });
    if let (Some(data), serde_json::Value::Object(extra)) = (data.as_object_mut(), extra) {
        data.extend(extra);
    }
    data
}

pub(super) fn refusal_event(
    id: &str,
    url: Option<&str>,
    status: AttachmentStatus,
    reason: &str,
    detail: &str,
) -> serde_json::Value {
    event_data(
        id,
        status,
        serde_json::json!({ "url": url, "reason": reason, "detail": detail }),
    )
}

/// The columns a settled download sets: status, reason, detail, next attempt, blob.
pub(super) type Settled<'a> = (
    AttachmentStatus,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
    Option<&'a BlobInfo>,
);

/// What a settlement writes in the attachment's row.
pub(super) fn settled_columns(settlement: &FetchSettlement) -> Settled<'_> {
    match settlement {
        FetchSettlement::Stored(blob) => (AttachmentStatus::Stored, None, None, None, Some(blob)),
        FetchSettlement::Rejected(refusal) => (
            AttachmentStatus::Rejected,
            Some(refusal.reason.as_str()),
            Some(refusal.detail.as_str()),
            None,
            None,
        ),
        FetchSettlement::Failed { reason, detail } => (
            AttachmentStatus::Failed,
            Some(reason.as_str()),
            Some(detail.as_str()),
            None,
            None,
        ),
        FetchSettlement::Retry { at, detail } => (
            AttachmentStatus::Pending,
            None,
            Some(detail.as_str()),
            Some(at.timestamp_millis()),
            None,
        ),
    }
}

/// The event a settlement records, if any (a retry records none).
pub(super) fn settled_event(
    job: &FetchJob,
    status: AttachmentStatus,
    settlement: &FetchSettlement,
) -> Option<(&'static str, serde_json::Value)> {
    let url = Some(job.url.as_str());
    match settlement {
        FetchSettlement::Stored(blob) => Some((
            "attachment.stored",
            event_data(
                &job.attachment_id,
                status,
                serde_json::json!({ "url": url, "contentType": blob.content_type,
                                    "size": blob.size, "sha256": blob.sha256 }),
            ),
        )),
        FetchSettlement::Rejected(Refusal { reason, detail })
        | FetchSettlement::Failed { reason, detail } => Some((
            "attachment.rejected",
            refusal_event(&job.attachment_id, url, status, reason, detail),
        )),
        FetchSettlement::Retry { .. } => None,
    }
}
