//! Firm token exchange and its throttle; bearer token checks.

use serde_json::Value;

use crate::helpers::{TestApp, assert_problem, days_ahead, open_expert, search_body};

async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    token_request_from(app, &app.http, form).await
}

/// A token request sent with `http` (bound to a given loopback address, say).
async fn token_request_from(
    app: &TestApp,
    http: &reqwest::Client,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = http
        .post(app.url("/admin/v1/token"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn client_credentials_are_exchanged_for_a_short_lived_bearer_token() {
    let app = TestApp::spawn().await;
    let profile = creneau::domain::firm::FirmProfile::from_stored(
        "A".into(),
        "73282932000074",
        "Europe/Paris",
    )
    .unwrap();
    let firm = app.store.create_firm(&profile).await.unwrap();
    let (client_id, secret) = creneau::cli::firm_credentials(app.store.as_ref(), &firm.id)
        .await
        .unwrap();

    let (status, headers, body) = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &client_id),
            ("client_secret", &secret),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_u64().unwrap() <= 3600);
    assert_eq!(headers["cache-control"], "no-store");
    let token = body["access_token"].as_str().unwrap();
    let (status, firm_view) = app.call("GET", "/admin/v1/firm", token, None).await;
    assert_eq!(status, 200);
    assert_eq!(firm_view["id"], firm.id);
}

#[tokio::test]
async fn a_wrong_secret_is_401_and_repeated_failures_are_throttled() {
    let app = TestApp::spawn().await;
    let profile = creneau::domain::firm::FirmProfile::from_stored(
        "A".into(),
        "73282932000074",
        "Europe/Paris",
    )
    .unwrap();
    let firm = app.store.create_firm(&profile).await.unwrap();
    let (client_id, secret) = creneau::cli::firm_credentials(app.store.as_ref(), &firm.id)
        .await
        .unwrap();
    let bad = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", "wrong"),
    ];
    for _ in 0..5 {
        let (status, headers, body) = token_request(&app, &bad).await;
        assert_problem(status, &body, 401, "unauthorized");
        assert!(headers.contains_key("www-authenticate"));
    }
    // Locked out now, even with the right secret.
    let good = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let (status, headers, body) = token_request(&app, &good).await;
    assert_problem(status, &body, 429, "too-many-requests");
    assert!(
        headers["retry-after"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 0
    );
}

#[tokio::test]
async fn an_unknown_client_or_grant_type_is_refused() {
    let app = TestApp::spawn().await;
    let (status, _, body) = token_request(
        &app,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "firm_nope"),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_problem(status, &body, 401, "unauthorized");
    let (status, _, body) = token_request(
        &app,
        &[
            ("grant_type", "password"),
            ("client_id", "firm_nope"),
            ("client_secret", "x"),
        ],
    )
    .await;
    assert_problem(status, &body, 400, "malformed-body");
    let response = app
        .http
        .post(app.url("/admin/v1/token"))
        .json(&serde_json::json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
}

#[tokio::test]
async fn forged_and_malformed_bearer_tokens_are_401() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let mut forged = token.clone();
    forged.pop();
    forged.push('x');
    for credential in [forged.as_str(), "not-a-jwt", ""] {
        let (status, body) = app.call("GET", "/admin/v1/firm", credential, None).await;
        assert_problem(status, &body, 401, "unauthorized");
    }
    let response = app
        .http
        .get(app.url("/admin/v1/firm"))
        .header("authorization", format!("Basic {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(
        response.headers()["www-authenticate"],
        "Bearer realm=\"creneau\""
    );
}

/// A client whose requests come from another loopback address.
fn client_from(last_octet: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last_octet]))
        .build()
        .unwrap()
}

#[tokio::test]
async fn bad_secrets_from_one_address_do_not_lock_the_firm_out_elsewhere() {
    let app = TestApp::spawn().await;
    let (_, client_id, secret) = app.firm_credentials("A").await;
    let attacker = client_from(2);
    let bad = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", "wrong"),
    ];
    for _ in 0..5 {
        let (status, _, body) = token_request_from(&app, &attacker, &bad).await;
        assert_problem(status, &body, 401, "unauthorized");
    }
    let good = [
        ("grant_type", "client_credentials"),
        ("client_id", client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let (status, _, body) = token_request_from(&app, &attacker, &good).await;
    assert_problem(status, &body, 429, "too-many-requests");
    let (status, _, body) = token_request(&app, &good).await;
    assert_eq!(status, 200, "the firm itself is not locked out: {body}");
}

#[tokio::test]
async fn unknown_client_ids_are_refused_and_throttled_per_address() {
    let app = TestApp::spawn().await;
    let prober = client_from(3);
    for i in 0..30 {
        let id = format!("firm_{i:016x}");
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", "guess"),
        ];
        let (status, _, body) = token_request_from(&app, &prober, &form).await;
        assert_problem(status, &body, 401, "unauthorized");
    }
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "firm_ffffffffffffffff"),
        ("client_secret", "guess"),
    ];
    let (status, headers, body) = token_request_from(&app, &prober, &form).await;
    assert_problem(status, &body, 429, "too-many-requests");
    assert!(headers.contains_key("retry-after"));
    let (status, _, body) = token_request(&app, &form).await;
    assert_problem(status, &body, 401, "unauthorized");
}

#[tokio::test]
async fn a_revoked_credential_or_a_removed_firm_loses_its_tokens_at_once() {
    let app = TestApp::spawn_on_manual_clock().await;
    let (firm_id, client_id, secret) = app.firm_credentials("A").await;
    let store = app.store.as_ref();
    let token = app.token(&client_id, &secret).await;
    assert_eq!(app.call("GET", "/admin/v1/firm", &token, None).await.0, 200);
    creneau::cli::revoke_credential(store, &client_id)
        .await
        .unwrap();
    let (status, body) = app.call("GET", "/admin/v1/firm", &token, None).await;
    assert_problem(status, &body, 401, "unauthorized");

    let (client_id, secret) = creneau::cli::firm_credentials(store, &firm_id)
        .await
        .unwrap();
    let token = app.token(&client_id, &secret).await;
    let expert = app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let search = search_body("VISIO", days_ahead(3), 1);
    assert_eq!(app.search(&key, search.clone()).await["eligibleExperts"], 1);
    let removed = creneau::cli::remove_firm(store, &firm_id).await.unwrap();
    assert_eq!(removed, (1, 1));
    let absence = serde_json::json!({
        "start": "2030-01-07T08:00:00Z", "end": "2030-01-07T17:00:00Z"
    });
    let path = format!("/admin/v1/experts/{expert}/absences");
    let (status, body) = app.call("POST", &path, &token, Some(absence)).await;
    assert_problem(status, &body, 401, "unauthorized");
    // Other instances' catalogues, like this one's for a change made outside it, follow
    // within the directory's delay.
    app.clock.advance(std::time::Duration::from_millis(1100));
    assert_eq!(app.search(&key, search).await["eligibleExperts"], 0);
}
