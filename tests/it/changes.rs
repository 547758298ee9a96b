//! Changes after booking: cancel, reschedule, patch; firm cancellation and completion.

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, days_ahead, open_expert, search_body};

/// A firm with one open expert, a client key, and one booked VISIO appointment.
async fn booked(app: &TestApp) -> (String, String, Value, Value) {
    booked_as(app, "CIA-1").await
}

/// [`booked`], for the claim `reference`: (firm token, key, search answer, appointment).
pub async fn booked_as(app: &TestApp, reference: &str) -> (String, String, Value, Value) {
    let (_, token) = app.firm("Cabinet").await;
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(3), 3))
        .await;
    let (status, appointment) = app
        .book(
            &key,
            answer["slots"][0]["slotId"].as_str().unwrap(),
            reference,
        )
        .await;
    assert_eq!(status, 201, "{appointment}");
    (token, key, answer, appointment)
}

fn path(appointment: &Value) -> String {
    format!(
        "/v1/appointments/{}",
        appointment["appointmentId"].as_str().unwrap()
    )
}

#[tokio::test]
async fn a_cancellation_frees_the_time_and_repeats_the_same_answer() {
    let app = TestApp::spawn().await;
    let (_, key, answer, appointment) = booked(&app).await;
    let cancel = format!("{}/cancellation", path(&appointment));
    let body = json!({ "reason": "INSURED_REQUEST", "comment": "sinistre clos" });
    let (status, cancelled) = app.call("POST", &cancel, &key, Some(body.clone())).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["version"], 2);
    assert_eq!(cancelled["cancellation"]["by"], "CLAIMS_IA");
    let (status, again) = app.call("POST", &cancel, &key, Some(body)).await;
    assert_eq!(status, 200);
    assert_eq!(again, cancelled);
    // The same offer can be booked again for another claim: the time is free.
    let (status, rebooked) = app
        .book(
            &key,
            answer["slots"][0]["slotId"].as_str().unwrap(),
            "CIA-2",
        )
        .await;
    assert_eq!(status, 201, "{rebooked}");
    let (status, problem) = app
        .call("POST", &cancel, &key, Some(json!({ "reason": "WHATEVER" })))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
}

#[tokio::test]
async fn a_reschedule_keeps_the_id_and_an_unavailable_slot_leaves_it_untouched() {
    let app = TestApp::spawn().await;
    let (_, key, answer, appointment) = booked(&app).await;
    let reschedule = format!("{}/reschedule", path(&appointment));
    let second = answer["slots"][1]["slotId"].as_str().unwrap();
    let (status, moved) = app
        .call("POST", &reschedule, &key, Some(json!({ "slotId": second })))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["appointmentId"], appointment["appointmentId"]);
    assert_eq!(moved["version"], 2);
    assert_eq!(moved["start"], answer["slots"][1]["start"]);

    // Someone books the third slot; moving onto it is 409 and changes nothing.
    let third = answer["slots"][2]["slotId"].as_str().unwrap();
    let (status, _) = app.book(&key, third, "CIA-OTHER").await;
    assert_eq!(status, 201);
    let (status, problem) = app
        .call("POST", &reschedule, &key, Some(json!({ "slotId": third })))
        .await;
    assert_problem(status, &problem, 409, "slot-unavailable");
    let (_, after) = app.call("GET", &path(&appointment), &key, None).await;
    assert_eq!(after, moved);
}

#[tokio::test]
async fn moving_within_its_own_time_is_allowed() {
    let app = TestApp::spawn().await;
    let (_, key, answer, appointment) = booked(&app).await;
    // The first slot again: the appointment does not block itself.
    let first = answer["slots"][0]["slotId"].as_str().unwrap();
    let (status, moved) = app
        .call(
            "POST",
            &format!("{}/reschedule", path(&appointment)),
            &key,
            Some(json!({ "slotId": first })),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["version"], 2);
}

#[tokio::test]
async fn a_patch_merges_details_and_honours_if_match() {
    let app = TestApp::spawn().await;
    let (_, key, _, appointment) = booked(&app).await;
    let url = app.url(&path(&appointment));
    let send = |body: Value, if_match: Option<&'static str>| {
        let mut request = app
            .http
            .patch(&url)
            .bearer_auth(&key)
            .header("content-type", "application/merge-patch+json")
            .body(body.to_string());
        if let Some(tag) = if_match {
            request = request.header("if-match", tag);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let etag = response
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_owned());
            (status, etag, response.json::<Value>().await.unwrap())
        }
    };
    let (status, etag, patched) = send(
        json!({ "comment": "Code 4321", "contact": { "phone": "+33611111111" }, "claimRef": "SIN-2" }),
        Some("\"1\""),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(etag.as_deref(), Some("\"2\""));
    assert_eq!(patched["comment"], "Code 4321");
    assert_eq!(
        patched["contact"],
        json!({ "name": "Mme Dupont", "phone": "+33611111111" })
    );
    assert_eq!(patched["claimRef"], "SIN-2");

    let (status, _, problem) = send(json!({ "comment": "stale" }), Some("\"1\"")).await;
    assert_problem(status, &problem, 412, "precondition-failed");
    let (status, _, problem) = send(json!({ "start": "2030-01-01T00:00:00Z" }), None).await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/start");
    let (status, _, removed) = send(json!({ "comment": null }), None).await;
    assert_eq!(status, 200);
    assert!(removed.get("comment").is_none());
    assert_eq!(removed["version"], 3);
}

#[tokio::test]
async fn a_firm_cancels_or_completes_and_a_completed_appointment_cannot_be_cancelled() {
    let app = TestApp::spawn_on_manual_clock().await;
    let (_, client_id, secret) = app.firm_credentials("Cabinet").await;
    let token = app.token(&client_id, &secret).await;
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(3), 3))
        .await;
    let mut booked = Vec::new();
    for (i, reference) in ["CIA-1", "CIA-2"].into_iter().enumerate() {
        let slot = answer["slots"][i]["slotId"].as_str().unwrap();
        let (status, appointment) = app.book(&key, slot, reference).await;
        assert_eq!(status, 201, "{appointment}");
        booked.push(appointment);
    }
    let (appointment, second) = (&booked[0], &booked[1]);
    let id = appointment["appointmentId"].as_str().unwrap();
    let completion = format!("/admin/v1/appointments/{id}/completion");
    let (status, problem) = app.call("POST", &completion, &token, None).await;
    assert_problem(status, &problem, 409, "appointment-not-started");

    // A week later (with a token of that day), it has taken place.
    app.clock
        .advance(std::time::Duration::from_secs(7 * 86_400));
    let token = app.token(&client_id, &secret).await;
    let (status, done) = app.call("POST", &completion, &token, None).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["status"], "COMPLETED");
    let (status, problem) = app
        .call(
            "POST",
            &format!("{}/cancellation", path(appointment)),
            &key,
            Some(json!({ "reason": "OTHER" })),
        )
        .await;
    assert_problem(status, &problem, 409, "appointment-not-active");

    let second_id = second["appointmentId"].as_str().unwrap();
    let (status, cancelled) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{second_id}/cancellation"),
            &token,
            Some(json!({ "reason": "EXPERT_UNAVAILABLE" })),
        )
        .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["cancellation"]["by"], "FIRM");
    let (_, other_token) = app.firm("Other").await;
    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{second_id}/completion"),
            &other_token,
            None,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_cancellation_with_an_idempotency_key_is_replayed() {
    let app = TestApp::spawn().await;
    let (_, key, _, appointment) = booked(&app).await;
    let url = app.url(&format!("{}/cancellation", path(&appointment)));
    let send = || async {
        let response = app
            .http
            .post(&url)
            .bearer_auth(&key)
            .header("idempotency-key", "cancel-1")
            .json(&json!({ "reason": "DUPLICATE" }))
            .send()
            .await
            .unwrap();
        let replayed = response.headers().contains_key("idempotent-replayed");
        (
            response.status().as_u16(),
            replayed,
            response.text().await.unwrap(),
        )
    };
    let first = send().await;
    let second = send().await;
    assert_eq!((first.0, first.1), (200, false));
    assert_eq!((second.0, second.1), (200, true));
    assert_eq!(first.2, second.2);
}
