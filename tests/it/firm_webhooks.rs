//! Firms' own webhooks: the URL is the tenant's input, refused before any connection when
//! it points inside; deliveries signed, listed, and re-checked (no redirect into the inside).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::http::{StatusCode, header};
use axum::routing::post;
use creneau::config::ServerConfig;
use creneau::jobs::webhooks::{secret_key, sign};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::helpers::{TestApp, days_ahead, fresh_db, open_expert, search_body};
use crate::webhooks::Received;

/// A listener that only counts the connections it accepts.
async fn victim() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&count);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, count)
}

#[tokio::test]
async fn inside_urls_are_refused_before_any_connection() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let (port, connections) = victim().await;
    for url in [
        format!("https://127.0.0.1:{port}/hook"),
        format!("https://localhost:{port}/hook"),
        format!("http://127.0.0.1:{port}/hook"),
        "https://10.1.2.3/hook".to_owned(),
        "https://192.168.0.10/hook".to_owned(),
        "https://169.254.169.254/latest/meta-data".to_owned(),
        "https://[::1]/hook".to_owned(),
        "https://0x7f000001/hook".to_owned(),
        "http://example.com/hook".to_owned(),
        "not a url".to_owned(),
    ] {
        let (status, problem) = app
            .call(
                "PUT",
                "/admin/v1/webhook",
                &token,
                Some(json!({ "url": url })),
            )
            .await;
        crate::helpers::assert_problem(status, &problem, 422, "webhook-url-not-allowed");
        assert_eq!(problem["errors"][0]["pointer"], "/url", "{url}");
    }
    assert_eq!(
        connections.load(Ordering::SeqCst),
        0,
        "no connection was made"
    );
    let (status, _) = app.call("GET", "/admin/v1/webhook", &token, None).await;
    assert_eq!(status, 404);
}

/// An endpoint origin (allowed by the operator): `/hook` records and answers 204,
/// `/moved` redirects to `victim_port` on 127.0.0.1.
async fn endpoint(victim_port: u16) -> (String, Received) {
    let received: Received = Arc::default();
    let log = Arc::clone(&received);
    let router = Router::new()
        .route(
            "/hook",
            post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let log = Arc::clone(&log);
                    async move {
                        log.lock().unwrap().push((headers, body.to_vec()));
                        StatusCode::NO_CONTENT
                    }
                },
            ),
        )
        .route(
            "/moved",
            post(move || async move {
                (
                    StatusCode::TEMPORARY_REDIRECT,
                    [(header::LOCATION, format!("http://127.0.0.1:{victim_port}/"))],
                )
            }),
        );
    (crate::documents::origin(router).await, received)
}

/// A server allowing `origin`, a firm with `path` of it as its endpoint, and a Claims IA
/// booking of its expert; returns the app, the firm's token, the key, the appointment and
/// the endpoint's secret.
async fn watched(origin: &str, path: &str) -> (TestApp, String, String, String, String) {
    let mut config = ServerConfig::default();
    config.jobs.fetch_allow_origins = vec![origin.to_owned()];
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (_, token) = app.firm("Cabinet").await;
    let url = format!("{origin}{path}");
    let (status, set) = app
        .call(
            "PUT",
            "/admin/v1/webhook",
            &token,
            Some(json!({ "url": url })),
        )
        .await;
    assert_eq!(status, 200, "{set}");
    let secret = set["secret"].as_str().unwrap().to_owned();
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(3), 3))
        .await;
    let slot = answer["slots"][0]["slotId"].as_str().unwrap();
    let (_, booked) = app.book(&key, slot, "CIA-1").await;
    let id = booked["appointmentId"].as_str().unwrap().to_owned();
    (app, token, key, id, secret)
}

#[tokio::test]
async fn firm_events_are_delivered_signed_and_listed_and_put_rotates_the_secret() {
    let (victim_port, _) = victim().await;
    let (origin, received) = endpoint(victim_port).await;
    let (app, token, key, id, secret) = watched(&origin, "/hook").await;
    let (_, shown) = app.call("GET", "/admin/v1/webhook", &token, None).await;
    assert_eq!(shown["url"], format!("{origin}/hook"));
    assert!(shown.get("secret").is_none());
    let cancel = format!("/v1/appointments/{id}/cancellation");
    let body = json!({ "reason": "INSURED_REQUEST" });
    let (status, _) = app.call("POST", &cancel, &key, Some(body)).await;
    assert_eq!(status, 200);
    let sender = app.jobs.firm_webhook_sender(app.store.clone());
    assert!(sender.drain().await.unwrap() >= 1);
    let (_, feed) = app.call("GET", "/admin/v1/events", &token, None).await;
    let cancelled = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["type"] == "appointment.cancelled")
        .unwrap()
        .clone();
    {
        let received = received.lock().unwrap();
        let (headers, body) = received
            .iter()
            .find(|(_, b)| serde_json::from_slice::<Value>(b).unwrap() == cancelled)
            .expect("the event is delivered as the feed lists it");
        let header = |name: &str| headers[name].to_str().unwrap().to_owned();
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap();
        let key = secret_key(&secret).unwrap();
        assert_eq!(
            header("webhook-signature"),
            sign(&key, &header("webhook-id"), timestamp, body)
        );
    }
    let (_, deliveries) = app
        .call("GET", "/admin/v1/webhook/deliveries", &token, None)
        .await;
    let delivered = deliveries["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["eventId"] == cancelled["id"])
        .unwrap()
        .clone();
    assert_eq!(delivered["state"], "DELIVERED");
    assert_eq!(delivered["status"], 204);
    assert!(delivered["attemptedAt"].is_string());
    let url = json!({ "url": format!("{origin}/hook") });
    let (_, again) = app
        .call("PUT", "/admin/v1/webhook", &token, Some(url))
        .await;
    assert_ne!(
        again["secret"],
        secret.as_str(),
        "each PUT rotates the secret"
    );
    let (status, _) = app.call("DELETE", "/admin/v1/webhook", &token, None).await;
    assert_eq!(status, 204);
    let (status, _) = app.call("DELETE", "/admin/v1/webhook", &token, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_redirect_inside_is_never_followed() {
    let (victim_port, victim_hits) = victim().await;
    let (origin, _) = endpoint(victim_port).await;
    let (app, token, key, id, _) = watched(&origin, "/moved").await;
    let patched = app
        .http
        .patch(app.url(&format!("/v1/appointments/{id}")))
        .bearer_auth(&key)
        .header("content-type", "application/merge-patch+json")
        .body(json!({ "comment": "digicode" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    let sender = app.jobs.firm_webhook_sender(app.store.clone());
    assert_eq!(
        sender.drain().await.unwrap(),
        2,
        "the booking and the change"
    );
    assert_eq!(
        victim_hits.load(Ordering::SeqCst),
        0,
        "the inside was never reached"
    );
    let (_, deliveries) = app
        .call("GET", "/admin/v1/webhook/deliveries", &token, None)
        .await;
    let last = &deliveries["items"][0];
    assert_eq!(last["state"], "PENDING", "{deliveries}");
    assert!(last["error"].as_str().is_some(), "{deliveries}");
    assert!(last["nextAttemptAt"].is_string());
}
