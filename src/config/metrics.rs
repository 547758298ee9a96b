//! Settings of the Prometheus metrics listener.

use std::net::SocketAddr;

use clap::Args;

/// Prometheus metrics, served on a listener of their own, apart from the API.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricsArgs {
    /// Address of a second listener that answers `GET /metrics` in the Prometheus text
    /// format, for the operator's scraper; no such listener when absent. Keep it off the
    /// public network: it needs no credential.
    #[arg(long, env = "CRENEAU_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

impl MetricsArgs {
    /// Whether metrics are served (and so worth recording).
    pub fn enabled(&self) -> bool {
        self.metrics_listen.is_some()
    }
}
