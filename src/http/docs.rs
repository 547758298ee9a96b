//! The OpenAPI document and a docs page that works offline: Swagger UI is vendored under
//! `assets/swagger-ui/` and compiled into the binary, nothing is fetched at run time.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::response::{Html, IntoResponse};
use axum::routing::get;

const PAGE: &str = r##"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Créneau API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui" });</script>
</body></html>"##;

const BUNDLE: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui-bundle.js");
const CSS: &[u8] = include_bytes!("../../assets/swagger-ui/swagger-ui.css");

fn asset(content_type: &'static str, bytes: &'static [u8]) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        bytes,
    )
}

/// Public routes: `/openapi.json`, `/docs` and its assets.
pub fn router<S: Clone + Send + Sync + 'static>(document: Arc<String>) -> Router<S> {
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = Arc::clone(&document);
                async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        document.to_string(),
                    )
                }
            }),
        )
        .route("/docs", get(|| async { Html(PAGE) }))
        .route(
            "/docs/swagger-ui-bundle.js",
            get(|| async { asset("text/javascript", BUNDLE) }),
        )
        .route(
            "/docs/swagger-ui.css",
            get(|| async { asset("text/css", CSS) }),
        )
}
