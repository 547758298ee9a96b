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
