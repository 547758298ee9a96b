//! Prometheus metrics on the operator's listener: requests by route template, searches,
//! bookings, job queues sampled from the database, pools; and no listener unless asked.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};

use creneau::config::ServerConfig;
use creneau::store::{Backend, WebhookEndpoint};
use serde_json::{Value, json};

use crate::documents::{booked, dossier, put};
use crate::helpers::{
    TestApp, assert_problem, days_ahead, fresh_db, manual_clock, open_expert, search_body,
};

/// Settings with the metrics listener on, on an ephemeral port.
fn with_metrics() -> ServerConfig {
    let mut config = ServerConfig::default();
    config.metrics.metrics_listen = Some("127.0.0.1:0".parse().unwrap());
    config
}

/// The value of the series `name` with exactly `labels` in a rendering, if it is there.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let wanted: BTreeMap<&str, &str> = labels.iter().copied().collect();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (series_name, series_labels) = match series.split_once('{') {
                Some((name, rest)) => (name, rest.strip_suffix('}')?),
                None => (series, ""),
            };
            let found: BTreeMap<&str, &str> = series_labels
                .split(',')
                .filter_map(|pair| {
                    let (key, value) = pair.split_once('=')?;
                    Some((key, value.trim_matches('"')))
                })
                .collect();
            (series_name == name && found == wanted).then(|| value.parse().unwrap())
        })
}

/// Requests of `route` by method and status.
fn requests(text: &str, route: &str, method: &str, status: &str) -> Option<f64> {
    let labels = [("route", route), ("method", method), ("status", status)];
    sample(text, "creneau_http_requests_total", &labels)
}

#[tokio::test]
async fn requests_searches_and_bookings_are_counted_by_route_template() {
    let app = TestApp::spawn_with_clock(fresh_db().await, with_metrics(), manual_clock()).await;
    let (_, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    app.expert(&token, open_expert("Expert")).await;

    let found = app
        .search(&key, search_body("VISIO", days_ahead(2), 3))
        .await;
    let slot = |i: usize| found["slots"][i]["slotId"].as_str().unwrap().to_owned();
    let (status, body) = app.book(&key, &slot(0), "CIA-MET-1").await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app.book(&key, &slot(0), "CIA-MET-2").await;
    assert_problem(status, &body, 409, "slot-unavailable");
    app.clock.advance(std::time::Duration::from_secs(901));
    let (status, body) = app.book(&key, &slot(1), "CIA-MET-3").await;
    assert_problem(status, &body, 410, "slot-expired");
    let (status, _) = app
        .call(
            "GET",
            "/v1/appointments/not-an-appointment-7f3a",
            &key,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call("GET", "/feeds/s3cret-feed-token.ics", "", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app.call("GET", "/no/such/path", "", None).await;
    assert_eq!(status, 404);
    let (status, _) = app.call("GET", "/metrics", "", None).await;
    assert_eq!(status, 404, "the API listener does not serve the metrics");

    let text = app.scrape().await;
    assert_eq!(
        requests(&text, "/v1/slot-searches", "POST", "200"),
        Some(1.0)
    );
    let searched = [
        ("route", "/v1/slot-searches"),
        ("method", "POST"),
        ("status", "200"),
    ];
    assert_eq!(
        sample(
            &text,
            "creneau_http_request_duration_seconds_count",
            &searched
        ),
        Some(1.0)
    );
    assert_eq!(
        requests(&text, "/v1/appointments", "POST", "201"),
        Some(1.0)
    );
    assert_eq!(
        requests(&text, "/v1/appointments", "POST", "409"),
        Some(1.0)
    );
    assert_eq!(
        requests(&text, "/v1/appointments", "POST", "410"),
        Some(1.0)
    );
    assert_eq!(
        requests(&text, "/v1/appointments/{id}", "GET", "404"),
        Some(1.0)
    );
    assert_eq!(requests(&text, "/feeds/{file}", "GET", "404"), Some(1.0));
    assert_eq!(requests(&text, "unmatched", "GET", "404"), Some(2.0));
    for raw in ["not-an-appointment", "s3cret-feed-token", "/no/such/path"] {
        assert!(!text.contains(raw), "{raw} is in the metrics:\n{text}");
    }

    assert_eq!(
        sample(&text, "creneau_search_engine_duration_seconds_count", &[]),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "creneau_search_eligible_experts_sum", &[]),
        Some(1.0),
        "one expert was eligible"
    );
    assert_eq!(sample(&text, "creneau_bookings_total", &[]), Some(1.0));
    for code in ["slot-unavailable", "slot-expired"] {
        assert_eq!(
            sample(&text, "creneau_booking_refusals_total", &[("code", code)]),
            Some(1.0),
            "{code}"
        );
    }

    assert_pools(app.store.backend(), &text);
}

/// Asserts the gauges of every pool of `backend`: their maximum, and connections in use
/// and idle within it, some of them idle after the requests made.
fn assert_pools(backend: Backend, text: &str) {
    let pools: &[(&str, f64)] = match backend {
        Backend::Sqlite => &[("read", 8.0), ("write", 1.0)],
        Backend::Postgres => &[("shared", 16.0)],
    };
    let mut idle_seen = 0.0;
    for &(pool, max) in pools {
        let max_seen = sample(text, "creneau_db_connections_max", &[("pool", pool)]);
        assert_eq!(max_seen, Some(max), "{pool}");
        let count = |state| {
            let labels = [("pool", pool), ("state", state)];
            sample(text, "creneau_db_connections", &labels).unwrap()
        };
        let (in_use, idle) = (count("in_use"), count("idle"));
        assert!(in_use + idle <= max, "{pool}: {in_use} in use, {idle} idle");
        idle_seen += idle;
    }
    assert!(idle_seen > 0.0, "the pools keep connections open:\n{text}");
}

/// The depth and oldest age of a queue.
fn queue(text: &str, queue: &str) -> (Option<f64>, Option<f64>) {
    let labels = [("queue", queue)];
    (
        sample(text, "creneau_job_queue_depth", &labels),
        sample(text, "creneau_job_queue_oldest_age_seconds", &labels),
    )
}

#[tokio::test]
async fn job_queues_are_read_from_the_database_at_each_scrape() {
    let (url, _received) = crate::webhooks::receiver(1).await;
    let unreachable = "http://127.0.0.1:9";
    let mut config = with_metrics();
    config.jobs.retry_base_ms = 200;
    config.jobs.fetch_allow_origins = vec![unreachable.to_owned()];
    let app = TestApp::spawn_with_clock(fresh_db().await, config, manual_clock()).await;
    let text = app.scrape().await;
    for name in ["downloads", "claims-ia-webhooks", "firm-webhooks"] {
        assert_eq!(queue(&text, name), (Some(0.0), Some(0.0)), "{name}");
    }

    let (token, key, id) = booked(&app).await;
    let client_id = creneau::auth::api_key_client_id(&key).unwrap().to_owned();
    let endpoint = WebhookEndpoint {
        client_id,
        url,
        secret: creneau::jobs::webhooks::new_secret(),
    };
    app.store.set_webhook(&endpoint).await.unwrap();
    let document = format!("{unreachable}/report.pdf");
    let (status, body) = put(&app, &key, &id, dossier(&[&document])).await;
    assert_eq!(status, 201, "{body}");
    app.clock.advance(std::time::Duration::from_secs(5));
    let cancellation = json!({ "reason": "EXPERT_UNAVAILABLE" });
    let cancelled = format!("/admin/v1/appointments/{id}/cancellation");
    let (status, body) = app
        .call("POST", &cancelled, &token, Some(cancellation))
        .await;
    assert_eq!(status, 200, "{body}");
    app.clock.advance(std::time::Duration::from_secs(2));

    // Ages are read in milliseconds from a clock that keeps finer time.
    let text = app.scrape().await;
    let (depth, age) = queue(&text, "downloads");
    assert_eq!(depth, Some(1.0));
    assert!(age.is_some_and(|age| (7.0..7.01).contains(&age)), "{age:?}");
    let (depth, age) = queue(&text, "claims-ia-webhooks");
    assert_eq!(depth, Some(1.0));
    assert!(age.is_some_and(|age| (2.0..2.01).contains(&age)), "{age:?}");
    assert_eq!(queue(&text, "firm-webhooks"), (Some(0.0), Some(0.0)));

    // Both first attempts fail (nothing listens on the download's port; the receiver
    // answers 503 once): counted, and the jobs stay queued for their retry.
    assert_eq!(app.fetch_worker().drain().await.unwrap(), 1);
    assert_eq!(app.webhook_sender().drain().await.unwrap(), 1);
    let text = app.scrape().await;
    let failures = |queue| {
        let labels = [("queue", queue), ("outcome", "retry")];
        sample(&text, "creneau_job_failures_total", &labels)
    };
    assert_eq!(failures("downloads"), Some(1.0));
    assert_eq!(failures("claims-ia-webhooks"), Some(1.0));
    assert_eq!(queue(&text, "claims-ia-webhooks").0, Some(1.0));

    app.clock.advance(std::time::Duration::from_millis(250));
    assert_eq!(app.webhook_sender().drain().await.unwrap(), 1, "delivered");
    let text = app.scrape().await;
    assert_eq!(queue(&text, "claims-ia-webhooks"), (Some(0.0), Some(0.0)));
    assert_eq!(queue(&text, "downloads").0, Some(1.0));
}

/// A `creneau serve` process on ephemeral ports with JSON logs, and what it logged up to
/// "listening": the API's address and the metrics listener's, if it opened one.
struct Served {
    process: Child,
    api: String,
    metrics: Option<String>,
    /// Kept open so that the server can go on logging.
    _logs: std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    /// Its working directory (documents go there).
    _dir: tempfile::TempDir,
}

fn serve(database_url: &str, metrics_listen: Option<&str>) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_creneau"));
    command
        .current_dir(dir.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--database-url", database_url])
        .env_remove("CRENEAU_METRICS_LISTEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if let Some(address) = metrics_listen {
        command.env("CRENEAU_METRICS_LISTEN", address);
    }
    let mut process = command.spawn().unwrap();
    let mut logs = std::io::BufReader::new(process.stderr.take().unwrap()).lines();
    let mut metrics = None;
    let api = loop {
        let line = logs
            .next()
            .expect("the server logs before listening")
            .unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        let address = event["address"].as_str().map(ToOwned::to_owned);
        match event["message"].as_str() {
            Some("metrics listening") => metrics = address,
            Some("listening") => break address.unwrap(),
            _ => {}
        }
    };
    Served {
        process,
        api,
        metrics,
        _logs: logs,
        _dir: dir,
    }
}

impl Served {
    /// Stops the server with SIGTERM; asserts it exits cleanly.
    async fn stop(mut self) {
        let killed = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = tokio::task::spawn_blocking(move || self.process.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "exit status {status:?}");
    }
}

#[tokio::test]
async fn the_server_opens_no_metrics_listener_unless_asked() {
    let db = fresh_db().await;
    let served = serve(&db.url, None);
    assert_eq!(served.metrics, None, "no metrics listener by default");
    let scraped = reqwest::get(format!("http://{}/metrics", served.api))
        .await
        .unwrap();
    assert_eq!(scraped.status(), 404);
    served.stop().await;
}

#[tokio::test]
async fn the_metrics_listener_answers_get_metrics_and_nothing_else() {
    let db = fresh_db().await;
    let served = serve(&db.url, Some("127.0.0.1:0"));
    let metrics = served.metrics.clone().expect("a metrics listener");
    assert_ne!(metrics, served.api);
    let health = reqwest::get(format!("http://{}/healthz", served.api))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let scraped = reqwest::get(format!("http://{metrics}/metrics"))
        .await
        .unwrap();
    assert_eq!(scraped.status(), 200);
    let content_type = scraped.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = scraped.text().await.unwrap();
    assert_eq!(
        requests(&text, "/healthz", "GET", "200"),
        Some(1.0),
        "{text}"
    );
    let client = reqwest::Client::new();
    for (method, path) in [("GET", "/"), ("GET", "/healthz"), ("POST", "/metrics")] {
        let response = client
            .request(method.parse().unwrap(), format!("http://{metrics}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    served.stop().await;
}
