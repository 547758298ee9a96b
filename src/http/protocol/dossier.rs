//! Etape 3: `PUT`/`GET /v1/appointments/{id}/dossier`.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::if_match;
use crate::domain::dossier::Dossier;
use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiResult, Problem};
use crate::http::extract::{ApiJson, from_value};
use crate::http::state::AppState;
use crate::store::Owner;
use crate::store::{Attachment, AttachmentStatus, StoredDossier};

/// A document as Claims IA and firms see it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentView {
    /// Server-owned id.
    pub attachment_id: String,
    /// `PENDING`, `STORED`, `FAILED` or `REJECTED`.
    pub status: AttachmentStatus,
    /// Source URL (absent for a direct upload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// File name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Media type announced by Claims IA.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Why it was refused or failed: `too-large`, `content-type-not-allowed`, `infected`,
    /// `scheme-not-allowed`, `address-not-allowed`, `download-failed`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human detail of the refusal, failure or last retryable error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Content type read from the bytes, once stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes, once stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    /// Hex sha256 of the content, once stored (its `ETag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Download attempts so far.
    pub attempts: i64,
    /// Whether the current dossier lists it.
    pub in_dossier: bool,
    /// Creation instant.
    pub created_at: String,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        Self {
            attachment_id: a.id.clone(),
            status: a.status,
            url: a.url.clone(),
            name: a.name.clone(),
            media_type: a.declared_type.clone(),
            reason: a.reason.clone(),
            detail: a.detail.clone(),
            content_type: a.blob.as_ref().map(|b| b.content_type.clone()),
            size: a.blob.as_ref().map(|b| b.size),
            sha256: a.blob.as_ref().map(|b| b.sha256.clone()),
            attempts: a.attempts,
            in_dossier: a.in_dossier,
            created_at: a.created_at.to_rfc3339(),
        }
    }
}

/// The dossier as stored: every field sent, plus `version`, `updatedAt`, and in each
/// attachment its `attachmentId` and `status`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DossierView {
    /// The fields as last sent (`attachments` below replaces the sent list).
    #[serde(flatten)]
    pub dossier: Dossier,
    /// Documents, in dossier order, with their state.
    pub attachments: Vec<AttachmentView>,
    /// Bumped by every PUT, from 1.
    pub version: i64,
    /// Last PUT.
    pub updated_at: String,
}

impl DossierView {
    /// `ETag` of this version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }
}

/// The view of a stored dossier.
pub fn dossier_view(stored: StoredDossier) -> DossierView {
    let mut dossier = stored.dossier;
    dossier.attachments.clear();
    DossierView {
        dossier,
        attachments: stored
            .attachments
            .iter()
            .map(AttachmentView::from)
            .collect(),
        version: stored.version,
        updated_at: stored.updated_at.to_rfc3339(),
    }
}

/// The dossier with its `ETag`.
pub fn dossier_response(stored: StoredDossier, status: StatusCode) -> impl IntoResponse {
    let view = dossier_view(stored);
    (status, [(header::ETAG, view.etag())], axum::Json(view))
}

/// Hands over (or replaces) the full dossier of an appointment; each PUT bumps its
/// `version`. `claimsIaRef` must be the appointment's. Attachment URLs are downloaded in
/// the background: a URL that may not be fetched (not `https`, or a forbidden address)
/// does not fail the PUT, its attachment is `REJECTED` at once, without any connection.
/// `If-Match` (optional) refuses to overwrite a version you have not seen (412).
#[utoipa::path(put, path = "/appointments/{id}/dossier", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id"),
           ("If-Match" = Option<String>, Header, description = "ETag of the dossier version read")),
    request_body = Dossier,
    responses((status = 200, body = DossierView, headers(("ETag" = String)), description = "Replaced"),
        (status = 201, body = DossierView, headers(("ETag" = String)), description = "First dossier"),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem)))]
pub async fn put_dossier(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    let expected = if_match(&headers);
    let dossier: Dossier = from_value(body)?;
    let stored = state
        .service
        .put_dossier(&client.id, &id, &dossier, expected)
        .await?;
    let status = if stored.version == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(dossier_response(stored, status))
}

/// The dossier of an appointment, with the state of each document.
#[utoipa::path(get, path = "/appointments/{id}/dossier", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = DossierView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
pub async fn get_dossier(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let stored = state
        .service
        .dossier(Owner::Client(&client.id), &id)
        .await?;
    Ok(dossier_response(stored, StatusCode::OK))
}
