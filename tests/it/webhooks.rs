//! Webhooks: the outbox is delivered to a real local receiver, signed per Standard
//! Webhooks, retried with the same `webhook-id` until acknowledged.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use chrono::Duration;
use creneau::config::ServerConfig;
use creneau::jobs::webhooks::{new_secret, secret_key, sign};
use creneau::store::WebhookEndpoint;
use serde_json::{Value, json};

use crate::concurrency::offer;
use crate::documents::origin;
use crate::helpers::{TestApp, days_ahead, fresh_db, open_expert};

pub(crate) type Received = Arc<Mutex<Vec<(HeaderMap, Vec<u8>)>>>;

/// A receiver that records every request and fails the first `failures` of them.
pub(crate) async fn receiver(failures: usize) -> (String, Received) {
    let received: Received = Arc::default();
    let log = Arc::clone(&received);
    let router = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = Arc::clone(&log);
            async move {
                let mut log = log.lock().unwrap();
                log.push((headers, body.to_vec()));
                if log.len() <= failures {
                    StatusCode::SERVICE_UNAVAILABLE
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    (format!("{}/hook", origin(router).await), received)
}

#[tokio::test]
async fn events_are_delivered_signed_and_retried_with_a_stable_id() {
    let (url, received) = receiver(1).await;
    let mut config = ServerConfig::default();
    config.jobs.retry_base_ms = 200;
    let app =
        TestApp::spawn_with_clock(fresh_db().await, config, crate::helpers::manual_clock()).await;
    let (_, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    let client_id = creneau::auth::api_key_client_id(&key).unwrap().to_owned();
    let secret = new_secret();
    app.store
        .set_webhook(&WebhookEndpoint {
            client_id,
            url,
            secret: secret.clone(),
        })
        .await
        .unwrap();
    let expert = app.expert(&token, open_expert("Expert")).await;
    let slot = offer(&app, &key, &expert, days_ahead(3) + Duration::hours(9), 60).await;
    let (status, booked) = app.book(&key, &slot, "CIA-HOOK-1").await;
    assert_eq!(status, 201);
    let id = booked["appointmentId"].as_str().unwrap();
    let sender = app.webhook_sender();
    assert_eq!(
        sender.drain().await.unwrap(),
        0,
        "Claims IA's own booking is no event"
    );

    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{id}/cancellation"),
            &token,
            Some(json!({ "reason": "EXPERT_UNAVAILABLE" })),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(sender.drain().await.unwrap(), 1, "first attempt: 503");
    assert_eq!(
        sender.drain().await.unwrap(),
        0,
        "the retry waits for its backoff"
    );
    app.clock.advance(std::time::Duration::from_millis(250));
    assert_eq!(sender.drain().await.unwrap(), 1, "second attempt: 204");
    app.clock.advance(std::time::Duration::from_millis(250));
    assert_eq!(
        sender.drain().await.unwrap(),
        0,
        "acknowledged: never sent again"
    );

    let (_, events) = app.call("GET", "/v1/events", &key, None).await;
    let event = &events["items"][0];
    let received = received.lock().unwrap();
    assert_eq!(received.len(), 2);
    let key_bytes = secret_key(&secret).unwrap();
    for (headers, body) in received.iter() {
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let webhook_id = header("webhook-id");
        assert_eq!(webhook_id, format!("evt_{}", event["id"].as_str().unwrap()));
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 60);
        assert_eq!(
            header("webhook-signature"),
            sign(&key_bytes, &webhook_id, timestamp, body),
            "the signature covers id, timestamp and the exact body"
        );
        assert_eq!(header("content-type"), "application/json");
        let delivered: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            &delivered, event,
            "the body is the event as GET /v1/events lists it"
        );
        assert_eq!(delivered["type"], "appointment.cancelled");
    }
}

#[tokio::test]
async fn the_cli_configures_a_webhook_and_prints_its_secret() {
    let db = fresh_db().await;
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_creneau"))
            .args(args)
            .args(["--database-url", &db.url, "--json"])
            .output()
            .unwrap()
    };
    let created = run(&["client", "create", "--name", "Claims IA"]);
    assert!(created.status.success());
    let created: Value = serde_json::from_slice(&created.stdout).unwrap();
    let client_id = created["clientId"].as_str().unwrap();
    let set = run(&[
        "client",
        "webhook",
        client_id,
        "--url",
        "https://hooks.example/creneau",
    ]);
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    let set: Value = serde_json::from_slice(&set.stdout).unwrap();
    assert!(secret_key(set["secret"].as_str().unwrap()).is_ok(), "{set}");
    let unknown = run(&[
        "client",
        "webhook",
        "nope",
        "--url",
        "https://hooks.example/x",
    ]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no client nope"));
    let removed = run(&["client", "webhook", client_id, "--remove"]);
    assert!(removed.status.success());
}
