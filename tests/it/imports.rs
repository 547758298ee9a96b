//! Bulk onboarding: experts' `externalRef`, imports of experts and absences, CSV export.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem, open_expert};

#[tokio::test]
async fn an_external_ref_is_unique_in_its_firm_and_finds_its_expert() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let (_, other) = app.firm("Autre").await;
    let mut body = open_expert("J. Martin");
    body["externalRef"] = json!("XT5678");
    let id = app.expert(&token, body.clone()).await;
    let (status, problem) = app
        .call("POST", "/admin/v1/experts", &token, Some(body.clone()))
        .await;
    assert_problem(status, &problem, 409, "external-ref-taken");
    // Another firm may use the same reference.
    app.expert(&other, body.clone()).await;
    let (status, page) = app
        .call("GET", "/admin/v1/experts?externalRef=XT5678", &token, None)
        .await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["externalRef"], "XT5678");
    let (_, none) = app
        .call("GET", "/admin/v1/experts?externalRef=NOPE", &token, None)
        .await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // Replacing another expert with a taken reference is refused too.
    let second = app.expert(&token, open_expert("P. Durand")).await;
    let (status, problem) = app
        .call(
            "PUT",
            &format!("/admin/v1/experts/{second}"),
            &token,
            Some(body.clone()),
        )
        .await;
    assert_problem(status, &problem, 409, "external-ref-taken");
    for bad in ["", "a b", "x/y", &"A".repeat(41)] {
        body["externalRef"] = json!(bad);
        let (status, problem) = app
            .call("POST", "/admin/v1/experts", &token, Some(body.clone()))
            .await;
        assert_problem(status, &problem, 422, "validation-failed");
        assert_eq!(problem["errors"][0]["pointer"], "/externalRef", "{bad:?}");
    }
}
