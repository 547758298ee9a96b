//! Firm admin API: firm profile, experts, absences.

use serde_json::json;

use crate::helpers::{TestApp, assert_problem, expert_body};

#[tokio::test]
async fn a_firm_reads_and_replaces_its_profile() {
    let app = TestApp::spawn().await;
    let (firm_id, token) = app.firm("Cabinet Martin").await;
    let (status, firm) = app.call("GET", "/admin/v1/firm", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(firm["id"], firm_id);
    assert_eq!(firm["name"], "Cabinet Martin");
    assert_eq!(firm["timeZone"], "Europe/Paris");

    let body = json!({ "name": "Cabinet Martin & Fils", "siret": "90432165400017", "timeZone": "America/Martinique" });
    let (status, firm) = app.call("PUT", "/admin/v1/firm", &token, Some(body)).await;
    assert_eq!(status, 200, "{firm}");
    assert_eq!(firm["siret"], "90432165400017");
    assert_eq!(firm["timeZone"], "America/Martinique");

    let bad = json!({ "name": "X", "siret": "90432165400018" });
    let (status, problem) = app.call("PUT", "/admin/v1/firm", &token, Some(bad)).await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/siret");
}

#[tokio::test]
async fn an_expert_is_created_read_replaced_and_deactivated() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;

    let response = app
        .http
        .post(app.url("/admin/v1/experts"))
        .bearer_auth(&token)
        .json(&expert_body("J. Martin"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: serde_json::Value = response.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(location, format!("/admin/v1/experts/{id}"));
    assert_eq!(created["active"], true);
    assert_eq!(created["durationsMinutes"]["ESS"], 90);
    assert_eq!(created["weeklyHours"]["MON"][1], json!(["13:30", "18:00"]));
    assert_eq!(created["weeklyHours"]["TUE"], json!([]));

    let (status, fetched) = app.call("GET", &location, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(fetched, created);

    // A GET body can be sent back as is (its own id included) to replace the expert.
    let mut replacement = expert_body("P. Durand");
    replacement["id"] = json!(id);
    let (status, replaced) = app.call("PUT", &location, &token, Some(replacement)).await;
    assert_eq!(status, 200, "{replaced}");
    assert_eq!(replaced["displayName"], "P. Durand");

    let mut foreign_id = expert_body("P. Durand");
    foreign_id["id"] = json!("another");
    let (status, problem) = app.call("PUT", &location, &token, Some(foreign_id)).await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/id");

    let (status, _) = app.call("DELETE", &location, &token, None).await;
    assert_eq!(status, 204);
    let (_, after) = app.call("GET", &location, &token, None).await;
    assert_eq!(after["active"], false);
}

#[tokio::test]
async fn cross_field_rules_answer_422_with_a_pointer() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let mut body = expert_body("J. Martin");
    body.as_object_mut().unwrap().remove("base");
    let (status, problem) = app
        .call("POST", "/admin/v1/experts", &token, Some(body))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/base");

    let mut body = expert_body("J. Martin");
    body["weeklyHours"] = json!({ "MON": [["13:00", "18:00"], ["08:00", "14:00"]] });
    let (status, problem) = app
        .call("POST", "/admin/v1/experts", &token, Some(body))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert!(
        problem["errors"][0]["pointer"]
            .as_str()
            .unwrap()
            .starts_with("/weeklyHours")
    );
}

#[tokio::test]
async fn experts_are_listed_page_by_page() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    for i in 0..3 {
        let (status, _) = app
            .call(
                "POST",
                "/admin/v1/experts",
                &token,
                Some(expert_body(&format!("E{i}"))),
            )
            .await;
        assert_eq!(status, 201);
    }
    let (status, first) = app
        .call("GET", "/admin/v1/experts?limit=2", &token, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["nextCursor"].as_str().unwrap();
    let (_, second) = app
        .call(
            "GET",
            &format!("/admin/v1/experts?limit=2&cursor={cursor}"),
            &token,
            None,
        )
        .await;
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["items"][0]["displayName"], "E2");
    assert!(second["nextCursor"].is_null());

    let (status, problem) = app
        .call("GET", "/admin/v1/experts?limit=501", &token, None)
        .await;
    assert_problem(status, &problem, 400, "invalid-query");
    let (status, problem) = app
        .call("GET", "/admin/v1/experts?cursor=%%%", &token, None)
        .await;
    assert_eq!(status, 400, "{problem}");
}

#[tokio::test]
async fn absences_are_created_listed_in_the_expert_time_zone_and_deleted() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let (_, expert) = app
        .call(
            "POST",
            "/admin/v1/experts",
            &token,
            Some(expert_body("J. Martin")),
        )
        .await;
    let path = format!(
        "/admin/v1/experts/{}/absences",
        expert["id"].as_str().unwrap()
    );

    let body = json!({ "start": "2026-12-01T07:00:00Z", "end": "2026-12-01T16:00:00Z", "reason": "formation" });
    let (status, absence) = app.call("POST", &path, &token, Some(body)).await;
    assert_eq!(status, 201, "{absence}");
    assert_eq!(absence["start"], "2026-12-01T08:00:00+01:00");
    assert_eq!(absence["end"], "2026-12-01T17:00:00+01:00");

    let summer =
        json!({ "start": "2027-07-01T08:00:00+02:00", "end": "2027-07-01T09:00:00+02:00" });
    let (_, summer) = app.call("POST", &path, &token, Some(summer)).await;
    assert_eq!(summer["start"], "2027-07-01T08:00:00+02:00");

    let (_, list) = app.call("GET", &path, &token, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);

    let backwards = json!({ "start": "2026-12-02T10:00:00Z", "end": "2026-12-02T09:00:00Z" });
    let (status, problem) = app.call("POST", &path, &token, Some(backwards)).await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/end");

    let one = format!("{path}/{}", absence["id"].as_str().unwrap());
    let (status, _) = app.call("DELETE", &one, &token, None).await;
    assert_eq!(status, 204);
    let (status, problem) = app.call("DELETE", &one, &token, None).await;
    assert_problem(status, &problem, 404, "not-found");
    let (_, list) = app.call("GET", &path, &token, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_absence_over_booked_time_is_409_listing_them_unless_forced() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let expert_id = app
        .expert(&token, crate::helpers::open_expert("J. Martin"))
        .await;
    let key = app.api_key().await;
    let from = crate::helpers::days_ahead(3);
    let answer = app
        .search(&key, crate::helpers::search_body("VISIO", from, 1))
        .await;
    let slot = &answer["slots"][0];
    let (status, booked) = app
        .book(&key, slot["slotId"].as_str().unwrap(), "CIA-1")
        .await;
    assert_eq!(status, 201, "{booked}");

    let path = format!("/admin/v1/experts/{expert_id}/absences");
    let body = json!({ "start": from.to_rfc3339(), "end": (from + chrono::Duration::days(1)).to_rfc3339() });
    let (status, problem) = app.call("POST", &path, &token, Some(body.clone())).await;
    assert_problem(status, &problem, 409, "absence-over-appointments");
    assert_eq!(problem["appointmentIds"], json!([booked["appointmentId"]]));
    let (_, list) = app.call("GET", &path, &token, None).await;
    assert_eq!(list["items"], json!([]), "nothing recorded on conflict");

    let (status, absence) = app
        .call("POST", &format!("{path}?force=true"), &token, Some(body))
        .await;
    assert_eq!(status, 201, "{absence}");
    let appointment = format!(
        "/admin/v1/appointments/{}",
        booked["appointmentId"].as_str().unwrap()
    );
    let (status, cancelled) = app.call("GET", &appointment, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["cancellation"]["reason"], "EXPERT_UNAVAILABLE");
    assert_eq!(cancelled["cancellation"]["by"], "FIRM");
    let again = app
        .search(&key, crate::helpers::search_body("VISIO", from, 1))
        .await;
    assert_eq!(
        again["slots"],
        json!([]),
        "the absence blocks the whole day"
    );
}

#[tokio::test]
async fn a_firm_lists_its_appointments_by_expert_period_and_status() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let (_, other_token) = app.firm("Other").await;
    let first = app
        .expert(&token, crate::helpers::open_expert("J. Martin"))
        .await;
    let second = app
        .expert(&token, crate::helpers::open_expert("P. Durand"))
        .await;
    let key = app.api_key().await;
    let from = crate::helpers::days_ahead(3);
    let booked = book_visio_slots(&app, &key, from, 4).await;
    let (_, all) = app
        .call("GET", "/admin/v1/appointments?limit=3", &token, None)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 3);
    let cursor = all["nextCursor"].as_str().unwrap();
    let (_, rest) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments?limit=3&cursor={cursor}"),
            &token,
            None,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    let starts: Vec<&str> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["items"].as_array().unwrap())
        .map(|a| a["start"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted);

    for expert in [&first, &second] {
        let (_, mine) = app
            .call(
                "GET",
                &format!("/admin/v1/appointments?expertId={expert}"),
                &token,
                None,
            )
            .await;
        assert!(
            mine["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["expert"]["id"] == **expert)
        );
    }
    let later = urlencode(&(from + chrono::Duration::days(30)).to_rfc3339());
    let (_, none) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments?from={later}"),
            &token,
            None,
        )
        .await;
    assert_eq!(none["items"], json!([]));
    let (_, cancelled) = app
        .call(
            "GET",
            "/admin/v1/appointments?status=CANCELLED",
            &token,
            None,
        )
        .await;
    assert_eq!(cancelled["items"], json!([]));
    let (_, foreign) = app
        .call("GET", "/admin/v1/appointments", &other_token, None)
        .await;
    assert_eq!(foreign["items"], json!([]));
    let id = booked[0]["appointmentId"].as_str().unwrap();
    let (status, _) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}"),
            &other_token,
            None,
        )
        .await;
    assert_eq!(status, 404);
}

async fn book_visio_slots(
    app: &TestApp,
    key: &str,
    from: chrono::DateTime<chrono::Utc>,
    n: usize,
) -> Vec<serde_json::Value> {
    let answer = app
        .search(key, crate::helpers::search_body("VISIO", from, 2))
        .await;
    let mut booked = Vec::new();
    for (i, slot) in answer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .enumerate()
    {
        let (status, appointment) = app
            .book(key, slot["slotId"].as_str().unwrap(), &format!("CIA-{i}"))
            .await;
        assert_eq!(status, 201, "{appointment}");
        booked.push(appointment);
    }
    booked
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
