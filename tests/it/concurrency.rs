//! Bookings under contention: one slot, overlapping slots, two server instances, and
//! duplicate requests with one Idempotency-Key.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use creneau::service::offers::{SlotOffer, SlotSigner};
use futures_util::future::join_all;
use serde_json::{Value, json};

use creneau::clock::Clock;
use creneau::config::ServerConfig;

use crate::helpers::{TestApp, days_ahead, open_expert, two_instances};

/// A genuine VISIO offer for `expert_id` at `start`, as a search would have made it.
pub async fn offer(
    app: &TestApp,
    key: &str,
    expert_id: &str,
    start: DateTime<Utc>,
    minutes: i64,
) -> String {
    let secret = app
        .store
        .server_secret("slot-signing-key", "unused")
        .await
        .unwrap();
    let offer = SlotOffer {
        expert_id: expert_id.to_owned(),
        start_ms: start.timestamp_millis(),
        end_ms: (start + Duration::minutes(minutes)).timestamp_millis(),
        expertise_type: creneau::domain::ExpertiseType::Visio,
        place: None,
        expires_ms: (Utc::now() + Duration::minutes(15)).timestamp_millis(),
        client_id: creneau::auth::api_key_client_id(key).unwrap().to_owned(),
        search_id: None,
    };
    SlotSigner::new(secret.as_bytes()).sign(&offer)
}

/// A firm with one open expert, a Claims IA key, and an offer of that expert's hour at
/// 09:00 UTC three days ahead.
struct OneSlot {
    token: String,
    expert_id: String,
    key: String,
    slot: String,
}

async fn one_slot(app: &TestApp) -> OneSlot {
    let (_, token) = app.firm("Cabinet").await;
    let expert_id = app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let start = days_ahead(3) + Duration::hours(9);
    let slot = offer(app, &key, &expert_id, start, 60).await;
    OneSlot {
        token,
        expert_id,
        key,
        slot,
    }
}

fn statuses(results: &[(u16, Value)]) -> HashMap<u16, usize> {
    results.iter().fold(HashMap::new(), |mut m, (s, _)| {
        *m.entry(*s).or_default() += 1;
        m
    })
}

async fn confirmed(
    app: &TestApp,
    token: &str,
    expert_id: &str,
) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    let (_, list) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments?expertId={expert_id}&status=CONFIRMED&limit=500"),
            token,
            None,
        )
        .await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let parse = |k: &str| {
                DateTime::parse_from_rfc3339(a[k].as_str().unwrap())
                    .unwrap()
                    .to_utc()
            };
            (parse("start"), parse("end"))
        })
        .collect()
}

fn assert_no_overlap(mut intervals: Vec<(DateTime<Utc>, DateTime<Utc>)>) {
    intervals.sort();
    for pair in intervals.windows(2) {
        assert!(pair[0].1 <= pair[1].0, "overlap: {pair:?}");
    }
}

#[tokio::test]
async fn fifty_concurrent_bookings_of_one_slot_yield_exactly_one_appointment() {
    let app = TestApp::spawn().await;
    let OneSlot {
        token,
        expert_id,
        key,
        slot,
    } = one_slot(&app).await;
    let results = join_all((0..50).map(|i| {
        let (app, key, slot) = (&app, &key, &slot);
        async move { app.book(key, slot, &format!("CIA-{i}")).await }
    }))
    .await;
    let counts = statuses(&results);
    assert_eq!(counts.get(&201), Some(&1), "{counts:?}");
    assert_eq!(counts.get(&409), Some(&49), "{counts:?}");
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s == 409)
            .all(|(_, b)| b["code"] == "slot-unavailable")
    );
    assert_eq!(confirmed(&app, &token, &expert_id).await.len(), 1);
}

#[tokio::test]
async fn overlapping_slots_of_one_expert_are_never_both_booked_and_adjacent_ones_are() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let expert_id = app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let base = days_ahead(3) + Duration::hours(8);
    let mut slots = Vec::new();
    for i in 0..20 {
        slots.push(offer(&app, &key, &expert_id, base + Duration::minutes(15 * i), 60).await);
    }
    let results = join_all(slots.iter().enumerate().map(|(i, slot)| {
        let (app, key) = (&app, &key);
        async move { app.book(key, slot, &format!("CIA-{i}")).await }
    }))
    .await;
    let booked = statuses(&results).get(&201).copied().unwrap_or(0);
    assert!(booked >= 1);
    let intervals = confirmed(&app, &token, &expert_id).await;
    assert_eq!(intervals.len(), booked);
    assert_no_overlap(intervals);

    // [14:00, 15:00) and [15:00, 16:00): touching is not overlapping.
    let first = offer(&app, &key, &expert_id, base + Duration::hours(6), 60).await;
    let second = offer(&app, &key, &expert_id, base + Duration::hours(7), 60).await;
    let (a, b) = tokio::join!(
        app.book(&key, &first, "ADJ-1"),
        app.book(&key, &second, "ADJ-2")
    );
    assert_eq!((a.0, b.0), (201, 201), "{a:?} {b:?}");
}

#[tokio::test]
async fn two_server_instances_on_one_database_never_double_book() {
    let (one, two) = two_instances(ServerConfig::default(), Clock::system()).await;
    let (_, token) = one.firm("Cabinet").await;
    let expert_id = one.expert(&token, open_expert("J. Martin")).await;
    let key = one.api_key().await;
    let base = days_ahead(4) + Duration::hours(8);
    let mut slots = Vec::new();
    for i in 0..16 {
        slots.push(
            offer(
                &one,
                &key,
                &expert_id,
                base + Duration::minutes(30 * (i / 2)),
                60,
            )
            .await,
        );
    }
    let results = join_all(slots.iter().enumerate().map(|(i, slot)| {
        let app = if i % 2 == 0 { &one } else { &two };
        let key = &key;
        async move { app.book(key, slot, &format!("CIA-{i}")).await }
    }))
    .await;
    let booked = statuses(&results).get(&201).copied().unwrap_or(0);
    assert!(booked >= 1);
    let intervals = confirmed(&one, &token, &expert_id).await;
    assert_eq!(intervals.len(), booked);
    assert_no_overlap(intervals);
}

#[tokio::test]
async fn twenty_identical_requests_with_one_key_book_once_and_replay_the_first_answer() {
    let app = TestApp::spawn().await;
    let OneSlot { key, slot, .. } = one_slot(&app).await;
    let body =
        json!({ "slotId": slot, "claimsIaRef": "CIA-IDEM", "contact": { "name": "Mme Dupont" } });
    let send = |body: Value| {
        let (app, key) = (&app, &key);
        async move {
            let response = app
                .http
                .post(app.url("/v1/appointments"))
                .bearer_auth(key)
                .header("idempotency-key", "key-1")
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (status, replayed, response.text().await.unwrap())
        }
    };
    let results = join_all((0..20).map(|_| send(body.clone()))).await;
    let created: Vec<_> = results.iter().filter(|r| r.0 == 201).collect();
    assert!(!created.is_empty());
    assert_eq!(
        created.iter().filter(|r| !r.1).count(),
        1,
        "exactly one original answer"
    );
    let first = &created.iter().find(|r| !r.1).unwrap().2;
    assert!(
        created.iter().all(|r| &r.2 == first),
        "replays are byte-identical"
    );
    for (status, _, text) in results.iter().filter(|r| r.0 != 201) {
        assert_eq!(*status, 409, "{text}");
        assert!(text.contains("idempotency-key-in-flight"), "{text}");
    }
    let (_, list) = app
        .call("GET", "/v1/appointments?claimsIaRef=CIA-IDEM", &key, None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    let (status, replayed, text) = send(body.clone()).await;
    assert_eq!((status, replayed), (201, true));
    assert_eq!(&text, first);

    let mut different = body;
    different["comment"] = json!("another request");
    let (status, _, text) = send(different).await;
    assert_eq!(status, 422);
    assert!(text.contains("idempotency-key-reused"), "{text}");
}

#[tokio::test]
async fn a_refused_booking_is_replayed_under_its_key() {
    let app = TestApp::spawn().await;
    let OneSlot { key, slot, .. } = one_slot(&app).await;
    let send = |idempotency_key: &'static str, claims_ia_ref: &'static str| {
        let (app, key, slot) = (&app, &key, &slot);
        async move {
            let response = app
                .http
                .post(app.url("/v1/appointments"))
                .bearer_auth(key)
                .header("idempotency-key", idempotency_key)
                .json(&json!({ "slotId": slot, "claimsIaRef": claims_ia_ref }))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (status, replayed, response.text().await.unwrap())
        }
    };
    let (status, _, _) = send("first", "CIA-FIRST").await;
    assert_eq!(status, 201);
    let (status, replayed, refusal) = send("second", "CIA-SECOND").await;
    assert_eq!((status, replayed), (409, false), "{refusal}");
    assert!(refusal.contains("slot-unavailable"), "{refusal}");
    // The first booking cancelled, the slot is free again: the key still answers its
    // first outcome, byte for byte, and books nothing.
    let (_, list) = app
        .call("GET", "/v1/appointments?claimsIaRef=CIA-FIRST", &key, None)
        .await;
    let id = list["items"][0]["appointmentId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = app
        .call(
            "POST",
            &format!("/v1/appointments/{id}/cancellation"),
            &key,
            Some(json!({ "reason": "INSURED_REQUEST" })),
        )
        .await;
    assert_eq!(status, 200);
    let (status, replayed, again) = send("second", "CIA-SECOND").await;
    assert_eq!((status, replayed), (409, true));
    assert_eq!(again, refusal);
    let (_, list) = app
        .call("GET", "/v1/appointments?claimsIaRef=CIA-SECOND", &key, None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn an_expert_created_through_another_instance_is_bookable_at_once() {
    let (one, two) = two_instances(ServerConfig::default(), Clock::system()).await;
    let (_, token) = one.firm("Cabinet").await;
    one.expert(&token, open_expert("J. Martin")).await;
    let key = one.api_key().await;
    // Instance two reads the directory (a search), then an expert arrives through one:
    // two's directory, checked at most once a second, does not know it yet.
    let found = two
        .search(&key, crate::helpers::search_body("VISIO", days_ahead(3), 2))
        .await;
    assert!(!found["slots"].as_array().unwrap().is_empty(), "{found}");
    let newcomer = one.expert(&token, open_expert("A. Nouveau")).await;
    let slot = offer(
        &one,
        &key,
        &newcomer,
        days_ahead(3) + Duration::hours(9),
        60,
    )
    .await;
    let (status, booked) = two.book(&key, &slot, "CIA-NEWCOMER").await;
    assert_eq!(status, 201, "{booked}");
    assert_eq!(booked["expert"]["id"], newcomer.as_str());
}
