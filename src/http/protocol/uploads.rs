//! `POST /v1/appointments/{id}/attachments`: Claims IA uploads a document directly.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::dossier::AttachmentView;
use crate::domain::text::{FileName, MediaType};
use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::state::AppState;
use crate::store::Owner;

/// The multipart form: one part named `file`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct Upload {
    /// The document (its bytes decide its type: JPEG, PNG, GIF, WebP, HEIC, TIFF, PDF, MP4,
    /// QuickTime by default).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// Uploads a document for an appointment (multipart, one part named `file`). The same
/// checks as for downloads apply: at most the size cap (default 20 MiB: 413 past it, the
/// upload is cut off), a content type read from the bytes and allowed (422
/// `content-type-not-allowed` otherwise), then the virus scan when the server has a
/// scanner. An infected document is 422 `file-infected`: its bytes are not kept, but it is
/// recorded `REJECTED` with reason `infected` (and an `attachment.rejected` event). When the
/// scanner fails or cannot be reached: 503 `scan-failed` with `Retry-After`, nothing kept.
#[utoipa::path(post, path = "/appointments/{id}/attachments", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    request_body(content = inline(Upload), content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem,
            description = "`content-type-not-allowed`, `file-infected` or `validation-failed`"),
        (status = 503, body = Problem,
            description = "`scan-failed`: the virus scanner failed or is unreachable; retry after `Retry-After` seconds",
            headers(("Retry-After" = u64, description = "Seconds to wait before retrying")))))]
pub async fn upload(
    client: ClaimsIaClient,
    State(state): State<AppState>,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<impl IntoResponse> {
    // Unknown appointments are refused before a byte of the body is read.
    state
        .service
        .appointment(Owner::Client(&client.id), &id)
        .await?;
    let mut multipart = multipart.map_err(|_| {
        ApiError::UnsupportedMediaType("expected multipart/form-data with a part named file")
    })?;
    let bad = |e: axum::extract::multipart::MultipartError| ApiError::MalformedBody(e.body_text());
    let mut part = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            return Err(ApiError::invalid(
                format!("/{}", field.name().unwrap_or("")),
                "only one part, named file, is accepted",
            ));
        }
        if part.is_some() {
            return Err(ApiError::invalid("/file", "send one file per request"));
        }
        let name = field
            .file_name()
            .and_then(|n| FileName::parse(n.rsplit(['/', '\\']).next().unwrap_or(n)).ok())
            .map(String::from);
        let declared = field
            .content_type()
            .and_then(|t| MediaType::parse(t.split(';').next().unwrap_or(t)).ok())
            .map(String::from);
        let received = state.service.receive_upload(&id, field).await?;
        part = Some((name, declared, received));
    }
    let Some((name, declared, received)) = part else {
        return Err(ApiError::invalid("/file", "a part named file is required"));
    };
    let attachment = state
        .service
        .add_upload(
            &client.id,
            &id,
            name.as_deref(),
            declared.as_deref(),
            received,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AttachmentView::from(&attachment)),
    ))
}
