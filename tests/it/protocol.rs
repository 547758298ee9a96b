//! Etape 1 and 2 over real HTTP: slot search, booking, reads.

use creneau::clock::Clock;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, days_ahead, open_expert, search_body};

#[tokio::test]
async fn an_on_site_search_offers_sorted_distinct_slots_in_the_expert_time_zone() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet Martin").await;
    app.expert(&token, open_expert("J. Martin")).await;
    app.expert(&token, open_expert("P. Durand")).await;
    let key = app.api_key().await;

    let from = days_ahead(3);
    let answer = app.search(&key, search_body("ESS", from, 4)).await;
    assert_eq!(answer["eligibleExperts"], 2);
    let slots = answer["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 10);
    let starts: Vec<chrono::DateTime<chrono::FixedOffset>> = slots
        .iter()
        .map(|s| chrono::DateTime::parse_from_rfc3339(s["start"].as_str().unwrap()).unwrap())
        .collect();
    assert!(
        starts.windows(2).all(|w| w[0] < w[1]),
        "sorted, distinct: {starts:?}"
    );
    assert!(
        starts
            .iter()
            .all(|s| *s >= from && *s < from + chrono::Duration::days(4))
    );
    let days: std::collections::BTreeSet<_> =
        starts.iter().map(chrono::DateTime::date_naive).collect();
    assert!(days.len() >= 3, "spread over days: {starts:?}");
    for slot in slots {
        assert_eq!(slot["mode"], "ON_SITE");
        assert_eq!(slot["expert"]["firm"], "Cabinet Martin");
        let start = slot["start"].as_str().unwrap();
        assert!(
            start.ends_with("+01:00") || start.ends_with("+02:00"),
            "{start}"
        );
        assert!(slot["travelMinutes"].as_u64().unwrap() < 60);
        assert!(!slot["slotId"].as_str().unwrap().is_empty());
    }
}

#[tokio::test]
async fn nobody_eligible_is_an_empty_200_with_a_diagnostic() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let mut body = search_body("ESS", days_ahead(3), 4);
    body["appointmentPlace"] = json!({
        "address": { "line1": "1 La Canebière", "postalCode": "13001", "city": "Marseille" },
        "geo": { "lat": 43.2965, "lon": 5.3698 }
    });
    let answer = app.search(&key, body).await;
    assert_eq!(answer["eligibleExperts"], 0);
    assert_eq!(answer["slots"], json!([]));
    assert_eq!(answer["diagnostic"]["code"], "out-of-zone");

    let mut body = search_body("ESS", days_ahead(3), 4);
    body["claimType"] = json!("CATNAT");
    let answer = app.search(&key, body).await;
    assert_eq!(answer["diagnostic"]["code"], "no-skill");
}

#[tokio::test]
async fn a_place_without_geo_is_located_by_its_postal_code() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let mut expert = open_expert("J. Martin");
    expert["zone"] = json!({ "radiusKm": 10 });
    app.expert(&token, expert).await;
    let key = app.api_key().await;
    let mut body = search_body("ESS", days_ahead(3), 4);
    body["appointmentPlace"]["geo"] = serde_json::Value::Null;
    let answer = app.search(&key, body.clone()).await;
    assert_eq!(
        answer["eligibleExperts"], 1,
        "75002 lies within 10 km of the base"
    );
    // The offer carries the centroid, so the booking re-check sees the same place.
    let slot = answer["slots"][0]["slotId"].as_str().unwrap();
    let (status, booked) = app.book(&key, slot, "CIA-CENTROID").await;
    assert_eq!(status, 201, "{booked}");
    assert!(booked["appointmentPlace"]["geo"]["lat"].as_f64().is_some());

    body["appointmentPlace"]["address"]["postalCode"] = json!("99999");
    let (status, problem) = app
        .call("POST", "/v1/slot-searches", &key, Some(body))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/appointmentPlace/geo");
}

#[tokio::test]
async fn search_input_is_validated() {
    let app = TestApp::spawn().await;
    let key = app.api_key().await;
    let mut body = search_body("ESS", days_ahead(3), 63);
    let (status, problem) = app
        .call("POST", "/v1/slot-searches", &key, Some(body.clone()))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/to");
    body = search_body("ESS", days_ahead(3), 2);
    body["stake"]["total"] = json!(-1);
    let (status, problem) = app
        .call("POST", "/v1/slot-searches", &key, Some(body.clone()))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/stake/total");
    body = search_body("ESS", days_ahead(3), 2);
    body.as_object_mut().unwrap().remove("appointmentPlace");
    let (status, problem) = app
        .call("POST", "/v1/slot-searches", &key, Some(body))
        .await;
    assert_problem(status, &problem, 422, "validation-failed");
    let mut remote = search_body("VISIO", days_ahead(3), 2);
    remote.as_object_mut().unwrap().remove("appointmentPlace");
    let (status, answer) = app
        .call("POST", "/v1/slot-searches", &key, Some(remote))
        .await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn a_booked_slot_is_confirmed_readable_and_no_longer_offered() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let expert_id = app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app.search(&key, search_body("ESS", days_ahead(3), 2)).await;
    let slot = &answer["slots"][0];

    let response = app
        .http
        .post(app.url("/v1/appointments"))
        .bearer_auth(&key)
        .json(&json!({ "slotId": slot["slotId"], "claimsIaRef": "CIA-1", "claimRef": "SIN-1",
                       "contact": { "name": "Mme Dupont", "phone": "+33612345678" }, "comment": "Digicode 1234" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let booked: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "/v1/appointments/{}",
            booked["appointmentId"].as_str().unwrap()
        )
    );
    assert_eq!(booked["status"], "CONFIRMED");
    assert_eq!(booked["version"], 1);
    assert_eq!(booked["start"], slot["start"]);
    assert_eq!(booked["end"], slot["end"]);
    assert_eq!(booked["expert"]["id"], expert_id);
    assert_eq!(booked["appointmentPlace"]["address"]["postalCode"], "75002");
    assert_eq!(booked["contact"]["phone"], "+33612345678");

    let (status, read) = app.call("GET", &location, &key, None).await;
    assert_eq!(status, 200);
    assert_eq!(read, booked);
    let (_, list) = app
        .call("GET", "/v1/appointments?claimsIaRef=CIA-1", &key, None)
        .await;
    assert_eq!(list["items"], json!([booked]));

    let again = app.search(&key, search_body("ESS", days_ahead(3), 2)).await;
    assert!(
        again["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["start"] != slot["start"])
    );

    let (status, problem) = app
        .book(&key, slot["slotId"].as_str().unwrap(), "CIA-2")
        .await;
    assert_problem(status, &problem, 409, "slot-unavailable");
    let other = &again["slots"][0];
    let (status, problem) = app
        .book(&key, other["slotId"].as_str().unwrap(), "CIA-1")
        .await;
    assert_problem(status, &problem, 409, "appointment-exists");
    assert_eq!(problem["existingAppointmentId"], booked["appointmentId"]);

    // Another client does not see it.
    let stranger = app.api_key().await;
    let (status, _) = app.call("GET", &location, &stranger, None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn a_tampered_or_foreign_slot_is_invalid() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(3), 2))
        .await;
    let slot_id = answer["slots"][0]["slotId"].as_str().unwrap().to_owned();
    let mut tampered = slot_id.clone().into_bytes();
    tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
    let (status, problem) = app
        .book(&key, &String::from_utf8(tampered).unwrap(), "CIA-1")
        .await;
    assert_problem(status, &problem, 422, "invalid-slot");
    assert_eq!(problem["errors"][0]["pointer"], "/slotId");
    let stranger = app.api_key().await;
    let (status, problem) = app.book(&stranger, &slot_id, "CIA-1").await;
    assert_problem(status, &problem, 422, "invalid-slot");
}

#[tokio::test]
async fn an_expired_slot_is_410() {
    let config = creneau::config::ServerConfig {
        slot_ttl_secs: 1,
        ..Default::default()
    };
    let clock = crate::helpers::manual_clock();
    let app = TestApp::spawn_with_clock(crate::helpers::fresh_db().await, config, clock).await;
    let (_, token) = app.firm("Cabinet").await;
    app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(3), 2))
        .await;
    app.clock.advance(std::time::Duration::from_millis(1100));
    let (status, problem) = app
        .book(
            &key,
            answer["slots"][0]["slotId"].as_str().unwrap(),
            "CIA-1",
        )
        .await;
    assert_problem(status, &problem, 410, "slot-expired");
}

#[tokio::test]
async fn another_instance_sees_a_booking_within_the_calendar_cache_delay_and_never_double_books() {
    let config = creneau::config::ServerConfig {
        calendar_cache_ms: 300,
        ..Default::default()
    };
    let (a, b) = crate::helpers::two_instances(config, crate::helpers::manual_clock()).await;
    let (_, token) = a.firm("Cabinet").await;
    a.expert(&token, open_expert("J. Martin")).await;
    let key = a.api_key().await;
    let body = search_body("VISIO", days_ahead(3), 1);
    let first = b.search(&key, body.clone()).await; // B caches the calendar
    let slot = first["slots"][0].clone();
    let (status, _) = a
        .book(&key, slot["slotId"].as_str().unwrap(), "CIA-1")
        .await;
    assert_eq!(status, 201);

    // B may still offer the slot from its cache, but booking it there is refused...
    let stale = b.search(&key, body.clone()).await;
    if let Some(offered) = stale["slots"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["start"] == slot["start"])
    {
        let (status, problem) = b
            .book(&key, offered["slotId"].as_str().unwrap(), "CIA-2")
            .await;
        assert_problem(status, &problem, 409, "slot-unavailable");
    }
    // ...and once the delay has passed (or after that refusal), B no longer offers it.
    b.clock.advance(std::time::Duration::from_millis(350));
    let fresh = b.search(&key, body).await;
    assert!(
        fresh["slots"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["start"] != slot["start"]),
        "{fresh}"
    );
}

#[tokio::test]
async fn on_postgresql_a_booking_through_another_instance_is_seen_at_once_whatever_the_delay() {
    let config = creneau::config::ServerConfig {
        calendar_cache_ms: 60_000,
        ..Default::default()
    };
    let (a, b) = crate::helpers::two_instances(config, Clock::system()).await;
    let (_, token) = a.firm("Cabinet").await;
    a.expert(&token, open_expert("J. Martin")).await;
    let key = a.api_key().await;
    let body = search_body("VISIO", days_ahead(3), 1);
    let first = b.search(&key, body.clone()).await; // B caches the calendar for a minute
    let slot = first["slots"][0].clone();
    let (status, _) = a
        .book(&key, slot["slotId"].as_str().unwrap(), "CIA-1")
        .await;
    assert_eq!(status, 201);
    let offered = |found: &Value| {
        found["slots"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["start"] == slot["start"])
    };
    if a.store.backend() == creneau::store::Backend::Postgres {
        // A announced the change; B dropped the calendar within moments.
        let mut seen = false;
        for _ in 0..50 {
            if !offered(&b.search(&key, body.clone()).await) {
                seen = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            seen,
            "instance B still offers the slot booked through A after 1 s"
        );
    } else {
        // One SQLite file is one process's: no announcements, B waits out its delay.
        assert!(offered(&b.search(&key, body).await));
    }
}

#[tokio::test]
async fn a_new_expert_is_offered_at_once_here_and_within_the_delay_elsewhere() {
    let config = creneau::config::ServerConfig {
        calendar_cache_ms: 300,
        ..Default::default()
    };
    let (a, b) = crate::helpers::two_instances(config, crate::helpers::manual_clock()).await;
    let (_, token) = a.firm("Cabinet").await;
    let key = a.api_key().await;
    let body = search_body("VISIO", days_ahead(3), 1);
    for app in [&a, &b] {
        assert_eq!(app.search(&key, body.clone()).await["eligibleExperts"], 0);
    }
    a.expert(&token, open_expert("J. Martin")).await;
    assert_eq!(
        a.search(&key, body.clone()).await["eligibleExperts"],
        1,
        "the instance that made the change sees it at once"
    );
    b.clock.advance(std::time::Duration::from_millis(350));
    assert_eq!(b.search(&key, body).await["eligibleExperts"], 1);
}

#[tokio::test]
async fn an_api_client_removed_from_the_database_is_refused_within_the_cache_delay() {
    let config = creneau::config::ServerConfig {
        calendar_cache_ms: 300,
        ..Default::default()
    };
    let clock = crate::helpers::manual_clock();
    let app = TestApp::spawn_with_clock(crate::helpers::fresh_db().await, config, clock).await;
    let key = app.api_key().await;
    let body = search_body("VISIO", days_ahead(3), 1);
    app.search(&key, body.clone()).await; // the client is now cached

    let client_id = creneau::auth::api_key_client_id(&key).unwrap().to_owned();
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&app.db.url)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM api_clients WHERE id = '{client_id}'"
    )))
    .execute(&mut conn)
    .await
    .unwrap();

    app.clock.advance(std::time::Duration::from_millis(350));
    let (status, problem) = app
        .call("POST", "/v1/slot-searches", &key, Some(body))
        .await;
    assert_problem(status, &problem, 401, "unauthorized");
}
