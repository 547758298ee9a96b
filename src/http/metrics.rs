//! Metrics over HTTP: the layer that counts and times every API request, and the
//! operator's listener that answers `GET /metrics` (outside the public API and its OpenAPI
//! document).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, State};
use axum::http::{Request, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower::{Layer, Service};

use crate::metrics::{self, HttpMetrics, Route};

/// Counts and times each request by route template, method and status. Added with
/// `Router::layer`, it runs once the route is matched, so the template is known; it sits
/// outside the timeout and panic layers, so their 408 and 500 are counted too.
#[derive(Clone)]
pub(super) struct RecordLayer(Arc<HttpMetrics>);

impl RecordLayer {
    pub(super) fn new(metrics: HttpMetrics) -> Self {
        Self(Arc::new(metrics))
    }
}

impl<S> Layer<S> for RecordLayer {
    type Service = Record<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Record {
            inner,
            metrics: Arc::clone(&self.0),
        }
    }
}

/// The service of [`RecordLayer`].
#[derive(Clone)]
pub(super) struct Record<S> {
    inner: S,
    metrics: Arc<HttpMetrics>,
}

impl<S, B, R> Service<Request<B>> for Record<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Recorded<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let started = Started {
            metrics: Arc::clone(&self.metrics),
            route: Route::of(request.extensions().get::<MatchedPath>()),
            method: metrics::method_label(request.method()),
            at: Instant::now(),
        };
        Recorded {
            inner: self.inner.call(request),
            started: Some(started),
        }
    }
}

/// What a request's record needs once it is answered.
struct Started {
    metrics: Arc<HttpMetrics>,
    route: Route,
    method: &'static str,
    at: Instant,
}

pin_project_lite::pin_project! {
    /// The response future of [`Record`]: records the request when the response is ready
    /// (a request whose client went away first is not recorded).
    pub(super) struct Recorded<F> {
        #[pin]
        inner: F,
        started: Option<Started>,
    }
}

impl<F, R, E> Future for Recorded<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = ready!(this.inner.poll(cx));
        if let (Ok(response), Some(started)) = (&output, this.started.take()) {
            started.metrics.record(
                started.route,
                started.method,
                response.status().as_u16(),
                started.at.elapsed(),
            );
        }
        Poll::Ready(output)
    }
}

/// The operator's router: `GET /metrics`, and 404 for anything else.
pub fn router(service: Arc<crate::service::Service>) -> Router {
    Router::new()
        .route("/metrics", get(scrape).fallback(not_found))
        .fallback(not_found)
        .with_state(service)
}

async fn scrape(State(service): State<Arc<crate::service::Service>>) -> impl IntoResponse {
    let text = service
        .metrics
        .scrape(service.store.as_ref(), service.clock.now())
        .await;
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}

async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}
