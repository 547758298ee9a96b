//! Etape 3 for firms: read the dossier of an appointment, list its documents and stream
//! their content.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::protocol::{AttachmentView, DossierView, dossier_response};
use crate::http::state::AppState;
use crate::store::AttachmentStatus;
use crate::store::Owner;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_dossier))
        .routes(routes!(list_attachments))
        .routes(routes!(attachment_content))
}

/// The documents of an appointment.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentList {
    /// Dossier downloads and direct uploads, oldest first.
    pub items: Vec<AttachmentView>,
}

/// The dossier Claims IA handed over for one of the firm's appointments.
#[utoipa::path(get, path = "/appointments/{id}/dossier", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = DossierView, headers(("ETag" = String))),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_dossier(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let stored = state
        .service
        .dossier(Owner::Firm(&admin.firm_id), &id)
        .await?;
    Ok(dossier_response(stored, StatusCode::OK))
}

/// Every document of one of the firm's appointments, with its state.
#[utoipa::path(get, path = "/appointments/{id}/attachments", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    responses((status = 200, body = AttachmentList),
        (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_attachments(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<AttachmentList>> {
    let attachments = state.service.attachments(&admin.firm_id, &id).await?;
    Ok(Json(AttachmentList {
        items: attachments.iter().map(AttachmentView::from).collect(),
    }))
}

/// The content of a stored document, streamed, with its sniffed `Content-Type` and
/// `ETag` = its sha256. `If-None-Match` with that tag answers 304.
#[utoipa::path(get, path = "/appointments/{id}/attachments/{attachmentId}/content", tag = "admin",
    security(("firmToken" = [])),
    params(("id" = String, Path, description = "Appointment id"),
           ("attachmentId" = String, Path, description = "Attachment id"),
           ("If-None-Match" = Option<String>, Header, description = "ETag already held")),
    responses((status = 200, description = "The bytes", content_type = "application/octet-stream",
            headers(("ETag" = String), ("Content-Type" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "attachment-not-stored")))]
async fn attachment_content(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path((id, attachment_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let attachment = state
        .service
        .attachment(&admin.firm_id, &id, &attachment_id)
        .await?;
    let (AttachmentStatus::Stored, Some(blob)) = (attachment.status, attachment.blob.as_ref())
    else {
        return Err(ApiError::Conflict {
            code: "attachment-not-stored",
            detail: format!(
                "the attachment is {}, there is no content to read",
                attachment.status.as_str()
            ),
        });
    };
    crate::http::content::serve_blob(
        state.service.jobs.blobs.as_ref(),
        blob,
        attachment.name.as_deref(),
        &headers,
    )
    .await
}
