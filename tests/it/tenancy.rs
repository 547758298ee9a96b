//! Two firms: one firm's token on the other's expert and absence routes gets 404 and
//! changes nothing.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem, expert_body};

#[tokio::test]
async fn another_firm_gets_404_on_every_expert_and_absence_route_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, token_a) = app.firm("Cabinet A").await;
    let (_, token_b) = app.firm("Cabinet B").await;
    let (_, expert) = app
        .call(
            "POST",
            "/admin/v1/experts",
            &token_a,
            Some(expert_body("J. Martin")),
        )
        .await;
    let expert_path = format!("/admin/v1/experts/{}", expert["id"].as_str().unwrap());
    let absences_path = format!("{expert_path}/absences");
    let absence_body =
        json!({ "start": "2026-12-01T08:00:00+01:00", "end": "2026-12-01T12:00:00+01:00" });
    let (_, absence) = app
        .call("POST", &absences_path, &token_a, Some(absence_body.clone()))
        .await;
    let absence_path = format!("{absences_path}/{}", absence["id"].as_str().unwrap());

    let (_, before_expert) = app.call("GET", &expert_path, &token_a, None).await;
    let (_, before_absences) = app.call("GET", &absences_path, &token_a, None).await;

    let attempts = [
        ("GET", expert_path.clone(), None),
        ("PUT", expert_path.clone(), Some(expert_body("Hijacked"))),
        ("DELETE", expert_path.clone(), None),
        ("GET", absences_path.clone(), None),
        ("POST", absences_path.clone(), Some(absence_body)),
        ("DELETE", absence_path.clone(), None),
    ];
    for (method, path, body) in attempts {
        let (status, problem) = app.call(method, &path, &token_b, body).await;
        assert_problem(status, &problem, 404, "not-found");
    }

    let (_, list_b) = app.call("GET", "/admin/v1/experts", &token_b, None).await;
    assert_eq!(list_b["items"], json!([]));
    let (_, after_expert) = app.call("GET", &expert_path, &token_a, None).await;
    let (_, after_absences) = app.call("GET", &absences_path, &token_a, None).await;
    assert_eq!(after_expert, before_expert);
    assert_eq!(after_absences, before_absences);
    assert_eq!(after_expert["active"], true);
}

#[tokio::test]
async fn another_firm_gets_404_on_appointment_and_calendar_routes_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, token_a) = app.firm("Cabinet A").await;
    let (_, token_b) = app.firm("Cabinet B").await;
    let expert_id = app
        .expert(&token_a, crate::helpers::open_expert("J. Martin"))
        .await;
    let key = app.api_key().await;
    let answer = app
        .search(
            &key,
            crate::helpers::search_body("VISIO", crate::helpers::days_ahead(3), 1),
        )
        .await;
    let (status, booked) = app
        .book(
            &key,
            answer["slots"][0]["slotId"].as_str().unwrap(),
            "CIA-1",
        )
        .await;
    assert_eq!(status, 201);
    let appointment = format!(
        "/admin/v1/appointments/{}",
        booked["appointmentId"].as_str().unwrap()
    );
    let expert = format!("/admin/v1/experts/{expert_id}");

    let attempts = [
        ("GET", appointment.clone(), None),
        (
            "POST",
            format!("{appointment}/cancellation"),
            Some(json!({ "reason": "OTHER" })),
        ),
        ("POST", format!("{appointment}/completion"), None),
        ("GET", format!("{expert}/calendar.ics"), None),
        ("POST", format!("{expert}/calendar-feed"), None),
        ("DELETE", format!("{expert}/calendar-feed"), None),
    ];
    for (method, path, body) in attempts {
        let mut request = app
            .http
            .request(method.parse().unwrap(), app.url(&path))
            .bearer_auth(&token_b);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 404, "{method} {path}");
    }
    let (_, list_b) = app
        .call("GET", "/admin/v1/appointments", &token_b, None)
        .await;
    assert_eq!(list_b["items"], json!([]));
    let (_, after) = app.call("GET", &appointment, &token_a, None).await;
    assert_eq!(after["status"], "CONFIRMED");
    assert_eq!(after["version"], 1);
}
