//! `/admin/v1/uploads`: one file per call, as base64 in JSON or as multipart, typed from
//! its bytes and virus-scanned before the answer; the key is the only handle.

use std::borrow::Cow;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{is_json, parse_json};
use crate::http::state::AppState;
use crate::service::uploads::{UploadWriter, check_file_name};
use crate::store::{Upload, UploadStatus};

/// Largest request body of this route: a 5 MiB file in base64 with its JSON around it.
pub const MAX_UPLOAD_BODY: usize = 8 * 1024 * 1024;

/// Base64 characters decoded at a time (a multiple of 4): the decoded file is never held
/// whole in memory.
const DECODE_CHUNK: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_upload))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_UPLOAD_BODY))
        .routes(routes!(get_upload))
}

/// The JSON form of an upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadJson<'a> {
    /// File name with its extension (1–255 bytes, no path, no control characters).
    #[schema(example = "rapport.pdf", min_length = 1)]
    file_name_with_extension: String,
    /// The file, base64 (RFC 4648, with padding).
    #[serde(borrow)]
    #[schema(value_type = String, format = Byte, min_length = 4)]
    file: Cow<'a, str>,
}

/// The multipart form of an upload: one part named `file`, its filename the name.
#[derive(ToSchema)]
#[allow(dead_code)]
struct UploadForm {
    /// The file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// An upload, as answered at creation and read back.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadView {
    /// `<uuid>.<ext>`: reference it from a settlement or an import.
    key: String,
    /// `VERIFIED` (scanned clean) or `UNSCANNED` (no scanner configured).
    status: UploadStatus,
    /// Size in bytes.
    size: i64,
    /// SHA-256 of the bytes, lowercase hex.
    sha256: String,
    /// Type read from the bytes: `application/pdf`, `image/jpeg`, `image/png`, `text/plain`.
    content_type: String,
    /// When it is deleted unless a settlement or an import uses it.
    expires_at: chrono::DateTime<chrono::Utc>,
    /// On reads: whether a settlement or an import uses it.
    #[serde(skip_serializing_if = "Option::is_none")]
    used: Option<bool>,
}

impl UploadView {
    fn new(upload: Upload, with_use: bool) -> Self {
        Self {
            used: with_use.then_some(upload.used_by.is_some()),
            key: upload.key,
            status: upload.status,
            size: upload.blob.size,
            sha256: upload.blob.sha256,
            content_type: upload.blob.content_type,
            expires_at: upload.expires_at,
        }
    }
}

/// Uploads one file, before the settlement or the import that references it. Its type is
/// read from its bytes (PDF, JPEG, PNG or UTF-8 text; else 422 `content-type-not-allowed`);
/// it is scanned before the answer: infected is 422 `file-infected`, over the cap
/// (5,242,880 bytes by default) 413 `file-too-big`, a failed scan 503 `scan-failed` with
/// `Retry-After` — each with `uploadStatus`, and nothing kept. Without a scanner the file
/// is `UNSCANNED`. An upload unused after 24 hours is deleted.
#[utoipa::path(post, path = "/uploads", tag = "admin", security(("firmToken" = [])),
    request_body(content(
        (UploadJson = "application/json"),
        (UploadForm = "multipart/form-data"))),
    responses((status = 201, body = UploadView), (status = 400, body = Problem),
        (status = 401, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 503, body = Problem)))]
async fn create_upload(
    admin: FirmAdmin,
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<impl IntoResponse> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let upload = if is_json(&content_type) {
        from_json(&state, &admin.firm_id, request).await?
    } else if content_type
        .to_ascii_lowercase()
        .starts_with("multipart/form-data")
    {
        from_multipart(&state, &admin.firm_id, request).await?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "expected application/json or multipart/form-data",
        ));
    };
    let location = format!("/admin/v1/uploads/{}", upload.key);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(UploadView::new(upload, false)),
    ))
}

async fn from_json(state: &AppState, firm_id: &str, request: Request) -> ApiResult<Upload> {
    let limit = state.service.upload_rules().max_bytes();
    let body = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::FileTooBig(limit)
            } else {
                ApiError::MalformedBody("the request body could not be read".into())
            }
        })?;
    let input: UploadJson<'_> = parse_json(&body)?;
    let name = check_file_name(&input.file_name_with_extension, "/fileNameWithExtension")?;
    let encoded = input.file.as_bytes();
    if encoded.is_empty() {
        return Err(ApiError::invalid("/file", "the file is empty"));
    }
    if encoded.len() % 4 != 0 {
        return Err(ApiError::invalid(
            "/file",
            "not base64: its length must be a multiple of 4 (padding with =)",
        ));
    }
    let padding = encoded.iter().rev().take_while(|&&b| b == b'=').count();
    let decoded_len = encoded.len() / 4 * 3 - padding.min(2);
    if u64::try_from(decoded_len).unwrap_or(u64::MAX) > limit {
        return Err(ApiError::FileTooBig(limit));
    }
    let mut writer = state.service.upload_writer().await?;
    let mut buffer = vec![0; DECODE_CHUNK / 4 * 3];
    for (i, chunk) in encoded.chunks(DECODE_CHUNK).enumerate() {
        let n = STANDARD
            .decode_slice(chunk, &mut buffer)
            .map_err(|err| base64_problem(&err, i * DECODE_CHUNK))?;
        writer.write(&buffer[..n]).await?;
    }
    Ok(writer.finish(firm_id, &name).await?)
}

/// The problem of a base64 decoding error, its offset counted from the start of the file.
fn base64_problem(err: &base64::DecodeSliceError, offset: usize) -> ApiError {
    use base64::DecodeError;
    let detail = match err {
        base64::DecodeSliceError::DecodeError(DecodeError::InvalidByte(at, byte)) => {
            format!("not base64: byte {byte:#04x} at offset {}", offset + at)
        }
        base64::DecodeSliceError::DecodeError(DecodeError::InvalidPadding) => {
            "not base64: bad padding".to_owned()
        }
        base64::DecodeSliceError::DecodeError(DecodeError::InvalidLastSymbol(at, _)) => {
            format!(
                "not base64: the last symbol at offset {} has bits set past the end",
                offset + at
            )
        }
        other => format!("not base64: {other}"),
    };
    ApiError::invalid("/file", detail)
}

async fn from_multipart(state: &AppState, firm_id: &str, request: Request) -> ApiResult<Upload> {
    let limit = state.service.upload_rules().max_bytes();
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|_| {
        ApiError::UnsupportedMediaType("expected multipart/form-data with a part named file")
    })?;
    let read_error = |err: axum::extract::multipart::MultipartError| {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::FileTooBig(limit)
        } else {
            ApiError::MalformedBody(err.body_text())
        }
    };
    let mut upload = None;
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        if field.name() != Some("file") {
            return Err(ApiError::invalid(
                format!("/{}", field.name().unwrap_or("")),
                "only one part, named file, is accepted",
            ));
        }
        if upload.is_some() {
            return Err(ApiError::invalid("/file", "send one file per request"));
        }
        let name = check_file_name(field.file_name().unwrap_or(""), "/file/filename")?;
        let mut writer: UploadWriter<'_> = state.service.upload_writer().await?;
        while let Some(chunk) = field.chunk().await.map_err(read_error)? {
            writer.write(&chunk).await?;
        }
        upload = Some(writer.finish(firm_id, &name).await?);
    }
    upload.ok_or_else(|| ApiError::invalid("/file", "a part named file is required"))
}

/// An upload of the firm, with whether it is used. Unknown, another firm's, or deleted
/// after expiry: 404.
#[utoipa::path(get, path = "/uploads/{key}", tag = "admin", security(("firmToken" = [])),
    params(("key" = String, Path, description = "Upload key")),
    responses((status = 200, body = UploadView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_upload(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> ApiResult<Json<UploadView>> {
    let upload = state.service.upload(&admin.firm_id, &key).await?;
    Ok(Json(UploadView::new(upload, true)))
}
