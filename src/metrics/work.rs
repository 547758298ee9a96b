//! What the operations count: slot searches, bookings, failed job attempts.

use std::time::Duration;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::JobQueue;

/// Bounds of the eligible experts histogram.
const EXPERT_BUCKETS: [f64; 13] = [
    0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0,
];

/// The slot engine's share of each search, and how many experts it weighed.
#[derive(Debug, Clone)]
pub struct SearchMetrics {
    engine: Histogram,
    eligible: Histogram,
}

impl SearchMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            engine: Histogram::new(super::LATENCY_BUCKETS),
            eligible: Histogram::new(EXPERT_BUCKETS),
        };
        registry.register(
            "creneau_search_engine_duration_seconds",
            "Time the slot engine spent on one search: eligibility and slot search, calendar \
             reads excluded",
            metrics.engine.clone(),
        );
        registry.register(
            "creneau_search_eligible_experts",
            "Experts eligible for one search, whose calendars the engine searched",
            metrics.eligible.clone(),
        );
        metrics
    }

    /// Records one search: the engine's time and the experts it found eligible.
    pub fn record(&self, engine: Duration, eligible: usize) {
        self.engine.observe(engine.as_secs_f64());
        #[allow(clippy::cast_precision_loss)] // far below 2^52 experts
        self.eligible.observe(eligible as f64);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct CodeLabels {
    code: &'static str,
}

/// Bookings made, and refused by problem code.
#[derive(Debug, Clone)]
pub struct BookingMetrics {
    booked: Counter,
    refused: Family<CodeLabels, Counter>,
}

impl BookingMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            booked: Counter::default(),
            refused: Family::default(),
        };
        registry.register(
            "creneau_bookings",
            "Appointments booked by Claims IA",
            metrics.booked.clone(),
        );
        registry.register(
            "creneau_booking_refusals",
            "Bookings not made, by problem code (slot-unavailable, slot-expired, \
             invalid-slot, appointment-exists...)",
            metrics.refused.clone(),
        );
        metrics
    }

    /// Counts a booking made.
    pub fn booked(&self) {
        self.booked.inc();
    }

    /// Counts a booking refused with the problem `code`.
    pub fn refused(&self, code: &'static str) {
        self.refused.get_or_create(&CodeLabels { code }).inc();
    }
}

impl EncodeLabelValue for JobQueue {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

/// What became of a failed job attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Failure {
    /// It will be tried again after its backoff.
    WillRetry,
    /// Attempts are exhausted (or the failure is permanent): the job ended `FAILED`.
    GivenUp,
}

impl EncodeLabelValue for Failure {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        let value = match self {
            Self::WillRetry => "retry",
            Self::GivenUp => "failed",
        };
        EncodeLabelValue::encode(&value, encoder)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct FailureLabels {
    queue: JobQueue,
    outcome: Failure,
}

/// Failed attempts of the background jobs. A default value records into a registry of
/// its own, never rendered (for workers built outside a server).
#[derive(Debug, Clone, Default)]
pub struct JobMetrics {
    failures: Family<FailureLabels, Counter>,
}

impl JobMetrics {
    pub(super) fn register(registry: &mut Registry) -> Self {
        let metrics = Self::default();
        registry.register(
            "creneau_job_failures",
            "Failed attempts of background jobs, by queue and outcome (retry: tried again \
             later; failed: given up, the job is FAILED)",
            metrics.failures.clone(),
        );
        metrics
    }

    /// Counts a failed attempt of a job of `queue`.
    pub fn failed(&self, queue: JobQueue, outcome: Failure) {
        self.failures
            .get_or_create(&FailureLabels { queue, outcome })
            .inc();
    }
}
