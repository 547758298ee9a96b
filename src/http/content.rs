//! Streaming a stored file: `ETag` = its sha256, `If-None-Match` answered 304, the bytes
//! never held in memory.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::{ApiError, ApiResult};
use crate::fetch::{BlobKey, BlobStore};
use crate::store::BlobInfo;

/// The response serving `blob` from `blobs` for a request with `headers`: 304 when the
/// client holds it, else the bytes with their type, length and `ETag`; `name` becomes
/// the `Content-Disposition` file name.
pub async fn serve_blob(
    blobs: &dyn BlobStore,
    blob: &BlobInfo,
    name: Option<&str>,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let etag = format!("\"{}\"", blob.sha256);
    let held = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if held {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    let key = BlobKey::parse(&blob.sha256)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored file with a bad key")))?;
    let Some(open) = blobs
        .open(&key)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
    else {
        return Err(ApiError::Internal(anyhow::anyhow!(
            "blob {} is missing from the blob store",
            blob.sha256
        )));
    };
    let mut response =
        Body::from_stream(tokio_util::io::ReaderStream::new(open.file)).into_response();
    let out = response.headers_mut();
    let value = |text: &str| HeaderValue::from_str(text).map_err(|e| ApiError::Internal(e.into()));
    out.insert(header::CONTENT_TYPE, value(&blob.content_type)?);
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(open.size));
    out.insert(header::ETAG, value(&etag)?);
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=0"),
    );
    if let Some(name) = name {
        // Quoted ASCII fallback only; stored names are free of path separators.
        let ascii: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        out.insert(
            header::CONTENT_DISPOSITION,
            value(&format!("attachment; filename=\"{ascii}\""))?,
        );
    }
    Ok(response)
}

/// A settlement document of an appointment of `owner`, served as [`serve_blob`] does.
pub async fn serve_settlement_document(
    state: &super::state::AppState,
    owner: crate::store::Owner<'_>,
    (appointment_id, settlement_id, kind): (&str, &str, &str),
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let settlement = state
        .service
        .settlement(owner, appointment_id, settlement_id)
        .await?;
    let document = crate::domain::settlement::DocumentKind::parse(kind)
        .and_then(|kind| settlement.documents.iter().find(|d| d.kind == kind))
        .ok_or(ApiError::NotFound)?;
    let name = format!("{}.pdf", document.kind.as_str().to_ascii_lowercase());
    serve_blob(
        state.service.jobs.blobs.as_ref(),
        &document.blob,
        Some(&name),
        headers,
    )
    .await
}
