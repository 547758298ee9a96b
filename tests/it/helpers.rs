//! Shared test fixtures: a fresh database per test (SQLite file, or a new PostgreSQL database
//! when `TEST_DATABASE_URL` is set), and the real application on a real socket.

use std::sync::Arc;

use creneau::clock::Clock;
use creneau::config::{RateLimitArgs, ServerConfig};
use creneau::http::AppState;
use creneau::store::{self, Store};
use serde_json::{Value, json};
use sqlx::Executor;
use tokio::net::TcpListener;

/// A database that lives as long as the test.
pub struct TestDb {
    /// URL to open it with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    /// Another handle on an existing database (a second server instance).
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
        }
    }
}

/// A new, empty SQLite database file.
pub fn sqlite_db() -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("test.db").display());
    TestDb {
        url,
        _dir: Some(dir),
    }
}

/// A new, empty PostgreSQL database on the server of `TEST_DATABASE_URL`, if set.
/// An unreachable server fails the test: it never skips.
pub async fn postgres_db() -> Option<TestDb> {
    let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
    sqlx::any::install_default_drivers();
    let name = format!("creneau_t_{}", uuid_simple());
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("TEST_DATABASE_URL is set but PostgreSQL is unreachable: {e}"));
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .expect("create test database");
    let (base, query) = admin_url.split_once('?').unwrap_or((&admin_url, ""));
    let server = &base[..base.rfind('/').expect("database name in TEST_DATABASE_URL")];
    let url = if query.is_empty() {
        format!("{server}/{name}")
    } else {
        format!("{server}/{name}?{query}")
    };
    Some(TestDb { url, _dir: None })
}

fn uuid_simple() -> String {
    creneau::auth::random_token(12)
        .to_lowercase()
        .replace(['-', '_'], "x")
}

/// The database the suite runs on: PostgreSQL when `TEST_DATABASE_URL` is set, else SQLite.
pub async fn fresh_db() -> TestDb {
    match postgres_db().await {
        Some(db) => db,
        None => sqlite_db(),
    }
}

/// The application served on an ephemeral port.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// HTTP client.
    pub http: reqwest::Client,
    /// The store behind the server.
    pub store: Arc<dyn Store>,
    /// Its database.
    pub db: TestDb,
    /// Its background jobs (fetcher, blob store, webhooks).
    pub jobs: Arc<creneau::jobs::Jobs>,
    /// The server's clock.
    pub clock: Clock,
    /// Its use cases (to drain its import queue or flush its search log).
    pub service: Arc<creneau::service::Service>,
    /// `http://127.0.0.1:PORT` of the metrics listener, when the settings ask for one.
    pub metrics_base: Option<String>,
    /// The document directory this app owns (deleted with it).
    blobs: Option<tempfile::TempDir>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    /// Starts the server on a fresh database.
    pub async fn spawn() -> Self {
        Self::spawn_on(fresh_db().await).await
    }

    /// Starts the server on a given database.
    pub async fn spawn_on(db: TestDb) -> Self {
        Self::spawn_with(db, ServerConfig::default()).await
    }

    /// Starts the server on a given database with given settings. Documents go to a
    /// temporary directory; background workers do not run: tests drain them with
    /// [`TestApp::fetch_worker`] and [`TestApp::webhook_sender`], deterministically.
    pub async fn spawn_with(db: TestDb, config: ServerConfig) -> Self {
        Self::spawn_with_clock(db, config, Clock::system()).await
    }

    /// Starts the server on a fresh database and a manual clock (see [`manual_clock`]).
    pub async fn spawn_on_manual_clock() -> Self {
        Self::spawn_with_clock(fresh_db().await, ServerConfig::default(), manual_clock()).await
    }

    /// [`TestApp::spawn_with`] on `clock`: a test moves a manual clock instead of sleeping
    /// through lifetimes and backoffs.
    ///
    /// Tests send bursts far past a real client's rate, often on a clock that does not
    /// move: the rate limits are off unless the test sets limits of its own.
    pub async fn spawn_with_clock(db: TestDb, mut config: ServerConfig, clock: Clock) -> Self {
        if config.rate_limits == RateLimitArgs::default() {
            config.rate_limits = RateLimitArgs::off();
        }
        // Documents go to a directory of the test's own, unless the caller shares one.
        let blobs = (config.jobs.blob_dir == ServerConfig::default().jobs.blob_dir).then(|| {
            let dir = tempfile::tempdir().expect("blob dir");
            dir.path().clone_into(&mut config.jobs.blob_dir);
            dir
        });
        let options = store::StoreOptions {
            clock: clock.clone(),
            ..store::StoreOptions::default()
        };
        let store = store::open_with(&db.url, &options)
            .await
            .expect("open store");
        let metrics_listen = config.metrics.metrics_listen;
        let state = AppState::with_clock(Arc::clone(&store), config, clock.clone())
            .await
            .expect("state");
        let jobs = Arc::clone(&state.service.jobs);
        let service = Arc::clone(&state.service);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (stop_metrics, metrics_stopped) = tokio::sync::oneshot::channel::<()>();
        let metrics_base = match metrics_listen {
            Some(address) => {
                let listener = TcpListener::bind(address).await.expect("bind metrics");
                let base = format!("http://{}", listener.local_addr().unwrap());
                tokio::spawn(creneau::http::serve_metrics(
                    listener,
                    Arc::clone(&service),
                    std::time::Duration::from_secs(10),
                    async {
                        let _ = metrics_stopped.await;
                    },
                ));
                Some(base)
            }
            None => None,
        };
        tokio::spawn(creneau::http::serve(listener, state, async {
            let _ = rx.await;
            let _ = stop_metrics.send(());
        }));
        Self {
            base,
            http: reqwest::Client::new(),
            store,
            db,
            jobs,
            service,
            clock,
            metrics_base,
            blobs,
            shutdown: Some(tx),
        }
    }

    /// A real fetch worker on this server's store and blob directory.
    pub fn fetch_worker(&self) -> creneau::jobs::fetch::FetchWorker {
        self.jobs.fetch_worker(Arc::clone(&self.store))
    }

    /// A real webhook sender on this server's store.
    pub fn webhook_sender(&self) -> creneau::jobs::webhooks::WebhookSender {
        self.jobs
            .webhook_sender(Arc::clone(&self.store))
            .expect("webhook sender")
    }

    /// Scrapes the metrics listener (the app must have been spawned with one), asserting a
    /// 200 in the Prometheus text format; returns the text.
    pub async fn scrape(&self) -> String {
        let base = self
            .metrics_base
            .as_ref()
            .expect("spawned with --metrics-listen");
        let response = self
            .http
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let content_type = response.headers()["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        response.text().await.unwrap()
    }

    /// Absolute URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a firm with credentials and returns (firm id, access token).
    pub async fn firm(&self, name: &str) -> (String, String) {
        let (firm_id, client_id, secret) = self.firm_credentials(name).await;
        (firm_id, self.token(&client_id, &secret).await)
    }

    /// Creates a firm; returns its id and a credential (client id, secret).
    pub async fn firm_credentials(&self, name: &str) -> (String, String, String) {
        let profile = creneau::domain::firm::FirmProfile::from_stored(
            name.to_owned(),
            "73282932000074",
            "Europe/Paris",
        )
        .unwrap();
        let firm = self.store.create_firm(&profile).await.unwrap();
        let (client_id, secret) = creneau::cli::firm_credentials(self.store.as_ref(), &firm.id)
            .await
            .unwrap();
        (firm.id, client_id, secret)
    }

    /// Exchanges client credentials for an access token (asserting success).
    pub async fn token(&self, client_id: &str, secret: &str) -> String {
        let response = self
            .http
            .post(self.url("/admin/v1/token"))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// Sends a JSON request with a bearer token; returns status and parsed body
    /// (`Value::Null` for an empty body).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .request(method.parse().unwrap(), self.url(path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, body)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A valid expert profile for tests.
pub fn expert_body(name: &str) -> Value {
    json!({
        "displayName": name,
        "email": "expert@example.fr",
        "timeZone": "Europe/Paris",
        "base": { "geo": { "lat": 48.85, "lon": 2.35 } },
        "zone": { "departments": ["75", "92"], "radiusKm": 30 },
        "skills": { "claimTypes": ["DDE"], "expertiseTypes": ["ESS", "VISIO"], "maxStake": 15000.0 },
        "bufferMinutes": 15,
        "maxAppointmentsPerDay": 5,
        "minNoticeHours": 24,
        "weeklyHours": { "MON": [["08:30", "12:00"], ["13:30", "18:00"]] }
    })
}

/// Asserts a problem document of the given status and code.
pub fn assert_problem(status: u16, body: &Value, expected_status: u16, code: &str) {
    assert_eq!(status, expected_status, "body: {body}");
    assert_eq!(body["status"], expected_status, "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert!(
        body["type"].as_str().is_some_and(|t| t.ends_with(code)),
        "body: {body}"
    );
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "body: {body}"
    );
}

/// Every day 08:00–18:00, Paris time, no notice, no buffer: an expert that is easy to book.
pub fn open_expert(name: &str) -> Value {
    let day = json!([["08:00", "18:00"]]);
    json!({
        "displayName": name,
        "timeZone": "Europe/Paris",
        "base": { "geo": { "lat": 48.8566, "lon": 2.3522 } },
        "zone": { "departments": ["75", "92", "93", "94"], "radiusKm": 30 },
        "skills": { "claimTypes": ["DDE", "DE"], "expertiseTypes": ["ESS", "VISIO", "EAD"] },
        "durationsMinutes": { "VISIO": 60, "EAD": 60, "ESS": 90, "CONTRADICTOIRE": 120 },
        "bufferMinutes": 0,
        "minNoticeHours": 0,
        "weeklyHours": { "MON": day, "TUE": day, "WED": day, "THU": day, "FRI": day, "SAT": day, "SUN": day }
    })
}

/// A slot search body for a Paris water-damage claim, window `[from, from + days)`.
pub fn search_body(expertise: &str, from: chrono::DateTime<chrono::Utc>, days: i64) -> Value {
    json!({
        "insurer": "AXA",
        "insuredType": "PARTICULIER",
        "claimType": "DDE",
        "expertiseType": expertise,
        "dwellingType": "APPARTEMENT",
        "stake": { "total": 4200.00, "movable": 1200.00, "immovable": 3000.00 },
        "appointmentPlace": {
            "address": { "line1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris", "country": "FR" },
            "geo": { "lat": 48.8686, "lon": 2.3316 }
        },
        "from": from.to_rfc3339(),
        "to": (from + chrono::Duration::days(days)).to_rfc3339(),
        "maxSlots": 10
    })
}

/// Midnight UTC, `days` days from now.
pub fn days_ahead(days: i64) -> chrono::DateTime<chrono::Utc> {
    let day = (chrono::Utc::now() + chrono::Duration::days(days)).date_naive();
    day.and_hms_opt(0, 0, 0).unwrap().and_utc()
}

impl TestApp {
    /// Creates a protocol client and returns its API key.
    pub async fn api_key(&self) -> String {
        creneau::cli::api_client(self.store.as_ref(), "Claims IA test")
            .await
            .unwrap()
            .1
    }

    /// Creates an expert through the admin API and returns its id.
    pub async fn expert(&self, token: &str, body: Value) -> String {
        let (status, expert) = self
            .call("POST", "/admin/v1/experts", token, Some(body))
            .await;
        assert_eq!(status, 201, "{expert}");
        expert["id"].as_str().unwrap().to_owned()
    }

    /// Runs a slot search and returns the answer (asserting 200).
    pub async fn search(&self, key: &str, body: Value) -> Value {
        let (status, answer) = self
            .call("POST", "/v1/slot-searches", key, Some(body))
            .await;
        assert_eq!(status, 200, "{answer}");
        answer
    }

    /// Books a slot; returns status and body.
    pub async fn book(&self, key: &str, slot_id: &str, claims_ia_ref: &str) -> (u16, Value) {
        let body = json!({ "slotId": slot_id, "claimsIaRef": claims_ia_ref, "contact": { "name": "Mme Dupont" } });
        self.call("POST", "/v1/appointments", key, Some(body)).await
    }
}

/// A manual clock reading the present: the server's time then moves only when the test
/// says so.
pub fn manual_clock() -> Clock {
    Clock::manual(Clock::system().now())
}

/// Two server instances on one fresh database and one document directory, as they are
/// deployed, with `config`, on one `clock`.
pub async fn two_instances(mut config: ServerConfig, clock: Clock) -> (TestApp, TestApp) {
    let db = fresh_db().await;
    let url = db.url.clone();
    let blobs = tempfile::tempdir().expect("blob dir");
    config.jobs.blob_dir = blobs.path().to_owned();
    let mut one = TestApp::spawn_with_clock(db, config.clone(), clock.clone()).await;
    let two = TestApp::spawn_with_clock(TestDb::shared(&url), config, clock).await;
    one.blobs = Some(blobs);
    (one, two)
}

/// A `multipart/form-data` body with one part `file` named `name`: its content type and
/// bytes.
pub fn multipart_file(name: &str, bytes: impl AsRef<[u8]>) -> (String, Vec<u8>) {
    multipart(&[("file", Some(name), bytes.as_ref())])
}

/// A `multipart/form-data` body of `(part, file name, bytes)`: its content type and bytes.
pub fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "creneau-test-boundary-7MA4YWxk";
    let mut body = Vec::new();
    for (part, file_name, bytes) in parts {
        let file_name = file_name.map_or_else(String::new, |n| format!("; filename=\"{n}\""));
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"{file_name}\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .into_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").into_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}
