//! Cross-cutting layers: request ids, request logs, panics, timeouts, and problem bodies for
//! every error the framework produces by itself (404, 405, 408, 413...).

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Request, Response, StatusCode, header};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use super::error::{PROBLEM_JSON, problem, problem_response};
use super::metrics::RecordLayer;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Wraps the application in the middleware stack (innermost first), with the request
/// metrics when they are recorded.
pub fn wrap(app: Router, timeout: Duration, recorded: Option<RecordLayer>) -> Router {
    let app = app
        .layer(axum::middleware::map_response(problem_for_bare_errors))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<Body>| {
                    let id = request
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let path = loggable(request.uri().path());
                    tracing::info_span!("request", id, method = %request.method(), path)
                })
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::map_request(drop_unfit_request_id));
    match recorded {
        Some(layer) => app.layer(layer),
        None => app,
    }
}

/// Longest request id kept from the client.
const MAX_REQUEST_ID: usize = 64;

/// Drops a client's request id that is too long or not plain (letters, digits, `-`, `_`,
/// `.`, `:`), so that it is neither echoed nor logged: the server makes its own.
async fn drop_unfit_request_id(mut request: Request<Body>) -> Request<Body> {
    let fit = request.headers().get(&REQUEST_ID).is_none_or(|id| {
        let id = id.as_bytes();
        !id.is_empty()
            && id.len() <= MAX_REQUEST_ID
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    });
    if !fit {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// The path as logged: a calendar feed's path is its secret, so its token is left out.
fn loggable(path: &str) -> &str {
    if path.starts_with("/feeds/") {
        "/feeds/{token}.ics"
    } else {
        path
    }
}

#[allow(clippy::needless_pass_by_value)] // the signature CatchPanicLayer requires
fn on_panic(cause: Box<dyn std::any::Any + Send + 'static>) -> Response<Body> {
    let message = cause
        .downcast_ref::<&str>()
        .map(ToString::to_string)
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = message, "handler panicked");
    let body = problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error".into(),
        Vec::new(),
    );
    problem_response(&body)
}

/// Machine code of an error status the framework produced without a problem body.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::NOT_FOUND => "not-found",
        StatusCode::METHOD_NOT_ALLOWED => "method-not-allowed",
        StatusCode::REQUEST_TIMEOUT => "request-timeout",
        StatusCode::PAYLOAD_TOO_LARGE => "payload-too-large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation-failed",
        s if s.is_server_error() => "internal",
        _ => "bad-request",
    }
}

/// Replaces the body of any error response that is not already a problem document,
/// keeping its status and headers (e.g. `Allow` on 405).
async fn problem_for_bare_errors(response: Response<Body>) -> Response<Body> {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let detail = status.canonical_reason().unwrap_or("error").to_owned();
    let body = problem(status, code_for(status), detail, Vec::new());
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn a_feed_token_is_never_logged() {
        assert_eq!(loggable("/feeds/s3cr3t-t0ken.ics"), "/feeds/{token}.ics");
        assert_eq!(loggable("/v1/appointments/a1"), "/v1/appointments/a1");
    }
}
