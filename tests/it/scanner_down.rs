//! A configured virus scanner that cannot be reached: nothing is ever kept unscanned.
//! Uploads are 503 `scan-failed`; downloads are retried, then `FAILED`. No clamd needed (the
//! `scanning` tests use a real one).

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use creneau::clock::Clock;
use creneau::config::{JobArgs, ServerConfig};
use serde_json::Value;

use crate::documents::{attachment, booked, dossier, origin, png, put, upload, upload_request};
use crate::helpers::{TestApp, assert_problem, fresh_db, manual_clock};

/// A scanner address where nothing listens.
fn unreachable_scanner() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("clamd://{}", listener.local_addr().unwrap())
}

async fn attachment_events(app: &TestApp, key: &str) -> Vec<Value> {
    let (status, events) = app.call("GET", "/v1/events", key, None).await;
    assert_eq!(status, 200, "{events}");
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("attachment."))
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_upload_is_refused_with_retry_after_and_nothing_is_recorded() {
    let mut config = ServerConfig::default();
    config.jobs.scanner = Some(unreachable_scanner());
    config.jobs.scan_timeout_secs = 5;
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (token, key, id) = booked(&app).await;

    let response = upload_request(&app, &key, &id, "photo.png", png())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0);
    let body: Value = response.json().await.unwrap();
    assert_problem(503, &body, 503, "scan-failed");
    assert!(
        !body["detail"].as_str().unwrap().contains("127.0.0.1"),
        "the scanner's address is not for clients: {body}"
    );

    // The type is checked before the scan: a refused type is still 422.
    let (status, body) = upload(&app, &key, &id, "x.png", b"MZ\x90\0 not an image".to_vec()).await;
    assert_problem(status, &body, 422, "content-type-not-allowed");

    let (_, list) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/attachments"),
            &token,
            None,
        )
        .await;
    assert_eq!(list["items"], serde_json::json!([]), "nothing kept: {list}");
    assert!(attachment_events(&app, &key).await.is_empty());
}

#[tokio::test]
async fn a_download_is_retried_and_never_stored_unscanned() {
    let base = origin(Router::new().route("/photo.png", get(|| async { png() }))).await;
    let mut config = ServerConfig::default();
    config.jobs.fetch_allow_origins = vec![base.clone()];
    config.jobs.scanner = Some(unreachable_scanner());
    config.jobs.fetch_max_attempts = 2;
    config.jobs.retry_base_ms = 300;
    let app = TestApp::spawn_with_clock(fresh_db().await, config, manual_clock()).await;
    let (_, key, id) = booked(&app).await;
    let url = format!("{base}/photo.png");
    let (status, body) = put(&app, &key, &id, dossier(&[&url])).await;
    assert_eq!(status, 201, "{body}");

    let worker = app.fetch_worker();
    assert_eq!(worker.drain().await.unwrap(), 1);
    let path = format!("/v1/appointments/{id}/dossier");
    let (_, first) = app.call("GET", &path, &key, None).await;
    let photo = attachment(&first, "photo.png");
    assert_eq!(photo["status"], "PENDING", "retried later: {first}");
    assert!(
        photo["detail"].as_str().unwrap().contains("virus scan"),
        "{photo}"
    );

    app.clock.advance(Duration::from_millis(350));
    assert_eq!(worker.drain().await.unwrap(), 1, "the retry");
    let (_, last) = app.call("GET", &path, &key, None).await;
    let photo = attachment(&last, "photo.png");
    assert_eq!(photo["status"], "FAILED", "{last}");
    assert!(photo.get("sha256").is_none(), "never stored: {photo}");
    let events = attachment_events(&app, &key).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "attachment.rejected");
    assert_eq!(events[0]["data"]["status"], "FAILED");
}

#[test]
fn a_scanner_that_is_not_a_clamd_address_stops_the_start() {
    let blobs = tempfile::tempdir().unwrap();
    for spec in [
        "tcp://127.0.0.1:3310",
        "clamd://127.0.0.1",
        "/run/clamd.ctl",
    ] {
        let args = JobArgs {
            blob_dir: blobs.path().to_owned(),
            scanner: Some(spec.to_owned()),
            ..JobArgs::default()
        };
        let err = creneau::jobs::Jobs::new(&args, Clock::system())
            .err()
            .unwrap_or_else(|| panic!("{spec} accepted"));
        let message = err.to_string();
        assert!(
            message.contains("--scanner") && message.contains("clamd://HOST:PORT"),
            "{message}"
        );
    }
    let args = JobArgs {
        blob_dir: blobs.path().to_owned(),
        scanner: Some("clamd:///run/clamav/clamd.ctl".to_owned()),
        scan_timeout_secs: 7,
        ..JobArgs::default()
    };
    let jobs = creneau::jobs::Jobs::new(&args, Clock::system()).unwrap();
    let scanner = jobs.scanner.as_ref().unwrap();
    assert_eq!(scanner.kind(), "unix");
    assert_eq!(scanner.timeout(), Duration::from_secs(7));
}
