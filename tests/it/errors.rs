//! Every kind of bad input gets the documented problem document.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, expert_body};

async fn send(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "status {status}"
    );
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn malformed_json_is_400() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let request = app
        .http
        .post(app.url("/admin/v1/experts"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"displayName\": ");
    let (status, _, body) = send(request).await;
    assert_problem(status, &body, 400, "malformed-body");
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let request = app
        .http
        .post(app.url("/admin/v1/experts"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body(expert_body("J. Martin").to_string());
    let (status, _, body) = send(request).await;
    assert_problem(status, &body, 415, "unsupported-media-type");
}

#[tokio::test]
async fn unknown_and_invalid_fields_are_422_with_pointers() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let mut body = expert_body("J. Martin");
    body["skills"]["maxStakes"] = json!(1);
    let (status, _, problem) = send(
        app.http
            .post(app.url("/admin/v1/experts"))
            .bearer_auth(&token)
            .json(&body),
    )
    .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/skills/maxStakes");

    let mut body = expert_body("J. Martin");
    body["zone"]["departments"] = json!(["75", "20"]);
    let (status, _, problem) = send(
        app.http
            .post(app.url("/admin/v1/experts"))
            .bearer_auth(&token)
            .json(&body),
    )
    .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/zone/departments/1");
    assert!(!problem["errors"][0]["detail"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn an_unknown_route_is_404_and_a_wrong_method_is_405() {
    let app = TestApp::spawn().await;
    let (status, _, body) = send(app.http.get(app.url("/nowhere"))).await;
    assert_problem(status, &body, 404, "not-found");
    let (status, headers, body) = send(app.http.delete(app.url("/admin/v1/firm"))).await;
    assert_problem(status, &body, 405, "method-not-allowed");
    assert!(headers["allow"].to_str().unwrap().contains("GET"));
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let mut body = expert_body("J. Martin");
    body["padding"] = json!("x".repeat(1024 * 1024 + 1));
    let (status, _, problem) = send(
        app.http
            .post(app.url("/admin/v1/experts"))
            .bearer_auth(&token)
            .json(&body),
    )
    .await;
    assert_problem(status, &problem, 413, "payload-too-large");
}

#[tokio::test]
async fn an_internal_error_is_a_generic_500_that_reveals_nothing() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let (_, expert) = app
        .call(
            "POST",
            "/admin/v1/experts",
            &token,
            Some(expert_body("J. Martin")),
        )
        .await;
    // Break the database under the running server.
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&creneau_url(&app.db.url))
        .await
        .unwrap();
    sqlx::Executor::execute(&mut conn, "ALTER TABLE absences RENAME TO absences_gone")
        .await
        .unwrap();

    let path = format!(
        "/admin/v1/experts/{}/absences",
        expert["id"].as_str().unwrap()
    );
    let (status, _, body) = send(app.http.get(app.url(&path)).bearer_auth(&token)).await;
    assert_problem(status, &body, 500, "internal");
    assert_eq!(body["detail"], "internal error");
    let text = body.to_string();
    assert!(
        !text.contains("absences") && !text.to_lowercase().contains("sql"),
        "{text}"
    );
}

fn creneau_url(url: &str) -> String {
    if url.starts_with("sqlite:") {
        format!("{url}?mode=rw")
    } else {
        url.to_owned()
    }
}

#[tokio::test]
async fn a_nul_character_in_an_id_or_a_client_id_is_not_found_never_a_500() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("A").await;
    let key = app.api_key().await;
    for (path, credential) in [
        ("/v1/appointments/%00", &key),
        ("/v1/appointments?claimsIaRef=%00", &key),
        ("/v1/appointments/%00/dossier", &key),
        ("/admin/v1/experts/%00", &token),
        ("/admin/v1/appointments/%00", &token),
    ] {
        let (status, body) = app.call("GET", path, credential, None).await;
        assert!(matches!(status, 200 | 404), "{path}: {status} {body}");
        if status == 200 {
            assert_eq!(body["items"], json!([]), "{path}: {body}");
        }
    }
    let response = app
        .http
        .post(app.url("/admin/v1/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "\0"),
            ("client_secret", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
}

#[tokio::test]
async fn a_long_or_odd_request_id_is_replaced_not_echoed() {
    let app = TestApp::spawn().await;
    let kept = app
        .http
        .get(app.url("/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.headers()["x-request-id"], "abc-123");
    for odd in ["x".repeat(5000), "a b".to_owned(), "<script>".to_owned()] {
        let response = app
            .http
            .get(app.url("/healthz"))
            .header("x-request-id", odd.as_str())
            .send()
            .await
            .unwrap();
        let id = response.headers()["x-request-id"].to_str().unwrap();
        assert_ne!(id, odd);
        assert!(id.len() <= 64, "{id}");
    }
}

#[tokio::test]
async fn a_search_a_move_or_an_absence_past_the_horizon_is_422() {
    let app = TestApp::spawn().await;
    let key = app.api_key().await;
    let far = json!({
        "insurer": "AXA", "insuredType": "PARTICULIER", "claimType": "DDE",
        "expertiseType": "VISIO", "stake": { "total": 1000 },
        "from": "9999-12-31T00:00:00+01:00"
    });
    let (status, body) = app.call("POST", "/v1/slot-searches", &key, Some(far)).await;
    assert_problem(status, &body, 422, "validation-failed");
    assert_eq!(body["errors"][0]["pointer"], "/from", "{body}");

    let (_, token) = app.firm("A").await;
    let expert = app
        .expert(&token, crate::helpers::open_expert("J. Martin"))
        .await;
    let start = crate::helpers::days_ahead(3) + chrono::Duration::hours(9);
    let slot = crate::concurrency::offer(&app, &key, &expert, start, 60).await;
    let (status, booked) = app.book(&key, &slot, "CIA-FAR-1").await;
    assert_eq!(status, 201, "{booked}");
    let id = booked["appointmentId"].as_str().unwrap();
    let (status, body) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{id}/reschedule"),
            &token,
            Some(json!({ "start": "9999-12-31T09:00:00+01:00" })),
        )
        .await;
    assert_problem(status, &body, 422, "validation-failed");
    assert_eq!(body["errors"][0]["pointer"], "/start", "{body}");

    let absence = json!({ "start": "9999-12-30T08:00:00Z", "end": "9999-12-31T17:00:00Z" });
    let path = format!("/admin/v1/experts/{expert}/absences");
    let (status, body) = app.call("POST", &path, &token, Some(absence)).await;
    assert_problem(status, &body, 422, "validation-failed");
    assert_eq!(body["errors"][0]["pointer"], "/end", "{body}");
}
