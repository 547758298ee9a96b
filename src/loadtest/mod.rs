//! `creneau loadtest`: concurrent virtual Claims IA clients against running servers, then
//! the invariants every run must leave behind.
//!
//! Each virtual client loops over a round: `GET /healthz` (the cost of a trivial route, so
//! search throughput reads as a ratio), a slot search (on site around Paris, or by video,
//! over the next 14 days), a booking of the first slot offered (with probability
//! `contested`, so clients race for it) or of a random one, and for one booking in ten a
//! cancellation, for another a reschedule. Requests go round-robin over the targets; a
//! keyed request that gets no answer is sent again with the same `Idempotency-Key`, as a
//! real client would when an instance dies. The run stops by itself after a duration or a
//! number of requests; then [`invariants::check`] reads the firm's appointments back.
//!
//! Only loopback targets are accepted: this tool loads the machine it runs on, nothing
//! else.

mod admin;
mod bodies;
pub mod invariants;
pub mod report;
mod scenario;

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use secrecy::ExposeSecret as _;

use crate::config::{LoadtestArgs, Mix};
use report::{Recorder, Report};

/// When a run stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// After this long (requests in flight finish).
    After(Duration),
    /// After this many HTTP requests in all, `GET /healthz` included.
    Requests(u64),
}

/// A validated load test.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Base URLs (loopback, no trailing slash).
    pub targets: Vec<String>,
    /// Claims IA API key.
    pub api_key: String,
    /// Firm admin client id and secret, for the invariant check.
    pub firm: (String, String),
    /// When to stop.
    pub stop: Stop,
    /// Concurrent virtual clients.
    pub clients: u32,
    /// Probability of booking the first slot offered.
    pub contested: f64,
    /// Seed of the clients' random choices.
    pub seed: u64,
    /// What the clients do.
    pub mix: Mix,
}

impl Plan {
    /// Checks the command line options.
    pub fn from_args(args: &LoadtestArgs) -> anyhow::Result<Self> {
        anyhow::ensure!(
            (0.0..=1.0).contains(&args.contested),
            "--contested must be between 0 and 1"
        );
        let stop = match (args.duration, args.requests) {
            (Some(secs), None) => Stop::After(Duration::from_secs(secs)),
            (None, Some(n)) => Stop::Requests(n),
            _ => anyhow::bail!("give exactly one of --duration and --requests"),
        };
        Ok(Self {
            targets: args
                .targets
                .iter()
                .map(|t| loopback_target(t))
                .collect::<anyhow::Result<_>>()?,
            api_key: args.api_key.expose_secret().to_owned(),
            firm: (
                args.client_id.clone(),
                args.client_secret.expose_secret().to_owned(),
            ),
            stop,
            clients: args.clients,
            contested: args.contested,
            seed: args.seed,
            mix: args.mix,
        })
    }
}

/// The base URL of `target` when it is `http` on a loopback host; an error otherwise.
pub fn loopback_target(target: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(target).map_err(|e| anyhow::anyhow!("{target}: {e}"))?;
    anyhow::ensure!(url.scheme() == "http", "{target}: only http:// targets");
    let host = url.host_str().unwrap_or_default();
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    anyhow::ensure!(
        loopback,
        "{target}: refused, this tool only loads the local machine (127.0.0.0/8, ::1, localhost)"
    );
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// What every virtual client shares.
struct Shared {
    http: reqwest::Client,
    targets: Vec<String>,
    next: AtomicUsize,
    api_key: String,
    seed: u64,
    contested: f64,
    mix: Mix,
    /// Distinguishes this run's references and idempotency keys from earlier runs'.
    run_id: String,
    deadline: Option<Instant>,
    tickets: AtomicU64,
}

impl Shared {
    fn next_target(&self) -> &str {
        &self.targets[self.next.fetch_add(1, Ordering::Relaxed) % self.targets.len()]
    }

    fn is_running(&self) -> bool {
        self.deadline.is_none_or(|d| Instant::now() < d) && self.tickets.load(Ordering::Relaxed) > 0
    }

    /// Whether one more request may be sent (and counts it).
    fn take_ticket(&self) -> bool {
        self.deadline.is_none_or(|d| Instant::now() < d)
            && self
                .tickets
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok()
    }
}

/// Runs the load, then the invariant check. `Err` only when the run itself cannot proceed
/// (a failed invariant is in the report).
pub async fn run(plan: &Plan) -> anyhow::Result<Report> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(usize::try_from(plan.clients).unwrap_or(usize::MAX))
        .build()?;
    let started = Instant::now();
    let shared = Shared {
        http: http.clone(),
        targets: plan.targets.clone(),
        next: AtomicUsize::new(0),
        api_key: plan.api_key.clone(),
        seed: plan.seed,
        contested: plan.contested,
        mix: plan.mix,
        run_id: uuid::Uuid::now_v7().simple().to_string()[20..].to_owned(),
        deadline: match plan.stop {
            Stop::After(duration) => Some(started + duration),
            Stop::Requests(_) => None,
        },
        tickets: AtomicU64::new(match plan.stop {
            Stop::Requests(n) => n,
            Stop::After(_) => u64::MAX,
        }),
    };
    let shared = std::sync::Arc::new(shared);
    let tasks: Vec<_> = (0..plan.clients)
        .map(|index| {
            let shared = std::sync::Arc::clone(&shared);
            tokio::spawn(async move {
                let client = scenario::Client::new(&shared, index).run().await;
                (client.recorder, client.booked)
            })
        })
        .collect();
    let (mut recorder, mut booked) = (Recorder::default(), Vec::new());
    for task in tasks {
        let (figures, bookings) = task.await?;
        recorder.merge(&figures);
        booked.extend(bookings);
    }
    let elapsed = started.elapsed();
    let (client_id, secret) = &plan.firm;
    let verdict = invariants::check(&http, &plan.targets, (client_id, secret), &booked).await?;
    Ok(Report {
        elapsed,
        clients: plan.clients,
        targets: plan.targets.clone(),
        recorder,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        for target in [
            "http://127.0.0.1:8080",
            "http://127.9.9.9:1/",
            "http://[::1]:8080",
            "http://localhost:3000",
        ] {
            assert!(loopback_target(target).is_ok(), "{target}");
        }
        assert_eq!(
            loopback_target("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn any_other_host_is_refused() {
        for target in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://localhost.example.com",
            "https://127.0.0.1",
            "http://0.0.0.0:8080",
            "not a url",
        ] {
            assert!(loopback_target(target).is_err(), "{target}");
        }
    }
}
