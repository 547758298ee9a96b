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
