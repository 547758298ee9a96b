//! `POST /v1/appointments/{id}/attachments`: Claims IA uploads a document directly.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::dossier::AttachmentView;
use crate::domain::text::{FileName, MediaType};
use crate::fetch::{IngestError, RejectReason, ingest_stream};
use crate::http::auth::ClaimsIaClient;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::state::AppState;
use crate::store::BlobInfo;
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
/// `content-type-not-allowed` otherwise).
#[utoipa::path(post, path = "/appointments/{id}/attachments", tag = "protocol",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "Appointment id")),
    request_body(content = inline(Upload), content_type = "multipart/form-data"),
    responses((status = 201, body = AttachmentView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem)))]
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
    let mut stored = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() != Some("file") {
            return Err(ApiError::invalid(
                format!("/{}", field.name().unwrap_or("")),
                "only one part, named file, is accepted",
            ));
        }
        if stored.is_some() {
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
        let policy = state.service.jobs.fetch_policy();
        let blob = match ingest_stream(state.service.jobs.blobs.as_ref(), policy, field).await {
            Ok(blob) => blob,
            Err(IngestError::Rejected(rejection)) => {
                tracing::warn!(
                    appointment_id = id,
                    reason = rejection.reason.code(),
                    detail = rejection.detail,
                    "upload refused"
                );
                return Err(match rejection.reason {
                    RejectReason::TooLarge => ApiError::PayloadTooLarge,
                    _ => ApiError::AttachmentRejected {
                        code: rejection.reason.code(),
                        detail: rejection.detail,
                    },
                });
            }
            Err(IngestError::Source(err)) => {
                return Err(ApiError::MalformedBody(format!(
                    "reading the upload: {err}"
                )));
            }
            Err(IngestError::Io(err)) => return Err(ApiError::Internal(err.into())),
        };
        stored = Some((name, declared, blob));
    }
    let Some((name, declared, blob)) = stored else {
        return Err(ApiError::invalid("/file", "a part named file is required"));
    };
    let info = BlobInfo {
        sha256: blob.key.to_string(),
        size: i64::try_from(blob.size).map_err(|e| ApiError::Internal(e.into()))?,
        content_type: blob.content_type.to_owned(),
    };
    let attachment = state
        .service
        .add_upload(&client.id, &id, name.as_deref(), declared.as_deref(), &info)
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(AttachmentView::from(&attachment)),
    ))
}
