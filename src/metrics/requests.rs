//! HTTP requests: a counter and a latency histogram by route template, method and status.

use std::hash::{Hash, Hasher};
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::Method;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// The route a request matched, as its template (`/v1/appointments/{id}`): never the raw
/// path, which holds ids and calendar feed tokens. Holding axum's `MatchedPath` (a shared
/// string) keeps a label from costing an allocation per request.
#[derive(Debug, Clone)]
pub enum Route {
    /// A route of the API.
    Matched(MatchedPath),
    /// No route: the fallback answered 404.
    Unmatched,
}

impl Route {
    /// The route of a request, from the path axum matched.
    pub fn of(matched: Option<&MatchedPath>) -> Self {
        matched.map_or(Self::Unmatched, |path| Self::Matched(path.clone()))
    }

    /// The label value.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Matched(path) => path.as_str(),
            Self::Unmatched => "unmatched",
        }
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}

impl Hash for Route {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// The method's label: its name for the standard methods, `other` for the rest, so a
/// client cannot mint series.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: Route,
    method: &'static str,
    status: u16,
}

/// Requests answered, and how long they took.
#[derive(Debug, Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RequestLabels, Histogram, fn() -> Histogram>,
}

impl HttpMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| Histogram::new(super::LATENCY_BUCKETS)),
        };
        registry.register(
            "creneau_http_requests",
            "HTTP requests answered, by route template, method and status",
            metrics.requests.clone(),
        );
        registry.register(
            "creneau_http_request_duration_seconds",
            "Time to answer an HTTP request (until the response headers), by route template, \
             method and status",
            metrics.durations.clone(),
        );
        metrics
    }

    /// Counts a request answered with `status` after `elapsed`.
    pub fn record(&self, route: Route, method: &'static str, status: u16, elapsed: Duration) {
        let labels = RequestLabels {
            route,
            method,
            status,
        };
        self.requests.get_or_create(&labels).inc();
        self.durations
            .get_or_create(&labels)
            .observe(elapsed.as_secs_f64());
    }
}
