//! The HTTP layer: routers, middleware, OpenAPI. Handlers parse input into domain types,
//! call one operation of the [service](crate::service), and render; they hold no business
//! rules.

pub mod admin;
pub mod auth;
mod docs;
pub mod error;
pub mod extract;
mod health;
mod ics;
pub mod idempotency;
mod middleware;
pub mod protocol;
pub mod state;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use tokio::net::TcpListener;
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
    api().into_openapi()
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
    let (api, document) = api().split_for_parts();
    let document = Arc::new(
        document
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
    middleware::wrap(app, timeout)
}

/// Serves the application on `listener` until `shutdown` completes, then drains in-flight
/// requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
