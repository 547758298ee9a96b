//! Latency histograms and status counts per operation, merged across virtual clients and
//! rendered as text or JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use super::invariants::Verdict;

/// What the load generator does, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    /// `POST /v1/slot-searches`.
    Search,
    /// `POST /v1/appointments`.
    Book,
    /// `POST /v1/appointments/{id}/cancellation`.
    Cancel,
    /// `POST /v1/appointments/{id}/reschedule`.
    Reschedule,
    /// `GET /healthz`: the cost of a trivial route, for ratios.
    Healthz,
}

impl Operation {
    /// Every operation, in report order.
    pub const ALL: [Self; 5] = [
        Self::Search,
        Self::Book,
        Self::Cancel,
        Self::Reschedule,
        Self::Healthz,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Search => "search",
            Self::Book => "book",
            Self::Cancel => "cancel",
            Self::Reschedule => "reschedule",
            Self::Healthz => "healthz",
        }
    }
}

/// Latencies (µs) and answers of one operation.
#[derive(Debug, Clone)]
pub struct Stats {
    /// Latency of every attempt, in microseconds.
    pub latency_us: Histogram<u64>,
    /// Attempts by HTTP status (`"error"` when no answer came).
    pub statuses: BTreeMap<String, u64>,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            latency_us: Histogram::new_with_bounds(1, 120_000_000, 3).expect("valid bounds"),
            statuses: BTreeMap::new(),
        }
    }
}

impl Stats {
    /// Attempts made.
    pub fn count(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Attempts answered with `status`.
    pub fn with_status(&self, status: u16) -> u64 {
        self.statuses.get(&status.to_string()).copied().unwrap_or(0)
    }

    fn merge(&mut self, other: &Self) {
        self.latency_us.add(&other.latency_us).expect("same bounds");
        for (status, n) in &other.statuses {
            *self.statuses.entry(status.clone()).or_default() += n;
        }
    }

    /// Latency quantile in milliseconds.
    #[allow(clippy::cast_precision_loss)] // Microseconds below 2^53.
    fn ms(&self, quantile: f64) -> f64 {
        self.latency_us.value_at_quantile(quantile) as f64 / 1000.0
    }

    #[allow(clippy::cast_precision_loss)]
    fn to_json(&self, secs: f64) -> Value {
        json!({
            "count": self.count(),
            "throughputPerSec": round2(self.count() as f64 / secs),
            "latencyMs": {
                "p50": self.ms(0.5), "p95": self.ms(0.95), "p99": self.ms(0.99),
                "max": self.latency_us.max() as f64 / 1000.0,
            },
            "statuses": self.statuses,
        })
    }
}

/// Per-operation statistics of one virtual client, or of the whole run once merged.
#[derive(Debug, Clone, Default)]
pub struct Recorder {
    stats: BTreeMap<Operation, Stats>,
}

impl Recorder {
    /// Records one attempt: its latency and its status (`None`: no answer).
    pub fn record(&mut self, op: Operation, elapsed: Duration, status: Option<u16>) {
        let figures = self.stats.entry(op).or_default();
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        figures.latency_us.saturating_record(micros.max(1));
        let key = status.map_or_else(|| "error".to_owned(), |s| s.to_string());
        *figures.statuses.entry(key).or_default() += 1;
    }

    /// Adds another recorder's figures to these.
    pub fn merge(&mut self, other: &Self) {
        for (op, stats) in &other.stats {
            self.stats.entry(*op).or_default().merge(stats);
        }
    }

    /// The figures of one operation (empty when it never ran).
    pub fn stats(&self, op: Operation) -> Stats {
        self.stats.get(&op).cloned().unwrap_or_default()
    }
}

/// The outcome of a run: traffic figures and the invariant verdict.
#[derive(Debug, Clone)]
pub struct Report {
    /// Wall time of the load phase.
    pub elapsed: Duration,
    /// Virtual clients.
    pub clients: u32,
    /// Servers driven.
    pub targets: Vec<String>,
    /// Merged figures.
    pub recorder: Recorder,
    /// The end-of-run checks.
    pub verdict: Verdict,
}

impl Report {
    fn secs(&self) -> f64 {
        self.elapsed.as_secs_f64().max(1e-9)
    }

    /// One JSON object.
    pub fn to_json(&self) -> Value {
        let operations: serde_json::Map<String, Value> = Operation::ALL
            .iter()
            .map(|op| {
                let stats = self.recorder.stats(*op);
                (op.name().to_owned(), stats.to_json(self.secs()))
            })
            .collect();
        json!({
            "elapsedSecs": round2(self.secs()),
            "clients": self.clients,
            "targets": self.targets,
            "operations": operations,
            "invariants": self.verdict.to_json(),
        })
    }

    /// A table for people.
    #[allow(clippy::cast_precision_loss)]
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} clients, {:.1} s, targets: {}\n\n{:<11}{:>8}{:>9}{:>9}{:>9}{:>9}{:>9}  statuses\n",
            self.clients,
            self.secs(),
            self.targets.join(" "),
            "operation",
            "count",
            "req/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "max ms",
        );
        for op in Operation::ALL {
            let s = self.recorder.stats(op);
            let statuses: Vec<String> =
                s.statuses.iter().map(|(k, n)| format!("{k}:{n}")).collect();
            let _ = writeln!(
                out,
                "{:<11}{:>8}{:>9.1}{:>9.1}{:>9.1}{:>9.1}{:>9.1}  {}",
                op.name(),
                s.count(),
                s.count() as f64 / self.secs(),
                s.ms(0.5),
                s.ms(0.95),
                s.ms(0.99),
                s.latency_us.max() as f64 / 1000.0,
                statuses.join(" "),
            );
        }
        out.push('\n');
        out.push_str(&self.verdict.to_text());
        out
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
