//! The event log: firm-side changes become events, read in order with a cursor, never
//! skipping one while writers commit concurrently.

use std::collections::HashSet;

use chrono::Duration;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::concurrency::offer;
use crate::helpers::{TestApp, days_ahead, open_expert};

/// Books `per_expert` hours (from 08:00 UTC, three days ahead) of each of `experts` new
/// experts of the firm; returns the appointment ids.
pub async fn book_many(
    app: &TestApp,
    token: &str,
    key: &str,
    experts: usize,
    per_expert: i64,
) -> Vec<String> {
    let mut ids = Vec::new();
    for e in 0..experts {
        let expert_id = app.expert(token, open_expert(&format!("Expert {e}"))).await;
        for i in 0..per_expert {
            let slot = offer(
                app,
                key,
                &expert_id,
                days_ahead(3) + Duration::hours(8 + i),
                60,
            )
            .await;
            let (status, booked) = app.book(key, &slot, &format!("CIA-{e}-{i}")).await;
            assert_eq!(status, 201, "{booked}");
            ids.push(booked["appointmentId"].as_str().unwrap().to_owned());
        }
    }
    ids
}

#[tokio::test]
async fn firm_changes_become_events_and_claims_ia_changes_do_not() {
    let app = TestApp::spawn_on_manual_clock().await;
    let (_, client_id, secret) = app.firm_credentials("Cabinet").await;
    let token = app.token(&client_id, &secret).await;
    let key = app.api_key().await;
    let ids = book_many(&app, &token, &key, 1, 3).await;
    let cancel = json!({ "reason": "EXPERT_UNAVAILABLE" });
    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{}/cancellation", ids[0]),
            &token,
            Some(cancel),
        )
        .await;
    assert_eq!(status, 200);
    // Completed once it has taken place (a week later, with a token of that day).
    app.clock
        .advance(std::time::Duration::from_secs(7 * 86_400));
    let token = app.token(&client_id, &secret).await;
    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{}/completion", ids[1]),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/appointments/{}/cancellation", ids[2]),
            &key,
            Some(json!({ "reason": "OTHER" })),
        )
        .await;
    assert_eq!(status, 200);

    let (status, page) = app.call("GET", "/v1/events?limit=1", &key, None).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["items"][0]["type"], "appointment.cancelled");
    assert_eq!(page["items"][0]["appointmentId"], ids[0].as_str());
    assert_eq!(page["items"][0]["data"]["reason"], "EXPERT_UNAVAILABLE");
    let cursor = page["nextCursor"].as_str().unwrap();
    let (_, rest) = app
        .call("GET", &format!("/v1/events?after={cursor}"), &key, None)
        .await;
    let kinds: Vec<&str> = rest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["appointment.completed"],
        "the client's own cancellation is no event"
    );
    let (_, empty) = app
        .call(
            "GET",
            &format!("/v1/events?after={}", rest["nextCursor"].as_str().unwrap()),
            &key,
            None,
        )
        .await;
    assert_eq!(empty["items"], json!([]));
    assert_eq!(
        empty["nextCursor"], rest["nextCursor"],
        "an empty page keeps the place"
    );

    let stranger = app.api_key().await;
    let (_, none) = app.call("GET", "/v1/events", &stranger, None).await;
    assert_eq!(none["items"], json!([]));
    let (status, _) = app.call("GET", "/v1/events?after=abc", &key, None).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_reader_paging_during_concurrent_writes_sees_every_event_once_in_order() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    let ids = book_many(&app, &token, &key, 4, 6).await;

    let writers = join_all(ids.iter().map(|id| {
        let (app, token) = (&app, &token);
        async move {
            let path = format!("/admin/v1/appointments/{id}/cancellation");
            let (status, body) = app
                .call(
                    "POST",
                    &path,
                    token,
                    Some(json!({ "reason": "EXPERT_UNAVAILABLE" })),
                )
                .await;
            assert_eq!(status, 200, "{body}");
        }
    }));
    let reader = async {
        let mut seen: Vec<Value> = Vec::new();
        let mut cursor = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        while seen.len() < ids.len() && tokio::time::Instant::now() < deadline {
            let (status, page) = app
                .call(
                    "GET",
                    &format!("/v1/events?after={cursor}&limit=5"),
                    &key,
                    None,
                )
                .await;
            assert_eq!(status, 200);
            seen.extend(page["items"].as_array().unwrap().iter().cloned());
            if let Some(next) = page["nextCursor"].as_str() {
                cursor = next.to_owned();
            }
            tokio::task::yield_now().await;
        }
        seen
    };
    let (_, seen) = tokio::join!(writers, reader);

    let positions: Vec<i64> = seen
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in order, no repeats: {positions:?}"
    );
    let appointments: HashSet<&str> = seen
        .iter()
        .map(|e| e["appointmentId"].as_str().unwrap())
        .collect();
    assert_eq!(seen.len(), ids.len(), "every event exactly once");
    assert_eq!(appointments, ids.iter().map(String::as_str).collect());
}

/// A transaction of another writer, open and holding what recording an event takes (the
/// write lock on SQLite, the events' advisory lock on PostgreSQL).
pub async fn writer_held_open(app: &TestApp) -> sqlx::AnyConnection {
    use sqlx::{Connection, Executor};
    let url = if app.db.url.starts_with("sqlite:") {
        format!("{}?mode=rw", app.db.url)
    } else {
        app.db.url.clone()
    };
    let mut slow = sqlx::AnyConnection::connect(&url).await.unwrap();
    if url.starts_with("sqlite:") {
        slow.execute("BEGIN IMMEDIATE").await.unwrap();
    } else {
        slow.execute("BEGIN").await.unwrap();
        slow.execute("SELECT pg_advisory_xact_lock(727275)")
            .await
            .unwrap();
    }
    slow
}

/// Another writer holds an event uncommitted (as a slow transaction would); an event written
/// meanwhile must not become visible before it, or a reader would page past it for ever.
#[tokio::test]
async fn an_event_committed_late_is_never_skipped() {
    use sqlx::Executor;
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    let ids = book_many(&app, &token, &key, 1, 2).await;

    let mut slow = writer_held_open(&app).await;
    let insert = format!(
        "INSERT INTO events (type, appointment_id, data, occurred_at) VALUES ('appointment.completed', '{}', '{{}}', 0)",
        ids[0]
    );
    slow.execute(sqlx::AssertSqlSafe(insert)).await.unwrap();

    let http = app.http.clone();
    let cancel_url = app.url(&format!("/admin/v1/appointments/{}/cancellation", ids[1]));
    let cancel = tokio::spawn(async move {
        http.post(cancel_url)
            .bearer_auth(token)
            .json(&json!({ "reason": "OTHER" }))
            .send()
            .await
            .unwrap()
            .status()
    });
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    let (_, early) = app.call("GET", "/v1/events", &key, None).await;
    assert_eq!(
        early["items"],
        json!([]),
        "nothing may show before the earlier event commits"
    );

    slow.execute("COMMIT").await.unwrap();
    assert_eq!(cancel.await.unwrap(), 200);
    let (_, page) = app.call("GET", "/v1/events", &key, None).await;
    let order: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["appointmentId"].as_str().unwrap())
        .collect();
    assert_eq!(order, vec![ids[0].as_str(), ids[1].as_str()]);
}

#[tokio::test]
async fn a_firm_reschedule_is_checked_atomic_and_an_event() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let key = app.api_key().await;
    let ids = book_many(&app, &token, &key, 1, 2).await; // day 3 at 08:00 and 09:00
    let path = format!("/admin/v1/appointments/{}/reschedule", ids[0]);
    let day = days_ahead(3);
    let at = |h: i64, m: i64| (day + Duration::hours(h) + Duration::minutes(m)).to_rfc3339();

    // Onto the other appointment: refused, nothing moves.
    let (status, body) = app
        .call("POST", &path, &token, Some(json!({ "start": at(9, 30) })))
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["code"], "slot-unavailable");
    let (_, unchanged) = app
        .call("GET", &format!("/v1/appointments/{}", ids[0]), &key, None)
        .await;
    assert_eq!(unchanged["version"], 1);

    let (status, body) = app
        .call(
            "POST",
            &path,
            &token,
            Some(json!({ "start": at(11, 0), "expertId": "nobody" })),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/expertId");
    let (_, other) = app.firm("Autre").await;
    let (status, _) = app
        .call("POST", &path, &other, Some(json!({ "start": at(11, 0) })))
        .await;
    assert_eq!(status, 404);

    let (status, moved) = app
        .call("POST", &path, &token, Some(json!({ "start": at(11, 0) })))
        .await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["version"], 2);
    let (_, seen) = app
        .call("GET", &format!("/v1/appointments/{}", ids[0]), &key, None)
        .await;
    assert_eq!(seen["start"], moved["start"]);

    let (_, events) = app.call("GET", "/v1/events", &key, None).await;
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{events}");
    assert_eq!(items[0]["type"], "appointment.rescheduled");
    assert_eq!(items[0]["appointmentId"], ids[0].as_str());
    assert_eq!(items[0]["data"]["version"], 2);
    assert!(items[0]["data"]["previous"]["start"].is_string());
}
