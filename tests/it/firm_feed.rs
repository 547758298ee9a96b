//! The firm's own event feed: what Claims IA did to its appointments, written in the
//! transaction of each change, and nothing the firm did itself.

use serde_json::{Value, json};

use crate::helpers::{TestApp, days_ahead, open_expert, search_body};

/// The firm's events, each as its type and appointment.
async fn feed(app: &TestApp, token: &str) -> Vec<(String, Value)> {
    let (items, _) = events_after(app, token, None).await;
    items
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_owned(),
                e["appointmentId"].clone(),
            )
        })
        .collect()
}

/// The firm's events after the cursor `after`, and the next cursor.
async fn events_after(
    app: &TestApp,
    token: &str,
    after: Option<&str>,
) -> (Vec<Value>, Option<String>) {
    let path = after.map_or_else(
        || "/admin/v1/events".to_owned(),
        |a| format!("/admin/v1/events?after={a}"),
    );
    let (status, page) = app.call("GET", &path, token, None).await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap().clone();
    (items, page["nextCursor"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn what_claims_ia_does_is_in_the_firm_feed_in_order_and_what_the_firm_does_is_not() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(3), 3))
        .await;
    let book = |i: usize, reference: &'static str| {
        app.book(
            &key,
            answer["slots"][i]["slotId"].as_str().unwrap(),
            reference,
        )
    };
    let (status, first) = book(0, "CIA-DOC-1").await;
    assert_eq!(status, 201, "{first}");
    let id = first["appointmentId"].as_str().unwrap();
    let path = format!("/v1/appointments/{id}");
    let comment = json!({ "comment": "digicode 1234" });
    assert_eq!(patch(&app, &key, id, comment).await, 200);
    let (status, _) = crate::documents::put(&app, &key, id, crate::documents::dossier(&[])).await;
    assert_eq!(status, 201, "the first dossier is created");
    let (status, _) =
        crate::documents::upload(&app, &key, id, "photo.png", crate::documents::png()).await;
    assert_eq!(status, 201);
    let slot = answer["slots"][1]["slotId"].as_str().unwrap();
    let (status, moved) = app
        .call(
            "POST",
            &format!("{path}/reschedule"),
            &key,
            Some(json!({ "slotId": slot })),
        )
        .await;
    assert_eq!(status, 200, "{moved}");
    let (status, _) = app
        .call(
            "POST",
            &format!("{path}/cancellation"),
            &key,
            Some(json!({ "reason": "INSURED_REQUEST" })),
        )
        .await;
    assert_eq!(status, 200);
    // The firm's own cancellation of a second appointment is not in its feed.
    let (_, second) = book(2, "CIA-2").await;
    let second_id = second["appointmentId"].as_str().unwrap();
    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{second_id}/cancellation"),
            &token,
            Some(json!({ "reason": "EXPERT_UNAVAILABLE" })),
        )
        .await;
    assert_eq!(status, 200);
    let events = feed(&app, &token).await;
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        vec![
            "appointment.booked",
            "appointment.updated",
            "dossier.updated",
            "attachment.stored",
            "appointment.rescheduled",
            "appointment.cancelled",
            "appointment.booked",
        ]
    );
    assert!(events[..6].iter().all(|(_, a)| a == id));
    assert_eq!(events[6].1, second_id);
    let (_, other) = app.firm("Autre").await;
    assert!(feed(&app, &other).await.is_empty());
}

/// Another writer holds a firm event uncommitted; a reader following the cursor while it
/// is open, then after it commits, sees every event exactly once.
#[tokio::test]
async fn a_firm_event_committed_late_is_never_skipped() {
    use sqlx::Executor;
    let app = TestApp::spawn().await;
    let (firm_id, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    let ids = crate::events::book_many(&app, &token, &key, 1, 2).await;
    let (booked, mut cursor) = page(&app, &token, None).await;
    assert_eq!(booked.len(), 2, "each booking is an event of the firm");
    let mut slow = crate::events::writer_held_open(&app).await;
    let insert = format!(
        "INSERT INTO firm_event_queue (firm_id, type, appointment_id, data, occurred_at) \
         VALUES ('{firm_id}', 'appointment.updated', '{}', '{{}}', 0)",
        ids[0]
    );
    slow.execute(sqlx::AssertSqlSafe(insert)).await.unwrap();
    let http = app.http.clone();
    let cancel_url = app.url(&format!("/v1/appointments/{}/cancellation", ids[1]));
    let cancel = tokio::spawn(async move {
        http.post(cancel_url)
            .bearer_auth(key)
            .json(&json!({ "reason": "INSURED_REQUEST" }))
            .send()
            .await
            .unwrap()
            .status()
    });
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    // While the writer is open: the cancellation, if it could commit (PostgreSQL), but
    // never the uncommitted event.
    let (early, next) = page(&app, &token, cursor.as_deref()).await;
    assert!(early.iter().all(|a| *a == json!(ids[1])), "{early:?}");
    cursor = next.or(cursor);
    slow.execute("COMMIT").await.unwrap();
    assert_eq!(cancel.await.unwrap(), 200);
    let (late, _) = page(&app, &token, cursor.as_deref()).await;
    let mut seen: Vec<Value> = early.into_iter().chain(late).collect();
    seen.sort_by_key(ToString::to_string);
    let mut expected = vec![json!(ids[0]), json!(ids[1])];
    expected.sort_by_key(ToString::to_string);
    assert_eq!(seen, expected, "each event once, none skipped");
}

/// The appointment ids of the firm's events after `after`, and the next cursor.
async fn page(app: &TestApp, token: &str, after: Option<&str>) -> (Vec<Value>, Option<String>) {
    let (items, next) = events_after(app, token, after).await;
    (
        items.iter().map(|e| e["appointmentId"].clone()).collect(),
        next,
    )
}

/// A Claims IA merge patch of an appointment; its status.
async fn patch(app: &TestApp, key: &str, id: &str, body: Value) -> u16 {
    app.http
        .patch(app.url(&format!("/v1/appointments/{id}")))
        .bearer_auth(key)
        .header("content-type", "application/merge-patch+json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The changes of an appointment since validation, with their `ETag`.
async fn read_changes(app: &TestApp, token: &str, id: &str) -> (String, Value) {
    let response = app
        .http
        .get(app.url(&format!("/admin/v1/appointments/{id}/changes")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    (etag, response.json().await.unwrap())
}

/// Validates an appointment's changes with `If-Match`; the status.
async fn validate(app: &TestApp, token: &str, id: &str, etag: &str) -> u16 {
    app.http
        .post(app.url(&format!("/admin/v1/appointments/{id}/validation")))
        .bearer_auth(token)
        .header("if-match", etag)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn changes_since_validation_are_pointers_and_validation_honours_if_match() {
    let app = TestApp::spawn().await;
    let (token, key, _, booked) = crate::changes::booked_as(&app, "CIA-DOC-1").await;
    let id = booked["appointmentId"].as_str().unwrap();
    // A new booking is a change.
    let (_, list) = app.call("GET", "/admin/v1/changes", &token, None).await;
    assert_eq!(
        list["items"][0]["changes"],
        json!(["appointment"]),
        "{list}"
    );
    let contact = json!({ "contact": { "name": "Mme Dupont", "phone": "+33 6 12 34 56 78" } });
    assert_eq!(patch(&app, &key, id, contact).await, 200);
    let mut dossier = crate::documents::dossier(&[]);
    crate::documents::put(&app, &key, id, dossier.clone()).await;
    dossier["stake"]["total"] = json!(5000.0);
    crate::documents::put(&app, &key, id, dossier.clone()).await;

    let (status, list) = app.call("GET", "/admin/v1/changes", &token, None).await;
    assert_eq!(status, 200, "{list}");
    let item = &list["items"][0];
    assert_eq!(item["appointmentId"], id);
    assert_eq!(item["claimsIaRef"], "CIA-DOC-1");
    assert_eq!(item["changed"], true);
    assert_eq!(item["lastValidatedAt"], Value::Null);
    assert_eq!(item["changes"], json!(["appointment", "dossier"]));

    let (etag, changes) = read_changes(&app, &token, id).await;
    let find = |pointer: &str| {
        changes["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["pointer"] == pointer)
            .unwrap()
            .clone()
    };
    let phone = find("/contact/phone");
    assert_eq!(
        (&phone["before"], &phone["after"]),
        (&Value::Null, &json!("+33 6 12 34 56 78"))
    );
    assert_eq!(phone["type"], "appointment.updated");
    let total = find("/dossier/stake/total");
    assert_eq!(
        (&total["before"], &total["after"]),
        (&json!(4200.0), &json!(5000.0))
    );
    assert_eq!(total["type"], "dossier.updated");

    // A change after the read: validating what was read is 412 and validates nothing.
    assert_eq!(
        patch(&app, &key, id, json!({ "comment": "digicode" })).await,
        200
    );
    assert_eq!(validate(&app, &token, id, &etag).await, 412);
    let (fresh, again) = read_changes(&app, &token, id).await;
    assert_ne!(fresh, etag);
    assert!(
        again["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["pointer"] == "/comment")
    );
    assert_eq!(validate(&app, &token, id, &fresh).await, 204);
    let (_, list) = app.call("GET", "/admin/v1/changes", &token, None).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    let (_, empty) = read_changes(&app, &token, id).await;
    assert!(empty["items"].as_array().unwrap().is_empty());

    // The next change brings it back, with its validation time; other firms see nothing.
    assert_eq!(patch(&app, &key, id, json!({ "comment": null })).await, 200);
    let (_, list) = app.call("GET", "/admin/v1/changes", &token, None).await;
    assert!(list["items"][0]["lastValidatedAt"].is_string(), "{list}");
    let (_, other) = app.firm("Autre").await;
    let (status, _) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/changes"),
            &other,
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(validate(&app, &other, id, "*").await, 404);
}
