//! Request rates: a Claims IA client past its burst on `/v1`, or a firm past its own on
//! `/admin/v1`, is answered 429 with `Retry-After` until the clock moves on; other callers
//! go on. The server runs on a manual clock, so time moves only when a test says so.

use std::time::Duration;

use creneau::config::{RateLimitArgs, ServerConfig};
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, days_ahead, fresh_db, manual_clock, search_body};

/// The server with these limits, on a manual clock.
async fn app_with(rate_limits: RateLimitArgs) -> TestApp {
    let config = ServerConfig {
        rate_limits,
        ..ServerConfig::default()
    };
    TestApp::spawn_with_clock(fresh_db().await, config, manual_clock()).await
}

/// One request per second on average, `burst` at once, for both APIs.
fn limits(burst: u32) -> RateLimitArgs {
    RateLimitArgs {
        client_rate_limit: 1,
        client_rate_burst: burst,
        firm_rate_limit: 1,
        firm_rate_burst: burst,
    }
}

/// Status, `Retry-After` and body of a request.
async fn send(
    app: &TestApp,
    method: &str,
    path: &str,
    bearer: &str,
    body: Option<Value>,
    idempotency_key: Option<&str>,
) -> (u16, Option<String>, Value) {
    let mut request = app
        .http
        .request(method.parse().unwrap(), app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    if let Some(key) = idempotency_key {
        request = request.header("Idempotency-Key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap_or(Value::Null);
    (status, retry_after, body)
}

async fn search(app: &TestApp, key: &str) -> (u16, Option<String>, Value) {
    let body = search_body("VISIO", days_ahead(2), 7);
    send(app, "POST", "/v1/slot-searches", key, Some(body), None).await
}

async fn read_firm(app: &TestApp, token: &str) -> (u16, Option<String>, Value) {
    send(app, "GET", "/admin/v1/firm", token, None, None).await
}

/// Asserts the answer is the rate limit's: a 429 problem asking to wait one second.
fn assert_limited((status, retry_after, body): &(u16, Option<String>, Value)) {
    assert_problem(*status, body, 429, "rate-limited");
    assert_eq!(retry_after.as_deref(), Some("1"), "{body}");
}

#[tokio::test]
async fn a_claims_ia_client_past_its_burst_waits_while_another_client_goes_on() {
    // Arrange
    let app = app_with(limits(3)).await;
    let key = app.api_key().await;
    let other = app.api_key().await;

    // Act / Assert: the burst, then a refusal that lasts one interval to the millisecond.
    for _ in 0..3 {
        let (status, _, body) = search(&app, &key).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_limited(&search(&app, &key).await);
    assert_eq!(search(&app, &other).await.0, 200);
    app.clock.advance(Duration::from_millis(999));
    assert_limited(&search(&app, &key).await);
    app.clock.advance(Duration::from_millis(1));
    assert_eq!(search(&app, &key).await.0, 200);
    assert_limited(&search(&app, &key).await);
}

#[tokio::test]
async fn a_firm_past_its_burst_waits_whatever_its_token_while_other_firms_go_on() {
    // Arrange
    let app = app_with(limits(2)).await;
    let (_, client_id, secret) = app.firm_credentials("A").await;
    let token = app.token(&client_id, &secret).await;
    let (_, other) = app.firm("B").await;

    // Act / Assert
    for _ in 0..2 {
        assert_eq!(read_firm(&app, &token).await.0, 200);
    }
    assert_limited(&read_firm(&app, &token).await);
    assert_eq!(read_firm(&app, &other).await.0, 200);
    // The token endpoint has its own throttle; a new token shares the firm's rate.
    let fresh = app.token(&client_id, &secret).await;
    assert_limited(&read_firm(&app, &fresh).await);
    app.clock.advance(Duration::from_secs(1));
    assert_eq!(read_firm(&app, &token).await.0, 200);
    assert_limited(&read_firm(&app, &fresh).await);
}

#[tokio::test]
async fn a_rate_of_zero_lifts_the_limit() {
    // Arrange
    let app = app_with(RateLimitArgs {
        client_rate_limit: 0,
        firm_rate_limit: 0,
        ..limits(1)
    })
    .await;
    let key = app.api_key().await;
    let (_, token) = app.firm("A").await;

    // Act / Assert: far past a burst of one, and the clock never moves.
    for _ in 0..20 {
        assert_eq!(search(&app, &key).await.0, 200);
        assert_eq!(read_firm(&app, &token).await.0, 200);
    }
}

#[tokio::test]
async fn a_request_through_the_idempotency_layer_counts_once() {
    // Arrange
    let app = app_with(limits(2)).await;
    let key = app.api_key().await;
    let (_, token) = app.firm("A").await;
    let booking = json!({ "slotId": "not-a-slot", "claimsIaRef": "CIA-1", "contact": { "name": "Mme Dupont" } });

    // Act: a keyed booking (its handler runs twice: fresh key, then claimed) and a keyed
    // import, each authenticated by the layer and by the handler.
    let (status, _, body) = send(
        &app,
        "POST",
        "/v1/appointments",
        &key,
        Some(booking),
        Some("k1"),
    )
    .await;
    assert_problem(status, &body, 422, "invalid-slot");
    let (status, _, body) = send(
        &app,
        "POST",
        "/admin/v1/imports",
        &token,
        Some(json!({})),
        Some("k1"),
    )
    .await;
    assert_eq!(status, 422, "{body}");

    // Assert: one request of each burst of two is left.
    assert_eq!(search(&app, &key).await.0, 200);
    assert_limited(&search(&app, &key).await);
    assert_eq!(read_firm(&app, &token).await.0, 200);
    assert_limited(&read_firm(&app, &token).await);
}

#[tokio::test]
async fn a_keyed_request_past_the_rate_is_refused_before_its_key_is_claimed() {
    // Arrange
    let app = app_with(limits(1)).await;
    let key = app.api_key().await;
    let booking = json!({ "slotId": "not-a-slot", "claimsIaRef": "CIA-1", "contact": { "name": "Mme Dupont" } });
    assert_eq!(search(&app, &key).await.0, 200);

    // Act
    let refused = send(
        &app,
        "POST",
        "/v1/appointments",
        &key,
        Some(booking.clone()),
        Some("k1"),
    )
    .await;
    app.clock.advance(Duration::from_secs(1));
    let (status, _, body) = send(
        &app,
        "POST",
        "/v1/appointments",
        &key,
        Some(booking),
        Some("k1"),
    )
    .await;

    // Assert: the retry under the same key is answered, not replayed.
    assert_limited(&refused);
    assert_problem(status, &body, 422, "invalid-slot");
}
