//! Etape 3: the dossier, deferred documents (real fetch worker, real local origins),
//! direct uploads, and what firms read of them.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Duration;
use creneau::config::ServerConfig;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

use crate::concurrency::offer;
use crate::helpers::{TestApp, assert_problem, days_ahead, fresh_db, open_expert};

/// Enough of a PNG for content sniffing.
pub fn png() -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    bytes.extend((0..2000u32).map(|i| (i % 251) as u8));
    bytes
}

/// Enough of a PDF for content sniffing.
pub fn pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 5000));
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Serves `router` on 127.0.0.1; returns its base URL.
pub async fn origin(router: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// A document origin: a PNG, an HTML page, a 404, and a URL failing once with 500.
async fn document_origin(flaky_hits: Arc<AtomicUsize>) -> String {
    let router = Router::new()
        .route(
            "/photo.png",
            get(|| async { ([(header::CONTENT_TYPE, "image/png")], png()) }),
        )
        .route(
            "/page.html",
            // Announced as a JPEG: the bytes decide.
            get(|| async { ([(header::CONTENT_TYPE, "image/jpeg")], "<html>hi</html>") }),
        )
        .route(
            "/flaky.pdf",
            get(move || {
                let hits = Arc::clone(&flaky_hits);
                async move {
                    if hits.fetch_add(1, Ordering::SeqCst) == 0 {
                        StatusCode::INTERNAL_SERVER_ERROR.into_response()
                    } else {
                        pdf().into_response()
                    }
                }
            }),
        );
    origin(router).await
}

/// A firm, its token, a client key and one booked appointment (`CIA-DOC-1`).
pub async fn booked(app: &TestApp) -> (String, String, String) {
    let (_, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    let expert = app.expert(&token, open_expert("Expert")).await;
    let slot = offer(app, &key, &expert, days_ahead(3) + Duration::hours(9), 60).await;
    let (status, booked) = app.book(&key, &slot, "CIA-DOC-1").await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["appointmentId"].as_str().unwrap().to_owned();
    (token, key, id)
}

pub fn dossier(attachments: &[&str]) -> Value {
    json!({
        "insurer": "AXA",
        "contract": { "name": "MRH Confort", "number": "CTR-123" },
        "claimsIaRef": "CIA-DOC-1",
        "claimRef": "SIN-998877",
        "insuredCapacity": "LOC",
        "insuredType": "PARTICULIER",
        "riskAddress": { "line1": "1 rue de la Paix", "postalCode": "75002", "city": "Paris", "country": "FR" },
        "claimType": "DDE",
        "expertiseType": "ESS",
        "claimDate": "2026-11-02",
        "declarationDate": "2026-11-03",
        "dwellingType": "APPARTEMENT",
        "stake": { "total": 4200.0, "movable": 1200.0, "immovable": 3000.0 },
        "immovableDamages": [ { "description": "Plafond cuisine", "amount": 1800.0 } ],
        "movableDamages": [ { "description": "Canapé", "amount": null } ],
        "attachments": attachments.iter().map(|u| json!({ "url": u, "name": "doc" })).collect::<Vec<_>>(),
        "insured": { "lastName": "Dupont", "firstName": "Anne", "phone": "0612345678", "email": "anne@example.fr" },
        "appointmentContact": { "name": "M. Durand", "phone": "0102030405", "relation": "gardien" },
        "process": "free text",
        "remoteSession": { "url": "https://visio.example/r/1", "login": "anne", "accessCode": "1234" }
    })
}

pub async fn put(app: &TestApp, key: &str, id: &str, body: Value) -> (u16, Value) {
    app.call(
        "PUT",
        &format!("/v1/appointments/{id}/dossier"),
        key,
        Some(body),
    )
    .await
}

pub fn attachment<'a>(view: &'a Value, url: &str) -> &'a Value {
    view["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["url"].as_str().is_some_and(|u| u.ends_with(url)))
        .unwrap_or_else(|| panic!("no attachment {url} in {view}"))
}

#[tokio::test]
async fn an_invalid_dossier_is_refused_with_a_pointer_and_nothing_stored() {
    let app = TestApp::spawn().await;
    let (_, key, id) = booked(&app).await;
    // Validation: the claim must be this appointment's, dates and amounts must hold.
    let mut wrong_ref = dossier(&[]);
    wrong_ref["claimsIaRef"] = json!("CIA-OTHER");
    let (status, body) = put(&app, &key, &id, wrong_ref).await;
    assert_problem(status, &body, 422, "validation-failed");
    assert_eq!(body["errors"][0]["pointer"], "/claimsIaRef");
    for (field, value, pointer) in [
        ("declarationDate", json!("2026-11-01"), "/declarationDate"),
        ("claimDate", json!("2026-13-01"), "/claimDate"),
        (
            "stake",
            json!({ "total": 100.0, "movable": 90.0, "immovable": 20.0 }),
            "/stake/total",
        ),
        ("insuredType", json!("ALIEN"), "/insuredType"),
        ("surprise", json!(1), "/surprise"),
    ] {
        let mut bad = dossier(&[]);
        bad[field] = value;
        let (status, body) = put(&app, &key, &id, bad).await;
        assert_problem(status, &body, 422, "validation-failed");
        assert_eq!(body["errors"][0]["pointer"], pointer, "{body}");
    }
    let (status, _) = app
        .call("GET", &format!("/v1/appointments/{id}/dossier"), &key, None)
        .await;
    assert_eq!(status, 404, "no dossier was stored by invalid PUTs");
}

#[tokio::test]
async fn a_dossier_is_replaced_versioned_and_read_by_the_firm() {
    let app = TestApp::spawn().await;
    let (token, key, id) = booked(&app).await;

    // Disallowed URLs do not fail the PUT: their attachments are REJECTED at once.
    let urls = [
        "https://docs.example/a.jpg",
        "http://docs.example/b.jpg",
        "https://10.0.0.1/c.pdf",
    ];
    let (status, first) = put(&app, &key, &id, dossier(&urls)).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["version"], 1);
    assert_eq!(first["claimRef"], "SIN-998877");
    assert_eq!(first["stake"]["total"], 4200.0);
    assert_eq!(attachment(&first, "a.jpg")["status"], "PENDING");
    assert_eq!(attachment(&first, "b.jpg")["status"], "REJECTED");
    assert_eq!(attachment(&first, "b.jpg")["reason"], "scheme-not-allowed");
    assert_eq!(attachment(&first, "c.pdf")["reason"], "address-not-allowed");
    let kept_id = attachment(&first, "a.jpg")["attachmentId"].clone();

    // Each PUT replaces the dossier and bumps its version; a known URL keeps its id.
    let mut second = dossier(&urls[..1]);
    second["process"] = json!("second version");
    let (status, replaced) = put(&app, &key, &id, second.clone()).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["version"], 2);
    assert_eq!(replaced["attachments"].as_array().unwrap().len(), 1);
    assert_eq!(attachment(&replaced, "a.jpg")["attachmentId"], kept_id);

    // If-Match on a stale version: 412, nothing changes.
    let response = app
        .http
        .put(app.url(&format!("/v1/appointments/{id}/dossier")))
        .bearer_auth(&key)
        .header("if-match", "\"1\"")
        .json(&dossier(&[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 412);

    let response = app
        .http
        .get(app.url(&format!("/v1/appointments/{id}/dossier")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let read: Value = response.json().await.unwrap();
    assert_eq!(read["process"], "second version");
    assert!(read["updatedAt"].is_string());

    // The firm reads the same dossier; another firm cannot.
    let (status, by_firm) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/dossier"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(by_firm, read);
    let (_, other) = app.firm("Autre cabinet").await;
    let (status, _) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/dossier"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/attachments"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 404);

    // The refusals are events for Claims IA.
    let (_, events) = app.call("GET", "/v1/events", &key, None).await;
    let rejected: Vec<&Value> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "attachment.rejected")
        .collect();
    assert_eq!(rejected.len(), 2, "{events}");
    assert_eq!(rejected[0]["appointmentId"], id.as_str());
}

#[tokio::test]
async fn the_fetch_worker_stores_refuses_and_retries_and_the_firm_streams_the_bytes() {
    let flaky_hits = Arc::new(AtomicUsize::new(0));
    let base = document_origin(Arc::clone(&flaky_hits)).await;
    let mut config = ServerConfig::default();
    config.jobs.fetch_allow_origins = vec![base.clone()];
    config.jobs.retry_base_ms = 300;
    let app =
        TestApp::spawn_with_clock(fresh_db().await, config, crate::helpers::manual_clock()).await;
    let (token, key, id) = booked(&app).await;
    let urls: Vec<String> = ["photo.png", "page.html", "missing.jpg", "flaky.pdf"]
        .iter()
        .map(|p| format!("{base}/{p}"))
        .collect();
    let refs: Vec<&str> = urls.iter().map(String::as_str).collect();
    let (status, body) = put(&app, &key, &id, dossier(&refs)).await;
    assert_eq!(status, 201, "{body}");

    let worker = app.fetch_worker();
    assert_eq!(worker.drain().await.unwrap(), 4, "one attempt each");
    // The retry is due 150 to 300 ms later (backoff with jitter), not before.
    assert_eq!(worker.drain().await.unwrap(), 0, "not before its backoff");
    app.clock.advance(std::time::Duration::from_millis(350));
    assert_eq!(worker.drain().await.unwrap(), 1, "the flaky one is retried");
    assert_eq!(flaky_hits.load(Ordering::SeqCst), 2);

    let (_, read) = app
        .call("GET", &format!("/v1/appointments/{id}/dossier"), &key, None)
        .await;
    let photo = attachment(&read, "photo.png");
    assert_eq!(photo["status"], "STORED", "{read}");
    assert_eq!(photo["contentType"], "image/png");
    assert_eq!(photo["sha256"], sha256_hex(&png()));
    assert_eq!(attachment(&read, "page.html")["status"], "REJECTED");
    assert_eq!(
        attachment(&read, "page.html")["reason"],
        "content-type-not-allowed"
    );
    assert_eq!(attachment(&read, "missing.jpg")["status"], "FAILED");
    let flaky = attachment(&read, "flaky.pdf");
    assert_eq!(flaky["status"], "STORED");
    assert_eq!(flaky["attempts"], 2);

    // The firm lists them and streams the content, with type and ETag = sha256.
    let (status, list) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/attachments"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 4);
    let content = format!(
        "/admin/v1/appointments/{id}/attachments/{}/content",
        photo["attachmentId"].as_str().unwrap()
    );
    let response = app
        .http
        .get(app.url(&content))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let etag = format!("\"{}\"", sha256_hex(&png()));
    assert_eq!(response.headers()["etag"], etag.as_str());
    assert_eq!(response.bytes().await.unwrap().as_ref(), png().as_slice());
    let response = app
        .http
        .get(app.url(&content))
        .bearer_auth(&token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let rejected = format!(
        "/admin/v1/appointments/{id}/attachments/{}/content",
        attachment(&read, "page.html")["attachmentId"]
            .as_str()
            .unwrap()
    );
    let (status, body) = app.call("GET", &rejected, &token, None).await;
    assert_problem(status, &body, 409, "attachment-not-stored");

    // Claims IA hears of each outcome, once.
    let (_, events) = app.call("GET", "/v1/events", &key, None).await;
    let kinds: Vec<(&str, &str)> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["data"]["status"].as_str().unwrap(),
            )
        })
        .collect();
    let count = |kind: &str, status: &str| kinds.iter().filter(|k| **k == (kind, status)).count();
    assert_eq!(count("attachment.stored", "STORED"), 2, "{events}");
    assert_eq!(count("attachment.rejected", "REJECTED"), 1, "{events}");
    assert_eq!(count("attachment.rejected", "FAILED"), 1, "{events}");
}

#[tokio::test]
async fn hostile_urls_are_refused_without_a_single_connection() {
    // The victim: a loopback listener counting every connection it accepts.
    let victim = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = victim.local_addr().unwrap().port();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    tokio::spawn(async move {
        while let Ok((_socket, _)) = victim.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
        }
    });
    // An allow-listed origin that redirects to the victim.
    let redirects = Router::new()
        .route(
            "/to-https-loopback",
            get(move || async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("https://127.0.0.1:{port}/x"))],
                )
            }),
        )
        .route(
            "/to-localhost",
            get(move || async move {
                (
                    StatusCode::FOUND,
                    [(header::LOCATION, format!("http://localhost:{port}/x"))],
                )
            }),
        );
    let trusted = origin(redirects).await;
    let mut config = ServerConfig::default();
    config.jobs.fetch_allow_origins = vec![trusted.clone()];
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (_, key, id) = booked(&app).await;

    let hostile = [
        format!("https://127.0.0.1:{port}/a"),
        format!("https://[::1]:{port}/b"),
        format!("https://0x7f000001:{port}/c"),
        format!("https://2130706433:{port}/d"),
        "https://169.254.169.254/latest/meta-data/".to_owned(),
        "https://10.0.0.1/e".to_owned(),
        format!("https://localhost:{port}/f"),
        format!("http://127.0.0.1:{port}/g"),
        format!("{trusted}/to-https-loopback"),
        format!("{trusted}/to-localhost"),
    ];
    let refs: Vec<&str> = hostile.iter().map(String::as_str).collect();
    let (status, body) = put(&app, &key, &id, dossier(&refs)).await;
    assert_eq!(status, 201, "{body}");
    app.fetch_worker().drain().await.unwrap();

    let (_, read) = app
        .call("GET", &format!("/v1/appointments/{id}/dossier"), &key, None)
        .await;
    for a in read["attachments"].as_array().unwrap() {
        assert_eq!(a["status"], "REJECTED", "{a}");
        assert!(
            [
                "address-not-allowed",
                "scheme-not-allowed",
                "host-not-allowed"
            ]
            .contains(&a["reason"].as_str().unwrap()),
            "{a}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "the victim was contacted"
    );
}

/// A multipart upload of `bytes` as the part `file`, ready to send.
pub fn upload_request(
    app: &TestApp,
    key: &str,
    id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> reqwest::RequestBuilder {
    let (content_type, body) = crate::helpers::multipart_file(name, bytes);
    app.http
        .post(app.url(&format!("/v1/appointments/{id}/attachments")))
        .bearer_auth(key)
        .header("content-type", content_type)
        .body(body)
}

pub async fn upload(
    app: &TestApp,
    key: &str,
    id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let response = upload_request(app, key, id, name, bytes)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn direct_uploads_pass_the_same_checks() {
    let mut config = ServerConfig::default();
    config.jobs.fetch_max_bytes = 4096;
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (token, key, id) = booked(&app).await;

    let (status, stored) = upload(&app, &key, &id, "photo.png", png()).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["status"], "STORED");
    assert_eq!(stored["contentType"], "image/png");
    assert_eq!(stored["name"], "photo.png");
    assert_eq!(stored["sha256"], sha256_hex(&png()));

    let (status, body) = upload(&app, &key, &id, "big.pdf", pdf()).await;
    assert_problem(status, &body, 413, "payload-too-large");
    let (status, body) = upload(&app, &key, &id, "x.png", b"MZ\x90\0 not an image".to_vec()).await;
    assert_problem(status, &body, 422, "content-type-not-allowed");
    let response = app
        .http
        .post(app.url(&format!("/v1/appointments/{id}/attachments")))
        .bearer_auth(&key)
        .json(&json!({ "file": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let (status, _) = upload(&app, &key, "no-such-appointment", "photo.png", png()).await;
    assert_eq!(status, 404);

    let (_, list) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/attachments"),
            &token,
            None,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "refused uploads leave nothing: {list}");
    assert_eq!(items[0]["inDossier"], false);
    let content = format!(
        "/admin/v1/appointments/{id}/attachments/{}/content",
        items[0]["attachmentId"].as_str().unwrap()
    );
    let response = app
        .http
        .get(app.url(&content))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.headers()["content-disposition"],
        "attachment; filename=\"photo.png\""
    );
    assert_eq!(response.bytes().await.unwrap().as_ref(), png().as_slice());
}

/// Starts `creneau serve` on `db_url`; returns the process and its address once listening.
/// Its log keeps being drained so it never blocks on a full pipe.
fn serve_binary(db_url: &str, blob_dir: &str, origin: &str) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_creneau"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            db_url,
            "--blob-dir",
            blob_dir,
            "--fetch-allow-origin",
            origin,
            "--fetch-timeout-secs",
            "1",
            "--job-poll-ms",
            "100",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server logs before listening")
            .unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "listening" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    (server, format!("http://{address}"))
}

#[tokio::test]
async fn pending_downloads_resume_after_the_server_is_killed() {
    // The origin hangs on the first request (the download in progress when the server dies)
    // and answers the next ones.
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let origin_base = origin(Router::new().route(
        "/slow.png",
        get(move || {
            let hits = Arc::clone(&counter);
            async move {
                if hits.fetch_add(1, Ordering::SeqCst) == 0 {
                    std::future::pending::<()>().await;
                }
                ([(header::CONTENT_TYPE, "image/png")], png())
            }
        }),
    ))
    .await;
    let db = fresh_db().await;
    let blobs = tempfile::tempdir().unwrap();
    let (key, id) = {
        let app = TestApp::spawn_on(crate::helpers::TestDb::shared(&db.url)).await;
        let (_, key, id) = booked(&app).await;
        (key, id)
    };

    let (mut first, base) = serve_binary(&db.url, blobs.path().to_str().unwrap(), &origin_base);
    let http = reqwest::Client::new();
    let response = http
        .put(format!("{base}/v1/appointments/{id}/dossier"))
        .bearer_auth(&key)
        .json(&dossier(&[&format!("{origin_base}/slow.png")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while hits.load(Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the download never started"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    first.kill().unwrap(); // SIGKILL: no shutdown, the lease stays held by a dead worker
    first.wait().unwrap();

    let (mut second, base) = serve_binary(&db.url, blobs.path().to_str().unwrap(), &origin_base);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let stored = loop {
        let read: Value = http
            .get(format!("{base}/v1/appointments/{id}/dossier"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let a = read["attachments"][0].clone();
        if a["status"] == "STORED" {
            break a;
        }
        assert_eq!(a["status"], "PENDING", "{a}");
        assert!(
            std::time::Instant::now() < deadline,
            "never downloaded: {a}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    second.kill().unwrap();
    second.wait().unwrap();
    assert_eq!(stored["sha256"], sha256_hex(&png()));
    assert_eq!(stored["attempts"], 2, "the interrupted attempt counts");
    assert_eq!(hits.load(Ordering::SeqCst), 2);
    let blob = blobs.path().join(stored["sha256"].as_str().unwrap());
    assert_eq!(std::fs::read(blob).unwrap(), png());
}
