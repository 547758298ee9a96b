//! `/admin/v1/imports`: bulk imports of experts and absences (multipart file, or JSON
//! naming a URL or a pre-upload), processed in the background; and
//! `/admin/v1/experts.csv`, the export that imports back unchanged.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth::FirmAdmin;
use crate::http::error::{ApiError, ApiResult, Problem};
use crate::http::extract::{ApiQuery, MAX_BODY_BYTES, PageQuery, Paged, is_json, parse_json};
use crate::http::idempotency;
use crate::http::state::AppState;
use crate::service::imports::{ImportFile, MAX_FILE_BYTES};
use crate::store::{Import, ImportKind, ImportSource, ImportStatus, RowError};
use crate::wire::experts_csv;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(create_import, list_imports))
                .layer(from_fn(idempotency::layer))
                .layer(axum::extract::DefaultBodyLimit::max(
                    usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX) + 64 * 1024,
                )),
        )
        .routes(routes!(get_import))
        .routes(routes!(export_experts))
}

/// The JSON form of an import: exactly one of `url` and `uri`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImportRequest {
    /// `EXPERTS` or `ABSENCES`.
    kind: ImportKind,
    /// An `https` URL of the CSV, downloaded by the background worker (keep it valid 24 h).
    #[serde(default)]
    url: Option<String>,
    /// The key of a CSV pre-uploaded with `POST /admin/v1/uploads`.
    #[serde(default)]
    uri: Option<String>,
    /// The firm's SIRET (14 digits), checked when given.
    #[serde(default)]
    siret: Option<String>,
    /// Check only: ends `VALIDATED`, nothing written.
    #[serde(default)]
    dry_run: Option<bool>,
}

/// The multipart form of an import.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ImportForm {
    /// The CSV file (UTF-8, separator `;` or `,`, at most 32 MiB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// `EXPERTS` or `ABSENCES`.
    kind: ImportKind,
    /// `true` to check only.
    #[schema(value_type = Option<String>)]
    dry_run: Option<bool>,
}

/// The answer to a new import.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportCreated {
    /// Follow it at `/admin/v1/imports/{importId}`.
    import_id: String,
}

/// An import and its outcome.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportView {
    /// Server-owned id.
    import_id: String,
    /// What it imports.
    kind: ImportKind,
    /// `UPLOAD`, `URL` or `URI`.
    source: ImportSource,
    /// Check only.
    dry_run: bool,
    /// `RECEIVED`, `FETCHING`, `VALIDATING`, `IMPORTING`, then `VALIDATED`, `IMPORTED` or
    /// `FAILED`.
    status: ImportStatus,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Creation instant.
    created_at: chrono::DateTime<chrono::Utc>,
    /// End instant.
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Data rows, once read.
    records: Option<i64>,
    /// Experts or absences created.
    created: Option<i64>,
    /// Experts changed.
    updated: Option<i64>,
    /// Rows equal to what was stored.
    unchanged: Option<i64>,
    /// Row errors, the first 1,000 (`row` counts the header as row 1).
    errors: Vec<RowError>,
}

impl From<Import> for ImportView {
    fn from(import: Import) -> Self {
        let counts = import.counts;
        Self {
            import_id: import.id,
            kind: import.kind,
            source: import.source,
            dry_run: import.dry_run,
            status: import.status,
            reason: import.reason,
            created_at: import.created_at,
            finished_at: import.finished_at,
            records: counts.map(|c| c.records),
            created: counts.map(|c| c.created),
            updated: counts.map(|c| c.updated),
            unchanged: counts.map(|c| c.unchanged),
            errors: import.errors,
        }
    }
}

/// Starts an import of experts or absences: a CSV sent as multipart (`file`, `kind`,
/// `dryRun`), or JSON naming exactly one of `url` (422 `source-missing` without either,
/// `source-ambiguous` with both) and `uri`; `siret`, when given, must be the firm's (422
/// `invalid-siret`, `siret-not-recognised`). Answered 202 at once; the import is all or
/// nothing.
#[utoipa::path(post, path = "/imports", tag = "admin", security(("firmToken" = [])),
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer (JSON form)")),
    request_body(content(
        (ImportRequest = "application/json"),
        (ImportForm = "multipart/form-data"))),
    responses((status = 202, body = ImportCreated, headers(("Location" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn create_import(
    admin: FirmAdmin,
    State(state): State<AppState>,
    request: Request,
) -> ApiResult<Response> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (kind, file, dry_run, siret) = if is_json(&content_type) {
        from_json(request).await?
    } else if content_type.starts_with("multipart/form-data") {
        from_multipart(&state, request).await?
    } else {
        return Err(ApiError::UnsupportedMediaType(
            "expected application/json or multipart/form-data",
        ));
    };
    let import = state
        .service
        .create_import(&admin.firm_id, kind, file, dry_run, siret.as_deref())
        .await?;
    let location = format!("/admin/v1/imports/{}", import.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(ImportCreated {
            import_id: import.id,
        }),
    )
        .into_response())
}

type ImportParts = (ImportKind, ImportFile, bool, Option<String>);

async fn from_json(request: Request) -> ApiResult<ImportParts> {
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge)?;
    let input: ImportRequest = parse_json(&body)?;
    let refused = |code, detail: &str| ApiError::Refused {
        code,
        pointer: "/url",
        detail: detail.to_owned(),
    };
    let file = match (input.url, input.uri) {
        (Some(url), None) => ImportFile::Url(url),
        (None, Some(uri)) => ImportFile::Uri(uri),
        (None, None) => return Err(refused("source-missing", "give url or uri")),
        (Some(_), Some(_)) => {
            return Err(refused("source-ambiguous", "give url or uri, not both"));
        }
    };
    Ok((
        input.kind,
        file,
        input.dry_run.unwrap_or(false),
        input.siret,
    ))
}

async fn from_multipart(state: &AppState, request: Request) -> ApiResult<ImportParts> {
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|_| {
        ApiError::UnsupportedMediaType("expected multipart/form-data with a part named file")
    })?;
    let read_error = |err: axum::extract::multipart::MultipartError| {
        if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::FileTooBig(MAX_FILE_BYTES)
        } else {
            ApiError::MalformedBody(err.body_text())
        }
    };
    let (mut kind, mut sha256, mut dry_run) = (None, None, false);
    while let Some(mut field) = multipart.next_field().await.map_err(read_error)? {
        match field.name().unwrap_or("") {
            "file" if sha256.is_none() => {
                let mut writer = state.service.import_writer().await?;
                while let Some(chunk) = field.chunk().await.map_err(read_error)? {
                    writer.write(&chunk).await?;
                }
                sha256 = Some(writer.store().await?.0.key.to_string());
            }
            "kind" => {
                let text = field.text().await.map_err(read_error)?;
                kind =
                    Some(ImportKind::parse(text.trim()).ok_or_else(|| {
                        ApiError::invalid("/kind", "must be EXPERTS or ABSENCES")
                    })?);
            }
            "dryRun" => {
                let text = field.text().await.map_err(read_error)?;
                dry_run = match text.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(ApiError::invalid("/dryRun", "must be true or false")),
                };
            }
            "file" => return Err(ApiError::invalid("/file", "send one file per request")),
            other => {
                return Err(ApiError::invalid(
                    format!("/{other}"),
                    "unknown part; the parts are file, kind and dryRun",
                ));
            }
        }
    }
    let kind = kind.ok_or_else(|| ApiError::invalid("/kind", "a part named kind is required"))?;
    let sha256 = sha256.ok_or_else(|| ApiError::Refused {
        code: "source-missing",
        pointer: "/file",
        detail: "a part named file is required".into(),
    })?;
    Ok((kind, ImportFile::Upload(sha256), dry_run, None))
}

/// The firm's imports, newest first.
#[utoipa::path(get, path = "/imports", tag = "admin", security(("firmToken" = [])),
    params(PageQuery),
    responses((status = 200, body = Paged<ImportView>), (status = 400, body = Problem),
        (status = 401, body = Problem)))]
async fn list_imports(
    admin: FirmAdmin,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> ApiResult<Json<Paged<ImportView>>> {
    let page = state
        .service
        .imports(&admin.firm_id, &query.to_request()?)
        .await?;
    Ok(Json(Paged::from_page(page, ImportView::from)))
}

/// One import of the firm, with its counts and row errors.
#[utoipa::path(get, path = "/imports/{importId}", tag = "admin", security(("firmToken" = [])),
    params(("importId" = String, Path, description = "Import id")),
    responses((status = 200, body = ImportView), (status = 401, body = Problem),
        (status = 404, body = Problem)))]
async fn get_import(
    admin: FirmAdmin,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<ImportView>> {
    Ok(Json(
        state.service.import(&admin.firm_id, &id).await?.into(),
    ))
}

/// The firm's experts in the `EXPERTS` import format (`;`-separated UTF-8 CSV); importing
/// it back changes nothing. Cells a spreadsheet would run as formulas are prefixed with `'`.
#[utoipa::path(get, path = "/experts.csv", tag = "admin", security(("firmToken" = [])),
    responses((status = 200, description = "The CSV", content_type = "text/csv"),
        (status = 401, body = Problem)))]
async fn export_experts(admin: FirmAdmin, State(state): State<AppState>) -> ApiResult<Response> {
    let experts = state.service.all_experts(&admin.firm_id).await?;
    let mut out = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let internal = |e: csv::Error| ApiError::Internal(e.into());
    out.write_record(experts_csv::COLUMNS).map_err(internal)?;
    for expert in &experts {
        let row = experts_csv::profile_to_row(&expert.profile)
            .into_iter()
            .map(experts_csv::neutralise);
        out.write_record(row).map_err(internal)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"experts.csv\"",
            ),
        ],
        Bytes::from(bytes),
    )
        .into_response())
}
