//! The HTTP layer: routers, middleware, OpenAPI. Handlers parse input into domain types,
//! call one operation of the [service](crate::service), and render; they hold no business
//! rules.

pub mod admin;
pub mod auth;
mod connections;
pub mod content;
mod docs;
pub mod error;
pub mod extract;
mod health;
mod ics;
pub mod idempotency;
pub mod metrics;
mod middleware;
mod openapi;
pub mod protocol;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tower::ServiceExt as _;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

pub use state::AppState;

/// Top-level OpenAPI description; paths come from each module's handlers.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Créneau",
        description = "Partner-side server of the Claims IA appointment protocol. \
            Errors are RFC 9457 problem documents (`application/problem+json`) with a stable \
            `code`; validation problems list `errors[{pointer, detail}]`. Unknown request \
            fields are rejected (422). JSON bodies over 1 MiB are refused (413). Lists are \
            cursor-paginated (`limit` default 50, max 500; `cursor`).",
        license(name = "MIT")
    ),
    modifiers(&SecuritySchemes),
    components(schemas(error::Problem, error::FieldProblem)),
    tags(
        (name = "protocol", description = "Claims IA protocol (API key)"),
        (name = "admin", description = "Admin API for expert firms (firm access token)"),
        (name = "operations", description = "Probes (no authentication)")
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        let mut jwt = Http::new(HttpAuthScheme::Bearer);
        jwt.bearer_format = Some("JWT".into());
        components.add_security_scheme("firmToken", SecurityScheme::Http(jwt));
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(health::router())
        .nest("/v1", protocol::router())
        .nest("/admin/v1", admin::router())
        .merge(admin::feed_router())
}

/// The OpenAPI document generated from the handlers.
pub fn openapi() -> utoipa::openapi::OpenApi {
    openapi::finish(&api().into_openapi())
}

/// The OpenAPI document as committed in `openapi/openapi.json`.
pub fn openapi_json() -> String {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
        + "\n"
}

/// The whole application with its middleware.
pub fn router(state: AppState) -> Router {
    let timeout = state.config.request_timeout();
    // Requests are counted only when the metrics are served.
    let recorded = state
        .config
        .metrics
        .enabled()
        .then(|| metrics::RecordLayer::new(state.service.metrics.http.clone()));
    let (api, document) = api().split_for_parts();
    let document = Arc::new(
        openapi::finish(&document)
            .to_pretty_json()
            .expect("the OpenAPI document serializes"),
    );
    let app = api
        .merge(docs::router(document))
        .fallback(|| async { error::ApiError::NotFound })
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        // For the layers that need the state (idempotency).
        .layer(axum::Extension(state.clone()))
        .with_state(state);
    middleware::wrap(app, timeout, recorded)
}

/// Serves the application on `listener` until `shutdown` completes, then drains in-flight
/// requests. At most `--max-connections` connections are served at once: past it, the oldest
/// connection that has not sent a request yet is closed to make room (new ones wait only
/// while every connection is busy with a request). A connection that takes longer than
/// `--header-timeout-secs` to send a request's headers, or stays idle that long between
/// requests, is closed: idle or trickling clients can neither exhaust the descriptors or
/// the memory nor keep others out.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Limits {
        header_timeout: Duration::from_secs(state.config.header_timeout_secs),
        max_connections: usize::try_from(state.config.max_connections).unwrap_or(usize::MAX),
    };
    serve_router(listener, router(state), limits, shutdown).await
}

/// Connections the metrics listener serves at once: a scraper or two, and an operator.
const METRICS_CONNECTIONS: usize = 16;

/// Serves the operator's `GET /metrics` of `service` on `listener` until `shutdown`
/// completes, under the same connection limits as the API.
pub async fn serve_metrics(
    listener: TcpListener,
    service: Arc<crate::service::Service>,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = Limits {
        header_timeout,
        max_connections: METRICS_CONNECTIONS,
    };
    serve_router(listener, metrics::router(service), limits, shutdown).await
}

/// How much a listener lets its clients hold.
struct Limits {
    header_timeout: Duration,
    max_connections: usize,
}

async fn serve_router(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = connections::Connections::new(limits.max_connections);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            // The shutdown first: it is polled (and ready to hear a signal) before any
            // connection is accepted.
            biased;
            () = &mut shutdown => break,
            accepted = accept(&listener) => accepted,
        };
        let Some((stream, peer)) = accepted else {
            continue;
        };
        let (connection, slot) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            admitted = connections.admit() => admitted,
        };
        let asking = Arc::clone(&connection);
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                asking.asked();
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let served = http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let served = graceful.watch(served);
        tokio::spawn(async move {
            tokio::select! {
                result = served => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, "connection closed");
                    }
                }
                () = connection.evicted() => {}
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The next connection; `None` when accepting failed (out of descriptors, say: retried
/// shortly, the served connections go on).
async fn accept(listener: &TcpListener) -> Option<(TcpStream, SocketAddr)> {
    match listener.accept().await {
        Ok(accepted) => Some(accepted),
        Err(err) => {
            tracing::warn!(error = %err, "cannot accept a connection");
            tokio::time::sleep(Duration::from_millis(100)).await;
            None
        }
    }
}
